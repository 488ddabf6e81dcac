# Network helpers of the network_*.sh end-to-end scripts: real servers on 127.0.0.1 started and
# stopped by the test, the example apps packed for them, and the board with console input.
# Source it after lib.bash (it is not a test itself: CTest runs only tests/e2e/*.sh). Defines:
#   start_server NAME DIR ARGS...   `otakit serve DIR --bind 127.0.0.1 --port 0 ARGS...` in the
#                                   background, stderr in $WORK/NAME.log; polls for its startup
#                                   line and sets PORT
#   start_s_server NAME DIR CERT KEY   `openssl s_server -WWW` serving DIR on a free port; sets PORT
#   start_nginx NAME DIR CERT KEY   nginx serving DIR over HTTPS on a free port, everything it
#                                   writes under $WORK/NAME; sets PORT
#   stop_server NAME                stops it (SIGTERM) and waits; `otakit serve` must exit 0
#   make_cert DIR NAME              a self-signed certificate for host NAME: DIR/ca_cert.pem and
#                                   DIR/ca_key.pem
#   pack_example OUT APP VERSION CERT [KEY=VALUE...]   examples/APP built with the settings and
#                                   CERT as its server_certs/ca_cert.pem ("-": the build's test
#                                   certificate), as version VERSION (lib.bash's pack_app)
#   make_flash OUT TABLE APP [BOOTLOADER]   a 4 MB flash with APP in its first app partition
#   board_in LOG INPUT ARGS...      like `board`, with the lines of INPUT on the console
#   expect_in_order FILE PATTERN...    the patterns match lines of FILE in this order
#   expect_count FILE PATTERN N     exactly N lines of FILE match PATTERN
#   loaded_offsets FILE             the offsets of "Loaded app from partition" lines, in order
#   expect_flash_has FLASH OFFSET FILE   FLASH holds the bytes of FILE at OFFSET
#   LI LW LE LD                     pattern prefixes of ESP-IDF log lines: "^I \(time\) " ...
#   pseudo_random SEED              a reproducible number in 0..2^31-1 (one LCG step)
#   random_bytes N SEED             N pseudo-random bytes on stdout: the AES-CTR key stream of
#                                   SEED (reproducible) with openssl, else from /dev/urandom
#   have_openssl                    the openssl command is installed
#   signing_keys                    keys=DIR holding rsa_a.pem and rsa_b.pem (RSA-3072)

LI='^I \([0-9]+\) '
LW='^W \([0-9]+\) '
LE='^E \([0-9]+\) '
LD='^D \([0-9]+\) '

declare -A SERVER_PID=()
declare -A SERVER_KIND=()
PORT=

stop_all_servers() {
    local name
    for name in "${!SERVER_PID[@]}"; do
        kill -TERM "${SERVER_PID[$name]}" 2>/dev/null || true
        wait "${SERVER_PID[$name]}" 2>/dev/null || true
    done
    SERVER_PID=()
}
trap 'stop_all_servers; cleanup_work' EXIT
trap 'exit 1' INT TERM

# poll PID SECONDS CMD...: runs CMD every 20 ms until it succeeds (0), PID is gone (1) or
# SECONDS have passed (2).
poll() {
    local pid=$1 seconds=$2
    shift 2
    local deadline=$((SECONDS + seconds))
    while ((SECONDS <= deadline)); do
        if "$@"; then
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            "$@" && return 0
            return 1
        fi
        sleep 0.02
    done
    return 2
}

start_server() {
    local name=$1 dir=$2
    shift 2
    local log=$WORK/$name.log
    : >"$log"
    "$OTAKIT" serve "$dir" --bind 127.0.0.1 --port 0 "$@" 2>"$log" &
    SERVER_PID[$name]=$!
    SERVER_KIND[$name]=otakit
    if ! poll "${SERVER_PID[$name]}" 30 grep -q '^Serving ' "$log"; then
        cat "$log" >&2
        fail "server $name did not start"
    fi
    PORT=$(sed -n 's/^Serving .* port \([0-9][0-9]*\) (.*/\1/p' "$log" | head -n1)
    [ -n "$PORT" ] && [ "$PORT" != 0 ] || fail "server $name: no port in its startup line"
}

