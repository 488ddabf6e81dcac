#!/usr/bin/env bash
# Chip revisions as shipped, end to end: for every chip, an app and bootloader built with
# ESP-IDF v5.5's default revision settings (the ranges below, written down here from
# components/esp_hw_support/port/<target>/Kconfig.hw_support, independently of the chip table)
# boot on the board's default revision (`flash info`); on ESP32-S3 the board runs hello_world
# and the bootloader prints ESP-IDF's chip and eFuse block revision lines; `--chip-rev` still
# overrides and a revision outside the range is refused with ESP-IDF's message.
set -u

. "$(dirname "$0")/lib.bash"

# chip  REV_MIN_FULL  REV_MAX_FULL  EFUSE_BLOCK_REV_MIN_FULL  EFUSE_BLOCK_REV_MAX_FULL  revision
# (the last column is the default revision flash info must report)
ranges="esp32 0 399 0 99 v3.0
esp32s2 0 199 2 99 v1.0
esp32s3 0 99 0 199 v0.2
esp32c3 3 199 0 199 v0.4
esp32c2 100 299 0 99 v1.0
esp32c6 0 99 0 99 v0.1
esp32c61 100 199 0 99 v1.0
esp32c5 100 199 0 99 v1.0
esp32h2 0 99 0 99 v0.1
esp32p4 301 399 0 99 v3.1"

# pack_pair CHIP MIN MAX BMIN BMAX: $WORK/bl_CHIP.bin and $WORK/app_CHIP.bin (hello_world)
pack_pair() {
    local chip=$1 sets=(--set "ESP_REV_MIN_FULL=$2" --set "ESP_REV_MAX_FULL=$3")
    "$OTAKIT" image pack --bootloader --chip "$chip" -o "$WORK/bl_$chip.bin" \
        --sdkconfig "$OTAKIT_SOURCE_DIR/examples/bootloader/sdkconfig.defaults" \
        --set "IDF_TARGET=$chip" "${sets[@]}" >/dev/null || fail "$chip: cannot pack a bootloader"
    "$OTAKIT" image pack --app --chip "$chip" -o "$WORK/app_$chip.bin" \
        --payload "$OTAKIT_BUILD_DIR/apps/hello_world" --project hello_world "${sets[@]}" \
        --set "ESP_EFUSE_BLOCK_REV_MIN_FULL=$4" --set "ESP_EFUSE_BLOCK_REV_MAX_FULL=$5" \
        >/dev/null || fail "$chip: cannot pack hello_world"
    "$OTAKIT" flash create "$WORK/flash_$chip.bin" --size 4MB --table two_ota \
        --bootloader "$WORK/bl_$chip.bin" --app "factory=$WORK/app_$chip.bin" >/dev/null ||
        fail "$chip: flash create"
}

while read -r chip min max bmin bmax rev; do
    pack_pair "$chip" "$min" "$max" "$bmin" "$bmax"
    run flash info "$WORK/flash_$chip.bin"
    expect_eq "$chip: flash info exit status" "$rc" 0
    expect_has "$chip: default revision" "$out" ", revision $rev"
    expect_has "$chip: boots" "$out" "Boots: factory"
    # one past the maximum: the board refuses the app with ESP-IDF's message
    over=$((max + 1))
    run flash info "$WORK/flash_$chip.bin" --chip-rev "$over"
    expect_eq "$chip: --chip-rev $over exit status" "$rc" 1
    expect_has "$chip: --chip-rev $over" "$out" \
        "chip revision check failed. Required <= v$((max / 100)).$((max % 100)), found v$((over / 100)).$((over % 100))."
done <<<"$ranges"

# --- ESP32-S3 on the board: the real boot with the default revision, then --chip-rev 100 ------
board "$WORK/s3.log" "$WORK/flash_esp32s3.bin" --max-boots 1
[ "$BOARD_STATUS" -eq 5 ] || fail "esp32s3: board exit $BOARD_STATUS, expected 5 (max boots)"
expect_file_has "$WORK/s3.log" '^I \([0-9]+\) boot: chip revision: v0\.2$'
expect_file_has "$WORK/s3.log" '^I \([0-9]+\) boot: efuse block revision: v1\.3$'
expect_file_has "$WORK/s3.log" '^Hello world!$'
expect_file_has "$WORK/s3.log" 'silicon revision v0\.2, '
board "$WORK/s3_v1.log" "$WORK/flash_esp32s3.bin" --max-boots 1 --chip-rev 100
expect_file_has "$WORK/s3_v1.log" '^I \([0-9]+\) boot: chip revision: v1\.0$'
expect_file_has "$WORK/s3_v1.log" \
    '^E \([0-9]+\) esp_image: chip revision check failed\. Required <= v0\.99, found v1\.0\.$'
expect_file_lacks "$WORK/s3_v1.log" '^Hello world!$'

# --- ESP32: no eFuse block revision line, as ESP-IDF's ESP32 bootloader ----------------------
board "$WORK/esp32.log" "$WORK/flash_esp32.bin" --max-boots 1
expect_file_has "$WORK/esp32.log" '^I \([0-9]+\) boot: chip revision: v3\.0$'
expect_file_lacks "$WORK/esp32.log" 'efuse block revision'
expect_file_has "$WORK/esp32.log" '^Hello world!$'

echo "chip_revisions: $CHECKS passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
