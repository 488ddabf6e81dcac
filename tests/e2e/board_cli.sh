#!/usr/bin/env bash
# `otakit board run`'s command line: options before or after the image, NAME VALUE and
# NAME=VALUE, and one clear error line (exit 2) for each kind of bad option.
. "$(dirname "$0")/lib.bash"

"$OTAKIT" flash create "$WORK/flash.bin" --size 4MB --table two_ota \
    --bootloader "$OTAKIT_BUILD_DIR/images/bootloader.bin" \
    --app "factory=$OTAKIT_BUILD_DIR/images/hello_world.bin" >/dev/null || fail "flash create"

# options on either side of the image, both spellings of a value
run board run --max-boots=1 "$WORK/flash.bin" --cut-mode torn --seed 3 --pace=1000
expect_eq "max boots after the image" "$rc" 5
expect_has "the boot limit" "$out" "--- stopped after 1 boots ---"
run board run "$WORK/flash.bin" --until 'Restarting in 8' --max-time 600000
expect_eq "--until after the image" "$rc" 0

expect_error "no image" 2 "expected one FLASH image argument" board run
expect_error "two images" 2 "expected one FLASH image argument" board run "$WORK/flash.bin" x.bin
expect_error "unknown option" 2 "unknown option '--bogus'" board run "$WORK/flash.bin" --bogus
expect_error "missing value" 2 "option --serial needs a value" board run "$WORK/flash.bin" --serial
expect_error "zero boots" 2 "--max-boots: '0' is not a count" board run "$WORK/flash.bin" \
    --max-boots 0
expect_error "cut mode" 2 "--cut-mode: 'sideways' is not before, after, torn or random" board run \
    "$WORK/flash.bin" --cut-mode=sideways
expect_error "pace" 2 "--pace: '0' is not a speed above 0" board run "$WORK/flash.bin" --pace 0
expect_error "size" 2 "--size: '3MB' is not 1MB .. 128MB" board run "$WORK/flash.bin" --size 3MB
expect_error "revision" 2 "--chip-rev: 'v3' is not a revision" board run "$WORK/flash.bin" \
    --chip-rev v3
expect_error "download without a port" 2 "--download needs --serial" board run \
    "$WORK/flash.bin" --download
expect_error "serial spec" 2 "--serial tcp:1: expected socket:PORT or pty" board run \
    "$WORK/flash.bin" --serial tcp:1

if [ "$FAILED" -ne 0 ]; then
    echo "board_cli: $CHECKS passed, $FAILED failed" >&2
    exit 1
fi
echo "board_cli: $CHECKS checks passed"
