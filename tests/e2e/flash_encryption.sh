#!/usr/bin/env bash
# Flash encryption (ESP32, development mode) on the board: a chip prepared as ESP-IDF's CI
# prepares it (`otakit flash enable-encryption`, images written with `otakit flash write
# --encrypt`) boots native_ota_example, which updates itself over HTTPS: the new app and the
# otadata are written encrypted and boot. A plaintext flash on that chip does not boot. What the
# board wrote decrypts with espsecure (the espsecure part; skipped without ../shared's esptool).
# ctest-parts: boot espsecure
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/netlib.bash"

ESPTOOL_DIR=$OTAKIT_SOURCE_DIR/../shared/conformance/esp-idf/components/esptool_py/esptool
PYENV=$OTAKIT_BUILD_DIR/pyenv/bin/python
if only_part espsecure && ! { [ -x "$PYENV" ] && PYTHONPATH=$ESPTOOL_DIR "$PYENV" -c \
    'import espsecure' 2>/dev/null; }; then
    echo "SKIP: espsecure (../shared/conformance's esptool) is not available"
    exit 77
fi

www=$WORK/www
mkdir -p "$www" "$WORK/certs"
start_server https "$www" --self-signed 127.0.0.1 --cert-dir "$WORK/certs"
cert=$WORK/certs/ca_cert.pem
FE=(SECURE_FLASH_ENC_ENABLED=y SECURE_FLASH_ENCRYPTION_MODE_DEVELOPMENT=y NVS_ENCRYPTION=n
    SECURE_FLASH_REQUIRE_ALREADY_ENABLED=y)
NATIVE=(EXAMPLE_FIRMWARE_UPG_URL=FROM_STDIN "${FE[@]}")
pack_example "$WORK/v1.bin" native_ota_example 1 "$cert" "${NATIVE[@]}"
pack_example "$www/v2.bin" native_ota_example 2 "$cert" "${NATIVE[@]}"
pack_bootloader "$WORK/bl.bin" "${FE[@]}"

# The plaintext layout, then the same pieces written encrypted on a prepared chip.
make_flash "$WORK/plain.bin" two_ota "factory=$WORK/v1.bin" "$WORK/bl.bin"
piece() { dd if="$WORK/plain.bin" of="$WORK/$1" bs=4096 skip=$(($2 / 4096)) \
    count=$(($3 / 4096)) status=none; }
piece bl_region.bin 0x1000 0x7000
piece table.bin 0x8000 0x1000
piece otadata.bin 0xd000 0x2000
head -c 32 /dev/urandom >"$WORK/key.bin"
cp "$WORK/plain.bin" "$WORK/enc.bin"
"$OTAKIT" flash enable-encryption "$WORK/enc.bin" --keyfile "$WORK/key.bin" >/dev/null ||
    fail "enable-encryption"
"$OTAKIT" flash write "$WORK/enc.bin" --encrypt 0x1000 "$WORK/bl_region.bin" \
    0x8000 "$WORK/table.bin" 0xd000 "$WORK/otadata.bin" 0x10000 "$WORK/v1.bin" \
    >"$WORK/write.log" || fail "flash write --encrypt"
expect_file_has "$WORK/write.log" '^Wrote [0-9]+ bytes \(encrypted\) at 0x00010000'
# the chip holds ciphertext where the plaintext was
cmp -s -n 4096 -i 0x10000:0x10000 "$WORK/enc.bin" "$WORK/plain.bin" &&
    fail "the app was written in plaintext"
ok
# a second key cannot be burnt over the first
if "$OTAKIT" flash enable-encryption "$WORK/enc.bin" --keyfile "$WORK/v1.bin" 2>/dev/null; then
    fail "enable-encryption accepted a file that is not a key"
fi
head -c 32 /dev/zero | tr '\0' '\377' >"$WORK/key2.bin"
if "$OTAKIT" flash enable-encryption "$WORK/enc.bin" --keyfile "$WORK/key2.bin" \
    2>"$WORK/key2.err"; then
    fail "a second key was burnt"
fi
expect_file_has "$WORK/key2.err" 'another flash encryption key is burnt'

