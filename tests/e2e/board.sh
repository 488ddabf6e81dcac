#!/usr/bin/env bash
# The simulated board end to end: real programs booted from their images in flash, the OTA chain
# factory -> ota_0 -> ota_1 -> ota_0 with the otadata bytes ESP-IDF writes after each step,
# rollback (crash before confirming, mark invalid, confirm), a bootloader without rollback,
# anti-rollback, otadata erase, the factory-reset pin, power cuts (one, several, a random
# plan), a damaged flash chip, and a real ESP32 app.
. "$(dirname "$0")/lib.bash"

# --- a table with room for the chain: factory, two OTA slots, three update sources ----------
ota_table "$WORK/chain.csv" upd_a upd_b upd_c
cat >"$WORK/nofactory.csv" <<'EOF'
# Name, Type, SubType, Offset, Size, Flags
nvs, data, nvs, , 0x4000,
otadata, data, ota, , 0x2000,
phy_init, data, phy, , 0x1000,
ota_0, app, ota_0, , 512K,
ota_1, app, ota_1, , 512K,
upd_a, data, , , 512K,
EOF

# chain_flash OUT BOOTLOADER FACTORY UPD_A UPD_B UPD_C
chain_flash() {
    "$OTAKIT" flash create "$1" --size 4MB --table "$WORK/chain.csv" --bootloader "$2" \
        --app "factory=$3" --part "upd_a=$4" --part "upd_b=$5" --part "upd_c=$6" >/dev/null ||
        fail "flash create failed"
}

pack_bootloader "$WORK/bl.bin"
pack_bootloader "$WORK/bl_rb.bin" BOOTLOADER_APP_ROLLBACK_ENABLE=y

# --- 1. hello_world runs from its image in flash, not from the build directory -------------
cp "$OTAKIT_BUILD_DIR/apps/hello_world" "$WORK/hello_program"
"$OTAKIT" image pack --app -o "$WORK/hello.bin" --payload "$WORK/hello_program" \
    --project hello_world --project-ver 2 >/dev/null ||
    fail "cannot pack hello_world"
"$OTAKIT" flash create "$WORK/hello_flash.bin" --size 4MB --table two_ota \
    --bootloader "$WORK/bl.bin" --app "factory=$WORK/hello.bin" >/dev/null || fail "flash create"
rm -f "$WORK/hello_program" "$WORK/hello.bin" # only the flash image is left
board "$WORK/hello.log" "$WORK/hello_flash.bin" --max-boots 2
[ "$BOARD_STATUS" -eq 5 ] || fail "hello_world: board exit $BOARD_STATUS, expected 5 (max boots)"
expect_file_has "$WORK/hello.log" '^I \([0-9]+\) boot: Loaded app from partition at offset 0x10000$' 2
expect_file_has "$WORK/hello.log" '^I \([0-9]+\) app_init: Project name: +hello_world$' 2
expect_file_has "$WORK/hello.log" '^I \([0-9]+\) app_init: App version: +2$'
expect_file_has "$WORK/hello.log" '^Hello world!$' 2
expect_file_has "$WORK/hello.log" '^This is esp32 chip with 2 CPU core\(s\), WiFi/BTBLE, silicon revision v3\.0, 4MB external flash$'
expect_file_has "$WORK/hello.log" '^Restarting in 1 seconds\.\.\.$' 2
expect_file_has "$WORK/hello.log" '^Restarting now\.$' 2
expect_file_has "$WORK/hello.log" '^rst:0xc \(SW_CPU_RESET\),boot:0x13 \(SPI_FAST_FLASH_BOOT\)$'
# the countdown advanced the virtual clock by one second per line
expect_file_has "$WORK/hello.log" '^--- stopped after 2 boots ---$'

