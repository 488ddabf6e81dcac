#!/usr/bin/env bash
# Speed as ratios against reference tools run side by side on the same machine and inputs
# (`make bench`; an optimized build without sanitizers). A ratio is otakit's time divided by the
# reference's, best of several runs: below 1 is faster than the reference.
#   server   otakit serve vs nginx: HTTPS downloads of a 32 MiB file over one kept-alive
#            connection, 16 parallel downloads, and 256 Range requests of 64 KiB
#   verify   otakit image verify (ESP-IDF's image check: headers, checksum, SHA-256) vs
#            sha256sum over the same 8 MiB image
#   board    native_ota_example updating to hello_world on the simulated board: the modeled
#            flash time (what a W25Q32JV would take) next to the host's wall-clock time
# Usage: bench/bench.sh BUILD_DIR
set -euo pipefail

build=$(cd "${1:-build-bench}" && pwd)
otakit="$build/otakit"
nginx=$(command -v nginx || echo /usr/sbin/nginx)
work=$(mktemp -d "${TMPDIR:-/tmp}/otakit-bench.XXXXXX")
pids=()
cleanup() {
    for p in "${pids[@]}"; do
        kill -TERM "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT
RUNS=${BENCH_RUNS:-3}

now_ns() { date +%s%N; }

# best_of CMD...: the smallest wall-clock time of RUNS runs, in nanoseconds
best_of() {
    local best= t0 t1 i
    for i in $(seq 1 "$RUNS"); do
        t0=$(now_ns)
        if ! "$@" >/dev/null 2>&1; then
            echo "bench: failed: $*" >&2
            exit 1
        fi
        t1=$(now_ns)
        if [ -z "$best" ] || [ $((t1 - t0)) -lt "$best" ]; then
            best=$((t1 - t0))
        fi
    done
    echo "$best"
}

row() { # name otakit_ns reference_ns reference_name
    awk -v n="$1" -v a="$2" -v b="$3" -v r="$4" \
        'BEGIN { printf "%-44s %9.1f ms %9.1f ms  %-10s %6.2f\n", n, a / 1e6, b / 1e6, r, a / b }'
}

wait_for_port() { # port
    local i
    for i in $(seq 1 500); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
            return 0
        fi
        read -r -t 0.01 <> <(:) || true
    done
    return 1
}

mkdir -p "$work/www" "$work/certs" "$work/nginx"
chmod 755 "$work" "$work/www" # nginx's workers run as an unprivileged user
head -c $((32 * 1024 * 1024)) /dev/urandom >"$work/www/big.bin"

# --- servers ---------------------------------------------------------------------------------
"$otakit" serve "$work/www" --bind 127.0.0.1 --port 0 --self-signed 127.0.0.1 \
    --cert-dir "$work/certs" 2>"$work/serve.log" &
pids+=($!)
for _ in $(seq 1 500); do
    grep -q '^Serving HTTPS' "$work/serve.log" 2>/dev/null && break
    read -r -t 0.01 <> <(:) || true
done
oport=$(sed -n 's/^Serving HTTPS on .* port \([0-9]*\) .*/\1/p' "$work/serve.log")
[ -n "$oport" ] || { cat "$work/serve.log"; exit 1; }

nport=
for p in $(seq 18443 18543); do
    cat >"$work/nginx/nginx.conf" <<EOF
worker_processes 2;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path $work/nginx/body;
    proxy_temp_path $work/nginx/proxy;
    fastcgi_temp_path $work/nginx/fastcgi;
    uwsgi_temp_path $work/nginx/uwsgi;
    scgi_temp_path $work/nginx/scgi;
    server {
        listen 127.0.0.1:$p ssl;
        ssl_certificate $work/certs/ca_cert.pem;
        ssl_certificate_key $work/certs/ca_key.pem;
        root $work/www;
    }
}
EOF
    "$nginx" -c "$work/nginx/nginx.conf" -p "$work/nginx" 2>/dev/null &
    npid=$!
    if wait_for_port "$p" && kill -0 "$npid" 2>/dev/null; then
        pids+=("$npid")
        nport=$p
        break
    fi
    kill "$npid" 2>/dev/null || true
    wait "$npid" 2>/dev/null || true
