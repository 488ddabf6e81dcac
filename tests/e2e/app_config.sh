#!/usr/bin/env bash
# The app's baked-in sdkconfig: an image whose configuration text does not parse (still a valid
# image: checksum and SHA-256 intact) stops the board at boot with a host error naming the
# sdkconfig line, never running the app with an empty configuration.
. "$(dirname "$0")/lib.bash"

pack_bootloader "$WORK/bl.bin"
pack_test_app "$WORK/good.bin" 1 idle 'TEST_APP_MARK="abc"'

# Swap the '=' and the opening quote of TEST_APP_MARK="abc": the key gains a '"', so the line no
# longer parses. A swap keeps the XOR checksum; the appended SHA-256 is computed again.
cp "$WORK/good.bin" "$WORK/bad.bin"
at=$(grep -boa 'TEST_APP_MARK="' "$WORK/bad.bin" | head -n 1 | cut -d: -f1)
[ -n "$at" ] || fail "the sdkconfig text is not in the image"
eq=$((at + 13))
printf '"=' | dd of="$WORK/bad.bin" bs=1 seek="$eq" conv=notrunc status=none
size=$(stat -c %s "$WORK/bad.bin")
head -c $((size - 32)) "$WORK/bad.bin" | openssl dgst -sha256 -binary |
    dd of="$WORK/bad.bin" bs=1 seek=$((size - 32)) conv=notrunc status=none
grep -qa 'TEST_APP_MARK"=abc"' "$WORK/bad.bin" || fail "the patch did not apply"
"$OTAKIT" image verify "$WORK/bad.bin" >"$WORK/verify.log" 2>&1 ||
    fail "the patched image must still verify: $(cat "$WORK/verify.log")"
ok

for name in good bad; do
    "$OTAKIT" flash create "$WORK/$name.flash" --size 4MB --table two_ota \
        --bootloader "$WORK/bl.bin" --app "factory=$WORK/$name.bin" >/dev/null ||
        fail "flash create ($name)"
done

# The intact image boots and runs the app, which returns from app_main.
board "$WORK/good.log" "$WORK/good.flash" --max-boots 2
[ "$BOARD_STATUS" -eq 4 ] || fail "good image: board exit $BOARD_STATUS, expected 4 (app returned)"
expect_file_has "$WORK/good.log" 'Calling app_main\(\)'

# The patched one stops the board at the first boot, before app_main, naming the line.
board "$WORK/bad.log" "$WORK/bad.flash" --max-boots 2
[ "$BOARD_STATUS" -eq 1 ] || fail "bad sdkconfig: board exit $BOARD_STATUS, expected 1 (host error)"
expect_file_has "$WORK/bad.log" "otakit app: the image's sdkconfig does not parse: line [0-9]+: invalid character in key"
expect_file_lacks "$WORK/bad.log" 'Calling app_main\(\)'
echo "$CHECKS checks passed"
