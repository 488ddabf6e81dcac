#!/usr/bin/env bash
# PSRAM on the ESP32 board: an app built with CONFIG_SPIRAM finds the chip with ESP-IDF's start-up
# lines and allocates from a MALLOC_CAP_SPIRAM heap whose free size counts what it hands out;
# --psram sets the chip (8MB: 4MB mapped); without a chip the app aborts as ESP-IDF's does, or
# goes on without it with CONFIG_SPIRAM_IGNORE_NOTFOUND; an app without CONFIG_SPIRAM has none.
. "$(dirname "$0")/lib.bash"

pack_bootloader "$WORK/bl.bin"
flash() { # flash OUT APP
    "$OTAKIT" flash create "$1" --size 4MB --table two_ota --bootloader "$WORK/bl.bin" \
        --app "factory=$2" >/dev/null || fail "flash create"
}
free_at() { sed -n "s/.*ota_test_app: psram: $2.*free \([0-9]*\)\$/\1/p" "$1"; }

# --- 1. CONFIG_SPIRAM: a 4 MB chip by default, its heap real --------------------------------
pack_test_app "$WORK/ps.bin" 1 psram SPIRAM=y
flash "$WORK/ps_flash.bin" "$WORK/ps.bin"
board "$WORK/ps.log" "$WORK/ps_flash.bin" --max-boots 1
[ "$BOARD_STATUS" -eq 4 ] || fail "psram: board exit $BOARD_STATUS, expected 4 (returned)"
L=$WORK/ps.log
expect_file_has "$L" '^I \([0-9]+\) quad_psram: This chip is ESP32-D0WD$'
expect_file_has "$L" '^I \([0-9]+\) esp_psram: Found 4MB PSRAM device$'
expect_file_has "$L" '^I \([0-9]+\) esp_psram: Speed: 40MHz$'
expect_file_has "$L" '^I \([0-9]+\) esp_psram: PSRAM initialized, cache is in low/high \(2-core\) mode\.$'
expect_file_has "$L" '^I \([0-9]+\) esp_psram: SPI SRAM memory test OK$'
expect_file_has "$L" '^I \([0-9]+\) esp_psram: Adding pool of 4096K of PSRAM memory to heap allocator$'
expect_file_has "$L" '^I \([0-9]+\) esp_psram: Reserving pool of 32K of internal memory for DMA/internal allocations$'
expect_file_lacks "$L" 'Virtual address not enough'
# ESP-IDF's order: the PSRAM lines come before the user code starts
[ "$(grep -n 'Found 4MB' "$L" | cut -d: -f1)" -lt "$(grep -n 'Pro cpu start user code' "$L" | cut -d: -f1)" ] ||
    fail "psram: the PSRAM lines come after 'Pro cpu start user code'"
ok "ESP-IDF's PSRAM start-up lines, in order"
expect_file_has "$L" 'ota_test_app: psram: initialized 1, size 4194304, free [0-9]+$'
F0=$(free_at "$L" "initialized 1")
F1=$(free_at "$L" "1 MB allocated")
F2=$(free_at "$L" "freed,")
F3=$(free_at "$L" "[0-9]* blocks")
F4=$(free_at "$L" "all freed")
[ "$F0" -gt $((4000 * 1024)) ] && [ "$F0" -le $((4096 * 1024)) ] || fail "psram: free $F0 at start"
[ $((F0 - F1)) -ge $((1024 * 1024)) ] || fail "psram: 1 MB allocated, free only fell by $((F0 - F1))"
[ "$F2" -eq "$F0" ] || fail "psram: free() gave back $F2, had $F0"
[ "$F3" -lt $((64 * 1024)) ] || fail "psram: allocation failed with $F3 bytes still free"
[ "$F4" -eq "$F0" ] || fail "psram: after freeing everything $F4, had $F0"
ok "the PSRAM heap counts what it hands out and gives it back"
expect_file_has "$L" 'ota_test_app: psram: 1 MB allocated, free [0-9]+, external 1, internal 0$'
N=$(sed -n 's/.*psram: \([0-9]*\) blocks of 64 KB, then NULL.*/\1/p' "$L")
[ "$N" -ge 60 ] && [ "$N" -le 64 ] || fail "psram: $N blocks of 64 KB from 4 MB"
ok "exhaustion returns NULL after $N blocks"

