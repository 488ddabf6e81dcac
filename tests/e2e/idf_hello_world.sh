#!/usr/bin/env bash
# ESP-IDF's get-started/hello_world, unmodified: `otakit build` lays out the build directory as
# ESP-IDF does, and the board boots it to the lines the example prints on a chip.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/idflib.bash"

idf_copy examples/get-started/hello_world hello_world
idf_build hello_world
B=$WORK/hello_world/build
for f in hello_world.bin hello_world.elf bootloader/bootloader.bin \
    partition_table/partition-table.bin flasher_args.json flash_args config/sdkconfig.h \
    config/sdkconfig.json config/sdkconfig.cmake project_description.json; do
    [ -s "$B/$f" ] || fail "build/$f missing"
done
ok "ESP-IDF's build layout"
expect_file_has "$B/config/sdkconfig.h" '^#define CONFIG_IDF_TARGET "esp32"$'
expect_file_has "$B/config/sdkconfig.h" '^#define CONFIG_PARTITION_TABLE_OFFSET 0x8000$'
expect_file_has "$B/config/sdkconfig.json" '"IDF_TARGET": "esp32"'
expect_file_has "$B/flash_args" '^0x10000 hello_world.bin$'
expect_file_has "$B/flasher_args.json" '"0x1000" : "bootloader/bootloader.bin"'
"$OTAKIT" image verify "$B/hello_world.bin" >"$WORK/verify.log" 2>&1 || fail "image verify"
ok "the app image verifies"
idf_unchanged hello_world

board "$WORK/run.log" "$B" --until '^Restarting now\.$'
[ "$BOARD_STATUS" = 0 ] || fail "board run ended with status $BOARD_STATUS"
expect_file_has "$WORK/run.log" '^Hello world!$'
expect_file_has "$WORK/run.log" '^This is esp32 chip with 2 CPU core\(s\), WiFi/BTBLE, silicon revision v[0-9]+\.[0-9]+, 2MB external flash$'
expect_file_has "$WORK/run.log" '^Minimum free heap size: [0-9]+ bytes$'
expect_file_has "$WORK/run.log" '^Restarting in 0 seconds\.\.\.$'

# Another target and a defaults list, as ESP-IDF's CI builds variants.
idf_copy examples/get-started/hello_world hello_c3
idf_build hello_c3 --target esp32c3 -D SDKCONFIG_DEFAULTS=sdkconfig.ci
expect_file_has "$WORK/hello_c3/build/config/sdkconfig.h" '^#define CONFIG_IDF_TARGET_ESP32C3 1$'
expect_file_has "$WORK/hello_c3/build/flash_args" '^0x0 bootloader/bootloader.bin$'
board "$WORK/c3.log" "$WORK/hello_c3/build" --until '^Restarting now\.$'
[ "$BOARD_STATUS" = 0 ] || fail "esp32c3 board run ended with status $BOARD_STATUS"
expect_file_has "$WORK/c3.log" '^This is esp32c3 chip with 1 CPU core\(s\)'
echo "PASS: $CHECKS checks"
