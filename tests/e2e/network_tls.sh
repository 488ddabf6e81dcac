#!/usr/bin/env bash
# Server verification of the example apps on the board against real servers on 127.0.0.1: a
# certificate for another host name is refused unless EXAMPLE_SKIP_COMMON_NAME_CHECK=y, a server
# the app's certificate does not vouch for is refused, and plain http:// is refused by
# esp_https_ota without a verification option (ota_test_app's "https" action: no certificate,
# bundle or CA store) unless CONFIG_ESP_HTTPS_OTA_ALLOW_HTTP=y (spec 6.2: the check is on the
# configuration, not on the URL's scheme).
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/netlib.bash"

www=$WORK/www
mkdir -p "$www" "$WORK/certs"
start_server https "$www" --self-signed 127.0.0.1 --cert-dir "$WORK/certs"
https_port=$PORT
cert=$WORK/certs/ca_cert.pem
# a second certificate, for another host name, and a server on 127.0.0.1 that presents it
mkdir -p "$WORK/other"
start_server othername "$www" --self-signed otakit.invalid --cert-dir "$WORK/other"
other=$WORK/other/ca_cert.pem
other_port=$PORT

pack_example "$www/hello_v2.bin" hello_world 2 -
pack_example "$www/native_v2.bin" native_ota_example 2 - EXAMPLE_FIRMWARE_UPG_URL=FROM_STDIN
NATIVE=(EXAMPLE_FIRMWARE_UPG_URL=FROM_STDIN)
SIMPLE=(EXAMPLE_FIRMWARE_UPGRADE_URL=FROM_STDIN)
ADV=(EXAMPLE_FIRMWARE_UPGRADE_URL=FROM_STDIN)
SKIP_CN=(EXAMPLE_SKIP_COMMON_NAME_CHECK=y)
TLS_REFUSED=("${LE}esp-tls-mbedtls: mbedtls_ssl_handshake returned -0x2700\$"
    "${LI}esp-tls-mbedtls: Failed to verify peer certificate!\$"
    "${LE}esp-tls: Failed to open new connection\$"
    "${LE}transport_base: Failed to open a new connection\$"
    "${LE}HTTP_CLIENT: Connection failed, sock < 0\$")

# hello_world greets, native_ota_example 2 runs from ota_0, or simple_ota_example gives up
UPDATED_OR_FAILED='^Hello world!$|Firmware upgrade failed$'
UPDATED_OR_FAILED+='|native_ota_example: Running partition type 0 subtype 16 '

# run NAME APP TABLE URL: APP in the first app partition of TABLE, URL on the console; stops at
# the first greeting of the updated app or when the example gives up
run() {
    make_flash "$WORK/$1.bin" "$3" "$2"
    board_in "$WORK/$1.log" "$4" "$WORK/$1.bin" --until "$UPDATED_OR_FAILED"
}

# refused_native|simple|advanced NAME: the TLS handshake failed and the example logged it
refused_native() {
    [ "$BOARD_STATUS" -eq 4 ] || fail "$1: board exit $BOARD_STATUS, expected 4"
    expect_in_order "$WORK/$1.log" "${TLS_REFUSED[@]}" \
        "${LE}native_ota_example: Failed to open HTTP connection: ESP_ERR_HTTP_CONNECT\$" \
        "${LE}native_ota_example: Exiting task due to fatal error\.\.\.\$"
    expect_file_lacks "$WORK/$1.log" 'esp_ota_begin succeeded'
}
refused_simple() {
    [ "$BOARD_STATUS" -eq 0 ] || fail "$1: board exit $BOARD_STATUS"
    expect_in_order "$WORK/$1.log" "${TLS_REFUSED[@]}" \
        "${LE}esp_https_ota: Failed to open HTTP connection: ESP_ERR_HTTP_CONNECT\$" \
        "${LE}esp_https_ota: Failed to establish HTTP connection\$" \
        "${LE}simple_ota_example: Firmware upgrade failed\$"
}
refused_advanced() {
    [ "$BOARD_STATUS" -eq 4 ] || fail "$1: board exit $BOARD_STATUS, expected 4"
    expect_in_order "$WORK/$1.log" "${TLS_REFUSED[@]}" \
        "${LE}esp_https_ota: Failed to establish HTTP connection\$" \
        "${LE}advanced_https_ota_example: ESP HTTPS OTA Begin failed\$"
}
updated() {
    [ "$BOARD_STATUS" -eq 0 ] || fail "$1: board exit $BOARD_STATUS"
    expect_file_has "$WORK/$1.log" "boot: Loaded app from partition at offset $2\$"
    expect_file_lacks "$WORK/$1.log" 'Failed to verify peer certificate'
}

# --- 1. a certificate for another host name ----------------------------------------------------
pack_example "$WORK/native_other.bin" native_ota_example 1 "$other" "${NATIVE[@]}"
pack_example "$WORK/native_other_skip.bin" native_ota_example 1 "$other" "${NATIVE[@]}" \
    "${SKIP_CN[@]}"
run cn_native "factory=$WORK/native_other.bin" two_ota "https://127.0.0.1:$other_port/native_v2.bin"
refused_native cn_native
run cn_native_skip "factory=$WORK/native_other_skip.bin" two_ota \
    "https://127.0.0.1:$other_port/native_v2.bin"
updated cn_native_skip 0x110000
expect_file_has "$WORK/cn_native_skip.log" 'native_ota_example: Prepare to restart system!$'

pack_example "$WORK/adv_other.bin" advanced_https_ota_example 1 "$other" "${ADV[@]}"
pack_example "$WORK/adv_other_skip.bin" advanced_https_ota_example 1 "$other" "${ADV[@]}" \
    "${SKIP_CN[@]}"
