# Shared helpers of the end-to-end scripts that drive the real otakit binary and board (not a
# test itself: CTest runs only tests/e2e/*.sh).
# Source it from a test script; it creates $WORK (removed at exit) and defines:
#   fail MSG            print "FAIL: MSG" and exit 1
#   ok MSG              count a passed check
#   expect_file_has F PATTERN [COUNT]   F contains a line matching PATTERN (extended regex),
#                                       at least COUNT times (default 1)
#   expect_file_lacks F PATTERN
#   pack_test_app OUT VERSION ACTIONS [KEY=VALUE...]   ota_test_app image with those settings
#   pack_bootloader OUT [KEY=VALUE...]                 bootloader image with those settings
#   otadata_entry FLASH SECTOR    the 32-byte otadata entry as hex (table at 0x8000 → 0xd000)
#   board LOG ARGS...    run the board, output to LOG, exit status in $BOARD_STATUS
#   ota_table OUT [SOURCE...]    the board tests' table (factory, ota_0, ota_1, data SOURCEs)
#   part NAME / only_part NAME   parts of a long script run as CTest entries (parts.bash)
set -u

: "${OTAKIT:?OTAKIT must point at the otakit binary}"
: "${OTAKIT_BUILD_DIR:?OTAKIT_BUILD_DIR must point at the build directory}"
: "${OTAKIT_SOURCE_DIR:?OTAKIT_SOURCE_DIR must point at the source directory}"
. "$(dirname "${BASH_SOURCE[0]}")/parts.bash"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/otakit-e2e.XXXXXX")
# OTAKIT_KEEP_WORK=1 keeps the work directory (logs, flash images) for a look after a failure.
cleanup_work() {
    if [ "${OTAKIT_KEEP_WORK:-0}" = 1 ]; then
        echo "work directory kept: $WORK" >&2
    else
        rm -rf "$WORK"
    fi
}
trap cleanup_work EXIT
CHECKS=0
TEST_APP_PROGRAM="$OTAKIT_BUILD_DIR/apps/ota_test_app"
TEST_APP_SDKCONFIG="$OTAKIT_SOURCE_DIR/tests/apps/ota_test_app/sdkconfig.defaults"

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

ok() {
    CHECKS=$((CHECKS + 1))
}

expect_file_has() {
    local file=$1 pattern=$2 want=${3:-1} got
    got=$(sed 's/\x1b\[[0-9;]*m//g' "$file" | grep -Ec -- "$pattern" || true)
    if [ "$got" -lt "$want" ]; then
        echo "---- $file ----" >&2
        tail -n 60 "$file" >&2
        fail "expected $want line(s) matching '$pattern' in $(basename "$file"), found $got"
    fi
    ok
}

expect_file_lacks() {
    local file=$1 pattern=$2
    if sed 's/\x1b\[[0-9;]*m//g' "$file" | grep -Eq -- "$pattern"; then
        fail "unexpected line matching '$pattern' in $(basename "$file")"
    fi
    ok
}

# pack_test_app OUT VERSION ACTIONS [KEY=VALUE...]
pack_test_app() {
    local out=$1 version=$2 actions=$3
    shift 3
    local sets=()
    for kv in "$@"; do
        sets+=(--set "$kv")
    done
    "$OTAKIT" image pack --app -o "$out" --payload "$TEST_APP_PROGRAM" \
        --sdkconfig "$TEST_APP_SDKCONFIG" --project ota_test_app --project-ver "$version" \
        --set "TEST_APP_ACTION=$actions" "${sets[@]}" >/dev/null ||
        fail "cannot pack ota_test_app $version"
}

# pack_bootloader OUT [KEY=VALUE...]
pack_bootloader() {
    local out=$1
    shift
    local sets=()
    for kv in "$@"; do
        sets+=(--set "$kv")
    done
    "$OTAKIT" image pack --bootloader -o "$out" \
        --sdkconfig "$OTAKIT_SOURCE_DIR/examples/bootloader/sdkconfig.defaults" "${sets[@]}" \
        >/dev/null || fail "cannot pack a bootloader"
}