# --- 2. factory -> ota_0 -> ota_1 -> ota_0, rollback off: otadata as ESP-IDF writes it -------
pack_test_app "$WORK/v1.bin" 1 install TEST_APP_SOURCE=upd_a
pack_test_app "$WORK/v2.bin" 2 install TEST_APP_SOURCE=upd_b
pack_test_app "$WORK/v3.bin" 3 install TEST_APP_SOURCE=upd_c
pack_test_app "$WORK/v4.bin" 4 idle
chain_flash "$WORK/chain.bin" "$WORK/bl.bin" "$WORK/v1.bin" "$WORK/v2.bin" "$WORK/v3.bin" "$WORK/v4.bin"
blank=$(printf 'ff%.0s' $(seq 32))
[ "$(otadata_entry "$WORK/chain.bin" 0)" = "$blank" ] || fail "fresh otadata is not blank"
step_entries=(
    "01000000ffffffffffffffffffffffffffffffffffffffffffffffff9a984347 $blank"
    "01000000ffffffffffffffffffffffffffffffffffffffffffffffff9a984347 02000000ffffffffffffffffffffffffffffffffffffffffffffffff7437f655"
    "03000000ffffffffffffffffffffffffffffffffffffffffffffffff11504aed 02000000ffffffffffffffffffffffffffffffffffffffffffffffff7437f655"
)
expected_slot=(ota_0 ota_1 ota_0)
for step in 1 2 3; do
    board "$WORK/chain$step.log" "$WORK/chain.bin" --max-boots 1
    [ "$BOARD_STATUS" -eq 5 ] || fail "chain step $step: board exit $BOARD_STATUS"
    got="$(otadata_entry "$WORK/chain.bin" 0) $(otadata_entry "$WORK/chain.bin" 1)"
    [ "$got" = "${step_entries[$((step - 1))]}" ] ||
        fail "chain step $step: otadata is '$got', expected '${step_entries[$((step - 1))]}'"
    ok
    expect_file_has "$WORK/chain$step.log" "ota_test_app: installed [0-9]+ bytes into ${expected_slot[$((step - 1))]}; restarting"
done
expect_file_has "$WORK/chain1.log" 'ota_test_app: running ota_test_app 1 from factory state none'
expect_file_has "$WORK/chain2.log" 'ota_test_app: running ota_test_app 2 from ota_0 state UNDEFINED'
expect_file_has "$WORK/chain3.log" 'ota_test_app: running ota_test_app 3 from ota_1 state UNDEFINED'
board "$WORK/chain4.log" "$WORK/chain.bin"
[ "$BOARD_STATUS" -eq 4 ] || fail "chain end: board exit $BOARD_STATUS, expected 4 (app returned)"
expect_file_has "$WORK/chain4.log" 'boot: Loaded app from partition at offset 0x90000'
expect_file_has "$WORK/chain4.log" 'ota_test_app: running ota_test_app 4 from ota_0 state UNDEFINED'

# --- 3. rollback variant: set_boot writes NEW (state word 00000000) ------------------------
pack_test_app "$WORK/r1.bin" 1 install TEST_APP_SOURCE=upd_a BOOTLOADER_APP_ROLLBACK_ENABLE=y
pack_test_app "$WORK/r2.bin" 2 confirm,install TEST_APP_SOURCE=upd_b BOOTLOADER_APP_ROLLBACK_ENABLE=y
pack_test_app "$WORK/r3crash.bin" 3 crash BOOTLOADER_APP_ROLLBACK_ENABLE=y
chain_flash "$WORK/rb.bin" "$WORK/bl_rb.bin" "$WORK/r1.bin" "$WORK/r2.bin" "$WORK/r3crash.bin" "$WORK/v4.bin"
board "$WORK/rb1.log" "$WORK/rb.bin" --max-boots 1
[ "$(otadata_entry "$WORK/rb.bin" 0)" = "01000000ffffffffffffffffffffffffffffffffffffffff000000009a984347" ] ||
    fail "rollback: after set_boot, sector 0 is $(otadata_entry "$WORK/rb.bin" 0)"
