#!/usr/bin/env bash
# otakit's speed measured side by side with reference tools on the same machine and inputs
# (`make bench`: an optimized build without sanitizers). Each row runs both sides in one loop,
# alternating which goes first, BENCH_RUNS times (default 5, at least 5); it reports each side's
# median with its min and max, the ratio of the medians and the row's target. Rows:
#   ota      native_ota_example updating itself over HTTPS to a 15.75 MiB image on the simulated
#            board, to the new app's first line, vs `curl -s URL | sha256sum` of the same file
#   verify   otakit image verify vs sha256sum of the same 15.75 MiB image, and its peak memory
#            for a 1 MiB and a 15.75 MiB image
#   serve    otakit serve vs nginx, both over TLS: 64 parallel downloads of a 4 MiB file, and
#            1000 Range requests of 64 KiB on one kept-alive connection
#   flash    the modeled on-device flash time of a 1.5 MiB update (the board's timing model)
#            against the floor: the image's 64 KiB block erases and page programs
#   memory   the board's peak anonymous memory (sampled) in a 15.75 MiB vs a 1 MiB update
# Then the growth curves: OTA time and peak anonymous memory for 1, 4, 16 MiB images, and the
# servers' throughput for 1, 16, 64 and 256 clients downloading 1 MiB each.
# Usage: bench/bench.sh BUILD_DIR
set -euo pipefail

build=$(cd "${1:-build-bench}" && pwd)
otakit="$build/otakit"
RUNS=${BENCH_RUNS:-5}
[ "$RUNS" -ge 5 ] || RUNS=5
CURVE_RUNS=${BENCH_CURVE_RUNS:-3}
# The flash images live in RAM (/dev/shm when it is there) as a chip's flash does: on a disk file
# system an update would also pay the kernel's writeback of every page it dirties.
tmp=${TMPDIR:-/tmp}
[ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ] && tmp=/dev/shm
work=$(mktemp -d "$tmp/otakit-bench.XXXXXX")
pids=()
cleanup() {
    for p in "${pids[@]}"; do
        kill -TERM "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

die() {
    echo "bench: $*" >&2
    exit 1
}

nginx=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$nginx" ] || die "nginx is not installed (make deps installs it)"

now_ns() { date +%s%N; }

# ---- timing ---------------------------------------------------------------------------------

# run_ns CMD...: the wall-clock time of one run in nanoseconds; a failing run stops the bench.
run_ns() {
    local t0 t1
    t0=$(now_ns)
    "$@" >/dev/null 2>"$work/last.err" || { cat "$work/last.err" >&2; die "failed: $*"; }
    t1=$(now_ns)
    echo $((t1 - t0))
}

# stats VALUES...: "median min max"
stats() {
    printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 }
        END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; print m, v[1], v[NR] }'
}

# pair N PREP_A CMD_A CMD_B: N rounds of A and B (functions), A first in odd rounds and B first
# in even ones; PREP_A runs untimed before each A. Sets A_NS and B_NS to "median min max".
pair() {
    local n=$1 prep=$2 fa=$3 fb=$4 i ta=() tb=()
    for i in $(seq 1 "$n"); do
        if [ $((i % 2)) -eq 1 ]; then
            $prep
            ta+=("$(run_ns "$fa")")
            tb+=("$(run_ns "$fb")")
        else
            tb+=("$(run_ns "$fb")")
            $prep
            ta+=("$(run_ns "$fa")")
        fi
    done
    A_NS=$(stats "${ta[@]}")
    B_NS=$(stats "${tb[@]}")
}
noprep() { :; }

# fmt_s "median min max" (ns): seconds with their range
fmt_s() { awk -v m="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.3f s (%.3f–%.3f)", m / 1e9, a / 1e9, b / 1e9 }'; }
# fmt_rate UNITS "median min max" (ns) UNIT: UNITS per second at the median (range from max, min)
fmt_rate() { awk -v u="$1" -v m="$2" -v a="$3" -v b="$4" -v n="$5" \
    'BEGIN { printf "%.0f %s (%.0f–%.0f)", u * 1e9 / m, n, u * 1e9 / b, u * 1e9 / a }'; }

