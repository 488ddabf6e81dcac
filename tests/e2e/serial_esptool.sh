#!/usr/bin/env bash
# esptool (ESP-IDF's copy, v5) against the running board's serial port: `otakit board run
# --serial socket:0 --download`, then chip_id, flash_id, write_flash compressed and not,
# verify_flash, read_flash of the whole chip, erase_region, erase_flash, and an app written with
# write_flash that boots after esptool's hard reset, its console on the same port.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/netlib.bash"

ESPTOOL_DIR="$OTAKIT_SOURCE_DIR/../shared/conformance/esp-idf/components/esptool_py/esptool"
if [ ! -d "$ESPTOOL_DIR/esptool" ]; then
    echo "SKIP: $ESPTOOL_DIR not found (esptool is a test input)"
    exit 77
fi
# Debian's python3 with its packages (another python3 earlier in PATH may lack them).
need_python serial bitstring cryptography yaml intelhex rich_click

esptool() {
    PYTHONPATH="$ESPTOOL_DIR" "$PY" -m esptool "$@" >"$WORK/esptool.log" 2>&1
}
esptool_ok() {
    esptool "$@" || {
        tail -n 30 "$WORK/esptool.log" >&2
        fail "esptool $* failed"
    }
    ok
}

FLASH=$WORK/flash.bin
IMAGES=$OTAKIT_BUILD_DIR/images
"$OTAKIT" flash create "$FLASH" --size 4MB --table two_ota --bootloader "$IMAGES/bootloader.bin" \
    --app "factory=$IMAGES/hello_world.bin" >/dev/null || fail "flash create"
cp "$FLASH" "$WORK/orig.bin"

# --- the board in download mode, its port on a free TCP port -----------------------------------
"$OTAKIT" board run "$FLASH" --serial socket:0 --download </dev/null >"$WORK/board.log" \
    2>"$WORK/board.err" &
BOARD_PID=$!
SERVER_PID[board]=$BOARD_PID
poll "$BOARD_PID" 30 grep -q '^otakit: serial port socket://127.0.0.1:' "$WORK/board.err" ||
    fail "the board printed no serial port line: $(cat "$WORK/board.err")"
PORT=$(sed -n 's|^otakit: serial port socket://127.0.0.1:\([0-9]*\)$|\1|p' "$WORK/board.err")
[ -n "$PORT" ] && [ "$PORT" != 0 ] || fail "no port in the serial port line"
SOCK=socket://127.0.0.1:$PORT
RFC=rfc2217://127.0.0.1:$PORT
expect_file_has "$WORK/board.log" '^waiting for download$'

# --- chip detection and flash id ---------------------------------------------------------------
esptool_ok --port "$SOCK" chip_id
expect_file_has "$WORK/esptool.log" '^Connected to ESP32 on socket://'
expect_file_has "$WORK/esptool.log" 'Chip type: +ESP32-D0WD-V3 \(revision v3\.0\)'
expect_file_has "$WORK/esptool.log" '^MAC: +24:0a:c4:0b:7a:01$'
expect_file_has "$WORK/esptool.log" 'Stub flasher running\.$'
esptool_ok --port "$SOCK" flash_id
expect_file_has "$WORK/esptool.log" '^Manufacturer: ef$'
expect_file_has "$WORK/esptool.log" '^Detected flash size: 4MB$'

# --- writes, compressed and not, checked in the flash file and by esptool -----------------------
random_bytes 200000 7 >"$WORK/a.bin"
random_bytes 70000 8 >"$WORK/b.bin"
esptool_ok --port "$SOCK" write_flash 0x200000 "$WORK/a.bin"
expect_file_has "$WORK/esptool.log" 'Hash of data verified'
expect_flash_has "$FLASH" $((0x200000)) "$WORK/a.bin"
esptool_ok --port "$SOCK" write_flash --no-compress 0x300000 "$WORK/b.bin"
expect_flash_has "$FLASH" $((0x300000)) "$WORK/b.bin"
esptool_ok --port "$SOCK" verify_flash 0x200000 "$WORK/a.bin"
esptool --port "$SOCK" verify_flash 0x300000 "$WORK/a.bin" && fail "verify_flash of other data passed"
ok

# --- the ROM loader without the stub: compressed write, MD5 in hex, slow reads -----------------
esptool_ok --port "$SOCK" --after no_reset chip_id # "no reset" leaves the stub for the ROM
esptool_ok --port "$SOCK" --no-stub --after no_reset write_flash 0x380000 "$WORK/b.bin"
expect_file_has "$WORK/esptool.log" 'Hash of data verified'
expect_file_lacks "$WORK/esptool.log" 'Stub flasher running'
expect_flash_has "$FLASH" $((0x380000)) "$WORK/b.bin"
esptool_ok --port "$SOCK" --no-stub --after no_reset read_flash 0x380000 1000 "$WORK/slow.bin"
cmp -s -n 1000 "$WORK/slow.bin" "$WORK/b.bin" || fail "read_flash through the ROM differs"
ok

