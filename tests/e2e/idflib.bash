# Helpers of the idf_*.sh end-to-end scripts, which build ESP-IDF's own example projects,
# unmodified, with `otakit build` and run them on the board. Source it after lib.bash. Defines:
#   IDF_CONFORMANCE          ../shared/conformance/esp-idf (the scripts skip, exit 77, without it)
#   idf_copy SRC NAME        copies the project SRC (relative to IDF_CONFORMANCE) to $WORK/NAME and
#                            checks afterwards (idf_unchanged) that no source byte changed
#   idf_build NAME ARGS...   `otakit build $WORK/NAME ARGS...`, output in $WORK/NAME.build.log
#   idf_unchanged NAME       the copy's source files are byte for byte the originals

IDF_CONFORMANCE="$OTAKIT_SOURCE_DIR/../shared/conformance/esp-idf"
if [ ! -d "$IDF_CONFORMANCE/examples" ]; then
    echo "SKIP: $IDF_CONFORMANCE not found (ESP-IDF's examples are test inputs)"
    exit 77
fi
declare -A IDF_SRC=()

idf_copy() {
    local src=$IDF_CONFORMANCE/$1 name=$2
    cp -r "$src" "$WORK/$name" || fail "cannot copy $src"
    IDF_SRC[$name]=$src
}

idf_build() {
    local name=$1
    shift
    if ! "$OTAKIT" build "$WORK/$name" "$@" >"$WORK/$name.build.log" 2>&1; then
        tail -30 "$WORK/$name.build.log" >&2
        fail "otakit build $name failed"
    fi
    ok "otakit build $name"
}

idf_unchanged() {
    local name=$1
    # Everything the project had is unchanged; the build adds build/ and sdkconfig only.
    diff -r -x build -x sdkconfig "${IDF_SRC[$name]}" "$WORK/$name" >/dev/null ||
        fail "$name: the build changed the project's files"
    ok "$name sources unchanged"
}