# row NAME OTAKIT REFERENCE RATIO TARGET_OP TARGET: one table row; met when RATIO OP TARGET
row() {
    local met
    met=$(awk -v r="$4" -v t="$6" -v op="$5" \
        'BEGIN { print ((op == "<=" && r <= t) || (op == ">=" && r >= t)) ? "yes" : "no" }')
    printf '| %s | %s | %s | %.2f× | %s %s× | %s |\n' "$1" "$2" "$3" "$4" "$5" "$6" "$met" |
        sed 's/<=/≤/; s/>=/≥/'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", a / b }'; }

# ---- ports ----------------------------------------------------------------------------------

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# free_port: a port in 20000-29999 nothing listens on (nginx then binds it or fails to start).
free_port() {
    local p i
    for i in $(seq 1 200); do
        p=$((20000 + (RANDOM % 10000)))
        port_busy "$p" || { echo "$p"; return 0; }
    done
    die "no free port found"
}

# serves_token PORT: the server on PORT is ours: it returns this run's random token file.
serves_token() {
    local got
    got=$(curl -sf --cacert "$work/certs/ca_cert.pem" "https://127.0.0.1:$1/token.txt" || true)
    [ "$got" = "$(cat "$work/www/token.txt")" ]
}

wait_for() { # PID PORT: until PORT serves our token, while PID lives
    local i
    for i in $(seq 1 1000); do
        kill -0 "$1" 2>/dev/null || return 1
        serves_token "$2" && return 0
        read -r -t 0.01 <> <(:) || true
    done
    return 1
}

# ---- inputs ---------------------------------------------------------------------------------

mkdir -p "$work/www" "$work/certs" "$work/nginx"
chmod 755 "$work" "$work/www" # nginx's workers run as an unprivileged user
head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/www/token.txt"
head -c $((4 * 1024 * 1024)) /dev/urandom >"$work/www/4m.bin"
head -c $((1024 * 1024)) /dev/urandom >"$work/www/1m.bin"
head -c $((64 * 1024 * 1024)) /dev/urandom >"$work/www/64m.bin"

# app IMAGE KIB FLASH: hello_world (version 2) with random bytes making it about KIB KiB (the
# code segment starts on a 64 KiB boundary: sizes come in steps of 64 KiB)
app() {
    head -c $(($2 * 1024 - $(stat -c %s "$build/apps/hello_world") - 8192)) /dev/urandom \
        >"$work/fill.bin"
    "$otakit" image pack --app -o "$1" --payload "$build/apps/hello_world" --project hello_world \
        --project-ver 2 --flash-size "$3" --embed "fill=$work/fill.bin" >/dev/null
}
app "$work/www/app1.bin" 1024 32MB
app "$work/www/app4.bin" 4096 32MB
app "$work/www/app16.bin" 16128 32MB # 15.75 MiB in a 16 MiB slot
app "$work/www/app15.bin" 1536 4MB   # 1.5 MiB: 24 whole blocks of 64 KiB and a bit
chmod 644 "$work/www/"*

# ---- servers --------------------------------------------------------------------------------

"$otakit" serve "$work/www" --bind 127.0.0.1 --port 0 --self-signed 127.0.0.1 --quiet \
    --cert-dir "$work/certs" 2>"$work/serve.log" &
opid=$!
pids+=("$opid")
for _ in $(seq 1 1000); do
    grep -q '^Serving HTTPS' "$work/serve.log" 2>/dev/null && break
    read -r -t 0.01 <> <(:) || true
done
oport=$(sed -n 's/^Serving HTTPS on .* port \([0-9]*\) .*/\1/p' "$work/serve.log")
[ -n "$oport" ] && wait_for "$opid" "$oport" || { cat "$work/serve.log" >&2; die "otakit serve did not start"; }

nport=
for _ in 1 2 3 4 5; do
    p=$(free_port)
    cat >"$work/nginx/nginx.conf" <<EOF
worker_processes 2;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $work/nginx/body;
    proxy_temp_path $work/nginx/proxy;
    fastcgi_temp_path $work/nginx/fastcgi;
    uwsgi_temp_path $work/nginx/uwsgi;
    scgi_temp_path $work/nginx/scgi;
    keepalive_requests 10000;
    server {
        listen 127.0.0.1:$p ssl;
        ssl_certificate $work/certs/ca_cert.pem;
        ssl_certificate_key $work/certs/ca_key.pem;
        ssl_protocols TLSv1.2 TLSv1.3;
        root $work/www;
    }
}
EOF
    "$nginx" -c "$work/nginx/nginx.conf" -p "$work/nginx" 2>>"$work/nginx/start.log" &
    npid=$!
    if wait_for "$npid" "$p"; then
        pids+=("$npid")
        nport=$p
        break
    fi
    kill "$npid" 2>/dev/null || true
    wait "$npid" 2>/dev/null || true