# --- the whole chip read back (rfc2217: pyserial reads socket:// ports a byte at a time) --------
esptool_ok --port "$RFC" --after no_reset read_flash 0 0x400000 "$WORK/read.bin"
cmp -s "$WORK/read.bin" "$FLASH" || fail "read_flash 0 0x400000 differs from the flash file"
ok

# --- erases --------------------------------------------------------------------------------------
esptool_ok --port "$SOCK" erase_region 0x200000 0x10000
all_ff "$FLASH" $((0x200000)) $((0x10000)) || fail "erase_region left data"
all_ff "$FLASH" $((0x210000)) 16 && fail "erase_region erased past its end"
ok
esptool_ok --port "$SOCK" erase_flash
[ "$(tr -d '\377' <"$FLASH" | wc -c)" -eq 0 ] || fail "erase_flash left data"
ok

# --- an app written with write_flash boots after esptool's hard reset ---------------------------
cp "$OTAKIT_BUILD_DIR/apps/hello_world" "$WORK/hello_program"
"$OTAKIT" image pack --app -o "$WORK/hello.bin" --payload "$WORK/hello_program" \
    --project hello_world --project-ver serial-2 >/dev/null || fail "cannot pack hello_world"
dd if="$WORK/orig.bin" of="$WORK/bootloader.bin" bs=4096 skip=1 count=7 status=none
dd if="$WORK/orig.bin" of="$WORK/table.bin" bs=4096 skip=8 count=1 status=none
esptool_ok --port "$RFC" --after hard_reset write_flash 0x1000 "$WORK/bootloader.bin" \
    0x8000 "$WORK/table.bin" 0x10000 "$WORK/hello.bin"
expect_file_has "$WORK/esptool.log" 'Hard resetting via RTS pin'
poll "$BOARD_PID" 60 grep -Eq 'App version: +serial-2$' "$WORK/board.log" ||
    fail "the written app did not boot: $(tail -n 20 "$WORK/board.log")"
expect_file_has "$WORK/board.log" 'rst:0x1 \(POWERON_RESET\),boot:0x13 \(SPI_FAST_FLASH_BOOT\)'
expect_file_has "$WORK/board.log" "^I \([0-9]+\) boot: Loaded app from partition at offset 0x10000$"

# --- the console on the same port, after a reset through RTS (as idf.py monitor resets) ---------
"$PY" - "$RFC" >"$WORK/monitor.log" 2>&1 <<'EOF' || fail "no console on the port: $(cat "$WORK/monitor.log")"
import sys, time, serial
port = serial.serial_for_url(sys.argv[1], timeout=0.5)
port.dtr = False
port.rts = True   # EN low
port.rts = False  # EN high, GPIO0 high: boot from flash
seen = b""
deadline = time.monotonic() + 60
while time.monotonic() < deadline and b"App version" not in seen:
    seen += port.read(4096)
print(seen.decode("latin-1"))
sys.exit(0 if b"SPI_FAST_FLASH_BOOT" in seen and b"serial-2" in seen else 1)
EOF
ok

stop_all_servers

# --- a power cut during write_flash: the bootloader decides what boots -------------------------
# A torn cut at the 40th flash operation of a write to ota_0 (the erase up front and the first
# pages); otadata is blank, so the bootloader still boots the factory app, as on a chip.
cp "$WORK/orig.bin" "$FLASH"
"$OTAKIT" board run "$FLASH" --serial socket:0 --download --power-cut-at 40 --cut-mode torn \
    --until 'App version: ' </dev/null >"$WORK/cut.log" 2>"$WORK/cut.err" &
SERVER_PID[cut]=$!
poll "${SERVER_PID[cut]}" 30 grep -q '^otakit: serial port socket://127.0.0.1:' "$WORK/cut.err" ||
    fail "the board printed no serial port line: $(cat "$WORK/cut.err")"
PORT=$(sed -n 's|^otakit: serial port socket://127.0.0.1:\([0-9]*\)$|\1|p' "$WORK/cut.err")
esptool --port "socket://127.0.0.1:$PORT" write_flash 0x110000 "$WORK/hello.bin" &&
    fail "write_flash went through a power cut"
ok
poll "${SERVER_PID[cut]}" 60 false
wait "${SERVER_PID[cut]}"
cut_status=$?
unset 'SERVER_PID[cut]'
[ "$cut_status" -eq 0 ] || fail "board after the cut: exit $cut_status, expected 0 (--until)"
expect_file_has "$WORK/cut.log" '^--- power cut at flash operation 40 \(torn, seed 1\) ---$'
expect_file_has "$WORK/cut.log" 'rst:0x1 \(POWERON_RESET\),boot:0x13 \(SPI_FAST_FLASH_BOOT\)'
expect_file_has "$WORK/cut.log" "^I \([0-9]+\) boot: Loaded app from partition at offset 0x10000$"
same_outside "$WORK/orig.bin" "$FLASH" $((0x110000)) $((0x100000)) ||
    fail "the cut write changed the flash outside ota_0"
ok

echo "serial_esptool: $CHECKS checks passed"