ok
# next boot: the bootloader turns NEW into PENDING_VERIFY, the app confirms (VALID), installs v3
board "$WORK/rb2.log" "$WORK/rb.bin" --max-boots 1
expect_file_has "$WORK/rb2.log" 'ota_test_app: running ota_test_app 2 from ota_0 state PENDING_VERIFY'
expect_file_has "$WORK/rb2.log" 'ota_test_app: confirmed: ESP_OK, state VALID'
[ "$(otadata_entry "$WORK/rb.bin" 0)" = "01000000ffffffffffffffffffffffffffffffffffffffff020000009a984347" ] ||
    fail "rollback: after confirming, sector 0 is $(otadata_entry "$WORK/rb.bin" 0)"
ok
[ "$(otadata_entry "$WORK/rb.bin" 1)" = "02000000ffffffffffffffffffffffffffffffffffffffff000000007437f655" ] ||
    fail "rollback: after installing v3, sector 1 is $(otadata_entry "$WORK/rb.bin" 1)"
ok
# v3 crashes before confirming: the next boot marks it ABORTED and v2 boots again, which does not
# reinstall the version that was rolled back
board "$WORK/rb3.log" "$WORK/rb.bin"
[ "$BOARD_STATUS" -eq 4 ] || fail "rollback after crash: board exit $BOARD_STATUS"
expect_file_has "$WORK/rb3.log" 'ota_test_app: running ota_test_app 3 from ota_1 state PENDING_VERIFY'
expect_file_has "$WORK/rb3.log" '^abort\(\) was called at PC 0x[0-9a-f]+ on core 0$'
expect_file_has "$WORK/rb3.log" 'ota_test_app: running ota_test_app 2 from ota_0 state VALID'
expect_file_has "$WORK/rb3.log" 'version 3 was rolled back; not installing it again'
[ "$(otadata_entry "$WORK/rb.bin" 1)" = "02000000ffffffffffffffffffffffffffffffffffffffff040000007437f655" ] ||
    fail "rollback: the crashed app's entry is $(otadata_entry "$WORK/rb.bin" 1), expected ABORTED"
ok

# --- 4. esp_ota_mark_app_invalid_rollback_and_reboot -> the previous app -------------------
pack_test_app "$WORK/r3inv.bin" 3 invalid BOOTLOADER_APP_ROLLBACK_ENABLE=y
chain_flash "$WORK/inv.bin" "$WORK/bl_rb.bin" "$WORK/r1.bin" "$WORK/r2.bin" "$WORK/r3inv.bin" "$WORK/v4.bin"
board "$WORK/inv.log" "$WORK/inv.bin"
[ "$BOARD_STATUS" -eq 4 ] || fail "mark invalid: board exit $BOARD_STATUS"
expect_file_has "$WORK/inv.log" 'ota_test_app: running ota_test_app 3 from ota_1 state PENDING_VERIFY'
expect_file_has "$WORK/inv.log" 'esp_ota_ops: Rollback to previously worked partition\.'
expect_file_has "$WORK/inv.log" 'ota_test_app: running ota_test_app 2 from ota_0 state PENDING_VERIFY'
expect_file_has "$WORK/inv.log" 'ota_test_app: running ota_test_app 2 from ota_0 state VALID'
[ "$(otadata_entry "$WORK/inv.bin" 1 | cut -c49-56)" = "03000000" ] || fail "mark invalid: state is not INVALID"
ok

# --- 5. confirm -> stays, across power cycles ------------------------------------------------
pack_test_app "$WORK/r3ok.bin" 3 confirm BOOTLOADER_APP_ROLLBACK_ENABLE=y
chain_flash "$WORK/keep.bin" "$WORK/bl_rb.bin" "$WORK/r1.bin" "$WORK/r2.bin" "$WORK/r3ok.bin" "$WORK/v4.bin"
board "$WORK/keep1.log" "$WORK/keep.bin"
[ "$BOARD_STATUS" -eq 4 ] || fail "confirm: board exit $BOARD_STATUS"
board "$WORK/keep2.log" "$WORK/keep.bin"
expect_file_has "$WORK/keep2.log" 'ota_test_app: running ota_test_app 3 from ota_1 state VALID'
expect_file_lacks "$WORK/keep2.log" 'Loaded app from partition at offset 0x90000'