done
[ -n "$nport" ] || { cat "$work/nginx/start.log" >&2; die "nginx did not start"; }

curl_tls=(-sf --cacert "$work/certs/ca_cert.pem")
cipher() { # PORT: the negotiated TLS version and cipher
    curl "${curl_tls[@]}" -v -o /dev/null "https://127.0.0.1:$1/token.txt" 2>&1 |
        sed -n 's/^\* SSL connection using \(.*\)$/\1/p' | head -1
}

# the options every transfer of a config file repeats (each `next` starts afresh); parallel
# clients stand for separate devices, so none resumes another's TLS session
curl_cfg="silent
fail
no-sessionid
cacert = \"$work/certs/ca_cert.pem\"
"
# clients_cfg PORT N FILE: a curl config of N downloads of FILE, 32 per source address (otakit
# serve accepts 32 connections per client address)
clients_cfg() {
    local i
    for i in $(seq 0 $(($2 - 1))); do
        [ "$i" -gt 0 ] && echo next
        printf '%surl = "https://127.0.0.1:%s/%s"\noutput = "/dev/null"\ninterface = "127.0.0.%d"\n' \
            "$curl_cfg" "$1" "$3" $((2 + i / 32))
    done
}
# ranges_cfg PORT: 1000 Range requests of 64 KiB on one connection
ranges_cfg() {
    local i
    for i in $(seq 0 999); do
        [ "$i" -gt 0 ] && echo next
        printf '%surl = "https://127.0.0.1:%s/64m.bin"\nrange = "%d-%d"\noutput = "/dev/null"\n' \
            "$curl_cfg" "$1" $((i * 65536)) $((i * 65536 + 65535))
    done
}
clients_cfg "$oport" 64 4m.bin >"$work/o64x4.cfg"
clients_cfg "$nport" 64 4m.bin >"$work/n64x4.cfg"
for n in 1 16 64 256; do
    clients_cfg "$oport" "$n" 1m.bin >"$work/o$n.cfg"
    clients_cfg "$nport" "$n" 1m.bin >"$work/n$n.cfg"
done
ranges_cfg "$oport" >"$work/oranges.cfg"
ranges_cfg "$nport" >"$work/nranges.cfg"

