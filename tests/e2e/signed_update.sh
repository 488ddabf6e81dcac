#!/usr/bin/env bash
# Signed apps without hardware secure boot (spec 8.1): simple_ota_example built by `otakit build`
# with CONFIG_SECURE_SIGNED_APPS_NO_SECURE_BOOT, the RSA scheme and its own signing key, so the
# build signs it. An update signed with the same key is accepted with ESP-IDF's lines; one signed
# with another key is refused by esp_ota_end ("Secure boot signature verification failed") and
# the board keeps running the old app; an unsigned one is refused too.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/netlib.bash"
have_openssl || { echo "openssl missing: skipped"; exit 77; }

signing_keys

www=$WORK/www
mkdir -p "$www" "$WORK/certs"
start_server https "$www" --self-signed 127.0.0.1 --cert-dir "$WORK/certs"
cert=$WORK/certs/ca_cert.pem
base=https://127.0.0.1:$PORT
T=simple_ota_example

build_app "$OTAKIT_SOURCE_DIR/examples/simple_ota_example" "$cert" \
    EXAMPLE_FIRMWARE_UPGRADE_URL=FROM_STDIN SECURE_SIGNED_APPS_NO_SECURE_BOOT=y \
    SECURE_SIGNED_APPS_RSA_SCHEME=y "SECURE_BOOT_SIGNING_KEY=\"$keys/rsa_a.pem\""
app=$APP_VARIANT/build/simple_ota_example.bin
[ -f "$APP_VARIANT/build/simple_ota_example-unsigned.bin" ] || fail "no unsigned image"
"$OTAKIT" image info "$app" >"$WORK/app.info" || fail "image info"
ok

pack_example "$WORK/hello.bin" hello_world 2 -
"$OTAKIT" image sign --keyfile "$keys/rsa_a.pem" -o "$www/good.bin" "$WORK/hello.bin" ||
    fail "image sign"
"$OTAKIT" image sign --keyfile "$keys/rsa_b.pem" -o "$www/foreign.bin" "$WORK/hello.bin" ||
    fail "image sign"
cp "$WORK/hello.bin" "$www/unsigned.bin"
ok

# image verify: the key that signed it is trusted, another is not; the block is listed
"$OTAKIT" image verify "$www/good.bin" --signed-apps rsa --keyfile "$keys/rsa_a.pem" \
    >"$WORK/verify_good.txt" || fail "image verify refuses the good signature"
expect_file_has "$WORK/verify_good.txt" '^I \(0\) secure_boot_v2: Signature verified successfully!$'
expect_file_has "$WORK/verify_good.txt" '^  block 0: RSA-PSS, key digest [0-9a-f]{64}, signature valid$'
if "$OTAKIT" image verify "$www/good.bin" --signed-apps rsa --keyfile "$keys/rsa_b.pem" \
    >"$WORK/verify_bad.txt" 2>&1; then
    fail "image verify accepts another key"
fi
expect_file_has "$WORK/verify_bad.txt" 'Secure boot signature verification failed'

# run NAME FILE: the signed app in ota_0, the URL of FILE on the console
run() {
    make_flash "$WORK/$1.bin" two_ota_large "$app"
    board_in "$WORK/$1.log" "$base/$2" "$WORK/$1.bin" \
        --until "^Hello world!\$|$T: Firmware upgrade failed\$"
    [ "$BOARD_STATUS" -eq 0 ] || fail "$1: board exit $BOARD_STATUS"
}

# --- 1. signed with the running app's key: verified and booted --------------------------------
run good good.bin
expect_in_order "$WORK/good.log" \
    "${LI}esp_https_ota: Writing to <ota_1> partition at offset 0x1d0000\$" \
    "${LI}esp_image: Verifying image signature\.\.\.\$" \
    "${LI}secure_boot_v2: Take trusted digest key\(s\) from running app\$" \
    "${LI}secure_boot_v2: #0 app key digest == #0 trusted key digest\$" \
    "${LI}secure_boot_v2: Verifying with RSA-PSS\.\.\.\$" \
    "${LI}secure_boot_v2: Signature verified successfully!\$" \
    "${LI}$T: OTA Succeed, Rebooting\.\.\.\$" \
    'boot: Loaded app from partition at offset 0x1d0000$' \
    '^Hello world!$'
# esp_ota_end and esp_ota_set_boot_partition each check the signature, as ESP-IDF's do
expect_count "$WORK/good.log" "${LI}secure_boot_v2: Signature verified successfully!\$" 2

# --- 2. signed with another key: refused, ota_0 keeps running --------------------------------
run foreign foreign.bin
expect_in_order "$WORK/foreign.log" \
    "${LI}esp_image: Verifying image signature\.\.\.\$" \
    "${LI}secure_boot_v2: Take trusted digest key\(s\) from running app\$" \
    "${LE}esp_image: Secure boot signature verification failed\$" \
    "${LI}esp_image: Calculating simple hash to check for corruption\.\.\.\$" \
    "${LW}esp_image: image valid, signature bad\$" \
    "${LE}$T: Firmware upgrade failed\$"
expect_file_lacks "$WORK/foreign.log" 'app key digest == '
expect_file_lacks "$WORK/foreign.log" 'OTA Succeed'
[ "$(loaded_offsets "$WORK/foreign.log")" = "0x20000" ] || fail "foreign: booted another app"
"$OTAKIT" otadata read "$WORK/foreign.bin" >"$WORK/foreign.otadata" || fail "otadata read"
expect_file_has "$WORK/foreign.otadata" '^bootloader would select: ota_0$'

# --- 3. not signed at all: refused too -----------------------------------------------------------
run unsigned unsigned.bin
expect_in_order "$WORK/unsigned.log" \
    "${LI}esp_image: Verifying image signature\.\.\.\$" \
    "${LE}esp_image: Secure boot signature verification failed\$" \
    "${LE}$T: Firmware upgrade failed\$"
[ "$(loaded_offsets "$WORK/unsigned.log")" = "0x20000" ] || fail "unsigned: booted another app"
stop_server https
echo "signed_update: $CHECKS checks passed"
