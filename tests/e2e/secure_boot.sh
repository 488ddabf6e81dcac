#!/usr/bin/env bash
# Hardware Secure Boot V2 and first-boot flash encryption with virtual eFuses kept in flash:
# hello_world built by `otakit build` with CONFIG_SECURE_BOOT_V2_ENABLED (RSA, its own key, so
# the build signs the bootloader and the app), CONFIG_SECURE_FLASH_ENC_ENABLED and
# CONFIG_EFUSE_VIRTUAL_KEEP_IN_FLASH, on a table with an efuse partition. The first boot burns
# the bootloader's key digest into the partition's BLK2 and ABS_DONE_1, burns a flash encryption
# key and FLASH_CRYPT_CNT, logs ESP-IDF's lines and resets; the second boot verifies the app
# against the eFuse digest and runs it. Encryption is virtual (the chip's own eFuses have it
# off), so the flash stays plaintext. CONFIG_SECURE_DISABLE_ROM_DL_MODE burns UART_DOWNLOAD_DIS:
# the board then refuses ROM download mode. An app signed with another key is refused at boot.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/netlib.bash"
have_openssl || { echo "openssl missing: skipped"; exit 77; }

signing_keys
csv=$keys/efuse_table.csv
EFUSE=$((0x19000))
[ -f "$csv" ] || cat >"$csv" <<'EOF'
# Name,    Type, SubType, Offset,   Size
nvs,        data, nvs,     0x10000,  0x6000,
otadata,    data, ota,     0x16000,  0x2000,
phy_init,   data, phy,     0x18000,  0x1000,
emul_efuse, data, efuse,   0x19000,  0x2000,
factory,    app,  factory, 0x20000,  0x100000,
ota_0,      app,  ota_0,   0x120000, 0x100000,
EOF

build_app "$OTAKIT_SOURCE_DIR/examples/hello_world" - SECURE_BOOT=y SECURE_BOOT_V2_ENABLED=y \
    "SECURE_BOOT_SIGNING_KEY=\"$keys/rsa_a.pem\"" SECURE_FLASH_ENC_ENABLED=y EFUSE_VIRTUAL=y \
    EFUSE_VIRTUAL_KEEP_IN_FLASH=y PARTITION_TABLE_CUSTOM=y \
    "PARTITION_TABLE_CUSTOM_FILENAME=\"$csv\"" PARTITION_TABLE_OFFSET=0xF000 \
    SECURE_DISABLE_ROM_DL_MODE=y
B=$APP_VARIANT/build
[ -f "$B/bootloader/bootloader-unsigned.bin" ] || fail "the bootloader was not signed"
FLASH=$WORK/flash.bin
# with secure boot the build's flash files leave the bootloader out, as ESP-IDF's do (it is
# written once, with `idf.py bootloader-flash`); a whole flash image takes it from the build
grep -q 'bootloader' "$B/flash_args" && fail "flash_args lists the bootloader"
"$OTAKIT" flash create "$FLASH" --build "$B" >/dev/null || fail "flash create --build"
cmp -s -n "$(stat -c %s "$B/bootloader/bootloader.bin")" "$B/bootloader/bootloader.bin" \
    <(tail -c +$((0x1000 + 1)) "$FLASH") || fail "flash create --build: no bootloader"
ok

