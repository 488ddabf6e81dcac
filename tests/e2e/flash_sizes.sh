#!/usr/bin/env bash
# Flash images as users have them, end to end: a merged image shorter than the flash (as
# `esptool merge_bin` writes it, not padded) reads as if padded with 0xFF to the flash size its
# bootloader header names (or --size) in `flash info`, `otadata read` and `board run`; the board
# leaves the file as it is unless --pad, which writes it back at the flash size; 32, 64 and
# 128 MB flashes work as 16 MB ones do (a 32 MB table with apps past 16 MB, booted on the board).
set -u

. "$(dirname "$0")/lib.bash"
export TMPDIR="$WORK/tmp" # the board's padded copies go here, and must be gone afterwards
mkdir -p "$TMPDIR"

BL_CFG="$OTAKIT_SOURCE_DIR/examples/bootloader/sdkconfig.defaults"
pack() { # pack OUT FLASH_SIZE: an ESP32-S3 bootloader whose header names FLASH_SIZE
    "$OTAKIT" image pack --bootloader --chip esp32s3 -o "$1" --flash-size "$2" \
        --sdkconfig "$BL_CFG" --set IDF_TARGET=esp32s3 >/dev/null || fail "cannot pack a bootloader"
}
"$OTAKIT" image pack --app --chip esp32s3 -o "$WORK/hello.bin" --project hello_world \
    --payload "$OTAKIT_BUILD_DIR/apps/hello_world" >/dev/null ||
    fail "cannot pack hello_world"

# --- 1. an unpadded merged image: the created flash up to the end of its last file, as
# merge_bin writes bootloader, table and app (the blank otadata is not part of it) -----------
pack "$WORK/bl4.bin" 4MB
"$OTAKIT" flash create "$WORK/full.bin" --size 4MB --table two_ota --bootloader "$WORK/bl4.bin" \
    --app "factory=$WORK/hello.bin" >/dev/null || fail "flash create"
last=$((0x10000 + $(wc -c <"$WORK/hello.bin")))
head -c "$last" "$WORK/full.bin" >"$WORK/merged.bin"
expect_eq "merged image is shorter than the flash" "$(($(wc -c <"$WORK/merged.bin") < 4194304))" 1

run flash info "$WORK/merged.bin"
expect_eq "info: exit status" "$rc" 0
expect_has "info: size from the bootloader header" "$out" \
    "Flash: $WORK/merged.bin, 4 MiB (the file holds $last bytes; the rest reads as 0xFF)"
expect_has "info: boots factory" "$out" "Boots: factory"
expect_has "info: otadata read as erased" "$out" "copy 1: ota_seq=0xffffffff"
run flash info "$WORK/merged.bin" --size 8MB
expect_eq "info --size 8MB: exit status" "$rc" 0
expect_has "info --size 8MB" "$out" "Flash: $WORK/merged.bin, 8 MiB (the file holds $last bytes"
run otadata read "$WORK/merged.bin"
expect_eq "otadata read: exit status" "$rc" 0
expect_has "otadata read" "$out" "Firmware:  0xffffffff 	0xffffffff | 	0xffffffff 	 0xffffffff"
head -c 5000 "$WORK/merged.bin" | tail -c 4000 >"$WORK/nobl.bin"
expect_error "no bootloader names a size" 1 "no bootloader image names one; give --size" \
    flash info "$WORK/nobl.bin"

# board run: on a padded copy, the file unchanged, no copy left behind
keep=$(sha "$WORK/merged.bin")
board "$WORK/merged.log" "$WORK/merged.bin" --max-boots 1
[ "$BOARD_STATUS" -eq 5 ] || fail "merged: board exit $BOARD_STATUS, expected 5 (max boots)"
expect_file_has "$WORK/merged.log" "run as a 4 MiB flash padded with 0xFF on a copy"
expect_file_has "$WORK/merged.log" '^I \([0-9]+\) boot: Loaded app from partition at offset 0x10000$'
expect_file_has "$WORK/merged.log" '^Hello world!$'
expect_eq "board: merged image unchanged" "$(sha "$WORK/merged.bin")" "$keep"
expect_eq "board: no padded copy left" "$(ls -A "$TMPDIR")" ""
# --pad: written back at the flash size, byte for byte the created flash
cp "$WORK/merged.bin" "$WORK/padded.bin"
board "$WORK/padded.log" "$WORK/padded.bin" --max-boots 1 --pad
[ "$BOARD_STATUS" -eq 5 ] || fail "--pad: board exit $BOARD_STATUS, expected 5 (max boots)"
expect_file_has "$WORK/padded.log" '^Hello world!$'
expect_eq "--pad: file size" "$(wc -c <"$WORK/padded.bin" | tr -d ' ')" 4194304
expect_eq "--pad: the created flash" "$(sha "$WORK/padded.bin")" "$(sha "$WORK/full.bin")"