# --- 2. --psram: an 8 MB chip (4 MB mapped), and no chip --------------------------------------
board "$WORK/ps8.log" "$WORK/ps_flash.bin" --max-boots 1 --psram 8MB
expect_file_has "$WORK/ps8.log" '^I \([0-9]+\) esp_psram: Found 8MB PSRAM device$'
expect_file_has "$WORK/ps8.log" '^W \([0-9]+\) esp_psram: Virtual address not enough for PSRAM, map as much as we can\. 4MB is mapped$'
expect_file_has "$WORK/ps8.log" 'ota_test_app: psram: initialized 1, size 8388608, free [0-9]+$'
board "$WORK/ps0.log" "$WORK/ps_flash.bin" --max-boots 2 --psram 0
[ "$BOARD_STATUS" -eq 5 ] || fail "no psram: board exit $BOARD_STATUS, expected 5 (boot loop)"
expect_file_has "$WORK/ps0.log" '^E \([0-9]+\) quad_psram: PSRAM ID read error: 0xffffffff, PSRAM chip not found or not supported$'
expect_file_has "$WORK/ps0.log" '^E \([0-9]+\) cpu_start: Failed to init external RAM!$'
expect_file_has "$WORK/ps0.log" '^abort\(\) was called at PC'
expect_file_lacks "$WORK/ps0.log" 'ota_test_app: running'
# (with the ROM's esp_flash, an ESP-IDF option the build keeps)
pack_test_app "$WORK/psi.bin" 1 psram SPIRAM=y SPIRAM_IGNORE_NOTFOUND=y SPI_FLASH_ROM_IMPL=y
flash "$WORK/psi_flash.bin" "$WORK/psi.bin"
board "$WORK/psi.log" "$WORK/psi_flash.bin" --max-boots 1 --psram 0
[ "$BOARD_STATUS" -eq 4 ] || fail "ignore notfound: board exit $BOARD_STATUS, expected 4"
expect_file_has "$WORK/psi.log" '^E \([0-9]+\) esp_psram: PSRAM enabled but initialization failed\. Bailing out\.$'
expect_file_has "$WORK/psi.log" '^I \([0-9]+\) cpu_start: Failed to init external RAM; continuing without it\.$'
expect_file_has "$WORK/psi.log" 'ota_test_app: psram: initialized 0, size 0, free 0$'
expect_file_has "$WORK/psi.log" 'ota_test_app: psram: 1 MB allocation failed$'
expect_error "board run --psram 3MB" 2 "--psram: '3MB' is not 0, 2MB, 4MB or 8MB" \
    board run "$WORK/ps_flash.bin" --psram 3MB

# --- 3. external .bss: its 16 KB come off the heap; without the chip ESP-IDF's own abort -------
pack_test_app "$WORK/psb.bin" 1 psram SPIRAM=y SPIRAM_ALLOW_BSS_SEG_EXTERNAL_MEMORY=y
flash "$WORK/psb_flash.bin" "$WORK/psb.bin"
board "$WORK/psb.log" "$WORK/psb_flash.bin" --max-boots 1
expect_file_has "$WORK/psb.log" '^I \([0-9]+\) esp_psram: Adding pool of 4080K of PSRAM memory to heap allocator$'
board "$WORK/psb0.log" "$WORK/psb_flash.bin" --max-boots 1 --psram 0
expect_file_has "$WORK/psb0.log" '^E \([0-9]+\) cpu_start: Failed to init external RAM, needed for external \.bss segment$'
expect_file_lacks "$WORK/psb0.log" 'ota_test_app: running'

# --- 4. no CONFIG_SPIRAM: no chip, no heap, no lines --------------------------------------------
pack_test_app "$WORK/nops.bin" 1 psram
flash "$WORK/nops_flash.bin" "$WORK/nops.bin"
board "$WORK/nops.log" "$WORK/nops_flash.bin" --max-boots 1
expect_file_lacks "$WORK/nops.log" 'esp_psram|quad_psram'
expect_file_has "$WORK/nops.log" 'ota_test_app: psram: initialized 0, size 0, free 0$'
expect_file_has "$WORK/nops.log" 'ota_test_app: psram: 1 MB allocation failed$'

echo "psram: $CHECKS checks passed"