# --- 6. a bootloader built without rollback leaves the app's state NEW ----------------------
chain_flash "$WORK/norb.bin" "$WORK/bl.bin" "$WORK/r1.bin" "$WORK/r3crash.bin" "$WORK/v3.bin" "$WORK/v4.bin"
board "$WORK/norb.log" "$WORK/norb.bin" --max-boots 3
expect_file_has "$WORK/norb.log" 'ota_test_app: running ota_test_app 3 from ota_0 state NEW' 2
[ "$(otadata_entry "$WORK/norb.bin" 0 | cut -c49-56)" = "00000000" ] || fail "no-rollback bootloader changed the state"
ok

# --- 7. otakit otadata erase -> factory boots ------------------------------------------------
"$OTAKIT" otadata erase "$WORK/chain.bin" >/dev/null || fail "otadata erase"
board "$WORK/erase.log" "$WORK/chain.bin" --max-boots 1
expect_file_has "$WORK/erase.log" 'boot: Defaulting to factory image'
expect_file_has "$WORK/erase.log" 'ota_test_app: running ota_test_app 1 from factory'

# --- 8. factory-reset pin: a long hold erases nvs and otadata, a short one does nothing -----
pack_bootloader "$WORK/bl_fr.bin" BOOTLOADER_FACTORY_RESET=y BOOTLOADER_NUM_PIN_FACTORY_RESET=4 \
    BOOTLOADER_OTA_DATA_ERASE=y BOOTLOADER_DATA_FACTORY_RESET=nvs BOOTLOADER_HOLD_TIME_GPIO=5
chain_flash "$WORK/fr.bin" "$WORK/bl_fr.bin" "$WORK/v1.bin" "$WORK/v4.bin" "$WORK/v3.bin" "$WORK/v4.bin"
board "$WORK/fr0.log" "$WORK/fr.bin" --max-boots 2
expect_file_has "$WORK/fr0.log" 'running ota_test_app 4 from ota_0'
board "$WORK/fr_short.log" "$WORK/fr.bin" --max-boots 1 --gpio 4=0 --gpio 4=1@2000
expect_file_lacks "$WORK/fr_short.log" 'factory reset'
expect_file_has "$WORK/fr_short.log" 'running ota_test_app 4 from ota_0'
board "$WORK/fr_long.log" "$WORK/fr.bin" --max-boots 1 --gpio 4=0
expect_file_has "$WORK/fr_long.log" 'boot: Detect a condition of the factory reset'
expect_file_has "$WORK/fr_long.log" 'boot_comm: +0 nvs +data  00009000 00004000 \[yes\]'
expect_file_has "$WORK/fr_long.log" 'boot_comm: +1 otadata +data  0000d000 00002000 \[yes\]'
expect_file_has "$WORK/fr_long.log" 'ota_test_app: running ota_test_app 1 from factory'

# --- 9. anti-rollback: the app refuses a lower secure_version, the bootloader skips it ------
pack_bootloader "$WORK/bl_ar.bin" BOOTLOADER_APP_ROLLBACK_ENABLE=y BOOTLOADER_APP_ANTI_ROLLBACK=y
AR=(BOOTLOADER_APP_ROLLBACK_ENABLE=y BOOTLOADER_APP_ANTI_ROLLBACK=y)
pack_test_app "$WORK/s2.bin" 2 confirm,install TEST_APP_SOURCE=upd_a "${AR[@]}" BOOTLOADER_APP_SECURE_VERSION=2
pack_test_app "$WORK/s1.bin" 1 confirm "${AR[@]}" BOOTLOADER_APP_SECURE_VERSION=1
"$OTAKIT" flash create "$WORK/ar.bin" --size 4MB --table "$WORK/nofactory.csv" \
    --bootloader "$WORK/bl_ar.bin" --app "ota_0=$WORK/s2.bin" --part "upd_a=$WORK/s1.bin" >/dev/null ||
    fail "flash create (anti-rollback)"
