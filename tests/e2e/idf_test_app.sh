#!/usr/bin/env bash
# ESP-IDF's app_update test app (components/app_update/test_apps/test_app_update), unmodified:
# `otakit build` compiles it with Unity, the unity runner and test_utils from the ESP-IDF checkout,
# and its Unity menu comes up on the board: Enter lists the test cases the sources define, a
# number runs one. (pytest_app_update_ut.py runs every case: conformance_app_update.)
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/idflib.bash"

APP=components/app_update/test_apps/test_app_update
idf_copy "$APP" test_app
idf_build test_app --target esp32 --idf-path "$IDF_CONFORMANCE" \
    -D 'SDKCONFIG_DEFAULTS=sdkconfig.defaults;sdkconfig.ci.defaults'
B=$WORK/test_app/build
expect_file_has "$B/config/sdkconfig.h" '^#define CONFIG_LWIP_MAX_SOCKETS 10$'
idf_unchanged test_app

# The console as a person (or pytest-embedded) uses it: Enter once the prompt is out, then the
# number of a case once the menu has ended. The runner discards input typed before its prompt.
coproc BOARD { "$OTAKIT" board run "$B" --until '^Test ran in [0-9]+ms' 2>&1; }
board_pid=$BOARD_PID
pick=
while IFS= read -r line <&"${BOARD[0]}"; do
    line=${line%$'\r'}
    echo "$line" >>"$WORK/menu.log"
    case $line in
    "Press ENTER to see the list of tests.") printf '\n' >&"${BOARD[1]}" ;;
    '('[0-9]*')'$'\t''"esp_ota_get_next_update_partition logic"'*)
        pick=${line%%)*}
        pick=${pick#(} ;;
    "Enter test for running.") printf '%s\n' "$pick" >&"${BOARD[1]}" ;;
    esac
done
wait "$board_pid"
status=$?
[ "$status" = 0 ] || fail "board run ended with status $status (log: menu.log)"
expect_file_has "$WORK/menu.log" "^Here's the test menu, pick your combo:$"

# Every case in the menu is one the test app's sources define, and every case they define
# unconditionally for this configuration is listed.
grep -oP '^\(\d+\)\t"\K[^"]+' "$WORK/menu.log" | sort >"$WORK/listed"
[ "$(wc -l <"$WORK/listed")" -ge 20 ] || fail "the menu lists $(wc -l <"$WORK/listed") cases"
while IFS= read -r name; do
    grep -qF "\"$name\"" "$IDF_CONFORMANCE/$APP"/main/*.c || fail "menu case '$name' not in the sources"
done <"$WORK/listed"
ok "$(wc -l <"$WORK/listed") cases listed, all from the sources"
grep -q '^	(2)	"test_flow1"$' "$WORK/menu.log" || fail "multi-stage cases list no stages"
ok "multi-stage cases list their stages"

[ -n "$pick" ] || fail "the menu has no 'esp_ota_get_next_update_partition logic'"
expect_file_has "$WORK/menu.log" "^Running esp_ota_get_next_update_partition logic\.\.\.$"
expect_file_has "$WORK/menu.log" ':esp_ota_get_next_update_partition logic:PASS$'
echo "PASS: $CHECKS checks"
