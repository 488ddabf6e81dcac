#!/usr/bin/env bash
# advanced_https_ota_example on the board against real HTTPS servers on 127.0.0.1 (spec 7.3 and
# its CI cases), the URL read from the console (FROM_STDIN): the OTA events of an update, a
# truncated image, a truncated header, random data, an image for another chip, a body without
# length (`openssl s_server -WWW`) and a chunked one, the same version, a redirect, partial
# download (many requests, one connection), and resumption after a power cut at a reproducible
# pseudo-random moment of the download, from a server with Range support and from one without.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/netlib.bash"

www=$WORK/www
mkdir -p "$www" "$WORK/certs"
start_server https "$www" --self-signed 127.0.0.1 --cert-dir "$WORK/certs"
cert=$WORK/certs/ca_cert.pem
key=$WORK/certs/ca_key.pem
base=https://127.0.0.1:$PORT
ADV=(EXAMPLE_FIRMWARE_UPGRADE_URL=FROM_STDIN)
T=advanced_https_ota_example # the log tag

pack_example "$www/hello_v2.bin" hello_world 2 -
size=$(stat -c %s "$www/hello_v2.bin")
pack_example "$WORK/adv.bin" advanced_https_ota_example 1 "$cert" "${ADV[@]}"
cp "$WORK/adv.bin" "$www/adv_v1.bin"

# run_adv NAME APP URL [BOARD ARGS...]: APP in ota_0 of the two_ota_large table, URL on the
# console; stops at hello_world's greeting or when the update task ends
run_adv() {
    local name=$1 app=$2 url=$3
    shift 3
    make_flash "$WORK/$name.bin" two_ota_large "$app"
    board_in "$WORK/$name.log" "$url" "$WORK/$name.bin" --until '^Hello world!$' "$@"
}

# expect_updated NAME: the update went through and hello_world runs from ota_1
expect_updated() {
    local log=$WORK/$1.log
    [ "$BOARD_STATUS" -eq 0 ] || fail "$1: board exit $BOARD_STATUS"
    expect_in_order "$log" \
        "${LI}esp_https_ota: Writing to <ota_1> partition at offset 0x1d0000\$" \
        "${LI}$T: ESP_HTTPS_OTA upgrade successful\. Rebooting \.\.\.\$" \
        'boot: Loaded app from partition at offset 0x1d0000$' \
        '^Hello world!$'
    expect_flash_has "$WORK/$1.bin" 0x1d0000 "$www/hello_v2.bin"
}

# expect_failed NAME: the update failed and nothing was selected (the app task ended, exit 4)
expect_failed() {
    [ "$BOARD_STATUS" -eq 4 ] || fail "$1: board exit $BOARD_STATUS, expected 4 (app returned)"
    [ "$(loaded_offsets "$WORK/$1.log")" = "0x20000" ] || fail "$1: booted another app"
    ok
    expect_file_lacks "$WORK/$1.log" 'upgrade successful|Boot partition updated'
}

# --- 1. the events of an update, in order --------------------------------------------------
run_adv events "$WORK/adv.bin" "$base/hello_v2.bin"
expect_updated events
expect_in_order "$WORK/events.log" \
    'boot: Loaded app from partition at offset 0x20000$' \
    "${LI}$T: OTA example app_main start\$" \
    "${LI}$T: Starting Advanced OTA example\$" \
    "${LI}$T: OTA started\$" \
    "${LI}$T: Connected to server\$" \
    "${LI}esp_https_ota: Starting OTA\.\.\.\$" \
    "${LI}esp_https_ota: Writing to <ota_1> partition at offset 0x1d0000\$" \
    "${LI}$T: Reading Image Description\$" \
    "${LI}$T: Running firmware version: 1\$" \
    "${LI}$T: Verifying chip id of new image: 0\$" \
    "${LI}$T: Verifying chip revision of new image: 0\$" \
    "${LI}$T: Boot partition updated\. Next Partition: 17\$" \
    "${LI}$T: OTA finish\$" \
    "${LI}$T: ESP_HTTPS_OTA upgrade successful\. Rebooting \.\.\.\$"