board "$WORK/ar1.log" "$WORK/ar.bin"
expect_file_has "$WORK/ar1.log" 'boot: Secure version \(from eFuse\) = 0'
expect_file_has "$WORK/ar1.log" 'boot: Set actual ota_seq=1 in otadata\[0\]'
expect_file_has "$WORK/ar1.log" 'secure version is lower than stored in efuse\. Partition will be erased\.'
expect_file_has "$WORK/ar1.log" 'ota_test_app: install failed: ESP_ERR_OTA_SMALL_SEC_VER'
# put the low version in ota_1 by hand and select it: the bootloader skips it
"$OTAKIT" flash write-partition "$WORK/ar.bin" --name ota_1 "$WORK/s1.bin" >/dev/null || fail "write-partition"
"$OTAKIT" otadata switch "$WORK/ar.bin" --slot 1 >/dev/null || fail "otadata switch"
board "$WORK/ar2.log" "$WORK/ar.bin" --max-boots 1
expect_file_has "$WORK/ar2.log" 'boot: Secure version \(from eFuse\) = 2'
expect_file_has "$WORK/ar2.log" 'ota_test_app: running ota_test_app 2 from ota_0 state VALID'

# --- 10. a power cut during the install, then power on again --------------------------------
chain_flash "$WORK/cut.bin" "$WORK/bl.bin" "$WORK/v1.bin" "$WORK/v4.bin" "$WORK/v3.bin" "$WORK/v4.bin"
board "$WORK/cut.log" "$WORK/cut.bin" --power-cut-at 40 --cut-mode torn --seed 3
[ "$BOARD_STATUS" -eq 4 ] || fail "power cut: board exit $BOARD_STATUS"
expect_file_has "$WORK/cut.log" '^--- power cut at flash operation 40 \(torn, seed 3\) ---$'
expect_file_has "$WORK/cut.log" '^rst:0x1 \(POWERON_RESET\)' 2
expect_file_has "$WORK/cut.log" 'ota_test_app: running ota_test_app 1 from factory' 2
expect_file_has "$WORK/cut.log" 'ota_test_app: running ota_test_app 4 from ota_0'

# several cuts: the second lands 3 operations into the recovery from the first (the factory app
# installing again), the third in the install after that; the last install completes
chain_flash "$WORK/cuts.bin" "$WORK/bl.bin" "$WORK/v1.bin" "$WORK/v4.bin" "$WORK/v3.bin" "$WORK/v4.bin"
cp "$WORK/cuts.bin" "$WORK/rcuts.bin"
cp "$WORK/cuts.bin" "$WORK/fault.bin"
board "$WORK/cuts.log" "$WORK/cuts.bin" --power-cut-at 40,3,60 --cut-mode torn --seed 5
[ "$BOARD_STATUS" -eq 4 ] || fail "power cuts: board exit $BOARD_STATUS"
expect_file_has "$WORK/cuts.log" '^--- power cut at flash operation 40 \(torn, seed 5\) ---$'
expect_file_has "$WORK/cuts.log" '^--- power cut at flash operation 3 \(torn, seed 6\) ---$'
expect_file_has "$WORK/cuts.log" '^--- power cut at flash operation 60 \(torn, seed 7\) ---$'
expect_file_has "$WORK/cuts.log" '^--- 3 power cuts, 0 flash faults injected ---$'
expect_file_has "$WORK/cuts.log" 'ota_test_app: running ota_test_app 1 from factory' 4
expect_file_has "$WORK/cuts.log" 'ota_test_app: running ota_test_app 4 from ota_0'
# a random plan from the seed: 1..5 cuts in the first 80 operations after each power-on
board "$WORK/rcuts.log" "$WORK/rcuts.bin" --random-cuts 5:80 --cut-mode random --seed 9
[ "$BOARD_STATUS" -eq 4 ] || fail "random power cuts: board exit $BOARD_STATUS"
expect_file_has "$WORK/rcuts.log" '^--- power cut at flash operation [0-9]+ \((before|after|torn), seed 1[0-2]\) ---$' 3
expect_file_has "$WORK/rcuts.log" 'ota_test_app: running ota_test_app 4 from ota_0'