# cpu_ticks PID: user + system clock ticks of PID and its children (nginx's workers), all threads
cpu_ticks() {
    local p sum=0 f
    for p in "$1" $(cat /proc/"$1"/task/*/children 2>/dev/null); do
        f=$(cut -d')' -f2 "/proc/$p/stat" 2>/dev/null) || continue
        set -- $f
        sum=$((sum + ${12} + ${13}))
    done
    echo "$sum"
}
# cpu_per_gib TICKS MIB: CPU seconds per GiB served
cpu_per_gib() { awk -v t="$1" -v m="$2" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz / (m / 1024) }'; }

# ---- board ----------------------------------------------------------------------------------

cat >"$work/table.csv" <<EOF
# Name, Type, SubType, Offset, Size
nvs, data, nvs, 0x9000, 0x4000
otadata, data, ota, 0xd000, 0x2000
phy_init, data, phy, 0xf000, 0x1000
factory, app, factory, 0x10000, 0xF0000
ota_0, app, ota_0, 0x100000, 16M
ota_1, app, ota_1, , 15M
EOF
# flash NAME FILE SIZE TABLE: a flash with native_ota_example (version 1) fetching FILE, the
# example built as a user builds it: its server's certificate and URL, otakit build
flash() {
    local p="$work/native_ota_example_$1"
    cp -r "$(dirname "$0")/../examples/native_ota_example" "$p"
    rm -rf "$p/build" "$p/sdkconfig"
    cp "$work/certs/ca_cert.pem" "$p/server_certs/ca_cert.pem"
    printf 'CONFIG_EXAMPLE_FIRMWARE_UPG_URL="https://127.0.0.1:%s/%s"\nCONFIG_ESPTOOLPY_FLASHSIZE_%s=y\n' \
        "$oport" "$2" "$3" >>"$p/sdkconfig.defaults"
    "$otakit" build "$p" >"$p.log" 2>&1 || { cat "$p.log" >&2; die "otakit build of native_ota_example failed"; }
    cp "$p/build/native_ota_example.bin" "$work/native_$1.bin"
    "$otakit" flash create "$work/flash_$1.orig" --size "$3" --table "$4" \
        --bootloader "$build/images/bootloader.bin" --app "factory=$work/native_$1.bin" >/dev/null
}
flash 1 app1.bin 32MB "$work/table.csv"
flash 4 app4.bin 32MB "$work/table.csv"
flash 16 app16.bin 32MB "$work/table.csv"
cat >"$work/table4.csv" <<EOF
# Name, Type, SubType, Offset, Size
nvs, data, nvs, 0x9000, 0x4000
otadata, data, ota, 0xd000, 0x2000
phy_init, data, phy, 0xf000, 0x1000
factory, app, factory, 0x10000, 0xF0000
ota_0, app, ota_0, 0x100000, 1664K
ota_1, app, ota_1, , 1408K
EOF
flash 15 app15.bin 4MB "$work/table4.csv"

board() { # NAME: one update, from power-on to the new app's first line
    "$otakit" board run "$work/flash_$1.bin" --until '^Hello world!$' --max-time 3600000
}
reset_flash() { cp "$work/flash_$CUR.orig" "$work/flash_$CUR.bin"; }

# peak_anon CMD...: runs CMD, sampling the anonymous memory (RssAnon) of it and its children
# every few milliseconds; prints the peak in KiB (file-backed pages, such as the flash image's
# mapping, are not counted)
peak_anon() {
    "$@" >/dev/null 2>&1 &
    local pid=$! peak=0 sum p line
    while kill -0 "$pid" 2>/dev/null; do
        sum=0
        for p in $pid $(cat /proc/"$pid"/task/*/children 2>/dev/null); do
            while read -r line; do
                case $line in RssAnon:*) line=${line#RssAnon:}; sum=$((sum + ${line% kB})) ;; esac
            done 2>/dev/null <"/proc/$p/status" || true
        done
        [ "$sum" -gt "$peak" ] && peak=$sum
        read -r -t 0.002 <> <(:) || true
    done
    wait "$pid" || die "failed: $*"
    echo "$peak"
}
# max_rss CMD...: CMD's peak resident set (getrusage, KiB)
max_rss() {
    python3 -c 'import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$@" || die "failed: $*"
}
# cpu_s CMD...: CMD's CPU time (user + system, with its children), in seconds
cpu_s() {
    python3 -c 'import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print("%.3f" % (r.ru_utime + r.ru_stime))' "$@" || die "failed: $*"
}
# ota_anon NAME: the highest peak_anon of 5 updates (a 1 MiB update lasts a few sampling
# intervals: one run can miss its peak)
ota_anon() {
    local i m max=0
    CUR=$1
    for i in 1 2 3 4 5; do
        reset_flash
        m=$(peak_anon "$otakit" board run "$work/flash_$1.bin" --until '^Hello world!$')
        [ "$m" -gt "$max" ] && max=$m
    done
    echo "$max"
}

# ---- rows -----------------------------------------------------------------------------------

