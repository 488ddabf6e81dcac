#!/usr/bin/env bash
# native_ota_example on the board against real HTTPS servers on 127.0.0.1 (spec 7.1 and its CI
# cases): three full updates in a row with the URL read from the console (FROM_STDIN), a
# truncated image, a truncated header, random data, a body without length from
# `openssl s_server -WWW`, the same version, the diagnostics pin with rollback, and the version
# that was rolled back offered again.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/netlib.bash"

www=$WORK/www
mkdir -p "$www" "$WORK/certs"
start_server https "$www" --self-signed 127.0.0.1 --cert-dir "$WORK/certs"
cert=$WORK/certs/ca_cert.pem
key=$WORK/certs/ca_key.pem
base=https://127.0.0.1:$PORT
NATIVE=(EXAMPLE_FIRMWARE_UPG_URL=FROM_STDIN)
RB=(BOOTLOADER_APP_ROLLBACK_ENABLE=y)
T=native_ota_example # the log tag

pack_example "$WORK/v1.bin" native_ota_example 1 "$cert" "${NATIVE[@]}"
for v in 2 3 4; do
    pack_example "$www/native_v$v.bin" native_ota_example "$v" "$cert" "${NATIVE[@]}"
done
cp "$WORK/v1.bin" "$www/native_v1.bin"

# --- 1. full image three times in a row: factory -> ota_0 -> ota_1 -> ota_0 -----------------
make_flash "$WORK/chain.bin" two_ota "factory=$WORK/v1.bin"
board_in "$WORK/chain.log" "$(printf '%s\n' "$base/native_v2.bin" "$base/native_v3.bin" \
    "$base/native_v4.bin")" "$WORK/chain.bin" --until 'app_init: App version: +4$'
[ "$BOARD_STATUS" -eq 0 ] || fail "three updates: board exit $BOARD_STATUS"
[ "$(loaded_offsets "$WORK/chain.log")" = "0x10000 0x110000 0x210000 0x110000" ] ||
    fail "three updates: booted $(loaded_offsets "$WORK/chain.log")"
ok
expect_file_has "$WORK/chain.log" "${LI}$T: Starting OTA example task\$" 3
expect_file_has "$WORK/chain.log" "${LI}$T: Prepare to restart system!\$" 3
size=$(stat -c %s "$www/native_v2.bin")
expect_file_has "$WORK/chain.log" "$T: Total Write binary data length: $size\$" 3
expect_in_order "$WORK/chain.log" \
    'app_init: App version: +1$' \
    "$T: Running partition type 0 subtype 0 \(offset 0x00010000\)\$" \
    "$T: Writing to partition subtype 16 at offset 0x110000\$" \
    "$T: New firmware version: 2\$" \
    "$T: Running firmware version: 1\$" \
    "$T: esp_ota_begin succeeded\$" \
    "$T: Prepare to restart system!\$" \
    'rst:0xc \(SW_CPU_RESET\)' \
    'boot: Loaded app from partition at offset 0x110000$' \
    'app_init: App version: +2$' \
    "$T: Running partition type 0 subtype 16 \(offset 0x00110000\)\$" \
    "$T: Writing to partition subtype 17 at offset 0x210000\$" \
    "$T: New firmware version: 3\$" \
    "$T: Prepare to restart system!\$" \
    'boot: Loaded app from partition at offset 0x210000$' \
    'app_init: App version: +3$' \
    "$T: Writing to partition subtype 16 at offset 0x110000\$" \
    "$T: New firmware version: 4\$" \
    "$T: Prepare to restart system!\$" \
    'boot: Loaded app from partition at offset 0x110000$' \
    'app_init: App version: +4$'
expect_flash_has "$WORK/chain.bin" 0x110000 "$www/native_v4.bin"
expect_flash_has "$WORK/chain.bin" 0x210000 "$www/native_v3.bin"
for v in 2 3 4; do
    expect_file_has "$WORK/https.log" "\"GET /native_v$v.bin HTTP/1.1\" 200 "
done

# run_native NAME URL [BOARD ARGS...]: native v1 in factory downloads URL, log in NAME.log
run_native() {
    local name=$1 url=$2
    shift 2
    make_flash "$WORK/$name.bin" two_ota "factory=$WORK/v1.bin"
    board_in "$WORK/$name.log" "$url" "$WORK/$name.bin" "$@"
}

# expect_no_update NAME: nothing was selected, the factory app is still the one that boots
expect_no_update() {
    expect_file_lacks "$WORK/$1.log" 'Prepare to restart system!'
    [ "$(otadata_entry "$WORK/$1.bin" 0)$(otadata_entry "$WORK/$1.bin" 1)" = \
        "$(printf 'ff%.0s' $(seq 64))" ] || fail "$1: otadata was written"
    ok
}

