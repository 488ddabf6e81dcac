#!/usr/bin/env bash
# partitions_ota end to end, as ESP-IDF's pytest_partitions_ota.py runs it: the board runs the
# example with FROM_STDIN; the test serves partitions_ota.bin, bootloader.bin,
# partition-table.bin and storage.bin in turn (one URL per boot on the console) and checks that
# each update logs "OTA Succeed, Rebooting..." and boots, that the new bootloader and the new
# table are what the board uses afterwards, and that storage holds the expected 16 bytes.
# Then the same with otakit's power-safe table update, and the safe bootloader path on an
# ESP32-C5 with its recovery bootloader.
. "$(dirname "$0")/lib.bash"

. "$(dirname "$0")/netlib.bash"

EX="$OTAKIT_SOURCE_DIR/examples/partitions_ota"
mkdir -p "$WORK/www" "$WORK/certs"
start_server www "$WORK/www" --self-signed 127.0.0.1 --cert-dir "$WORK/certs"
URL="https://127.0.0.1:$PORT"

# partitions_ota OUT VERSION [KEY=VALUE...]: the example, URL from the console, our certificate
partitions_ota() {
    local out=$1 version=$2
    shift 2
    pack_example "$out" partitions_ota "$version" "$WORK/certs/ca_cert.pem" \
        EXAMPLE_FIRMWARE_UPGRADE_URL=FROM_STDIN "$@"
}

# The four files. The new table adds a partition after ota_1, keeping every other offset.
cp "$EX/partitions.csv" "$WORK/new_table.csv"
echo "extra,      data, fat,      ,       0x10000," >>"$WORK/new_table.csv"
"$OTAKIT" partition-table "$WORK/new_table.csv" "$WORK/www/partition-table.bin" ||
    fail "new table"
printf '7296406769363431' >"$WORK/www/storage.bin"
head -c 484 /dev/zero >>"$WORK/www/storage.bin"
[ "$(stat -c %s "$WORK/www/storage.bin")" -eq 500 ] || fail "storage.bin is not 500 bytes"
partitions_ota "$WORK/www/partitions_ota.bin" 2
"$OTAKIT" image pack --bootloader -o "$WORK/www/bootloader.bin" --idf-ver v5.5-otakit-new \
    --build-time 1767225600 --sdkconfig "$OTAKIT_SOURCE_DIR/examples/bootloader/sdkconfig.defaults" \
    >/dev/null || fail "new bootloader"
pack_bootloader "$WORK/bl.bin"

# run_updates NAME FLASH: serves the four files in turn, one board boot each, then a last boot
run_updates() {
    local name=$1 flash=$2 file n=0
    for file in partitions_ota.bin bootloader.bin partition-table.bin storage.bin; do
        n=$((n + 1))
        board_in "$WORK/$name$n.log" "$URL/$file" "$flash" --max-boots 1
        [ "$BOARD_STATUS" -eq 5 ] || fail "$name: $file: board exit $BOARD_STATUS"
        expect_file_has "$WORK/$name$n.log" 'ota_example: OTA example app_main start'
        expect_file_has "$WORK/$name$n.log" 'ota_example: Starting OTA example task'
        expect_file_has "$WORK/$name$n.log" 'ota_example: OTA Succeed, Rebooting\.\.\.'
    done
    board "$WORK/${name}_after.log" "$flash" --max-boots 1 </dev/null
}

# --- ESP-IDF's way (the unsafe copies) -------------------------------------------------------
partitions_ota "$WORK/app1.bin" 1
"$OTAKIT" flash create "$WORK/flash.bin" --size 4MB --table "$EX/partitions.csv" \
    --bootloader "$WORK/bl.bin" --app "ota_0=$WORK/app1.bin" >/dev/null || fail "flash create"
