#!/usr/bin/env bash
# The main path, end to end (`make demo`):
#   1. a self-signed certificate for 127.0.0.1 (CN and subjectAltName), and `otakit serve`
#      serving the build's images over HTTPS on port 8070 with it;
#   2. examples/native_ota_example, an ordinary ESP-IDF project, built as a user builds it: a
#      copy of the project with that certificate as server_certs/ca_cert.pem and the server's
#      URL in its sdkconfig.defaults, `otakit build`; then a 4 MiB flash image as `idf.py flash`
#      writes it from that build directory: bootloader, the two_ota partition table, blank
#      otadata, native_ota_example (version 1) in the factory partition;
#   3. the board powers on: factory boots, downloads hello_world.bin over HTTPS, writes ota_0,
#      selects it and restarts; the bootloader boots ota_0 and hello_world greets.
# Usage: tools/demo.sh BUILD_DIR
set -euo pipefail

build=$(cd "${1:-build}" && pwd)
source_dir=$(cd "$(dirname "$0")/.." && pwd)
otakit="$build/otakit"
demo="$build/demo"
rm -rf "$demo"
mkdir -p "$demo/www" "$demo/certs"

section() {
    if [ -t 1 ]; then
        printf '\n\033[1m== %s ==\033[0m\n' "$*"
    else
        printf '\n== %s ==\n' "$*"
    fi
}

server_pid=
cleanup() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
}
trap cleanup EXIT

# Waits (by polling the log, no fixed sleep) for the server's "Serving HTTPS on ..." line.
wait_for_server() {
    local log=$1 i
    for i in $(seq 1 500); do
        if grep -q '^Serving HTTPS on' "$log" 2>/dev/null; then
            return 0
        fi
        if ! kill -0 "$server_pid" 2>/dev/null; then
            return 1
        fi
        read -r -t 0.01 <> <(:) || true
    done
    return 1
}

section "1. HTTPS firmware server"
cp "$build/images/hello_world.bin" "$demo/www/"
start_server() {
    "$otakit" serve "$demo/www" --bind 127.0.0.1 --port "$1" --self-signed 127.0.0.1 \
        --cert-dir "$demo/certs" 2>"$demo/server.log" &
    server_pid=$!
    wait_for_server "$demo/server.log"
}
if ! start_server 8070; then
    echo "port 8070 is busy; using a free port instead"
    start_server 0 || { cat "$demo/server.log"; exit 1; }
fi
port=$(sed -n 's/^Serving HTTPS on .* port \([0-9]*\) .*/\1/p' "$demo/server.log" | head -n1)
cat "$demo/server.log"
echo "certificate: $demo/certs/ca_cert.pem (CN=127.0.0.1, subjectAltName=IP:127.0.0.1)"

section "2. native_ota_example: otakit build, then a flash image as idf.py flash writes it"
project=$demo/native_ota_example
cp -r "$source_dir/examples/native_ota_example" "$project"
rm -rf "$project/build" "$project/sdkconfig"
cp "$demo/certs/ca_cert.pem" "$project/server_certs/ca_cert.pem"
echo "CONFIG_EXAMPLE_FIRMWARE_UPG_URL=\"https://127.0.0.1:$port/hello_world.bin\"" \
    >>"$project/sdkconfig.defaults"
echo "+ otakit build $project"
"$otakit" build "$project" -j 2 >"$demo/build.log" 2>&1 || { cat "$demo/build.log"; exit 1; }
tail -n 2 "$demo/build.log"
"$otakit" flash create "$demo/flash.bin" --build "$project/build"
"$otakit" flash info "$demo/flash.bin" | sed -n '/^otadata/,$p'

section "3. Board: native_ota_example updates itself to hello_world"
status=0
"$otakit" board run "$demo/flash.bin" --until '^Restarting in 0 seconds' --max-time 600000 \
    </dev/null | tee "$demo/console.log" || status=$?

section "Server log"
sed 1d "$demo/server.log"
cleanup
server_pid=

section "Result"
# The console without colours, in a file: `grep -q` on a pipe may stop reading early, and with
# pipefail the writer's SIGPIPE would fail the check.
sed 's/\x1b\[[0-9;]*m//g' "$demo/console.log" >"$demo/console.txt"
if [ "$status" -eq 0 ] &&
    grep -q 'native_ota_example: Prepare to restart system!' "$demo/console.txt" &&
    grep -q 'boot: Loaded app from partition at offset 0x110000' "$demo/console.txt" &&
    grep -q '^Hello world!$' "$demo/console.txt"; then
    echo "factory (native_ota_example 1) downloaded hello_world.bin over HTTPS, wrote ota_0 and"
    echo "restarted; the bootloader booted ota_0 and hello_world ran. Server stopped."
    "$otakit" otadata read "$demo/flash.bin" | tail -n 3
    exit 0
fi
echo "the demo did not reach hello_world (board exit status $status); see $demo/console.log" >&2
exit 1