expect_file_lacks "$WORK/events.log" 'OTA abort'

# --- 2. truncated image: the first 64000 bytes ----------------------------------------------
head -c 64000 "$www/hello_v2.bin" >"$www/truncated.bin"
run_adv truncated "$WORK/adv.bin" "$base/truncated.bin"
expect_failed truncated
expect_in_order "$WORK/truncated.log" \
    "${LI}$T: Verifying chip id of new image: 0\$" \
    "${LE}esp_ota_ops: New image failed verification\$" \
    "${LE}$T: Image validation failed, image is corrupted\$" \
    "${LE}$T: ESP_HTTPS_OTA upgrade failed 0x1503\$"

# --- 3. truncated header: 180 bytes -----------------------------------------------------------
head -c 180 "$www/hello_v2.bin" >"$www/header.bin"
run_adv header "$WORK/adv.bin" "$base/header.bin"
expect_failed header
expect_in_order "$WORK/header.log" \
    "${LI}$T: Reading Image Description\$" \
    "${LE}esp_https_ota: Complete headers were not received\$" \
    "${LE}$T: esp_https_ota_get_img_desc failed\$" \
    "${LI}$T: OTA abort\$" \
    "${LE}$T: ESP_HTTPS_OTA upgrade failed\$"

# --- 4. random data ------------------------------------------------------------------------
random_bytes 32000 2 >"$www/random.bin"
run_adv random "$WORK/adv.bin" "$base/random.bin"
expect_failed random
expect_in_order "$WORK/random.log" \
    "${LE}esp_https_ota: Incorrect app descriptor magic\$" \
    "${LE}$T: esp_https_ota_get_img_desc failed\$" \
    "${LE}$T: ESP_HTTPS_OTA upgrade failed\$"

# --- 5. an image for another chip (ESP32-C3, chip id 5) --------------------------------------
pack_example "$www/hello_c3.bin" hello_world 3 - IDF_TARGET=esp32c3
run_adv chip "$WORK/adv.bin" "$base/hello_c3.bin"
expect_failed chip
expect_in_order "$WORK/chip.log" \
    "${LI}$T: Verifying chip id of new image: 5\$" \
    "${LE}esp_https_ota: Mismatch chip id, expected 0, found 5\$" \
    "${LE}$T: ESP_HTTPS_OTA upgrade failed"

# --- 6. the same version: no update ----------------------------------------------------------
run_adv same "$WORK/adv.bin" "$base/adv_v1.bin"
expect_failed same
expect_in_order "$WORK/same.log" \
    "${LI}$T: Running firmware version: 1\$" \
    "${LW}$T: Current running version is the same as a new\. We will not continue the update\.\$" \
    "${LE}$T: image header verification failed\$" \
    "${LI}$T: OTA abort\$" \
    "${LE}$T: ESP_HTTPS_OTA upgrade failed\$"

# --- 7. a body without length from openssl s_server -WWW, and a chunked one ----------------
if have_openssl; then
    start_s_server s_server "$www" "$cert" "$key"
    run_adv s_server "$WORK/adv.bin" "https://127.0.0.1:$PORT/hello_v2.bin"
    stop_server s_server
    expect_updated s_server
else
    echo "openssl is not installed: the s_server case is skipped"
fi
start_server chunked_srv "$www" --self-signed 127.0.0.1 --cert-dir "$WORK/certs" --chunked
run_adv chunked "$WORK/adv.bin" "https://127.0.0.1:$PORT/hello_v2.bin"
stop_server chunked_srv
expect_updated chunked
expect_file_has "$WORK/chunked_srv.log" '"GET /hello_v2.bin HTTP/1.1" 200 '

