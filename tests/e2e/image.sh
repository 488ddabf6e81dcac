#!/usr/bin/env bash
# otakit image: info against the reference tool's output for the shared vectors, pack + info +
# verify round trips, error reporting (one line, non-zero exit, nothing written) and --help.
# ctest-parts: vectors tools
set -euo pipefail
. "$(dirname "$0")/parts.bash"

OTAKIT=${OTAKIT:?OTAKIT must name the otakit binary}
VECTORS=${OTAKIT_VECTORS:-}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

fails=0
fail() {
    echo "FAIL: $*" >&2
    fails=$((fails + 1))
}

# Key lines of `image info` output (or of one section of a reference info file).
KEYS='Detected image type|Checksum|Validation hash|Project name|App version|Compile time'
KEYS+='|ESP-IDF|Secure version|Bootloader version|Minimal eFuse|Maximal eFuse|MMU page size'
key_lines() {
    grep -E "^($KEYS)[^:]*:|^ +[0-9]+  0x" || true
}

# The output section of the reference tool: v5.3.1 when it succeeded, else v4.12.0.
reference_section() {
    local info=$1
    if grep -q '^\$ esptool v5.3.1 image-info .*(rc=0)' "$info"; then
        awk '/^\$ esptool v5.3.1 image-info/{p=1; next} /^\$ /{p=0} p' "$info"
    else
        awk '/^\$ esptool.py v4.12.0 image_info/{p=1; next} /^\$ /{p=0} p' "$info"
    fi
}

# ---- vectors: image info matches the reference tool ------------------------------------------
if ! part vectors; then
    :
elif [[ -n "$VECTORS" && -f "$VECTORS/MANIFEST.md" ]]; then
    checked=0
    while IFS='|' read -r _ num kind _ _ _ file _; do
        num=$(echo "$num" | tr -d ' ')
        kind=$(echo "$kind" | tr -d ' ')
        file=$(echo "$file" | tr -d ' `')
        [[ "$num" =~ ^[0-9]+$ ]] || continue
        [[ "$kind" == app || "$kind" == bootloader || "$kind" == merged ]] || continue
        info=$(printf '%s/info/%02d.txt' "$VECTORS" "$num")
        [[ -f "$info" && -f "$VECTORS/$file" ]] || continue
        if ! "$OTAKIT" image info "$VECTORS/$file" >"$TMP/out.txt" 2>"$TMP/err.txt"; then
            fail "row $num: image info failed: $(cat "$TMP/err.txt")"
            continue
        fi
        reference_section "$info" | key_lines >"$TMP/want.txt"
        key_lines <"$TMP/out.txt" >"$TMP/got.txt"
        if [[ ! -s "$TMP/want.txt" ]]; then
            fail "row $num: no reference lines in $info"
        elif ! diff -u "$TMP/want.txt" "$TMP/got.txt" >"$TMP/diff.txt"; then
            fail "row $num: image info differs from the reference"
            cat "$TMP/diff.txt" >&2
        fi
        checked=$((checked + 1))
    done <"$VECTORS/MANIFEST.md"
    [[ $checked -ge 25 ]] || fail "only $checked vector images checked"
    echo "image info: $checked vector images match the reference"

    # the verifier accepts a real bootloader and refuses the malformed row 77
    boot=$(grep -E '^\| 3 \|' "$VECTORS/MANIFEST.md" | sed 's/.*`\(.*\)`.*/\1/')
    "$OTAKIT" image verify --bootloader "$VECTORS/$boot" >"$TMP/out.txt" ||
        fail "verify of a real bootloader failed"
    grep -q '^Image valid: bootloader for ESP32' "$TMP/out.txt" || fail "verify: no valid line"
    grep -q 'not packed by otakit' "$TMP/out.txt" ||
    fail "verify: a real image has no host descriptor"
    bad=$(grep -E '^\| 77 \|' "$VECTORS/MANIFEST.md" | sed 's/.*`\(.*\)`.*/\1/')
    calc=$(sed -n 's/^Checksum: 0x\([0-9a-f]*\) (invalid - calculated 0x\([0-9a-f]*\)).*/\2/p' \
        "$VECTORS/info/77.txt" | head -1)
    if "$OTAKIT" image verify "$VECTORS/$bad" >"$TMP/out.txt" 2>"$TMP/err.txt"; then
        fail "verify accepted the malformed row 77"
    fi
    [[ $(wc -l <"$TMP/err.txt") -eq 1 ]] || fail "verify error is not one line"
    grep -q "Checksum failed. Calculated 0x$calc read" "$TMP/err.txt" ||
        fail "verify error does not name the checksum: $(cat "$TMP/err.txt")"
    grep -q "^E (0) esp_image: Checksum failed" "$TMP/out.txt" ||
    fail "verify log has no error line"