stop_server() {
    local name=$1 rc=0
    local pid=${SERVER_PID[$name]:?no server named $1}
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" || rc=$?
    unset "SERVER_PID[$name]"
    if [ "${SERVER_KIND[$name]}" = otakit ] && [ "$rc" -ne 0 ]; then
        fail "server $name exited with status $rc after SIGTERM"
    fi
}

# port_is_free PORT: nothing accepts connections on 127.0.0.1:PORT.
port_is_free() {
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# A candidate port for servers that need a concrete one (they cannot pick one themselves).
free_port() {
    local port attempt
    for attempt in $(seq 1 50); do
        port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
        if port_is_free "$port"; then
            echo "$port"
            return 0
        fi
    done
    fail "no free port found"
}

start_s_server() {
    local name=$1 dir=$2 cert=$3 key=$4 attempt port
    local out=$WORK/$name.out
    for attempt in 1 2 3 4 5; do
        port=$(free_port)
        : >"$out"
        (cd "$dir" && exec openssl s_server -WWW -accept "127.0.0.1:$port" -cert "$cert" \
            -key "$key" -http_server_binmode) >"$out" 2>"$WORK/$name.err" </dev/null &
        SERVER_PID[$name]=$!
        SERVER_KIND[$name]=s_server
        # it prints ACCEPT once it listens, and exits when the port cannot be bound
        if poll "${SERVER_PID[$name]}" 30 grep -q '^ACCEPT' "$out"; then
            PORT=$port
            return 0
        fi
        stop_server "$name"
    done
    cat "$WORK/$name.err" >&2
    fail "openssl s_server $name did not start"
}

# nginx_answers PORT TOKEN CERT: our nginx serves the probe file with TOKEN on PORT.
nginx_answers() {
    local got
    got=$(curl -s --max-time 2 --cacert "$3" "https://127.0.0.1:$1/.otakit-probe" 2>/dev/null)
    [ "$got" = "$2" ]
}

start_nginx() {
    local name=$1 dir=$2 cert=$3 key=$4 attempt port
    local base=$WORK/$name
    mkdir -p "$base/tmp" "$base/logs"
    local token="probe-$$-$RANDOM"
    echo "$token" >"$dir/.otakit-probe"
    for attempt in 1 2 3 4 5; do
        port=$(free_port)
        # One process (no master, no workers, so no user switch and no daemon), every file it
        # writes inside $base, the connection number in the access log.
        cat >"$base/nginx.conf" <<EOF
master_process off;
daemon off;
pid $base/nginx.pid;
error_log $base/logs/error.log info;
events {
    worker_connections 64;
}
http {
    log_format otakit '\$connection \$connection_requests "\$request" \$status'
                      ' \$body_bytes_sent "\$http_range"';
    access_log $base/logs/access.log otakit;
    client_body_temp_path $base/tmp/body;
    proxy_temp_path $base/tmp/proxy;
    fastcgi_temp_path $base/tmp/fastcgi;
    uwsgi_temp_path $base/tmp/uwsgi;
    scgi_temp_path $base/tmp/scgi;
    types {
    }
    default_type application/octet-stream;
    keepalive_requests 1000;
    server {
        listen 127.0.0.1:$port ssl;
        ssl_certificate $cert;
        ssl_certificate_key $key;
        root $dir;
    }
}
EOF
        /usr/sbin/nginx -c "$base/nginx.conf" -p "$base/" -e "$base/logs/error.log" \
            >"$base/stdout.log" 2>&1 </dev/null &
        SERVER_PID[$name]=$!
        SERVER_KIND[$name]=nginx
        if poll "${SERVER_PID[$name]}" 30 nginx_answers "$port" "$token" "$cert"; then
            PORT=$port
            : >"$base/logs/access.log" # the probe is not part of the test
            return 0
        fi
        stop_server "$name"
    done
    cat "$base/logs/error.log" "$base/stdout.log" >&2
    fail "nginx $name did not start"
}

make_cert() {
    local dir=$1 host=$2 san
    mkdir -p "$dir"
    if [[ $host =~ ^[0-9.]+$ ]]; then
        san="IP:$host"
    else
        san="DNS:$host"
    fi
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=$host" \
        -addext "subjectAltName=$san" -keyout "$dir/ca_key.pem" -out "$dir/ca_cert.pem" \
        >/dev/null 2>&1 || fail "cannot make a certificate for $host"
}

pack_example() {
    local out=$1 app=$2 version=$3 cert=$4
    shift 4
    pack_app "$out" "$OTAKIT_SOURCE_DIR/examples/$app" "$version" "$cert" "$@"
}

make_flash() {
    local out=$1 table=$2 app=$3 bl=${4:-$OTAKIT_BUILD_DIR/images/bootloader.bin}
    "$OTAKIT" flash create "$out" --size 4MB --table "$table" --bootloader "$bl" --app "$app" \
        >/dev/null || fail "cannot create $out"
}

board_in() {
    local log=$1 input=$2
    shift 2
    printf '%s\n' "$input" >"$log.stdin"
    BOARD_STATUS=0
    "$OTAKIT" board run --max-time 600000 "$@" <"$log.stdin" >"$log" 2>&1 || BOARD_STATUS=$?
}

expect_in_order() {
    local file=$1
    shift
    local plain=$WORK/.in_order after=0 pattern n
    sed 's/\x1b\[[0-9;]*m//g' "$file" >"$plain"
    for pattern in "$@"; do
        n=$(tail -n "+$((after + 1))" "$plain" | grep -nE -m1 -- "$pattern" | cut -d: -f1)
        if [ -z "$n" ]; then
            echo "---- $file ----" >&2
            tail -n 60 "$file" >&2
            fail "expected a line matching '$pattern' after line $after of $(basename "$file")"
        fi
        after=$((after + n))
    done
    ok
}

expect_count() {
    local file=$1 pattern=$2 want=$3 got
    got=$(sed 's/\x1b\[[0-9;]*m//g' "$file" | grep -Ec -- "$pattern" || true)
    [ "$got" -eq "$want" ] ||
        fail "expected $want line(s) matching '$pattern' in $(basename "$file"), found $got"
    ok
}

loaded_offsets() {
    sed -n 's/.*boot: Loaded app from partition at offset \(0x[0-9a-f]*\).*/\1/p' "$1" |
        tr '\n' ' ' | sed 's/ $//'
}

expect_flash_has() {
    local flash=$1 offset=$2 file=$3
    cmp -s -n "$(stat -c %s "$file")" -i "0:$((offset))" "$file" "$flash" ||
        fail "$(basename "$flash") does not hold $(basename "$file") at $offset"
    ok
}

have_openssl() {
    command -v openssl >/dev/null
}

# Signing keys kept beside the app variants, so a variant whose settings name one is built once.
# Made once: scripts running side by side link their own key in place, and the first one stays.
signing_keys() {
    keys=$OTAKIT_BUILD_DIR/e2e_signing_keys
    mkdir -p "$keys"
    local k
    for k in a b; do
        [ -f "$keys/rsa_$k.pem" ] && continue
        openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out "$keys/rsa_$k.$$" \
            >/dev/null 2>&1 || fail "cannot make an RSA key"
        ln "$keys/rsa_$k.$$" "$keys/rsa_$k.pem" 2>/dev/null
        rm -f "$keys/rsa_$k.$$"
    done
}

random_bytes() {
    if have_openssl; then
        openssl enc -aes-128-ctr -nosalt -K "$(printf '%032x' "$2")" -iv 0 </dev/zero 2>/dev/null |
            head -c "$1"
    else
        head -c "$1" /dev/urandom
    fi
}

pseudo_random() {
    echo $(((($1 * 1103515245) + 12345) % 2147483648))
}

# need_python MODULE...: PY is Debian's python3 when it has every MODULE (else the first python3
# on PATH); without them the test is skipped (exit 77).
need_python() {
    PY=/usr/bin/python3
    [ -x "$PY" ] || PY=$(command -v python3)
    if ! "$PY" -c "import $(IFS=,; echo "$*")" 2>/dev/null; then
        echo "SKIP: Python modules missing: $* (tools/install-deps.sh installs them)"
        exit 77
    fi
}
