#!/usr/bin/env bash
# simple_ota_example on the board against real HTTPS servers on 127.0.0.1 (spec 7.2): an update
# from ota_0 (0x20000) to ota_1 (0x1d0000) with the certificate bundle (the embedded ca_cert.pem
# joins it) and with cert_pem, a bundle that lacks the server's certificate, a server without
# Range support (like Python's http.server), and a redirect to another server.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/netlib.bash"

www=$WORK/www
mkdir -p "$www" "$WORK/certs"
start_server https "$www" --self-signed 127.0.0.1 --cert-dir "$WORK/certs"
cert=$WORK/certs/ca_cert.pem
base=https://127.0.0.1:$PORT
T=simple_ota_example # the log tag

pack_example "$www/hello_v2.bin" hello_world 2 -
pack_example "$WORK/app_bundle.bin" simple_ota_example 1 "$cert" \
    "EXAMPLE_FIRMWARE_UPGRADE_URL=$base/hello_v2.bin"
STDIN=(EXAMPLE_FIRMWARE_UPGRADE_URL=FROM_STDIN)
pack_example "$WORK/app_stdin.bin" simple_ota_example 1 "$cert" "${STDIN[@]}"
pack_example "$WORK/app_pem.bin" simple_ota_example 1 "$cert" "${STDIN[@]}" \
    EXAMPLE_USE_CERT_BUNDLE=n
# the bundle with another certificate (for another host) in place of the server's
make_cert "$WORK/other" otakit.invalid
pack_example "$WORK/app_othercert.bin" simple_ota_example 1 "$WORK/other/ca_cert.pem" "${STDIN[@]}"

# run_simple NAME APP URL: the app in ota_0 of the two_ota_large table, URL on the console
run_simple() {
    make_flash "$WORK/$1.bin" two_ota_large "$2"
    board_in "$WORK/$1.log" "$3" "$WORK/$1.bin" \
        --until "^Hello world!\$|$T: Firmware upgrade failed\$"
}

# expect_updated NAME URL: the log of a successful update from URL, and ota_1 selected
expect_updated() {
    local log=$WORK/$1.log
    [ "$BOARD_STATUS" -eq 0 ] || fail "$1: board exit $BOARD_STATUS"
    [ "$(loaded_offsets "$log")" = "0x20000 0x1d0000" ] ||
        fail "$1: booted $(loaded_offsets "$log")"
    ok
    expect_in_order "$log" \
        'boot: Loaded app from partition at offset 0x20000$' \
        "${LI}$T: OTA example app_main start\$" \
        "${LI}$T: SHA-256 for bootloader:  [0-9a-f]{64}\$" \
        "${LI}$T: SHA-256 for current firmware:  [0-9a-f]{64}\$" \
        "${LI}$T: Starting OTA example task\$" \
        "${LI}$T: Attempting to download update from ${2//./\\.}\$" \
        "${LI}esp_https_ota: Starting OTA\.\.\.\$" \
        "${LI}esp_https_ota: Writing to <ota_1> partition at offset 0x1d0000\$" \
        "${LI}$T: OTA Succeed, Rebooting\.\.\.\$" \
        'rst:0xc \(SW_CPU_RESET\)' \
        'boot: Loaded app from partition at offset 0x1d0000$' \
        'app_init: Project name: +hello_world$' \
        '^Hello world!$'
    expect_file_lacks "$log" 'Firmware upgrade failed'
    expect_flash_has "$WORK/$1.bin" 0x1d0000 "$www/hello_v2.bin"
    "$OTAKIT" otadata read "$WORK/$1.bin" >"$WORK/$1.otadata" || fail "$1: otadata read"
    expect_file_has "$WORK/$1.otadata" '^bootloader would select: ota_1$'
}

# --- 1. the certificate bundle (default), URL in the sdkconfig -------------------------------
make_flash "$WORK/bundle.bin" two_ota_large "$WORK/app_bundle.bin"
board "$WORK/bundle.log" "$WORK/bundle.bin" --until '^Hello world!$'
expect_updated bundle "$base/hello_v2.bin"
expect_file_has "$WORK/https.log" '"GET /hello_v2.bin HTTP/1.1" 200 '

# --- 2. cert_pem (EXAMPLE_USE_CERT_BUNDLE=n), URL from the console (FROM_STDIN) ----------------
run_simple pem "$WORK/app_pem.bin" "$base/hello_v2.bin"
expect_updated pem "$base/hello_v2.bin"

# --- 3. a bundle without the server's certificate: the TLS handshake is refused -------------
run_simple untrusted "$WORK/app_othercert.bin" "$base/hello_v2.bin"
[ "$BOARD_STATUS" -eq 0 ] || fail "untrusted: board exit $BOARD_STATUS"
expect_in_order "$WORK/untrusted.log" \
    "${LE}esp-tls-mbedtls: mbedtls_ssl_handshake returned -0x2700\$" \
    "${LI}esp-tls-mbedtls: Failed to verify peer certificate!\$" \
    "${LE}esp-tls: Failed to open new connection\$" \
    "${LE}esp_https_ota: Failed to establish HTTP connection\$" \
    "${LE}$T: Firmware upgrade failed\$"
[ "$(loaded_offsets "$WORK/untrusted.log")" = "0x20000" ] || fail "untrusted: booted another app"
ok

# --- 4. a server without Range support ---------------------------------------------------------
start_server norange_srv "$www" --self-signed 127.0.0.1 --cert-dir "$WORK/certs" --no-range
run_simple norange "$WORK/app_stdin.bin" "https://127.0.0.1:$PORT/hello_v2.bin"
stop_server norange_srv
expect_updated norange "https://127.0.0.1:$PORT/hello_v2.bin"
expect_file_has "$WORK/norange_srv.log" '"GET /hello_v2.bin HTTP/1.1" 200 '
expect_file_lacks "$WORK/norange_srv.log" '" 206 '

# --- 5. a redirect to another server -----------------------------------------------------------
start_server redirect_srv "$www" --self-signed 127.0.0.1 --cert-dir "$WORK/certs" \
    --redirect "/latest.bin=$base/hello_v2.bin"
run_simple redirected "$WORK/app_stdin.bin" "https://127.0.0.1:$PORT/latest.bin"
stop_server redirect_srv
expect_updated redirected "https://127.0.0.1:$PORT/latest.bin"
expect_file_has "$WORK/redirect_srv.log" '"GET /latest.bin HTTP/1.1" 302 '
expect_count "$WORK/https.log" '"GET /hello_v2.bin HTTP/1.1" 200 ' 3

stop_server https
echo "network_simple: $CHECKS checks passed"