run_updates idf "$WORK/flash.bin"
expect_file_has "$WORK/idf1.log" 'esp_https_ota: Writing to <ota_1> partition at offset 0x1d0000'
expect_file_has "$WORK/idf2.log" 'Unsafe OTA bootloader update: This chip version does not support the recovery bootloader feature\.'
expect_file_has "$WORK/idf2.log" 'ota_example: Copy from <ota_0> staging partition to <PrimaryBTLDR>\.\.\.'
expect_file_has "$WORK/idf3.log" 'ota_example: Ensure stable power supply! Loss of power at this stage leads to a chip bricking\.'
expect_file_has "$WORK/idf3.log" 'ota_example: Copy from <ota_0> staging partition to <PrimaryPrtTable>\.\.\.'
expect_file_has "$WORK/idf4.log" 'ota_example: storage: 7296406769363431'
# after the bootloader update: the new bootloader's description is what boots
expect_file_has "$WORK/idf3.log" 'boot: ESP-IDF v5\.5-otakit-new 2nd stage bootloader'
expect_file_has "$WORK/idf3.log" 'boot: compile time Jan  1 2026 00:00:00'
# after the table update: the new table is what the bootloader lists
expect_file_has "$WORK/idf4.log" 'boot: +8 extra +Unknown data +01 81 00380000 00010000'
expect_file_has "$WORK/idf_after.log" 'boot: +8 extra '
cmp -s <(head -c 3072 "$WORK/www/partition-table.bin") \
    <(dd if="$WORK/flash.bin" bs=4096 skip=8 count=1 status=none | head -c 3072) ||
    fail "the table in flash is not partition-table.bin"
ok
cmp -s "$WORK/www/storage.bin" <(dd if="$WORK/flash.bin" bs=4096 skip=16 count=1 status=none | head -c 500) ||
    fail "storage does not hold storage.bin"
ok

# --- otakit's power-safe table update ---------------------------------------------------------
SAFE=(OTAKIT_PARTITION_TABLE_BACKUP_OFFSET=0x16000)
pack_bootloader "$WORK/bl_safe.bin" "${SAFE[@]}"
partitions_ota "$WORK/safe1.bin" 1 "${SAFE[@]}"
partitions_ota "$WORK/www/partitions_ota.bin" 2 "${SAFE[@]}"
"$OTAKIT" image pack --bootloader -o "$WORK/www/bootloader.bin" --idf-ver v5.5-otakit-new \
    --build-time 1767225600 --sdkconfig "$OTAKIT_SOURCE_DIR/examples/bootloader/sdkconfig.defaults" \
    --set OTAKIT_PARTITION_TABLE_BACKUP_OFFSET=0x16000 >/dev/null || fail "new safe bootloader"
cp "$EX/partitions_safe.csv" "$WORK/new_safe.csv"
echo "extra,      data, fat,      ,       0x10000," >>"$WORK/new_safe.csv"
"$OTAKIT" partition-table "$WORK/new_safe.csv" "$WORK/www/partition-table.bin" || fail "safe table"
"$OTAKIT" flash create "$WORK/safe.bin" --size 4MB --table "$EX/partitions_safe.csv" \
    --bootloader "$WORK/bl_safe.bin" --app "ota_0=$WORK/safe1.bin" >/dev/null || fail "flash create"
run_updates safe "$WORK/safe.bin"
expect_file_has "$WORK/safe3.log" 'esp_ota_ops: Power-safe partition table update: backup copy at 0x16000 first, then the table at 0x8000'
expect_file_lacks "$WORK/safe3.log" 'Loss of power at this stage'
expect_file_has "$WORK/safe4.log" 'boot: +9 extra '
cmp -s <(dd if="$WORK/safe.bin" bs=4096 skip=8 count=1 status=none | head -c 3072) \
    <(dd if="$WORK/safe.bin" bs=4096 skip=22 count=1 status=none | head -c 3072) ||
    fail "the backup copy differs from the table"