# --- 2. truncated image: the first 64000 bytes ----------------------------------------------
head -c 64000 "$www/native_v2.bin" >"$www/truncated.bin"
run_native truncated "$base/truncated.bin"
[ "$BOARD_STATUS" -eq 4 ] || fail "truncated image: board exit $BOARD_STATUS, expected 4"
expect_file_has "$WORK/truncated.log" "$T: Total Write binary data length: 64000\$"
expect_file_has "$WORK/truncated.log" "${LE}$T: Image validation failed, image is corrupted\$"
expect_file_has "$WORK/truncated.log" "${LE}$T: Exiting task due to fatal error\.\.\.\$"
expect_no_update truncated

# --- 3. truncated header: 180 bytes -----------------------------------------------------------
head -c 180 "$www/native_v2.bin" >"$www/header.bin"
run_native header "$base/header.bin"
[ "$BOARD_STATUS" -eq 4 ] || fail "truncated header: board exit $BOARD_STATUS, expected 4"
expect_file_has "$WORK/header.log" "${LE}$T: received package is not fit len\$"
expect_file_lacks "$WORK/header.log" 'esp_ota_begin succeeded'
expect_no_update header

# --- 4. 32000 bytes of random data starting with 0x00 ---------------------------------------
{
    printf '\0'
    random_bytes 31999 1
} >"$www/random.bin"
[ "$(stat -c %s "$www/random.bin")" -eq 32000 ] || fail "cannot make random.bin"
run_native random "$base/random.bin"
[ "$BOARD_STATUS" -eq 4 ] || fail "random data: board exit $BOARD_STATUS, expected 4"
expect_file_has "$WORK/random.log" \
    "${LE}esp_ota_ops: OTA image has invalid magic byte \(expected 0xE9, saw 0x00\)\$"
expect_file_has "$WORK/random.log" "$T: Exiting task due to fatal error\.\.\.\$"
expect_no_update random

# --- 5. a body without Content-Length (connection close) from openssl s_server -WWW ---------
if have_openssl; then
    start_s_server s_server "$www" "$cert" "$key"
    run_native s_server "https://127.0.0.1:$PORT/native_v2.bin" --until 'app_init: App version: +2$'
    stop_server s_server
    [ "$BOARD_STATUS" -eq 0 ] || fail "s_server: board exit $BOARD_STATUS"
    expect_file_has "$WORK/s_server.log" "$T: Connection closed\$"
    expect_file_has "$WORK/s_server.log" "$T: Total Write binary data length: $size\$"
    expect_file_has "$WORK/s_server.log" "$T: Prepare to restart system!\$"
    [ "$(loaded_offsets "$WORK/s_server.log")" = "0x10000 0x110000" ] ||
        fail "s_server: booted $(loaded_offsets "$WORK/s_server.log")"
    ok
    expect_flash_has "$WORK/s_server.bin" 0x110000 "$www/native_v2.bin"
else
    echo "openssl is not installed: the s_server case is skipped"
fi

# --- 6. the same version: no update -----------------------------------------------------------
run_native same "$base/native_v1.bin" --until "$T: Waiting for a new firmware \.\.\. 2\$"
[ "$BOARD_STATUS" -eq 0 ] || fail "same version: board exit $BOARD_STATUS"
expect_in_order "$WORK/same.log" \
    "${LI}$T: New firmware version: 1\$" \
    "${LI}$T: Running firmware version: 1\$" \
    "${LW}$T: Current running version is the same as a new\. We will not continue the update\.\$" \
    "${LI}$T: When a new firmware is available on the server, press the reset button to\
 download it\$" \
    "${LI}$T: Waiting for a new firmware \.\.\. 1\$"
expect_file_lacks "$WORK/same.log" 'esp_ota_begin succeeded'
expect_no_update same

# --- 7. rollback: the diagnostics pin decides, a rolled-back version is not taken again -----
pack_bootloader "$WORK/bl_rb.bin" "${RB[@]}"
pack_example "$WORK/rb1.bin" native_ota_example 1 "$cert" "${NATIVE[@]}" "${RB[@]}"
pack_example "$www/rb2.bin" native_ota_example 2 "$cert" "${NATIVE[@]}" "${RB[@]}"

# 7a. pin 4 high: the new app confirms itself, then finds its own version on the server
make_flash "$WORK/diag_ok.bin" two_ota "factory=$WORK/rb1.bin" "$WORK/bl_rb.bin"
board_in "$WORK/diag_ok.log" "$(printf '%s\n' "$base/rb2.bin" "$base/rb2.bin")" \
    "$WORK/diag_ok.bin" --gpio 4=1 --until "$T: Waiting for a new firmware \.\.\. 1\$"