# --- 10b. a damaged flash chip: the install into a stuck sector fails cleanly ----------------
# ota_0 starts at 0x90000; its first sector keeps its old bytes whatever is written: the app's
# esp_ota_end finds the image invalid, nothing is selected, and the factory app goes on running
board "$WORK/fault.log" "$WORK/fault.bin" --faults bad-sector=0x90000,bad-mode=stuck
[ "$BOARD_STATUS" -eq 4 ] || fail "bad sector: board exit $BOARD_STATUS"
expect_file_has "$WORK/fault.log" 'esp_ota_ops: New image failed verification'
expect_file_has "$WORK/fault.log" 'ota_test_app: install failed: ESP_ERR_OTA_VALIDATE_FAILED'
expect_file_lacks "$WORK/fault.log" 'running ota_test_app 4'
expect_file_has "$WORK/fault.log" '^--- 0 power cuts, [1-9][0-9]* flash faults injected ---$'
# bad plans and fault specifications are usage errors, one line each, nothing run
for args in "--power-cut-at 4,,5" "--power-cut-at 0" "--random-cuts 0" "--random-cuts 65" \
    "--cut-mode sometimes" "--faults read-flip=2000000" "--faults stuck" \
    "--faults bad-sector=0x4000000"; do
    # shellcheck disable=SC2086 # the arguments are split on purpose
    board "$WORK/usage.log" "$WORK/fault.bin" $args
    [ "$BOARD_STATUS" -eq 2 ] || fail "board run $args: exit $BOARD_STATUS, expected 2"
    [ "$(wc -l <"$WORK/usage.log")" -eq 1 ] || fail "board run $args: $(cat "$WORK/usage.log")"
    ok
done

# --- 11. --until stops the board; a bricked flash is reported -------------------------------
chain_flash "$WORK/until.bin" "$WORK/bl.bin" "$WORK/v1.bin" "$WORK/v2.bin" "$WORK/v3.bin" "$WORK/v4.bin"
board "$WORK/until.log" "$WORK/until.bin" --until 'installed [0-9]+ bytes'
[ "$BOARD_STATUS" -eq 0 ] || fail "--until: board exit $BOARD_STATUS"
expect_file_has "$WORK/until.log" 'running ota_test_app 1 from factory'
expect_file_lacks "$WORK/until.log" 'running ota_test_app 2'
cp "$WORK/chain.bin" "$WORK/brick.bin"
"$OTAKIT" flash erase-partition "$WORK/brick.bin" --name factory >/dev/null || fail "erase"
"$OTAKIT" flash erase-partition "$WORK/brick.bin" --name ota_0 >/dev/null || fail "erase"
"$OTAKIT" flash erase-partition "$WORK/brick.bin" --name ota_1 >/dev/null || fail "erase"
board "$WORK/brick.log" "$WORK/brick.bin"
[ "$BOARD_STATUS" -eq 3 ] || fail "bricked: board exit $BOARD_STATUS, expected 3"
expect_file_has "$WORK/brick.log" 'boot: No bootable app partitions in the partition table'

# --- 12. a real ESP32 app built by ESP-IDF is verified, selected and reported ---------------
V=${OTAKIT_VECTORS:-}/espressif__esp-serial-flasher/157420557d/examples/binaries/Hello-world/ESP32/hello_world.bin
if [ -f "$V" ]; then
    "$OTAKIT" flash create "$WORK/real.bin" --size 4MB --table two_ota --bootloader "$WORK/bl.bin" \
        --app "ota_0=$V" >/dev/null || fail "flash create with a real app"
    "$OTAKIT" otadata switch "$WORK/real.bin" --slot 0 >/dev/null || fail "switch"
    board "$WORK/real.log" "$WORK/real.bin"
    [ "$BOARD_STATUS" -eq 6 ] || fail "real app: board exit $BOARD_STATUS, expected 6"
    expect_file_has "$WORK/real.log" 'boot: Loaded app from partition at offset 0x110000'
    expect_file_has "$WORK/real.log" '^--- boots project hello_world version 1 for chip ESP32; not executable on the host ---$'
fi

echo "board: $CHECKS checks passed"