done
[ -n "$nport" ] || { echo "bench: nginx did not start" >&2; exit 1; }

chmod 644 "$work/www/"*
curl_opts=(-sf --cacert "$work/certs/ca_cert.pem" -o /dev/null)
seq_urls() { local i; for i in 1 2 3 4; do echo "https://127.0.0.1:$1/big.bin"; done; }
ranges() { # port: 256 Range requests of 64 KiB on one connection
    local args=() i
    for i in $(seq 0 255); do
        args+=(-r "$((i * 65536))-$((i * 65536 + 65535))" "https://127.0.0.1:$1/big.bin"
            -o /dev/null)
        [ "$i" -lt 255 ] && args+=(--next "${curl_opts[@]:0:3}")
    done
    curl "${curl_opts[@]:0:3}" "${args[@]}"
}

printf '%-44s %12s %12s  %-10s %6s\n' "benchmark" "otakit" "reference" "" "ratio"
a=$(best_of curl "${curl_opts[@]}" $(seq_urls "$oport"))
b=$(best_of curl "${curl_opts[@]}" $(seq_urls "$nport"))
row "serve: 4 x 32 MiB, one HTTPS connection" "$a" "$b" nginx
a=$(best_of curl "${curl_opts[@]}" --parallel --parallel-max 16 $(for i in $(seq 16); do echo "https://127.0.0.1:$oport/big.bin"; done))
b=$(best_of curl "${curl_opts[@]}" --parallel --parallel-max 16 $(for i in $(seq 16); do echo "https://127.0.0.1:$nport/big.bin"; done))
row "serve: 16 parallel HTTPS downloads" "$a" "$b" nginx
a=$(best_of ranges "$oport")
b=$(best_of ranges "$nport")
row "serve: 256 Range requests of 64 KiB" "$a" "$b" nginx

# --- image verification ----------------------------------------------------------------------
head -c $((8 * 1024 * 1024)) /dev/urandom >"$work/payload.bin"
"$otakit" image pack --app -o "$work/big_app.bin" --payload "$work/payload.bin" \
    --project bench >/dev/null
a=$(best_of "$otakit" image verify "$work/big_app.bin" --partition-size 16MB)
b=$(best_of sha256sum "$work/big_app.bin")
row "verify: 8 MiB app image" "$a" "$b" sha256sum

# --- a native OTA on the board ---------------------------------------------------------------
cp "$build/images/hello_world.bin" "$work/www/hello_world.bin"
chmod 644 "$work/www/hello_world.bin"
# examples/native_ota_example built as a user builds it: its certificate and URL, otakit build
cp -r "$(dirname "$0")/../examples/native_ota_example" "$work/native_ota_example"
rm -rf "$work/native_ota_example/build" "$work/native_ota_example/sdkconfig"
cp "$work/certs/ca_cert.pem" "$work/native_ota_example/server_certs/ca_cert.pem"
echo "CONFIG_EXAMPLE_FIRMWARE_UPG_URL=\"https://127.0.0.1:$oport/hello_world.bin\"" \
    >>"$work/native_ota_example/sdkconfig.defaults"
"$otakit" build "$work/native_ota_example" -j 2 >"$work/native_build.log" 2>&1 ||
    { cat "$work/native_build.log"; exit 1; }
cp "$work/native_ota_example/build/native_ota_example.bin" "$work/native.bin"
"$otakit" flash create "$work/flash.bin" --size 4MB --table two_ota \
    --bootloader "$build/images/bootloader.bin" --app "factory=$work/native.bin" >/dev/null
t0=$(now_ns)
"$otakit" board run "$work/flash.bin" --until '^Hello world!$' >"$work/board.log" 2>&1 || true
t1=$(now_ns)
modeled=$(sed -n 's/.*modeled busy time \([0-9.]*\) s typical.*/\1/p' "$work/board.log")
printf '%-44s %9.1f ms %9s s   %s\n' "board: native OTA of hello_world (wall clock)" \
    "$(awk -v d=$((t1 - t0)) 'BEGIN { print d / 1e6 }')" "${modeled:-?}" \
    "modeled flash time on a W25Q32JV"
