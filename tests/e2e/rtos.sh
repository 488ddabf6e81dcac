#!/usr/bin/env bash
# FreeRTOS, esp_timer and deep sleep on the simulated board, in virtual time: a deep sleep
# wakes the board with a deep-sleep reset after the sleep time has passed on the board's clock;
# a queue, timers and timeouts fire at their virtual times; an app whose tasks all wait forever
# ends the run.
. "$(dirname "$0")/lib.bash"

pack_bootloader "$WORK/bl.bin"

# --- 1. deep sleep: the board boots again with ESP_RST_DEEPSLEEP and a timer wake-up ---------
pack_test_app "$WORK/sleep.bin" 1 sleep TEST_APP_SLEEP_US=3000000
"$OTAKIT" flash create "$WORK/sleep_flash.bin" --size 4MB --table two_ota \
    --bootloader "$WORK/bl.bin" --app "factory=$WORK/sleep.bin" >/dev/null || fail "flash create"
board "$WORK/sleep.log" "$WORK/sleep_flash.bin" --max-boots 3
[ "$BOARD_STATUS" -eq 4 ] || fail "deep sleep: board exit $BOARD_STATUS, expected 4 (returned)"
expect_file_has "$WORK/sleep.log" '^rst:0x1 \(POWERON_RESET\)'
expect_file_has "$WORK/sleep.log" 'ota_test_app: sleeping for 3000000 us$'
expect_file_has "$WORK/sleep.log" '^rst:0x5 \(DEEPSLEEP_RESET\),boot:0x13 \(SPI_FAST_FLASH_BOOT\)$'
expect_file_has "$WORK/sleep.log" 'ota_test_app: woke from deep sleep: reset reason 8, wake-up cause 4$'
# the sleep passes on the board's clock: a 2 s limit stops the board before the wake-up
board "$WORK/short.log" "$WORK/sleep_flash.bin" --max-time 2000
[ "$BOARD_STATUS" -eq 7 ] || fail "deep sleep: board exit $BOARD_STATUS, expected 7 (time limit)"
expect_file_lacks "$WORK/short.log" 'woke from deep sleep'

# --- 2. tasks, a queue and timers in virtual time ------------------------------------------
pack_test_app "$WORK/rtos.bin" 1 rtos
"$OTAKIT" flash create "$WORK/rtos_flash.bin" --size 4MB --table two_ota \
    --bootloader "$WORK/bl.bin" --app "factory=$WORK/rtos.bin" >/dev/null || fail "flash create"
board "$WORK/rtos.log" "$WORK/rtos_flash.bin" --max-boots 1
[ "$BOARD_STATUS" -eq 4 ] || fail "rtos: board exit $BOARD_STATUS, expected 4 (nothing to run)"
T0=$(sed -n 's/^I (\([0-9]*\)) ota_test_app: running .*/\1/p' "$WORK/rtos.log")
[ -n "$T0" ] || fail "rtos: no start line"
expect_file_has "$WORK/rtos.log" "ota_test_app: worker got 1 at $((T0 + 200)) ms\$"
expect_file_has "$WORK/rtos.log" "ota_test_app: worker got 3 at $((T0 + 600)) ms\$"
expect_file_has "$WORK/rtos.log" "ota_test_app: worker: queue empty for 1000 ms at $((T0 + 1600)) ms\$"
expect_file_has "$WORK/rtos.log" 'ota_test_app: esp_timer 1 at [0-9]+ us$'
expect_file_has "$WORK/rtos.log" "ota_test_app: timers done at $((T0 + 1350)) ms\$"
expect_file_has "$WORK/rtos.log" 'ota_test_app: software timer once at tick [0-9]+$'
expect_file_has "$WORK/rtos.log" '^--- every task of the app waits with no timeout ---$'
expect_file_has "$WORK/rtos.log" '^--- nothing left to run ---$'

echo "rtos: $CHECKS checks passed"
