# Shared helpers of the end-to-end scripts that drive the real otakit binary and board (not a
# test itself: CTest runs only tests/e2e/*.sh).
# Source it from a test script; it creates $WORK (removed at exit) and defines:
#   fail MSG            print "FAIL: MSG" and exit 1
#   ok MSG              count a passed check
#   expect_file_has F PATTERN [COUNT]   F contains a line matching PATTERN (extended regex),
#                                       at least COUNT times (default 1)
#   expect_file_lacks F PATTERN
#   build_app DIR CERT [KEY=VALUE...]   the ESP-IDF project DIR built with `otakit build`, the
#                       settings (Kconfig symbols without CONFIG_; IDF_TARGET=CHIP picks the
#                       target) added to its sdkconfig.defaults and CERT ("-": the build's test
#                       certificate) as server_certs/ca_cert.pem; sets APP_VARIANT to the variant's
#                       directory (project/ and build/ in it). Identical variants are built once,
#                       under $OTAKIT_BUILD_DIR/app_variants (kept for the current sources).
#   pack_app OUT DIR VERSION CERT [KEY=VALUE...]   that variant's app image, version VERSION (the
#                       app description's version, as version.txt or PROJECT_VER give it)
#   pack_test_app OUT VERSION ACTIONS [KEY=VALUE...]   ota_test_app with TEST_APP_ACTION=ACTIONS
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
TEST_CA="$OTAKIT_BUILD_DIR/test_ca/ca_cert.pem"

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

# kconfig_line KEY=VALUE: the sdkconfig line (y, n, a number, or a string, quoted unless it is)
kconfig_line() {
    local key=${1%%=*} value=${1#*=}
    case $value in
    y) echo "CONFIG_$key=y" ;;
    n) echo "# CONFIG_$key is not set" ;;
    \"*) echo "CONFIG_$key=$value" ;;
    *)
        if [[ $value =~ ^-?[0-9]+$|^0x[0-9a-fA-F]+$ ]]; then
            echo "CONFIG_$key=$value"
        else
            echo "CONFIG_$key=\"$value\""
        fi
        ;;
    esac
}

# The files a variant is made of besides its settings: the project's, and otakit's own (the
# command, the app libraries, the ESP-IDF build files), as a digest.
variant_inputs() {
    local dir=$1
    (cd "$dir" && find . -type f ! -path './build/*' ! -name 'sdkconfig' ! -name 'sdkconfig.old' \
        ! -path './server_certs/ca_*.pem' -print0 | sort -z | xargs -0 sha256sum)
    stat -c '%n %s %Y' "$OTAKIT" "$OTAKIT_BUILD_DIR"/libotakit_*app.a \
        "$OTAKIT_BUILD_DIR"/libotakit_runtime.a
    (cd "$OTAKIT_SOURCE_DIR/idf" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
}

build_app() {
    local dir=$1 cert=$2 target=esp32 kv
    shift 2
    [ "$cert" = - ] && cert=$TEST_CA
    local defaults=() checks=()
    for kv in "$@"; do
        case $kv in
        IDF_TARGET=*) target=${kv#IDF_TARGET=} ;;
        *)
            defaults+=("$(kconfig_line "$kv")")
            checks+=("$kv")
            ;;
        esac
    done
    # app_variants/NAME-INPUTS/SETTINGS: the variants of the current project and otakit files;
    # those of earlier ones are removed when the first variant of new ones is built
    local name inputs settings
    name=$(basename "$dir")
    inputs=$(variant_inputs "$dir" | sha256sum | cut -c1-16)
    settings=$({
        printf '%s\n' "$target" "${defaults[@]}"
        [ -d "$dir/server_certs" ] && sha256sum <"$cert"
    } | sha256sum | cut -c1-16)
    local base=$OTAKIT_BUILD_DIR/app_variants
    APP_VARIANT=$base/$name-$inputs/$settings
    [ -f "$APP_VARIANT/done" ] && return 0
    if [ ! -d "$base/$name-$inputs" ]; then
        find "$base" -mindepth 1 -maxdepth 1 -name "$name-*" ! -name "$name-$inputs" \
            -exec rm -rf {} + 2>/dev/null
        mkdir -p "$base/$name-$inputs"
    fi
    # built beside its final place and renamed into it: a test running at the same time may build
    # the same variant, and either copy serves
    local tmp=$APP_VARIANT.tmp.$$
    rm -rf "$tmp"
    mkdir -p "$tmp"
    cp -r "$dir" "$tmp/project"
    rm -rf "$tmp/project/build" "$tmp/project/sdkconfig" "$tmp/project/sdkconfig.old"
    [ -d "$tmp/project/server_certs" ] && cp "$cert" "$tmp/project/server_certs/ca_cert.pem"
    printf '%s\n' "${defaults[@]}" >"$tmp/project/sdkconfig.variant"
    "$OTAKIT" build "$tmp/project" -B "$tmp/build" --target "$target" -j 2 \
        -D "SDKCONFIG_DEFAULTS=sdkconfig.defaults;sdkconfig.variant" >"$tmp/build.log" 2>&1 || {
        tail -n 30 "$tmp/build.log" >&2
        rm -rf "$tmp"
        fail "cannot build $(basename "$dir") with $*"
    }
    # every setting took effect (an unknown symbol or one whose dependencies are unmet would be
    # dropped by Kconfig)
    for kv in "${checks[@]}"; do
        local want
        want=$(kconfig_line "$kv")
        case $want in
        "# "*) ! grep -q "^CONFIG_${kv%%=*}=" "$tmp/project/sdkconfig" ;;
        *) grep -qxF -- "$want" "$tmp/project/sdkconfig" ;;
        esac || {
            rm -rf "$tmp"
            fail "$(basename "$dir"): the setting $kv did not take effect"
        }
    done
    touch "$tmp/done"
    mv -T "$tmp" "$APP_VARIANT" 2>/dev/null || rm -rf "$tmp"
}

pack_app() {
    local out=$1 dir=$2 version=$3 cert=$4
    shift 4
    build_app "$dir" "$cert" "$@"
    local name sdk=$APP_VARIANT/project/sdkconfig args=() bundle
    name=$(basename "$dir")
    bundle=$(sed -n 's/^CONFIG_MBEDTLS_CUSTOM_CERTIFICATE_BUNDLE_PATH="\(.*\)"$/\1/p' "$sdk")
    if grep -qx 'CONFIG_MBEDTLS_CUSTOM_CERTIFICATE_BUNDLE=y' "$sdk" && [ -n "$bundle" ]; then
        args+=(--embed "x509_crt_bundle.pem=$APP_VARIANT/project/$bundle")
    fi
    "$OTAKIT" image pack --app -o "$out" --payload "$APP_VARIANT/build/$name.elf" \
        --sdkconfig "$sdk" --project "$name" --project-ver "$version" \
        --chip "$(sed -n 's/^CONFIG_IDF_TARGET="\(.*\)"$/\1/p' "$sdk")" --idf-ver v5.5.5 \
        "${args[@]}" >/dev/null || fail "cannot pack $name $version"
}

# pack_test_app OUT VERSION ACTIONS [KEY=VALUE...]
pack_test_app() {
    local out=$1 version=$2 actions=$3
    shift 3
    pack_app "$out" "$OTAKIT_SOURCE_DIR/tests/apps/ota_test_app" "$version" - \
        "TEST_APP_ACTION=$actions" "$@"
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