# esptool merge_bin itself, when the conformance kit's esptool imports
ESPTOOL_DIR="$OTAKIT_SOURCE_DIR/../shared/conformance/esp-idf/components/esptool_py/esptool"
if [ -d "$ESPTOOL_DIR" ] && PYTHONPATH="$ESPTOOL_DIR" python3 -c 'import esptool' 2>/dev/null; then
    dd if="$WORK/full.bin" of="$WORK/pt.bin" bs=4096 skip=8 count=1 status=none
    PYTHONPATH="$ESPTOOL_DIR" python3 -m esptool --chip esp32s3 merge_bin -o "$WORK/esptool.bin" \
        0x0 "$WORK/bl4.bin" 0x8000 "$WORK/pt.bin" 0x10000 "$WORK/hello.bin" >/dev/null 2>&1 ||
        fail "esptool merge_bin"
    board "$WORK/esptool.log" "$WORK/esptool.bin" --max-boots 1
    expect_file_has "$WORK/esptool.log" '^Hello world!$'
else
    echo "note: esptool does not import here; the merge_bin check is skipped" >&2
fi

# --- 2. a 32 MB flash whose table uses it: apps past 16 MB, booted on the board --------------
cat >"$WORK/t32.csv" <<'EOF'
# Name, Type, SubType, Offset, Size, Flags
nvs,      data, nvs,     0x9000,    0x6000,
otadata,  data, ota,     0xf000,    0x2000,
phy_init, data, phy,     0x11000,   0x1000,
factory,  app,  factory, 0x20000,   1M,
ota_0,    app,  ota_0,   0x1000000, 4M,
ota_1,    app,  ota_1,   0x1400000, 4M,
storage,  data, spiffs,  0x1800000, 8M,
EOF
pack "$WORK/bl32.bin" 32MB
run flash create "$WORK/f32.bin" --size 32MB --table "$WORK/t32.csv" --bootloader "$WORK/bl32.bin" \
    --app "ota_0=$WORK/hello.bin"
expect_eq "32MB: flash create" "$rc" 0
expect_has "32MB: create" "$out" "32 MiB flash image for ESP32-S3"
expect_eq "32MB: file size" "$(wc -c <"$WORK/f32.bin" | tr -d ' ')" 33554432
run otadata switch "$WORK/f32.bin" --slot 0
expect_eq "32MB: otadata switch" "$rc" 0
board "$WORK/f32.log" "$WORK/f32.bin" --max-boots 1
[ "$BOARD_STATUS" -eq 5 ] || fail "32MB: board exit $BOARD_STATUS, expected 5 (max boots)"
expect_file_has "$WORK/f32.log" '^I \([0-9]+\) boot: Loaded app from partition at offset 0x1000000$'
expect_file_has "$WORK/f32.log" '^Hello world!$'
# a table past 16 MB does not fit a 16 MB flash
run flash create "$WORK/f16.bin" --size 16MB --table "$WORK/t32.csv" --bootloader "$WORK/bl32.bin"
expect_eq "16MB with the 32MB table: refused" "$rc" 1

# --- 3. 64 and 128 MB: created, inspected -----------------------------------------------------
for mb in 64 128; do
    pack "$WORK/bl$mb.bin" "${mb}MB"
    run flash create "$WORK/f$mb.bin" --size "${mb}MB" --table two_ota \
        --bootloader "$WORK/bl$mb.bin" --app "factory=$WORK/hello.bin"
    expect_eq "${mb}MB: flash create" "$rc" 0
    run flash info "$WORK/f$mb.bin"
    expect_eq "${mb}MB: flash info" "$rc" 0
    expect_has "${mb}MB: info" "$out" "Flash: $WORK/f$mb.bin, $mb MiB"
    rm -f "$WORK/f$mb.bin"
done
expect_error "256MB refused" 2 "--size '256MB'" flash create "$WORK/x.bin" --size 256MB \
    --table two_ota --bootloader "$WORK/bl4.bin"

echo "flash_sizes: $CHECKS passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
