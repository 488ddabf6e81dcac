#!/usr/bin/env bash
# ESP-IDF's system/ota/partitions_ota, unmodified: built with `otakit build` from its own
# sdkconfig.defaults plus the settings ESP-IDF's CI variants add (the URL typed on the console, no
# common-name check), served over HTTPS with the example's own certificate (and the key its pytest
# file serves it with), and updated on the board as that pytest file does: the app, the
# bootloader, the partition table, then the storage partition, each over a reboot.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/netlib.bash"
. "$(dirname "$0")/idflib.bash"

idf_copy examples/system/ota/partitions_ota partitions_ota
printf '%s\n' 'CONFIG_EXAMPLE_FIRMWARE_UPGRADE_URL="FROM_STDIN"' \
    'CONFIG_EXAMPLE_SKIP_COMMON_NAME_CHECK=y' >"$WORK/console_url.defaults"
idf_build partitions_ota -D "SDKCONFIG_DEFAULTS=sdkconfig.defaults;$WORK/console_url.defaults"
B=$WORK/partitions_ota/build
[ -s "$B/storage.bin" ] || fail "the project's own CMake step did not copy storage.bin"
ok "the project's custom target ran"

# The key lives in the pytest file as a Python string literal.
python3 - "${IDF_SRC[partitions_ota]}/pytest_partitions_ota.py" >"$WORK/server_key.pem" <<'EOF' ||
import ast, re, sys
src = open(sys.argv[1], encoding='utf-8').read()
m = re.search(r'^server_key = (\(.*?\n\))', src, re.S | re.M)
sys.stdout.write(ast.literal_eval(m.group(1)))
EOF
    fail "no server_key in pytest_partitions_ota.py"
start_server ota "$B" --cert "$WORK/partitions_ota/server_certs/ca_cert.pem" \
    --key "$WORK/server_key.pem"

FLASH=$WORK/flash.bin
"$OTAKIT" flash create "$FLASH" --build "$B" >/dev/null || fail "flash create --build"
n=0
for path in partitions_ota.bin bootloader/bootloader.bin partition_table/partition-table.bin \
    storage.bin; do
    n=$((n + 1))
    url="https://127.0.0.1:$PORT/$path"
    board_in "$WORK/update$n.log" "$url" "$FLASH" --until 'OTA Succeed, Rebooting\.\.\.'
    [ "$BOARD_STATUS" = 0 ] ||
        { tail -30 "$WORK/update$n.log" >&2; fail "update of $path: board status $BOARD_STATUS"; }
    expect_in_order "$WORK/update$n.log" "${LI}[a-z_]+: OTA example app_main start" \
        "${LI}[a-z_]+: Starting OTA example task" \
        "${LI}[a-z_]+: Attempting to download update from $url\$" \
        "${LI}[a-z_]+: OTA Succeed, Rebooting\.\.\."
done

[ "$(loaded_offsets "$WORK/update1.log")" != "$(loaded_offsets "$WORK/update2.log")" ] ||
    fail "after the app update the board still runs the app it started from"
ok "the app update switched the running partition"

# The board boots after the four updates, from the app written by the first, and the storage
# partition holds storage.bin.
board "$WORK/after.log" "$FLASH" --until 'Starting OTA example task'
[ "$BOARD_STATUS" = 0 ] || fail "the board did not boot after the updates (status $BOARD_STATUS)"
"$OTAKIT" flash read-partition "$FLASH" --name storage -o "$WORK/storage.read" >/dev/null ||
    fail "read-partition storage"
cmp -s -n "$(stat -c %s "$B/storage.bin")" "$B/storage.bin" "$WORK/storage.read" ||
    fail "the storage partition does not hold storage.bin"
ok "storage partition updated"
stop_server ota
idf_unchanged partitions_ota
echo "PASS: $CHECKS checks"