ok
# destroy the primary table: the bootloader boots with the backup copy, the app sees the table
"$OTAKIT" flash erase-partition "$WORK/safe.bin" --offset 0x8000 --type partition_table \
    --subtype primary >/dev/null 2>&1 ||
    dd if=/dev/zero of="$WORK/safe.bin" bs=4096 seek=8 count=1 conv=notrunc status=none
board "$WORK/safe_fallback.log" "$WORK/safe.bin" --max-boots 1
expect_file_has "$WORK/safe_fallback.log" 'W \([0-9]+\) boot: partition table at 0x8000 is unusable .*; using the backup copy at 0x16000'
expect_file_has "$WORK/safe_fallback.log" 'ota_example: OTA example app_main start'

# --- ESP32-C5: the safe bootloader update with a recovery bootloader --------------------------
C5=(--chip esp32c5)
C5SET=(BOOTLOADER_RECOVERY_ENABLE=y BOOTLOADER_RECOVERY_OFFSET=0x3f0000
    BOOTLOADER_OFFSET_IN_FLASH=0x2000 "IDF_TARGET=esp32c5")
"$OTAKIT" image pack --bootloader "${C5[@]}" -o "$WORK/bl_c5.bin" --idf-ver v5.5-otakit-c5-old \
    >/dev/null || fail "C5 bootloader"
"$OTAKIT" image pack --bootloader "${C5[@]}" -o "$WORK/www/bootloader.bin" \
    --idf-ver v5.5-otakit-c5-new >/dev/null || fail "new C5 bootloader"
partitions_ota "$WORK/c5app.bin" 1 "${C5SET[@]}"
"$OTAKIT" flash create "$WORK/c5.bin" --size 4MB --table "$EX/partitions.csv" \
    --bootloader "$WORK/bl_c5.bin" --app "ota_0=$WORK/c5app.bin" >/dev/null || fail "C5 flash"
board_in "$WORK/c5.log" "$URL/bootloader.bin" "$WORK/c5.bin" \
    --until 'boot: ESP-IDF v5\.5-otakit-c5-new 2nd stage bootloader'
[ "$BOARD_STATUS" -eq 0 ] || fail "C5: board exit $BOARD_STATUS"
expect_file_has "$WORK/c5.log" '^ESP-ROM:esp32c5$'
expect_file_has "$WORK/c5.log" 'ota_example: Safe OTA bootloader update: This chip version supports the recovery bootloader feature\.'
expect_file_has "$WORK/c5.log" 'ota_example: Backup, copy <PrimaryBTLDR> -> <RecoveryBTLDR>'
expect_file_has "$WORK/c5.log" 'esp_https_ota: Writing to <PrimaryBTLDR> partition at offset 0x2000'
expect_file_has "$WORK/c5.log" 'ota_example: OTA Succeed, Rebooting\.\.\.'
expect_file_has "$WORK/c5.log" 'boot: ESP-IDF v5\.5-otakit-c5-new 2nd stage bootloader'
# the recovery slot holds the old bootloader, its offset is burnt in the eFuses (emul_efuse)
n=$(stat -c %s "$WORK/bl_c5.bin")
cmp -s "$WORK/bl_c5.bin" <(tail -c +$((0x3f0000 + 1)) "$WORK/c5.bin" | head -c "$n") ||
    fail "the recovery slot does not hold the old bootloader"
ok
# a broken primary bootloader: the ROM loads the recovery copy and the board still boots
printf '\x00' | dd of="$WORK/c5.bin" bs=1 seek=$((0x2000 + 0x24)) conv=notrunc status=none
board "$WORK/c5_recovery.log" "$WORK/c5.bin" --max-boots 1
expect_file_has "$WORK/c5_recovery.log" '^Primary bootloader is invalid, loading recovery at 0x3f0000$'
expect_file_has "$WORK/c5_recovery.log" 'boot: ESP-IDF v5\.5-otakit-c5-old 2nd stage bootloader'
expect_file_has "$WORK/c5_recovery.log" 'ota_example: OTA example app_main start'

echo "partitions_ota: $CHECKS checks passed"