else
    echo "vectors absent: skipping the reference comparison"
    only_part vectors && exit 77
fi
if only_part vectors; then
    [[ $fails -eq 0 ]] || exit 1
    echo "image: the vector checks passed"
    exit 0
fi

# ---- pack, info and verify round trips -------------------------------------------------------
head -c 54321 /dev/urandom >"$TMP/prog"
cat >"$TMP/sdkconfig" <<'EOF'
CONFIG_IDF_TARGET="esp32c3"
CONFIG_ESPTOOLPY_FLASHSIZE_4MB=y
CONFIG_BOOTLOADER_APP_ANTI_ROLLBACK=y
CONFIG_BOOTLOADER_APP_SECURE_VERSION=3
EOF
mkdir "$TMP/proj"
echo " 4.5.6 " >"$TMP/proj/version.txt"
"$OTAKIT" image pack -o "$TMP/app.bin" --app --payload "$TMP/prog" --sdkconfig "$TMP/sdkconfig" \
    --project-dir "$TMP/proj" --build-time 1700000000 --idf-ver v5.5.1
"$OTAKIT" image info "$TMP/app.bin" >"$TMP/info.txt"
for want in 'Detected image type: ESP32-C3' 'Project name: prog' 'App version: 4.5.6' \
    'Compile time: Nov 14 2023 22:13:20' 'ESP-IDF: v5.5.1' 'Secure version: 3' \
    'Flash size: 4MB' 'Checksum: 0x.. \(valid\)' 'Validation hash: [0-9a-f]{64} \(valid\)' \
    'MMU page size: 64 KB'; do
    grep -Eq "^$want\$" "$TMP/info.txt" || fail "packed app info lacks '$want'"
done
sha=$(sha256sum "$TMP/prog" | cut -d' ' -f1)
grep -q "^ELF file SHA256: $sha\$" "$TMP/info.txt" || fail "app_elf_sha256 is not the payload's"
"$OTAKIT" image verify "$TMP/app.bin" >"$TMP/verify.txt" || fail "verify of a packed app failed"
grep -q '^Image valid: app for ESP32-C3' "$TMP/verify.txt" || fail "verify: no valid line"
grep -q '^I (0) esp_image: segment 0: paddr=00000020 vaddr=3c000020 size=' "$TMP/verify.txt" ||
    fail "verify: no segment log line"
grep -q "^otakit payload: segment [0-9]*, 54321 bytes" "$TMP/verify.txt" ||
    fail "verify: payload not located"
grep -q "^Project: prog, version 4.5.6, secure version 3" "$TMP/verify.txt" ||
    fail "verify: app description"
# explicit project version and name; --project-ver beats version.txt
"$OTAKIT" image pack -o "$TMP/app2.bin" --app --payload "$TMP/prog" --chip esp32 --project hello \
    --project-ver 9.9 --project-dir "$TMP/proj" --secure-version 7 --flash-freq 80m
"$OTAKIT" image info "$TMP/app2.bin" >"$TMP/info.txt"
for want in 'Detected image type: ESP32' 'Project name: hello' 'App version: 9.9' \
    'Secure version: 7' 'Flash freq: 80m' 'ESP-IDF: v5.5-otakit'; do
    grep -q "^$want\$" "$TMP/info.txt" || fail "second app info lacks '$want'"
done
grep -q '0x400d0020  0x00010018  IROM$' "$TMP/info.txt" || fail "ESP32 payload not at 0x400d0020"

printf 'CONFIG_IDF_TARGET="esp32s3"\nCONFIG_BOOTLOADER_PROJECT_VER=4\n' >"$TMP/boot.cfg"
"$OTAKIT" image pack -o "$TMP/boot.bin" --bootloader --sdkconfig "$TMP/boot.cfg" \
    --build-time 86400
"$OTAKIT" image info "$TMP/boot.bin" >"$TMP/info.txt"
for want in 'Detected image type: ESP32-S3' 'Bootloader version: 4' \
    'Compile time: Jan  2 1970 00:00:00' 'ESP-IDF: v5.5-otakit'; do
    grep -q "^$want\$" "$TMP/info.txt" || fail "bootloader info lacks '$want'"
done
"$OTAKIT" image verify --bootloader "$TMP/boot.bin" >"$TMP/verify.txt" ||
    fail "verify of a packed bootloader failed"