if part boot; then
    # --- an update under flash encryption boots --------------------------------------------
    cp "$WORK/enc.bin" "$WORK/upd.bin"
    cp "$WORK/enc.bin.efuse" "$WORK/upd.bin.efuse"
    board_in "$WORK/upd.log" "https://127.0.0.1:$PORT/v2.bin" "$WORK/upd.bin" \
        --until 'app_init: App version: +2$'
    [ "$BOARD_STATUS" -eq 0 ] || fail "update: board exit $BOARD_STATUS"
    [ "$(loaded_offsets "$WORK/upd.log")" = "0x10000 0x110000" ] ||
        fail "update: booted $(loaded_offsets "$WORK/upd.log")"
    ok
    expect_in_order "$WORK/upd.log" \
        'flash_encrypt: flash encryption is enabled \(3 plaintext flashes left\)$' \
        'app_init: App version: +1$' \
        'flash_encrypt: Flash encryption mode is DEVELOPMENT \(not secure\)$' \
        'native_ota_example: Prepare to restart system!$' \
        'boot: Loaded app from partition at offset 0x110000$' \
        'app_init: App version: +2$'
    # ota_0 and the otadata hold ciphertext: no plaintext image header, no plaintext entry
    [ "$(od -An -tx1 -N1 -j $((0x110000)) "$WORK/upd.bin" | tr -d ' ')" != e9 ] ||
        fail "ota_0 was written in plaintext"
    ok
    raw=$(od -An -tx1 -N4 -j $((0xd000)) "$WORK/upd.bin" | tr -d ' ')
    [ "$raw" != 01000000 ] && [ "$raw" != ffffffff ] ||
        fail "the otadata entry was written in plaintext ($raw)"
    ok

    # --- a plaintext flash does not boot on the encrypted chip -----------------------------
    cp "$WORK/plain.bin" "$WORK/p.bin"
    cp "$WORK/enc.bin.efuse" "$WORK/p.bin.efuse"
    board "$WORK/p.log" "$WORK/p.bin" --chip esp32 --max-boots 1
    [ "$BOARD_STATUS" -eq 3 ] || fail "plaintext on an encrypted chip: board exit $BOARD_STATUS"
    ok
    expect_file_has "$WORK/p.log" '^invalid header: 0x'
    expect_file_lacks "$WORK/p.log" 'Loaded app from partition'

    # --- the same flash boots without the eFuses: flash encryption is what changed ---------
    board "$WORK/pp.log" "$WORK/plain.bin" --chip esp32 --until 'native_ota_example: Starting OTA'
    expect_file_has "$WORK/pp.log" 'flash encryption is not enabled, and SECURE_FLASH_REQUIRE'
fi

if part espsecure && [ -x "$PYENV" ]; then
    # --- espsecure decrypts what otakit encrypted and what the board wrote -----------------
    cp "$WORK/enc.bin" "$WORK/upd2.bin"
    cp "$WORK/enc.bin.efuse" "$WORK/upd2.bin.efuse"
    board_in "$WORK/upd2.log" "https://127.0.0.1:$PORT/v2.bin" "$WORK/upd2.bin" \
        --until 'app_init: App version: +2$'
    [ "$BOARD_STATUS" -eq 0 ] || fail "update: board exit $BOARD_STATUS"
    decrypt() { # FLASH ADDR LEN OUT
        dd if="$1" of="$WORK/ct.bin" bs=4096 skip=$(($2 / 4096)) count=$((($3 + 4095) / 4096)) \
            status=none
        PYTHONPATH=$ESPTOOL_DIR "$PYENV" -m espsecure decrypt-flash-data --keyfile \
            "$WORK/key.bin" --address "$2" -o "$4" "$WORK/ct.bin" >/dev/null ||
            fail "espsecure decrypt-flash-data at $2"
    }
    decrypt "$WORK/enc.bin" 0x10000 "$(stat -c %s "$WORK/v1.bin")" "$WORK/d1.bin"
    cmp -s -n "$(stat -c %s "$WORK/v1.bin")" "$WORK/d1.bin" "$WORK/v1.bin" ||
        fail "espsecure does not decrypt otakit's encrypted write to the factory app"
    ok
    decrypt "$WORK/upd2.bin" 0x110000 "$(stat -c %s "$www/v2.bin")" "$WORK/d2.bin"
    cmp -s -n "$(stat -c %s "$www/v2.bin")" "$WORK/d2.bin" "$www/v2.bin" ||
        fail "espsecure does not decrypt the app the board wrote with esp_ota_write"
    ok
    decrypt "$WORK/upd2.bin" 0xd000 0x2000 "$WORK/od.bin"
    seq=$(od -An -tu4 -N4 "$WORK/od.bin" | tr -d ' ')
    [ "$seq" = 1 ] || fail "the otadata entry the board wrote decrypts to ota_seq=$seq, not 1"
    ok
fi
echo "PASS: $CHECKS checks"