[ "$BOARD_STATUS" -eq 0 ] || fail "diagnostics ok: board exit $BOARD_STATUS"
expect_in_order "$WORK/diag_ok.log" \
    "$T: Prepare to restart system!\$" \
    'boot: Loaded app from partition at offset 0x110000$' \
    'app_init: App version: +2$' \
    "${LI}$T: Diagnostics \(5 sec\)\.\.\.\$" \
    "${LI}$T: Diagnostics completed successfully! Continuing execution \.\.\.\$" \
    "$T: Running partition type 0 subtype 16 \(offset 0x00110000\)\$" \
    "${LW}$T: Current running version is the same as a new\. We will not continue the update\.\$"
# the pin is read once, after five seconds of board time
t0=$(sed -n "s/^I (\([0-9]*\)) $T: Diagnostics (5 sec).*/\1/p" "$WORK/diag_ok.log")
t1=$(sed -n "s/^I (\([0-9]*\)) $T: Diagnostics completed.*/\1/p" "$WORK/diag_ok.log")
[ $((t1 - t0)) -ge 5000 ] && [ $((t1 - t0)) -lt 5100 ] ||
    fail "diagnostics took $((t1 - t0)) ms of board time, expected 5 s"
ok
expect_file_lacks "$WORK/diag_ok.log" 'Diagnostics failed'
# ota_0's entry (sector 0, seq 1) is VALID
[ "$(otadata_entry "$WORK/diag_ok.bin" 0 | cut -c1-8,49-56)" = "0100000002000000" ] ||
    fail "diagnostics ok: otadata entry $(otadata_entry "$WORK/diag_ok.bin" 0)"
ok

# 7b. pin 4 low: rollback to factory, which then refuses the version that failed
make_flash "$WORK/diag_bad.bin" two_ota "factory=$WORK/rb1.bin" "$WORK/bl_rb.bin"
board_in "$WORK/diag_bad.log" "$(printf '%s\n' "$base/rb2.bin" "$base/rb2.bin")" \
    "$WORK/diag_bad.bin" --gpio 4=0 \
    --until "$T: Waiting for a new firmware \.\.\. 1\$"
[ "$BOARD_STATUS" -eq 0 ] || fail "diagnostics failed: board exit $BOARD_STATUS"
[ "$(loaded_offsets "$WORK/diag_bad.log")" = "0x10000 0x110000 0x10000" ] ||
    fail "diagnostics failed: booted $(loaded_offsets "$WORK/diag_bad.log")"
ok
expect_in_order "$WORK/diag_bad.log" \
    "$T: Prepare to restart system!\$" \
    'app_init: App version: +2$' \
    "${LI}$T: Diagnostics \(5 sec\)\.\.\.\$" \
    "${LE}$T: Diagnostics failed! Start rollback to the previous version \.\.\.\$" \
    'esp_ota_ops: Rollback to previously worked partition\.$' \
    'boot: Loaded app from partition at offset 0x10000$' \
    'app_init: App version: +1$' \
    "${LI}$T: New firmware version: 2\$" \
    "${LI}$T: Running firmware version: 1\$" \
    "${LI}$T: Last invalid firmware version: 2\$" \
    "${LW}$T: New version is the same as invalid version\.\$" \
    "${LW}$T: Previously, there was an attempt to launch the firmware with 2 version, but it\
 failed\.\$" \
    "${LW}$T: The firmware has been rolled back to the previous version\.\$" \
    "$T: Waiting for a new firmware \.\.\. 1\$"
expect_count "$WORK/diag_bad.log" "$T: Prepare to restart system!\$" 1
expect_file_lacks "$WORK/diag_bad.log" 'Current running version is the same'
# ota_0's entry is INVALID
[ "$(otadata_entry "$WORK/diag_bad.bin" 0 | cut -c1-8,49-56)" = "0100000003000000" ] ||
    fail "diagnostics failed: otadata entry $(otadata_entry "$WORK/diag_bad.bin" 0)"
ok
expect_file_has "$WORK/https.log" '"GET /rb2.bin HTTP/1.1" 200 ' 4

stop_server https

# --- 8. the main path as `make demo` runs it (tools/demo.sh, on a copy of the build's layout) --
mkdir -p "$WORK/demo_build"
for f in otakit apps images; do
    ln -s "$OTAKIT_BUILD_DIR/$f" "$WORK/demo_build/$f"
done
demo_status=0
bash "$OTAKIT_SOURCE_DIR/tools/demo.sh" "$WORK/demo_build" >"$WORK/demo.out" 2>&1 || demo_status=$?
if [ "$demo_status" -ne 0 ]; then
    tail -n 20 "$WORK/demo.out" >&2
    fail "tools/demo.sh exited $demo_status"
fi
expect_file_has "$WORK/demo.out" \
    '^restarted; the bootloader booted ota_0 and hello_world ran\. Server stopped\.$'
expect_file_has "$WORK/demo.out" '^bootloader would select: ota_0$'

echo "network_native: $CHECKS checks passed"
