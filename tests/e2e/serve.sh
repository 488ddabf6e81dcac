#!/usr/bin/env bash
# otakit serve, end to end: HTTPS with a self-signed certificate checked by curl, ranges, path
# safety, the access log, a clean stop on SIGTERM/SIGINT with the stats file, plain HTTP, and
# command-line errors.
set -euo pipefail

: "${OTAKIT:?OTAKIT must name the otakit binary}"
if ! command -v curl >/dev/null; then
    echo "curl is not installed: skipping"
    exit 77
fi

work=$(mktemp -d)
server_pid=""
cleanup() {
    if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -KILL "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

log_file=""
fail() {
    echo "FAIL: $*" >&2
    if [[ -n $log_file && -f $log_file ]]; then
        sed 's/^/  server: /' "$log_file" >&2
    fi
    exit 1
}

# start_server LOG ARGS...: starts `otakit serve ARGS...` in the background with stderr in LOG,
# waits (polling, at most 60 s) for its startup line and sets $port and $startup_line.
start_server() {
    log_file=$1
    shift
    "$OTAKIT" serve "$@" 2>"$log_file" &
    server_pid=$!
    port=""
    startup_line=""
    local deadline=$((SECONDS + 60))
    while ((SECONDS < deadline)); do
        if startup_line=$(grep -m1 '^Serving ' "$log_file"); then
            port=$(sed -n 's/^Serving .* port \([0-9][0-9]*\) (.*/\1/p' <<<"$startup_line")
            [[ -n $port ]] || fail "no port in '$startup_line'"
            return 0
        fi
        kill -0 "$server_pid" 2>/dev/null || fail "server exited before its startup line"
        sleep 0.05
    done
    fail "no startup line within 60 s"
}

# stop_server SIGNAL: sends the signal and waits; the exit status must be 0.
stop_server() {
    kill "-$1" "$server_pid"
    local rc=0
    wait "$server_pid" || rc=$?
    server_pid=""
    ((rc == 0)) || fail "server exited with $rc after SIG$1"
}

# one_error_line EXPECTED_RC ARGS...: the command fails with that status and one stderr line.
one_error_line() {
    local want=$1
    shift
    local rc=0
    "$OTAKIT" serve "$@" >"$work/err.out" 2>"$work/err.txt" || rc=$?
    ((rc == want)) || fail "'serve $*' exited $rc, expected $want: $(cat "$work/err.txt")"
    [[ $(wc -l <"$work/err.txt") -eq 1 ]] || fail "'serve $*' printed: $(cat "$work/err.txt")"
    grep -q '^otakit' "$work/err.txt" || fail "'serve $*' error line: $(cat "$work/err.txt")"
    [[ ! -s $work/err.out ]] || fail "'serve $*' wrote to stdout"
}

www=$work/www
certs=$work/certs
mkdir -p "$www/sub" "$certs"
head -c 200000 /dev/urandom >"$www/hello_world.bin"
echo "outside the root" >"$work/secret.txt"

# --- HTTPS with a fresh self-signed certificate --------------------------------------------
start_server "$work/https.log" "$www" --bind 127.0.0.1 --port 0 --self-signed 127.0.0.1 \
    --cert-dir "$certs" --stats-file "$work/stats.txt"
[[ $startup_line =~ ^Serving\ HTTPS\ on\ 127\.0\.0\.1\ port\ ([0-9]+)\ \(https://127\.0\.0\.1:([0-9]+)/\)\ \.\.\.$ ]] ||
    fail "startup line: $startup_line"
[[ ${BASH_REMATCH[1]} == "$port" && ${BASH_REMATCH[2]} == "$port" && $port != 0 ]] ||
    fail "ports in startup line: $startup_line"
grep -q "wrote self-signed certificate for 127.0.0.1" "$work/https.log" || fail "no certificate note"
[[ -f $certs/ca_cert.pem && -f $certs/ca_key.pem ]] || fail "ca_cert.pem/ca_key.pem not written"
[[ $(stat -c %a "$certs/ca_key.pem") == 600 ]] || fail "key mode $(stat -c %a "$certs/ca_key.pem")"
url=https://127.0.0.1:$port

# The guide's troubleshooting step: curl -v with the certificate as the only trusted root.
curl -sS -v --cacert "$certs/ca_cert.pem" "$url/hello_world.bin" -o "$work/got.bin" \
    2>"$work/curl.txt" || fail "curl -v: $(tail -3 "$work/curl.txt")"
cmp -s "$work/got.bin" "$www/hello_world.bin" || fail "downloaded bytes differ"
grep -q "SSL certificate verify ok" "$work/curl.txt" || fail "curl did not verify the certificate"

code=$(curl -sS --cacert "$certs/ca_cert.pem" -r 1000-1999 -o "$work/part.bin" -w '%{http_code}' \
    "$url/hello_world.bin")
[[ $code == 206 ]] || fail "range request answered $code"
dd if="$www/hello_world.bin" of="$work/want.bin" bs=4096 iflag=skip_bytes,count_bytes \
    skip=1000 count=1000 status=none
cmp -s "$work/part.bin" "$work/want.bin" || fail "range bytes differ"

for attempt in /../secret.txt /%2e%2e/secret.txt /sub/..%2f..%2fsecret.txt; do
    code=$(curl -sS --path-as-is --cacert "$certs/ca_cert.pem" -o "$work/trav.txt" \
        -w '%{http_code}' "$url$attempt")
    [[ $code == 404 ]] || fail "$attempt answered $code"
    if grep -q "outside the root" "$work/trav.txt"; then
        fail "$attempt served a file outside the root"
    fi
done
if curl -sS --cacert "$certs/ca_cert.pem" --resolve "otakit.invalid:$port:127.0.0.1" \
    -o /dev/null "https://otakit.invalid:$port/hello_world.bin" 2>/dev/null; then
    fail "a host name the certificate does not name was accepted"
fi

stop_server TERM
log_re='^127\.0\.0\.1 - - \[[0-9]{2}/(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)/[0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2}\] '
grep -Eq "$log_re\"GET /hello_world.bin HTTP/1.1\" 200 -\$" "$work/https.log" ||
    fail "no access-log line for the download"
grep -Eq "$log_re\"GET /hello_world.bin HTTP/1.1\" 206 -\$" "$work/https.log" ||
    fail "no access-log line for the range"
grep -Eq "${log_re}code 404, message File not found\$" "$work/https.log" ||
    fail "no error line for 404"
[[ -f $work/stats.txt ]] || fail "stats file not written"
want_stats=$'requests 5\nstatus_2xx 2\nstatus_3xx 0\nstatus_4xx 3\nstatus_5xx 0\nbody_bytes 201000'
[[ $(head -6 "$work/stats.txt") == "$want_stats" ]] || fail "stats: $(cat "$work/stats.txt")"
grep -q '^connections [1-9]' "$work/stats.txt" || fail "stats: no connections"

# --- the pair is reused when it matches, replaced when it does not -----------------------------
key_before=$(cksum <"$certs/ca_key.pem")
start_server "$work/reuse.log" "$www" --bind 127.0.0.1 --port 0 --self-signed 127.0.0.1 \
    --cert-dir "$certs" --quiet
grep -q "reusing" "$work/reuse.log" || fail "matching certificate not reused"
[[ $(cksum <"$certs/ca_key.pem") == "$key_before" ]] || fail "key rewritten"
curl -sS --cacert "$certs/ca_cert.pem" -o /dev/null "https://127.0.0.1:$port/hello_world.bin" ||
    fail "download with the reused certificate"
stop_server INT
[[ $(grep -c '^127\.0\.0\.1 ' "$work/reuse.log" || true) == 0 ]] || fail "--quiet still logs"

start_server "$work/other.log" "$www" --bind 127.0.0.1 --port 0 --self-signed localhost \
    --cert-dir "$certs"
grep -q "replacing" "$work/other.log" || fail "certificate for another host not replaced"
stop_server TERM
openssl_out=$(openssl x509 -in "$certs/ca_cert.pem" -noout -ext subjectAltName 2>/dev/null || true)
if [[ -n $openssl_out ]]; then
    grep -q "DNS:localhost" <<<"$openssl_out" || fail "SAN after replacement: $openssl_out"
fi

# A certificate directory inside the served one is served too: warn.
start_server "$work/inside.log" "$www" --bind 127.0.0.1 --port 0 --self-signed 127.0.0.1 \
    --cert-dir "$www/sub" --quiet
grep -q "warning: .*will be served" "$work/inside.log" || fail "no warning for cert dir inside DIR"
stop_server TERM

# --- plain HTTP, without Range support -----------------------------------------------------------
start_server "$work/http.log" "$www" --http --bind 127.0.0.1 --port 0 --no-range
[[ $startup_line == "Serving HTTP on 127.0.0.1 port $port (http://127.0.0.1:$port/) ..." ]] ||
    fail "startup line: $startup_line"
code=$(curl -sS -r 0-9 -o "$work/norange.bin" -w '%{http_code}' \
    "http://127.0.0.1:$port/hello_world.bin")
[[ $code == 200 ]] || fail "--no-range answered $code"
cmp -s "$work/norange.bin" "$www/hello_world.bin" || fail "--no-range bytes differ"
stop_server INT

# --- command-line errors: one line, non-zero exit, nothing started -------------------------------
one_error_line 1 "$work/missing-dir" --http
one_error_line 1 "$www" --cert "$work/none.pem" --key "$work/none-key.pem" --port 0
one_error_line 1 "$www" --cert "$www/hello_world.bin" --key "$certs/ca_key.pem" --port 0
one_error_line 2 "$www"
one_error_line 2 "$www" --http --port 70000
one_error_line 2 "$www" --http --bogus
one_error_line 2 "$www" --cert "$certs/ca_cert.pem"
one_error_line 2 --http
one_error_line 2 "$www" --http --redirect nopath
one_error_line 1 "$www" --http --bind 127.0.0.1.5 --port 0
"$OTAKIT" serve --help | grep -q '^usage: otakit serve DIR' || fail "--help"
"$OTAKIT" --help | grep -q 'serve' || fail "serve missing from otakit --help"

echo "serve: all checks passed"