echo "otakit bench: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), load $(cut -d' ' -f1-3 /proc/loadavg), $RUNS runs per row"
echo "TLS: otakit serve $(cipher "$oport"); nginx $(cipher "$nport")"
echo
echo "| Row | otakit | Reference | Ratio | Target | Met |"
echo "|---|---|---|---|---|---|"

CUR=16
ota_a() { board 16; }
ota_b() { curl "${curl_tls[@]}" "https://127.0.0.1:$oport/app16.bin" | sha256sum; }
pair "$RUNS" reset_flash ota_a ota_b
read -r am amin amax <<<"$A_NS"
read -r bm bmin bmax <<<"$B_NS"
# the CPU both sides use (not counting the server's), which the machine's load does not stretch
ca=() cb=()
for _ in 1 2 3; do
    reset_flash
    ca+=("$(cpu_s "$otakit" board run "$work/flash_16.bin" --until '^Hello world!$')")
    cb+=("$(cpu_s bash -c "curl -sf --cacert '$work/certs/ca_cert.pem' https://127.0.0.1:$oport/app16.bin | sha256sum")")
done
read -r ca _ <<<"$(stats "${ca[@]}")"
read -r cb _ <<<"$(stats "${cb[@]}")"
row "HTTPS OTA of a 15.75 MiB image, verified, rebooted, to the new app's first line (CPU time, median of 3: otakit $ca s, reference $cb s)" \
    "$(fmt_s $A_NS)" "\`curl -s URL \\| sha256sum\` $(fmt_s $B_NS)" "$(ratio "$am" "$bm")" "<=" 1.15

verify_a() { "$otakit" image verify "$work/www/app16.bin"; }
verify_b() { sha256sum "$work/www/app16.bin"; }
pair "$RUNS" noprep verify_a verify_b
read -r am _ <<<"$A_NS"
read -r bm _ <<<"$B_NS"
mem1=$(max_rss "$otakit" image verify "$work/www/app1.bin")
mem16=$(max_rss "$otakit" image verify "$work/www/app16.bin")
row "\`otakit image verify\`, 15.75 MiB (peak RSS, 1 MiB → 15.75 MiB image: $mem1 → $mem16 KiB)" \
    "$(fmt_s $A_NS)" "\`sha256sum\` $(fmt_s $B_NS)" "$(ratio "$am" "$bm")" "<=" 1.10

serve_a() { curl --parallel --parallel-max 256 -K "$work/o64x4.cfg"; }
serve_b() { curl --parallel --parallel-max 256 -K "$work/n64x4.cfg"; }
oc0=$(cpu_ticks "$opid")
nc0=$(cpu_ticks "$npid")
pair "$RUNS" noprep serve_a serve_b
oc=$(($(cpu_ticks "$opid") - oc0))
nc=$(($(cpu_ticks "$npid") - nc0))
read -r am _ <<<"$A_NS"
read -r bm _ <<<"$B_NS"
row "\`otakit serve\`, 64 clients × 4 MiB over TLS (server CPU per GiB: otakit $(cpu_per_gib "$oc" $((RUNS * 256))) s, nginx $(cpu_per_gib "$nc" $((RUNS * 256))) s)" \
    "$(fmt_rate 256 $A_NS MiB/s)" "nginx $(fmt_rate 256 $B_NS MiB/s)" "$(ratio "$bm" "$am")" ">=" 1.0

ranges_a() { curl -K "$work/oranges.cfg"; }
ranges_b() { curl -K "$work/nranges.cfg"; }
oc0=$(cpu_ticks "$opid")
nc0=$(cpu_ticks "$npid")
pair "$RUNS" noprep ranges_a ranges_b
oc=$(($(cpu_ticks "$opid") - oc0))
nc=$(($(cpu_ticks "$npid") - nc0))
read -r am _ <<<"$A_NS"
read -r bm _ <<<"$B_NS"
row "1000 × 64 KiB Range requests, one kept-alive TLS connection (server CPU per GiB: otakit $(cpu_per_gib "$oc" $((RUNS * 1000 / 16))) s, nginx $(cpu_per_gib "$nc" $((RUNS * 1000 / 16))) s)" "$(fmt_rate 1000 $A_NS req/s)" \
    "nginx $(fmt_rate 1000 $B_NS req/s)" "$(ratio "$bm" "$am")" ">=" 1.0

# The modeled time is deterministic: one run. The floor: the image's whole 64 KiB blocks erased
# as blocks, the rest as 4 KiB sectors, every 256-byte page programmed, at the profile's typical
# figures (the board's footer names the profile; W25Q32JV: tBE1 150 ms, tSE 45 ms, tPP 0.4 ms).
CUR=15
reset_flash
board 15 >"$work/board15.log" 2>&1 || { tail "$work/board15.log" >&2; die "1.5 MiB update failed"; }
foot=$(grep -- '--- flash:' "$work/board15.log" | tail -1)
modeled=$(sed -n 's/.*modeled busy time \([0-9.]*\) s typical.*/\1/p' <<<"$foot")
profile=$(sed -n 's/.*worst case (\([^)]*\)).*/\1/p' <<<"$foot")
counts=$(sed -n 's/^--- flash: \([0-9]* page programs, [0-9]* sector erases, [0-9]* block erases\).*/\1/p' <<<"$foot")
len=$(stat -c %s "$work/www/app15.bin")
floor=$(awk -v n="$len" 'BEGIN { b = int(n / 65536); s = int((n - b * 65536 + 4095) / 4096);
    if (s * 45 > 150) { b++; s = 0 }; printf "%.2f %d %d %d", (b * 150 + s * 45 + int((n + 255) / 256) * 0.4) / 1000, b, s, int((n + 255) / 256) }')
read -r fl fb fs fp <<<"$floor"
row "Modeled on-device time of a 1.5 MiB update ($len bytes, $profile typical)" "$modeled s ($counts)" \
    "floor $fl s ($fb block erases, $fs sector erases, $fp page programs)" "$(ratio "$modeled" "$fl")" "<=" 1.05

CUR=1
m1=$(ota_anon 1)
CUR=16
m16=$(ota_anon 16)
row "Device process anonymous memory, 15.75 MiB vs 1 MiB OTA (peak, sampled, highest of 5)" "$((m16 / 1024)).$(((m16 % 1024) * 10 / 1024)) MiB" \
    "$((m1 / 1024)).$(((m1 % 1024) * 10 / 1024)) MiB" "$(ratio "$m16" "$m1")" "<=" 1.10

# ---- growth curves --------------------------------------------------------------------------

echo
echo "| OTA image | OTA time (median of $CURVE_RUNS) | \`curl \\| sha256sum\` | peak anonymous memory |"
echo "|---|---|---|---|"
for n in 1 4 16; do
    CUR=$n
    eval "cur_a() { board $n; }"
    eval "cur_b() { curl \"\${curl_tls[@]}\" \"https://127.0.0.1:$oport/app$n.bin\" | sha256sum; }"
    pair "$CURVE_RUNS" reset_flash cur_a cur_b
    m=$(ota_anon "$n")
    printf '| %s MiB (%s bytes) | %s | %s | %s KiB |\n' "$n" "$(stat -c %s "$work/www/app$n.bin")" \
        "$(fmt_s $A_NS)" "$(fmt_s $B_NS)" "$m"
done

echo
echo "| Clients × 1 MiB over TLS | otakit serve (median of $CURVE_RUNS) | nginx | ratio |"
echo "|---|---|---|---|"
for n in 1 16 64 256; do
    eval "cur_a() { curl --parallel --parallel-max 256 -K \"$work/o$n.cfg\"; }"
    eval "cur_b() { curl --parallel --parallel-max 256 -K \"$work/n$n.cfg\"; }"
    pair "$CURVE_RUNS" noprep cur_a cur_b
    read -r am _ <<<"$A_NS"
    read -r bm _ <<<"$B_NS"
    printf '| %s | %s | %s | %.2f× |\n' "$n" "$(fmt_rate "$n" $A_NS MiB/s)" \
        "$(fmt_rate "$n" $B_NS MiB/s)" "$(ratio "$bm" "$am")"
done