# --- 8. a redirect -----------------------------------------------------------------------------
start_server redirect_srv "$www" --self-signed 127.0.0.1 --cert-dir "$WORK/certs" \
    --redirect "/latest.bin=$base/hello_v2.bin"
run_adv redirected "$WORK/adv.bin" "https://127.0.0.1:$PORT/latest.bin"
stop_server redirect_srv
expect_updated redirected
expect_file_has "$WORK/redirect_srv.log" '"GET /latest.bin HTTP/1.1" 302 '

# --- 9. partial download: 8 KiB ranges, one connection ---------------------------------------
pack_example "$WORK/adv_partial.bin" advanced_https_ota_example 1 "$cert" "${ADV[@]}" \
    EXAMPLE_ENABLE_PARTIAL_HTTP_DOWNLOAD=y EXAMPLE_HTTP_REQUEST_SIZE=8192
start_server partial_srv "$www" --self-signed 127.0.0.1 --cert-dir "$WORK/certs" \
    --stats-file "$WORK/partial.stats"
run_adv partial "$WORK/adv_partial.bin" "https://127.0.0.1:$PORT/hello_v2.bin"
stop_server partial_srv
expect_updated partial
ranges=$(((size + 8191) / 8192))
expect_file_has "$WORK/partial.stats" "^requests $((ranges + 1))\$"
expect_file_has "$WORK/partial.stats" "^status_2xx $((ranges + 1))\$"
expect_file_has "$WORK/partial.stats" '^connections 1$'
expect_file_has "$WORK/partial.stats" "^body_bytes $size\$"
expect_count "$WORK/partial_srv.log" '"HEAD /hello_v2.bin HTTP/1.1" 200 ' 1
expect_count "$WORK/partial_srv.log" '"GET /hello_v2.bin HTTP/1.1" 206 ' "$ranges"

# --- 10. resumption after a power cut during the download -------------------------------------
pack_example "$WORK/adv_resume.bin" advanced_https_ota_example 1 "$cert" "${ADV[@]}" \
    EXAMPLE_ENABLE_OTA_RESUMPTION=y LOG_DEFAULT_LEVEL_DEBUG=y

# read_at_cut URL N: image bytes the app had read (its "Image bytes read" lines) when the power
# was cut at flash operation N; the whole size when the cut came later or not at all
read_at_cut() {
    make_flash "$WORK/probe.bin" two_ota_large "$WORK/adv_resume.bin"
    board_in "$WORK/probe.log" "$1" "$WORK/probe.bin" --max-boots 1 --power-cut-at "$2"
    local n
    n=$(sed -n -e '/^--- power cut at/q' \
        -e "s/^D ([0-9]*) $T: Image bytes read: \([0-9]*\)\$/\1/p" "$WORK/probe.log" | tail -n1)
    echo "${n:-0}"
}

# cut_point URL BYTES: the first flash operation reached after the app has read BYTES (found by
# bisection over whole runs: the operation count depends on the NVS and flash layers)
cut_point() {
    local url=$1 want=$2 lo=0 hi=256 mid
    while [ "$(read_at_cut "$url" "$hi")" -lt "$want" ]; do
        lo=$hi
        hi=$((hi * 2))
        [ "$hi" -le 1048576 ] || fail "no cut point after $want bytes"
    done
    while [ $((hi - lo)) -gt 1 ]; do
        mid=$(((lo + hi) / 2))
        if [ "$(read_at_cut "$url" "$mid")" -ge "$want" ]; then
            hi=$mid
        else
            lo=$mid
        fi
    done
    echo "$hi"
}