# --- 1. first boot: secure boot and flash encryption enabled, reset; second boot runs ---------
board "$WORK/first.log" "$FLASH" --until '^Hello world!$'
[ "$BOARD_STATUS" -eq 0 ] || fail "first boot: board exit $BOARD_STATUS"
expect_in_order "$WORK/first.log" \
    "${LI}secure_boot_v2: enabling secure boot v2\.\.\.\$" \
    "${LI}secure_boot_v2: Secure boot digests absent, generating\.\.\$" \
    "${LI}secure_boot_v2: Digests successfully calculated, 1 valid signatures \(image offset 0x1000\)\$" \
    "${LI}secure_boot_v2: Burning public key hash to eFuse\$" \
    "${LI}secure_boot_v2: Secure boot permanently enabled\$" \
    "${LI}flash_encrypt: Generating new flash encryption key\.\.\.\$" \
    "${LI}flash_encrypt: Encrypting partition 4 at offset 0x20000 \(length 0x100000\)\.\.\.\$" \
    "${LI}flash_encrypt: Flash encryption completed\$" \
    "${LI}boot: Resetting with flash encryption enabled\.\.\.\$" \
    '^rst:0xc \(SW_CPU_RESET\)' \
    "${LI}secure_boot_v2: secure boot v2 is already enabled, continuing\.\.\$" \
    "${LI}secure_boot_v2: Signature verified successfully!\$" \
    "${LI}flash_encrypt: flash encryption is enabled \(3 plaintext flashes left\)\$" \
    '^Hello world!$'
ok

# the eFuse partition: BLK2 holds the key digest (stored inverted), ABS_DONE_1 and
# FLASH_CRYPT_CNT are burnt
"$OTAKIT" image verify "$B/hello_world.bin" --signed-apps rsa --keyfile "$keys/rsa_a.pem" \
    >"$WORK/verify.txt" || fail "image verify"
digest=$(sed -n 's/^  block 0: RSA-PSS, key digest \([0-9a-f]\{64\}\).*/\1/p' "$WORK/verify.txt")
[ ${#digest} -eq 64 ] || fail "no key digest in image verify's output"
stored=$(hexat "$FLASH" $((EFUSE + 64)) 32)
inverted=
for ((i = 0; i < 64; i += 2)); do
    inverted+=$(printf '%02x' $((0xff ^ 0x${stored:i:2})))
done
expect_eq "BLK2 (inverted)" "$inverted" "$digest"
expect_eq "ABS_DONE_1, UART_DOWNLOAD_DIS" "$(hexat "$FLASH" $((EFUSE + 16)) 1)" fc
expect_eq FLASH_CRYPT_CNT "$(hexat "$FLASH" $((EFUSE + 14)) 1)" fe
# virtual encryption: the app and the table are still the plaintext the build wrote
cmp -s -n "$(stat -c %s "$B/hello_world.bin")" "$B/hello_world.bin" \
    <(tail -c +$((0x20000 + 1)) "$FLASH") || fail "the app is not the plaintext any more"
cmp -s -n 3072 "$B/partition_table/partition-table.bin" <(tail -c +$((0xF000 + 1)) "$FLASH") ||
    fail "the table is not the plaintext any more"
ok

# --- 2. ROM download mode is disabled: a power-on with GPIO0 low boots the flash -------------
board "$WORK/download.log" "$FLASH" --serial socket:0 --download --until '^Hello world!$'
[ "$BOARD_STATUS" -eq 0 ] || fail "download: board exit $BOARD_STATUS"
expect_file_has "$WORK/download.log" 'ROM download mode is disabled in eFuse \(UART_DOWNLOAD_DIS\)'
expect_file_lacks "$WORK/download.log" 'waiting for download'
ok

# --- 3. an app signed with another key: refused at boot, nothing bootable ---------------------
"$OTAKIT" image sign --keyfile "$keys/rsa_b.pem" -o "$WORK/foreign.bin" \
    "$B/hello_world-unsigned.bin" || fail "image sign"
"$OTAKIT" flash write "$FLASH" 0x20000 "$WORK/foreign.bin" >/dev/null || fail "flash write"
board "$WORK/foreign.log" "$FLASH" --until '^Hello world!$'
[ "$BOARD_STATUS" -eq 3 ] || fail "foreign key: board exit $BOARD_STATUS, expected 3 (bricked)"
expect_in_order "$WORK/foreign.log" \
    "${LI}secure_boot_v2: secure boot v2 is already enabled, continuing\.\.\$" \
    "${LI}esp_image: Verifying image signature\.\.\.\$" \
    "${LE}esp_image: Secure boot signature verification failed\$"
expect_file_lacks "$WORK/foreign.log" '^Hello world!$'
ok
echo "secure_boot: $CHECKS passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
