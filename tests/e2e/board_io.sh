#!/usr/bin/env bash
# Board inputs and outputs seen by apps: an app that drives the factory-reset pin low (as
# ESP-IDF's app_update test app does with gpio_hold_en) and restarts makes the bootloader find
# the pin held and reset to factory; the app's MAC comes from the board's eFuses and stays the
# same across boots.
. "$(dirname "$0")/lib.bash"

ota_table "$WORK/table.csv" upd_a

pack_bootloader "$WORK/bl.bin" BOOTLOADER_FACTORY_RESET=y BOOTLOADER_NUM_PIN_FACTORY_RESET=4 \
    BOOTLOADER_OTA_DATA_ERASE=y BOOTLOADER_HOLD_TIME_GPIO=5
pack_test_app "$WORK/v1.bin" 1 "mac,release_pin,install" TEST_APP_SOURCE=upd_a
pack_test_app "$WORK/v2.bin" 2 "mac,hold_pin" TEST_APP_PIN=4
"$OTAKIT" flash create "$WORK/flash.bin" --size 4MB --table "$WORK/table.csv" \
    --bootloader "$WORK/bl.bin" --app "factory=$WORK/v1.bin" --part "upd_a=$WORK/v2.bin" \
    >/dev/null || fail "flash create failed"

# boot 1: factory installs v2; boot 2: v2 holds GPIO4 low and restarts; boot 3: the bootloader
# sees the pin held for 5 s, erases otadata and starts factory, which releases the pin.
board "$WORK/run.log" "$WORK/flash.bin" --max-boots 3
[ "$BOARD_STATUS" -eq 5 ] || fail "board exit $BOARD_STATUS, expected 5 (max boots)"
expect_file_has "$WORK/run.log" 'ota_test_app: running ota_test_app 1 from factory' 2
expect_file_has "$WORK/run.log" 'ota_test_app: running ota_test_app 2 from ota_0'
expect_file_has "$WORK/run.log" 'ota_test_app: holding GPIO4 low \(ESP_OK\); restarting'
expect_file_has "$WORK/run.log" 'boot: Detect a condition of the factory reset'
expect_file_has "$WORK/run.log" 'ota_test_app: released GPIO4 \(ESP_OK\), it reads 1'
# one MAC, from eFuse, in every boot
expect_file_has "$WORK/run.log" 'ota_test_app: mac 24:0a:c4:00:00:01 \(ESP_OK\)' 3
[ "$(grep -c 'ota_test_app: mac ' "$WORK/run.log")" -eq 3 ] || fail "expected 3 MAC lines"

# the same flash without the app's output: no factory reset (the held level came from the app)
board "$WORK/plain.log" "$WORK/flash.bin" --max-boots 1
expect_file_lacks "$WORK/plain.log" 'factory reset'
echo "$CHECKS passed, 0 failed"