# resume_run NAME SERVER SEED: hello_v2.bin from the server started as SERVER (its log lines of
# the run in NAME.srv); the power is cut once the app has read a pseudo-random 20..80 % of the
# image (torn operation, seed SEED), then the board powers on and the download goes on
resume_run() {
    local name=$1 server_log=$WORK/$2.log seed=$3
    local url=https://127.0.0.1:$PORT/hello_v2.bin
    local want=$((size * (200 + $(pseudo_random "$seed") % 600) / 1000))
    CUT_AT=$(cut_point "$url" "$want")
    [ -n "$CUT_AT" ] || fail "$name: no cut point found"
    local mark
    mark=$(wc -l <"$server_log")
    run_adv "$name" "$WORK/adv_resume.bin" "$(printf '%s\n' "$url" "$url")" \
        --power-cut-at "$CUT_AT" --cut-mode torn --seed "$seed"
    tail -n "+$((mark + 1))" "$server_log" >"$WORK/$name.srv"
    expect_file_has "$WORK/$name.log" \
        "^--- power cut at flash operation $CUT_AT \(torn, seed $seed\) ---\$"
    READ_AT_CUT=$(sed -n -e '/^--- power cut at/q' \
        -e "s/^D ([0-9]*) $T: Image bytes read: \([0-9]*\)\$/\1/p" "$WORK/$name.log" | tail -n1)
    [ "${READ_AT_CUT:-0}" -ge "$want" ] && [ "$READ_AT_CUT" -lt "$size" ] ||
        fail "$name: cut after ${READ_AT_CUT:-0} of $size bytes, wanted $want"
    ok
    # the second boot: the same app from ota_0, after a power-on reset
    sed -n '/^--- power on ---$/,$p' "$WORK/$name.log" >"$WORK/$name.after"
    expect_in_order "$WORK/$name.after" '^rst:0x1 \(POWERON_RESET\)' \
        'boot: Loaded app from partition at offset 0x20000$' "$T: OTA started\$"
    expect_updated "$name"
}

# 10a. a server with Range support: the second boot asks for the rest (206) and gets it
start_server resume_srv "$www" --self-signed 127.0.0.1 --cert-dir "$WORK/certs"
resume_run resumed resume_srv 20240607
stop_server resume_srv
resumed_at=$(sed -n 's/^D ([0-9]*) esp_https_ota: Resuming OTA from offset: \([0-9]*\)$/\1/p' \
    "$WORK/resumed.after")
# the example keeps whole KiB of what was written after each perform
[ -n "$resumed_at" ] && [ $((resumed_at % 1024)) -eq 0 ] && [ "$resumed_at" -gt 0 ] &&
    [ "$resumed_at" -le "$READ_AT_CUT" ] && [ $((READ_AT_CUT - resumed_at)) -lt 4096 ] ||
    fail "resumed at '$resumed_at' after $READ_AT_CUT bytes read"
ok
expect_in_order "$WORK/resumed.after" "^Range: bytes=$resumed_at-[[:space:]]*\$" \
    '^If-Range: "[^"]+"[[:space:]]*$' \
    "HTTP_CLIENT: HEADER=Content-Range:bytes $resumed_at-$((size - 1))/$size\$"
expect_file_lacks "$WORK/resumed.after" 'restarting download from beginning'
expect_count "$WORK/resumed.srv" '"GET /hello_v2.bin HTTP/1.1" 206 ' 2

# 10b. a server without Range support: the second boot starts again from byte 0
start_server norange_srv "$www" --self-signed 127.0.0.1 --cert-dir "$WORK/certs" --no-range
resume_run norange norange_srv 77
stop_server norange_srv
expect_in_order "$WORK/norange.after" \
    "${LD}esp_https_ota: Resuming OTA from offset: [1-9][0-9]*\$" \
    "${LW}esp_https_ota: Server ignored the requested Range header\$" \
    "${LW}esp_https_ota: OTA resumption requires server with range request support\.\$" \
    "${LE}esp_https_ota: OTA resumption failed with err: 28682\.\$" \
    "${LI}esp_https_ota: Falling back to OTA without resumption and restarting download from\
 beginning\$"
expect_count "$WORK/norange.srv" '"GET /hello_v2.bin HTTP/1.1" 200 ' 2
expect_file_lacks "$WORK/norange.srv" '" 206 '

stop_server https
echo "network_advanced: $CHECKS checks passed"
