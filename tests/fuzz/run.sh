#!/usr/bin/env bash
# The fuzz targets (tests/fuzz/fuzz_NAME.c), two ways:
#   run.sh replay BUILD NAME
#       runs BUILD/fuzz_NAME (linked with replay.c) once over tests/fuzz/corpus/NAME and the shared
#       vectors seeds.txt lists for NAME (skipped when ../shared is absent) - the CTest smoke test.
#   run.sh fuzz BUILD SECONDS JOBS [NAME...]
#       runs each libFuzzer target (all when none is named) for SECONDS, JOBS at a time, at low
#       priority. The corpus grows in BUILD/fuzz/corpus/NAME; crashes land in
#       BUILD/fuzz/artifacts/NAME; logs in BUILD/fuzz/logs/NAME.log. Prints executions and
#       coverage per target; fails when a target found something.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
vectors=${OTAKIT_VECTORS:-$here/../../../shared/vectors}

# vector_seeds NAME: the vector files seeds.txt lists for NAME, one a line.
vector_seeds() {
    [[ -f $vectors/MANIFEST.md ]] || return 0
    local name=$1 t kind glob f
    while read -r t kind glob; do
        [[ $t == "$name" && $kind == vector ]] || continue
        for f in $vectors/$glob; do
            [[ -f $f ]] && echo "$f"
        done
    done < "$here/seeds.txt"
    return 0
}

# flags NAME: the libFuzzer flags seeds.txt lists for NAME.
flags() {
    local name=$1 t kind value
    while read -r t kind value; do
        [[ $t == "$name" && $kind == flag ]] && echo "$value"
    done < "$here/seeds.txt"
    return 0
}

replay() {
    local build=$1 name=$2
    mapfile -t seeds < <(vector_seeds "$name")
    exec "$build/fuzz_$name" "$here/corpus/$name" "${seeds[@]}"
}

fuzz_one() {
    local build=$1 seconds=$2 name=$3 work=$1/fuzz
    mkdir -p "$work/corpus/$name" "$work/artifacts/$name" "$work/logs" "$work/seeds/$name"
    rm -f "$work/seeds/$name"/*
    local f i=0
    while read -r f; do
        ln -s "$f" "$work/seeds/$name/$i-$(basename "$f")"
        i=$((i + 1))
    done < <(vector_seeds "$name")
    mapfile -t extra < <(flags "$name")
    local dict=()
    [[ -f $here/$name.dict ]] && dict=(-dict="$here/$name.dict")
    local rc=0
    nice -n 15 "$build/fuzz_$name" -max_total_time="$seconds" -print_final_stats=1 \
        -artifact_prefix="$work/artifacts/$name/" "${extra[@]}" "${dict[@]}" \
        "$work/corpus/$name" "$here/corpus/$name" "$work/seeds/$name" \
        > "$work/logs/$name.log" 2>&1 || rc=$?
    local execs cov
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/logs/$name.log")
    cov=$(grep -o 'cov: [0-9]*' "$work/logs/$name.log" | tail -1)
    printf '%-12s %s  executions %s, %s, %s s\n' "$name" "$([[ $rc == 0 ]] && echo ok || echo FOUND)" \
        "${execs:-?}" "${cov:-cov: ?}" "$seconds"
    return $rc
}

case ${1:-} in
replay)
    replay "$2" "$3"
    ;;
fuzz)
    build=$2 seconds=$3 jobs=$4
    shift 4
    names=("$@")
    if [[ ${#names[@]} -eq 0 ]]; then
        for src in "$here"/fuzz_*.c; do
            n=$(basename "$src" .c)
            names+=("${n#fuzz_}")
        done
    fi
    export -f fuzz_one vector_seeds flags
    export here vectors
    printf '%s\n' "${names[@]}" | xargs -P "$jobs" -I{} bash -c 'fuzz_one "$@"' _ "$build" "$seconds" {}
    ;;
*)
    echo "usage: run.sh replay BUILD NAME | run.sh fuzz BUILD SECONDS JOBS [NAME...]" >&2
    exit 2
    ;;
esac
