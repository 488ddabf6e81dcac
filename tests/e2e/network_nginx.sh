#!/usr/bin/env bash
# The example apps on the board update from nginx (a production web server, run by the test as
# the current user with its configuration, logs and temporary files in the work directory):
# simple_ota_example, advanced_https_ota_example with partial download (HEAD, then 8 KiB
# ranges on one kept-alive connection) and native_ota_example. Skipped without nginx, curl or
# openssl.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/netlib.bash"

if [ ! -x /usr/sbin/nginx ] || ! command -v curl >/dev/null || ! have_openssl; then
    echo "nginx, curl or openssl is not installed: skipping"
    exit 77
fi

www=$WORK/www
mkdir -p "$www"
make_cert "$WORK/certs" 127.0.0.1
cert=$WORK/certs/ca_cert.pem
start_nginx nginx "$www" "$cert" "$WORK/certs/ca_key.pem"
access=$WORK/nginx/logs/access.log
url=https://127.0.0.1:$PORT/hello_v2.bin

pack_example "$www/hello_v2.bin" hello_world 2 -
size=$(stat -c %s "$www/hello_v2.bin")

# run NAME APP TABLE: APP in the first app partition of TABLE, the URL on the console
run() {
    make_flash "$WORK/$1.bin" "$3" "$2"
    board_in "$WORK/$1.log" "$url" "$WORK/$1.bin" --until '^Hello world!$'
    [ "$BOARD_STATUS" -eq 0 ] || fail "$1: board exit $BOARD_STATUS"
}

# --- 1. simple_ota_example (certificate bundle) ------------------------------------------------
pack_example "$WORK/simple.bin" simple_ota_example 1 "$cert" EXAMPLE_FIRMWARE_UPGRADE_URL=FROM_STDIN
run simple "$WORK/simple.bin" two_ota_large
expect_in_order "$WORK/simple.log" \
    'boot: Loaded app from partition at offset 0x20000$' \
    "simple_ota_example: Attempting to download update from ${url//./\\.}\$" \
    "${LI}esp_https_ota: Writing to <ota_1> partition at offset 0x1d0000\$" \
    "${LI}simple_ota_example: OTA Succeed, Rebooting\.\.\.\$" \
    'boot: Loaded app from partition at offset 0x1d0000$' \
    '^Hello world!$'
expect_flash_has "$WORK/simple.bin" 0x1d0000 "$www/hello_v2.bin"
expect_count "$access" "\"GET /hello_v2.bin HTTP/1.1\" 200 $size \"-\"\$" 1
: >"$access"

# --- 2. advanced_https_ota_example with partial download --------------------------------------
pack_example "$WORK/adv.bin" advanced_https_ota_example 1 "$cert" \
    EXAMPLE_FIRMWARE_UPGRADE_URL=FROM_STDIN EXAMPLE_ENABLE_PARTIAL_HTTP_DOWNLOAD=y \
    EXAMPLE_HTTP_REQUEST_SIZE=8192
run partial "$WORK/adv.bin" two_ota_large
expect_in_order "$WORK/partial.log" \
    'advanced_https_ota_example: Connected to server$' \
    'advanced_https_ota_example: Verifying chip id of new image: 0$' \
    'advanced_https_ota_example: Boot partition updated\. Next Partition: 17$' \
    'advanced_https_ota_example: ESP_HTTPS_OTA upgrade successful\. Rebooting \.\.\.$' \
    'boot: Loaded app from partition at offset 0x1d0000$' \
    '^Hello world!$'
expect_flash_has "$WORK/partial.bin" 0x1d0000 "$www/hello_v2.bin"
ranges=$(((size + 8191) / 8192))
expect_count "$access" '"HEAD /hello_v2.bin HTTP/1.1" 200 0 "-"$' 1
expect_count "$access" '"GET /hello_v2.bin HTTP/1.1" 206 ' "$ranges"
last=$(((ranges - 1) * 8192))
expect_count "$access" '"GET /hello_v2.bin HTTP/1.1" 206 8192 "bytes=[0-9]+-[0-9]+"$' \
    $((ranges - 1))
expect_count "$access" "\"GET /hello_v2.bin HTTP/1.1\" 206 $((size - last)) \"bytes=$last-\"\$" 1
# one connection: every line has the same connection number, requests 1..ranges+1 on it
[ "$(cut -d' ' -f1 "$access" | sort -u | wc -l)" -eq 1 ] ||
    fail "partial download: several connections"
ok
[ "$(cut -d' ' -f2 "$access" | tr '\n' ' ')" = "$(seq -s ' ' 1 $((ranges + 1))) " ] ||
    fail "partial download: requests per connection $(cut -d' ' -f2 "$access" | tr '\n' ' ')"
ok
: >"$access"

# --- 3. native_ota_example -------------------------------------------------------------------
pack_example "$WORK/native.bin" native_ota_example 1 "$cert" EXAMPLE_FIRMWARE_UPG_URL=FROM_STDIN
run native "factory=$WORK/native.bin" two_ota
expect_in_order "$WORK/native.log" \
    'native_ota_example: New firmware version: 2$' \
    "native_ota_example: Total Write binary data length: $size\$" \
    'native_ota_example: Prepare to restart system!$' \
    'boot: Loaded app from partition at offset 0x110000$' \
    '^Hello world!$'
expect_flash_has "$WORK/native.bin" 0x110000 "$www/hello_v2.bin"
expect_count "$access" "\"GET /hello_v2.bin HTTP/1.1\" 200 $size \"-\"\$" 1

stop_server nginx
echo "network_nginx: $CHECKS checks passed"