# otadata_entry FLASH SECTOR [OTADATA_OFFSET]: 32 bytes as lower-case hex, no spaces
otadata_entry() {
    local flash=$1 sector=$2 base=${3:-$((0xd000))}
    od -An -v -tx1 -j $((base + sector * 0x1000)) -N 32 "$flash" | tr -d ' \n'
}

# board LOG ARGS...: runs the board with a virtual-time limit, never waiting on the wall clock.
board() {
    local log=$1
    shift
    BOARD_STATUS=0
    "$OTAKIT" board run --max-time 600000 "$@" </dev/null >"$log" 2>&1 || BOARD_STATUS=$?
}

# ota_table OUT [SOURCE...]: the board tests' table: nvs, otadata, phy_init, then factory, ota_0
# and ota_1 of 512K each, then one 512K data partition per SOURCE (an image to install from).
ota_table() {
    local out=$1
    shift
    {
        echo "# Name, Type, SubType, Offset, Size, Flags"
        echo "nvs, data, nvs, , 0x4000,"
        echo "otadata, data, ota, , 0x2000,"
        echo "phy_init, data, phy, , 0x1000,"
        echo "factory, app, factory, , 512K,"
        echo "ota_0, app, ota_0, , 512K,"
        echo "ota_1, app, ota_1, , 512K,"
        local src
        for src in "$@"; do
            echo "$src, data, , , 512K,"
        done
    } >"$out"
}

# Checks that count a failure and go on (the command-line scripts), summed up at the end as
# "$CHECKS passed, $FAILED failed":
#   bad MSG                        print "FAIL: MSG" and count a failed check
#   expect_eq WHAT GOT WANT        GOT is WANT
#   expect_has WHAT TEXT NEEDLE    TEXT contains NEEDLE
#   run ARGS...                    otakit ARGS: exit status in $rc, stdout in $out, stderr in $err
#   expect_error WHAT STATUS REASON ARGS...   otakit ARGS exits STATUS with one stderr line
#                                             "otakit...REASON..."
# and byte helpers: sha FILE, hexat FILE OFFSET COUNT, all_ff FILE OFFSET COUNT (all 0xFF),
# same_outside FILE1 FILE2 OFFSET LEN (equal outside [OFFSET, OFFSET + LEN)).
FAILED=0

bad() {
    FAILED=$((FAILED + 1))
    echo "FAIL: $*" >&2
}

expect_eq() {
    if [ "$2" = "$3" ]; then ok; else bad "$1: got '$2', want '$3'"; fi
}

expect_has() {
    case $2 in *"$3"*) ok ;; *) bad "$1: output lacks '$3'"$'\n'"$2" ;; esac
}

run() {
    "$OTAKIT" "$@" >"$WORK/stdout" 2>"$WORK/stderr"
    rc=$?
    out=$(cat "$WORK/stdout")
    err=$(cat "$WORK/stderr")
}

expect_error() {
    local what=$1 status=$2 reason=$3
    shift 3
    run "$@"
    expect_eq "$what: exit status" "$rc" "$status"
    expect_eq "$what: stderr lines" "$(wc -l <"$WORK/stderr" | tr -d ' ')" 1
    case $err in
    "otakit"*"$reason"*) ok ;;
    *) bad "$what: stderr '$err' lacks '$reason'" ;;
    esac
}

sha() { sha256sum "$1" | cut -d' ' -f1; }
hexat() { od -v -An -tx1 -j "$2" -N "$3" "$1" | tr -d ' \n'; }
all_ff() { [ -z "$(od -v -An -tx1 -j "$2" -N "$3" "$1" | tr -s ' \n' '\n' | grep -v '^ff$' | grep .)" ]; }
same_outside() {
    local end=$(($3 + $4))
    cmp -s -n "$3" "$1" "$2" && cmp -s -i "$end" "$1" "$2"
}