grep -q '^otakit payload: none' "$TMP/verify.txt" || fail "bootloader verify: payload"
grep -q "^otakit sdkconfig: $(wc -c <"$TMP/boot.cfg") bytes" "$TMP/verify.txt" ||
    fail "bootloader verify: sdkconfig"
# the wrong chip is refused with the verifier's words
if "$OTAKIT" image verify --chip esp32 "$TMP/app.bin" >/dev/null 2>"$TMP/err.txt"; then
    fail "verify accepted an ESP32-C3 image as ESP32"
fi
grep -q 'mismatch chip ID, expected 0, found 5' "$TMP/err.txt" || fail "chip mismatch message"
# too small a partition
if "$OTAKIT" image verify --partition-size 0x1000 "$TMP/app.bin" >/dev/null 2>"$TMP/err.txt"; then
    fail "verify accepted an image larger than its partition"
fi
grep -q "doesn't fit in partition length 4096" "$TMP/err.txt" || fail "partition length message"

# ---- errors: one line, non-zero exit, nothing written ----------------------------------------
expect_error() { # expected-exit description command...
    local want=$1 what=$2
    shift 2
    local rc=0
    "$@" >"$TMP/out.txt" 2>"$TMP/err.txt" || rc=$?
    if [[ $rc -ne $want ]]; then
        fail "$what: exit $rc, expected $want"
    elif [[ $(wc -l <"$TMP/err.txt") -ne 1 ]]; then
        fail "$what: stderr is not one line: $(cat "$TMP/err.txt")"
    elif ! grep -q '^otakit' "$TMP/err.txt"; then
        fail "$what: stderr does not start with otakit"
    fi
}
printf 'hello, not an image\n' >"$TMP/text.bin"
head -c 100 "$TMP/app.bin" >"$TMP/short.bin"
expect_error 1 "info on a missing file" "$OTAKIT" image info "$TMP/nope.bin"
expect_error 1 "info on a text file" "$OTAKIT" image info "$TMP/text.bin"
grep -q 'invalid magic number: 0x68' "$TMP/err.txt" || fail "info: magic message"
expect_error 1 "info on a truncated image" "$OTAKIT" image info "$TMP/short.bin"
grep -q 'End of file reading segment' "$TMP/err.txt" || fail "info: truncation message"
expect_error 2 "info without a file" "$OTAKIT" image info
expect_error 1 "verify on a truncated image" "$OTAKIT" image verify "$TMP/short.bin"
expect_error 2 "pack with an unknown chip" "$OTAKIT" image pack -o "$TMP/x.bin" --app --chip esp99
expect_error 2 "pack without -o" "$OTAKIT" image pack --app
expect_error 2 "pack without a kind" "$OTAKIT" image pack -o "$TMP/x.bin"
expect_error 2 "pack with a bad option" "$OTAKIT" image pack -o "$TMP/x.bin" --app --frobnicate
printf 'this is not sdkconfig\n' >"$TMP/bad.cfg"
expect_error 1 "pack with a bad sdkconfig" "$OTAKIT" image pack -o "$TMP/x.bin" --app \
    --sdkconfig "$TMP/bad.cfg"
grep -q "bad.cfg" "$TMP/err.txt" || fail "pack: bad sdkconfig not named"
expect_error 1 "pack with conflicting chips" "$OTAKIT" image pack -o "$TMP/x.bin" --app \
    --chip esp32 --sdkconfig "$TMP/sdkconfig"
expect_error 1 "pack with a conflicting secure version" "$OTAKIT" image pack -o "$TMP/x.bin" \
    --app --sdkconfig "$TMP/sdkconfig" --secure-version 9
expect_error 1 "pack with a missing payload" "$OTAKIT" image pack -o "$TMP/x.bin" --app \
    --payload "$TMP/nope"
[[ ! -e "$TMP/x.bin" ]] || fail "a failed pack wrote its output"
expect_error 2 "unknown subcommand" "$OTAKIT" image frob

# ---- help ------------------------------------------------------------------------------------
for sub in "" info pack verify; do
    # shellcheck disable=SC2086
    if ! "$OTAKIT" image $sub --help >"$TMP/help.txt" 2>&1 ||
        ! grep -q '^usage: otakit image' "$TMP/help.txt"; then
        fail "otakit image $sub --help"
    fi
done

if [[ $fails -ne 0 ]]; then
    echo "$fails failure(s)" >&2
    exit 1
fi
echo "image: all checks passed"
