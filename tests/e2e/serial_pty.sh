#!/usr/bin/env bash
# The board's serial port on a pseudo-terminal (`otakit board run --serial pty`): the console in
# both directions (an app reads lines typed into the port, as through `idf.py monitor`), and
# esptool with its default options: its reset through DTR/RTS cannot reach a pty, so its SYNC
# puts the running board into download mode, and closing the port afterwards boots the app it
# wrote (the hard reset of `--after hard_reset`).
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/netlib.bash"

ESPTOOL_DIR="$OTAKIT_SOURCE_DIR/../shared/conformance/esp-idf/components/esptool_py/esptool"
need_python serial

FLASH=$WORK/flash.bin
pack_test_app "$WORK/echo.bin" 1 "echo"
make_flash "$FLASH" two_ota "factory=$WORK/echo.bin"

"$OTAKIT" board run "$FLASH" --serial pty </dev/null >"$WORK/board.log" 2>"$WORK/board.err" &
BOARD_PID=$!
SERVER_PID[board]=$BOARD_PID
poll "$BOARD_PID" 30 grep -q '^otakit: serial port /dev/pts/[0-9]*$' "$WORK/board.err" ||
    fail "the board printed no pty line: $(cat "$WORK/board.err")"
PTY=$(sed -n 's|^otakit: serial port \(/dev/pts/[0-9]*\)$|\1|p' "$WORK/board.err")
[ -c "$PTY" ] || fail "$PTY is not a terminal device"
ok

# --- console input and output through the pty ----------------------------------------------------
"$PY" - "$PTY" >"$WORK/console.log" 2>&1 <<'EOF' || fail "console through the pty: $(cat "$WORK/console.log")"
import sys, time, serial
port = serial.Serial(sys.argv[1], 115200, timeout=0.2)
def wait_for(what):
    seen = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and what not in seen:
        seen += port.read(4096)
    print(seen.decode("latin-1"))
    if what not in seen:
        sys.exit(f"no {what!r} on the port")
port.write(b"ping 1\n")     # typed before the app asks: kept, as in a UART's FIFO
wait_for(b"echo: ping 1")
port.write(b"second line\n")
wait_for(b"echo: second line")
EOF
ok
expect_file_has "$WORK/board.log" '^echo: second line$'

# --- esptool with its default reset on a port without modem lines -------------------------------
if [ ! -d "$ESPTOOL_DIR/esptool" ] ||
    ! "$PY" -c 'import bitstring, cryptography, yaml, intelhex, rich_click' 2>/dev/null; then
    echo "serial_pty: esptool or its Python modules missing; $CHECKS checks passed"
    exit 0
fi
esptool() {
    PYTHONPATH="$ESPTOOL_DIR" "$PY" -m esptool "$@" >"$WORK/esptool.log" 2>&1 || {
        tail -n 30 "$WORK/esptool.log" >&2
        fail "esptool $* failed"
    }
}
esptool --port "$PTY" chip_id
expect_file_has "$WORK/esptool.log" 'Chip was NOT reset'
expect_file_has "$WORK/esptool.log" '^Connected to ESP32 on /dev/pts/'
poll "$BOARD_PID" 30 grep -q '^waiting for download$' "$WORK/board.log" ||
    fail "the board did not enter download mode"
ok

cp "$OTAKIT_BUILD_DIR/apps/hello_world" "$WORK/hello_program"
"$OTAKIT" image pack --app -o "$WORK/hello.bin" --payload "$WORK/hello_program" \
    --project hello_world --project-ver pty-2 >/dev/null || fail "cannot pack hello_world"
esptool --port "$PTY" write_flash 0x10000 "$WORK/hello.bin"
expect_file_has "$WORK/esptool.log" 'Hash of data verified'
expect_flash_has "$FLASH" $((0x10000)) "$WORK/hello.bin"
poll "$BOARD_PID" 60 grep -Eq 'App version: +pty-2$' "$WORK/board.log" ||
    fail "the written app did not boot: $(tail -n 20 "$WORK/board.log")"
ok

stop_all_servers
echo "serial_pty: $CHECKS checks passed"
