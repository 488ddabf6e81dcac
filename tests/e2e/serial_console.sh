#!/usr/bin/env bash
# Console input through the board's TCP serial port, as `idf.py monitor` types into an app: an
# app reading its console (ota_test_app's "echo") gets lines sent over socket:// and over
# rfc2217:// (Telnet-escaped), and still the lines of `board run`'s own standard input.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/netlib.bash"

need_python serial

FLASH=$WORK/flash.bin
pack_test_app "$WORK/echo.bin" 1 "echo"
make_flash "$FLASH" two_ota "factory=$WORK/echo.bin"

mkfifo "$WORK/stdin"
"$OTAKIT" board run "$FLASH" --serial socket:0 <"$WORK/stdin" >"$WORK/board.log" \
    2>"$WORK/board.err" &
BOARD_PID=$!
SERVER_PID[board]=$BOARD_PID
exec 3>"$WORK/stdin" # the board's standard input, kept open
poll "$BOARD_PID" 30 grep -q '^otakit: serial port socket://127.0.0.1:' "$WORK/board.err" ||
    fail "the board printed no serial port line: $(cat "$WORK/board.err")"
PORT=$(sed -n 's|^otakit: serial port socket://127.0.0.1:\([0-9]*\)$|\1|p' "$WORK/board.err")
poll "$BOARD_PID" 30 grep -q "echo: type lines" "$WORK/board.log" || fail "the app did not start"

echo "from stdin" >&3
poll "$BOARD_PID" 30 grep -q '^echo: from stdin$' "$WORK/board.log" ||
    fail "standard input did not reach the app: $(tail -n 5 "$WORK/board.log")"
ok

"$PY" - "$PORT" >"$WORK/console.log" 2>&1 <<'EOF' || fail "console input: $(cat "$WORK/console.log")"
import sys, time, serial
def talk(url, line):
    port = serial.serial_for_url(url, timeout=0.2)
    port.write(line + b"\n")
    seen = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and b"echo: " + line not in seen:
        seen += port.read(4096)
    port.close()
    print(seen.decode("latin-1"))
    if b"echo: " + line not in seen:
        sys.exit(f"no echo of {line!r} over {url}")
talk(f"socket://127.0.0.1:{sys.argv[1]}", b"over socket")
talk(f"rfc2217://127.0.0.1:{sys.argv[1]}", b"over rfc2217 \xff byte")
EOF
ok
expect_file_has "$WORK/board.log" '^echo: over socket$'
expect_file_has "$WORK/board.log" '^echo: over rfc2217 '

echo "quit" >&3
poll "$BOARD_PID" 30 grep -q 'echo: done' "$WORK/board.log" || fail "quit did not end the echo"
ok
exec 3>&-
stop_all_servers
echo "serial_console: $CHECKS checks passed"
