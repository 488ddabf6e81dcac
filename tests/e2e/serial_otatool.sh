#!/usr/bin/env bash
# ESP-IDF's otatool example, unmodified, against the running board: otakit build builds the
# example, `otakit board run BUILD --serial socket:0` runs it, and otatool_example.py (otatool ->
# parttool -> esptool over rfc2217://, resets through DTR/RTS, the console read back from the same
# port) writes and reads the OTA slots and switches between them.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/netlib.bash"
. "$(dirname "$0")/idflib.bash"

need_python serial bitstring cryptography yaml intelhex rich_click

idf_copy examples/system/ota/otatool otatool
idf_build otatool
BUILD=$WORK/otatool/build

"$OTAKIT" board run "$BUILD" --serial socket:0 </dev/null >"$WORK/board.log" 2>"$WORK/board.err" &
SERVER_PID[board]=$!
poll "${SERVER_PID[board]}" 60 grep -q '^otakit: serial port socket://127.0.0.1:' "$WORK/board.err" ||
    fail "the board printed no serial port line: $(cat "$WORK/board.err")"
PORT=$(sed -n 's|^otakit: serial port socket://127.0.0.1:\([0-9]*\)$|\1|p' "$WORK/board.err")
poll "${SERVER_PID[board]}" 60 grep -q 'example: Example end' "$WORK/board.log" ||
    fail "the example did not run: $(tail -n 20 "$WORK/board.log")"

# The example finds the port as ESP-IDF's CI does: esptool's "Serial port X:" line (ESPTOOL_PORT
# chooses it). The trailing "/" keeps the URL valid with the colon the example's pattern takes.
mkdir -p "$WORK/run"
(cd "$WORK/run" && IDF_PATH="$IDF_CONFORMANCE" ESPTOOL_PORT="rfc2217://127.0.0.1:$PORT/" \
    timeout 900 "$PY" "$IDF_CONFORMANCE/examples/system/ota/otatool/otatool_example.py" \
    --binary "$BUILD/otatool.bin") >"$WORK/example.log" 2>&1 ||
    fail "otatool_example.py failed: $(grep -v 'VID/PID' "$WORK/example.log" | tail -n 30)"
expect_file_has "$WORK/example.log" '^OTA tool operations executed successfully!$'
expect_file_has "$WORK/board.log" 'example: Running partition: ota_0$'
expect_file_has "$WORK/board.log" 'example: Running partition: ota_1$'
expect_file_has "$WORK/board.log" '^waiting for download$'
# the last boot runs ota_1, the slot the example switched to last
last=$(grep -E 'example: Running partition: ' "$WORK/board.log" | tail -n 1)
case $last in *"Running partition: ota_1") ok ;; *) fail "last boot ran '$last'" ;; esac
idf_unchanged otatool

stop_all_servers
echo "serial_otatool: $CHECKS checks passed"