run cn_adv "$WORK/adv_other.bin" two_ota_large "https://127.0.0.1:$other_port/hello_v2.bin"
refused_advanced cn_adv
run cn_adv_skip "$WORK/adv_other_skip.bin" two_ota_large \
    "https://127.0.0.1:$other_port/hello_v2.bin"
updated cn_adv_skip 0x1d0000
expect_file_has "$WORK/cn_adv_skip.log" '^Hello world!$'

pack_example "$WORK/simple_other.bin" simple_ota_example 1 "$other" "${SIMPLE[@]}"
pack_example "$WORK/simple_other_skip.bin" simple_ota_example 1 "$other" "${SIMPLE[@]}" \
    "${SKIP_CN[@]}"
run cn_simple "$WORK/simple_other.bin" two_ota_large "https://127.0.0.1:$other_port/hello_v2.bin"
refused_simple cn_simple
run cn_simple_skip "$WORK/simple_other_skip.bin" two_ota_large \
    "https://127.0.0.1:$other_port/hello_v2.bin"
updated cn_simple_skip 0x1d0000

# --- 2. a server the embedded certificate does not vouch for --------------------------------
# (the apps trust otakit.invalid's certificate; the server presents the one for 127.0.0.1)
pack_example "$WORK/simple_other_pem.bin" simple_ota_example 1 "$other" "${SIMPLE[@]}" \
    EXAMPLE_USE_CERT_BUNDLE=n "${SKIP_CN[@]}"
run untrusted_native "factory=$WORK/native_other_skip.bin" two_ota \
    "https://127.0.0.1:$https_port/native_v2.bin"
refused_native untrusted_native
run untrusted_adv "$WORK/adv_other_skip.bin" two_ota_large \
    "https://127.0.0.1:$https_port/hello_v2.bin"
refused_advanced untrusted_adv
run untrusted_simple "$WORK/simple_other_pem.bin" two_ota_large \
    "https://127.0.0.1:$https_port/hello_v2.bin"
refused_simple untrusted_simple
run untrusted_bundle "$WORK/simple_other_skip.bin" two_ota_large \
    "https://127.0.0.1:$https_port/hello_v2.bin"
refused_simple untrusted_bundle
expect_count "$WORK/https.log" '"GET ' 0 # no request got through the handshake

# the server's own certificate (for 127.0.0.1) reached as "localhost", when that name is ours
if getent ahostsv4 localhost 2>/dev/null | grep -q '^127\.0\.0\.1 '; then
    pack_example "$WORK/native.bin" native_ota_example 1 "$cert" "${NATIVE[@]}"
    pack_example "$WORK/native_skip.bin" native_ota_example 1 "$cert" "${NATIVE[@]}" "${SKIP_CN[@]}"
    run localhost "factory=$WORK/native.bin" two_ota "https://localhost:$https_port/native_v2.bin"
    refused_native localhost
    run localhost_skip "factory=$WORK/native_skip.bin" two_ota \
        "https://localhost:$https_port/native_v2.bin"
    updated localhost_skip 0x110000
fi

# --- 3. plain http:// ------------------------------------------------------------------------
start_server http "$www" --http
http_url=http://127.0.0.1:$PORT/hello_v2.bin
NO_HTTP_VERIFY="${LE}esp_https_ota: No option for server verification is enabled in\
 esp_http_client config\.\$"
ALLOW_HTTP_WARN="${LW}esp_https_ota: Continuing with insecure option because\
 CONFIG_ESP_HTTPS_OTA_ALLOW_HTTP is set\.\$"
# esp_https_ota() with no verification option (ota_test_app's "https" action)
pack_test_app "$WORK/https_app.bin" 1 https
pack_test_app "$WORK/https_app_allow.bin" 1 https ESP_HTTPS_OTA_ALLOW_HTTP=y
make_flash "$WORK/http_none.bin" two_ota_large "$WORK/https_app.bin"
board_in "$WORK/http_none.log" "$http_url" "$WORK/http_none.bin" --until '^Hello world!$'
[ "$BOARD_STATUS" -eq 4 ] || fail "http_none: board exit $BOARD_STATUS, expected 4"
expect_in_order "$WORK/http_none.log" "$NO_HTTP_VERIFY" \
    "${LI}ota_test_app: https: ESP_ERR_INVALID_ARG\$"
expect_count "$WORK/http.log" '"GET ' 0
make_flash "$WORK/http_allow.bin" two_ota_large "$WORK/https_app_allow.bin"
board_in "$WORK/http_allow.log" "$http_url" "$WORK/http_allow.bin" --until '^Hello world!$'
updated http_allow 0x1d0000
expect_in_order "$WORK/http_allow.log" "$ALLOW_HTTP_WARN" \
    "${LI}ota_test_app: https: ESP_OK\$" '^Hello world!$'
expect_flash_has "$WORK/http_allow.bin" 0x1d0000 "$www/hello_v2.bin"

# as in ESP-IDF, a configured certificate counts as a verification option even for http://
pack_example "$WORK/adv_cert_http.bin" advanced_https_ota_example 1 "$cert" "${ADV[@]}"
run http_adv_cert "$WORK/adv_cert_http.bin" two_ota_large "$http_url"
updated http_adv_cert 0x1d0000
expect_file_lacks "$WORK/http_adv_cert.log" \
    'No option for server verification|Continuing with insecure option'
expect_count "$WORK/http.log" '"GET /hello_v2.bin HTTP/1.1" 200 ' 2

stop_server http
stop_server othername
stop_server https
echo "network_tls: $CHECKS checks passed"
