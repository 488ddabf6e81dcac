#!/usr/bin/env bash
# NVS in ESP-IDF's format, end to end against ESP-IDF's own tools (../shared/conformance):
# a partition nvs_partition_gen.py generates from a CSV using every type and encoding (numbers
# at their limits, strings, hex2bin, base64, files of every encoding, a blob over three pages)
# is read back value for value by `otakit nvs dump -d values`, also from a flash image's nvs
# partition, and `otakit nvs dump` prints every partition here as nvs_tool.py does, line for line;
# what `otakit nvs generate` writes from the same CSV passes nvs_tool.py's integrity check and
# nvs_tool.py lists the same values; updates, erasures and garbage collection by `otakit nvs
# apply` / `erase` leave a partition nvs_tool.py checks clean and lists exactly; an app on the
# board reads the generator's partition, and formats a blank one in ESP-IDF's format.
set -u

. "$(dirname "$0")/lib.bash"
CONF="$OTAKIT_SOURCE_DIR/../shared/conformance"
GEN_DIR="$CONF/esp-idf-nvs-partition-gen"
NVS_TOOL="$CONF/esp-idf/components/nvs_flash/nvs_partition_tool/nvs_tool.py"
if [ ! -d "$GEN_DIR" ] || [ ! -f "$NVS_TOOL" ] || ! command -v python3 >/dev/null; then
    echo "nvs.sh: ESP-IDF's NVS tools are not in ../shared/conformance; skipped" >&2
    exit 77
fi
gen() { PYTHONPATH="$GEN_DIR" python3 -m esp_idf_nvs_partition_gen generate "$@" >/dev/null; }
nvs_tool() { python3 "$NVS_TOOL" --color never "$@"; }
# nvs_tool's integrity check: every line is a page's "CRC32: OK", "Page Empty" or blank
integrity() {
    local bad
    bad=$(nvs_tool -i -d none "$1" | grep -av 'CRC32: OK$' | grep -av '^Page Empty$' | grep -av '^$')
    expect_eq "$2: nvs_tool.py -i finds nothing" "$bad" ""
}
minimal() { nvs_tool -d minimal "$1" | tr -d '\000' | grep -a ':' | sort; }
# `otakit nvs dump -d KIND` prints what nvs_tool.py prints, line for line
same_as_nvs_tool() {
    local kind
    for kind in all minimal written namespaces; do
        nvs_tool -d "$kind" "$1" >"$1.py.$kind" || fail "nvs_tool.py -d $kind $1"
        "$OTAKIT" nvs dump "$1" -d "$kind" >"$1.ours.$kind" || fail "otakit nvs dump -d $kind $1"
        if cmp -s "$1.py.$kind" "$1.ours.$kind"; then
            ok
        else
            bad "$2: nvs dump -d $kind differs from nvs_tool.py's output:
$(diff "$1.py.$kind" "$1.ours.$kind" | head -n 6 | tr -d '\000')"
        fi
    done
}

cd "$WORK" || exit 1
head -c 9000 /dev/urandom >big.bin
printf 'text from a file' >s.txt
printf '0a0b0c' >h.txt
printf 'aGVsbG8gZmlsZQ==' >b64.txt
cat >all.csv <<'EOF'
key,type,encoding,value
# every type and encoding
ns_a,namespace,,
u8,data,u8,255
i8,data,i8,-128
u16,data,u16,65535
i16,data,i16,-32768
u32,data,u32,4294967295
i32,data,i32,-2147483648
u64,data,u64,18446744073709551615
i64,data,i64,-9223372036854775808
str,data,string,"hello, world"
hex,data,hex2bin,deadbeef
b64,data,base64,aGVsbG8=
ns_b,namespace,,
fstr,file,string,s.txt
fhex,file,hex2bin,h.txt
fb64,file,base64,b64.txt
fbin,file,binary,big.bin
EOF
big_hex=$(od -An -v -tx1 big.bin | tr -d ' \n')
want='ns_a:u8 = 255 (u8)
ns_a:i8 = -128 (i8)
ns_a:u16 = 65535 (u16)
ns_a:i16 = -32768 (i16)
ns_a:u32 = 4294967295 (u32)
ns_a:i32 = -2147483648 (i32)
ns_a:u64 = 18446744073709551615 (u64)
ns_a:i64 = -9223372036854775808 (i64)
ns_a:str = "hello, world" (string)
ns_a:hex = deadbeef (blob, 4 bytes)
ns_a:b64 = 68656c6c6f (blob, 5 bytes)
ns_b:fstr = "text from a file" (string)
ns_b:fhex = 0a0b0c (blob, 3 bytes)
ns_b:fb64 = 68656c6c6f2066696c65 (blob, 10 bytes)
ns_b:fbin = '"$big_hex"' (blob, 9000 bytes)'

# --- 1. what ESP-IDF's generator writes, read value for value ------------------------------
gen all.csv gen.bin 0x6000 || fail "nvs_partition_gen.py generate"
run nvs dump gen.bin -d values
expect_eq "generator's partition: dump status" "$rc" 0
expect_eq "generator's partition: every value" "$out" "$want"
same_as_nvs_tool gen.bin "generator's partition"
# the same partition in a flash image's nvs partition
pack_bootloader bl.bin
"$OTAKIT" flash create flash.bin --size 4MB --table singleapp --bootloader bl.bin \
    --part nvs=gen.bin >/dev/null || fail "flash create with the nvs partition"
run nvs dump flash.bin --name nvs -d values
expect_eq "flash image --name nvs: every value" "$out" "$want"

# --- 2. what otakit writes from the same CSV: ESP-IDF's tool reads it --------------------------
run nvs generate all.csv ours.bin --size 0x6000
expect_eq "otakit nvs generate: status" "$rc" 0
integrity ours.bin "generated"
expect_eq "nvs_tool.py lists the generator's values" "$(minimal ours.bin)" "$(minimal gen.bin)"
run nvs dump ours.bin -d values
expect_eq "otakit's partition: every value" "$out" "$want"
same_as_nvs_tool ours.bin "otakit's partition"

# --- 3. updates, erasures and garbage collection on the generator's partition ---------------
cp gen.bin upd.bin
for round in 1 2 3 4 5 6 7 8; do
    {
        echo "key,type,encoding,value"
        echo "ns_a,namespace,,"
        echo "u32,data,u32,$round"
        echo "str,data,string,round $round of updates"
        echo "ns_b,namespace,,"
        echo "fbin,file,binary,big.bin"
    } >round.csv
    head -c $((3000 + round * 100)) /dev/urandom >big.bin
    run nvs apply upd.bin round.csv
    expect_eq "apply round $round" "$rc" 0
done
run nvs erase upd.bin ns_a hex
expect_eq "erase a key" "$rc" 0
integrity upd.bin "updated"
same_as_nvs_tool upd.bin "updated partition"
run nvs dump upd.bin -d values
expect_has "updated: u32" "$out" "ns_a:u32 = 8 (u32)"
expect_has "updated: string" "$out" 'ns_a:str = "round 8 of updates" (string)'
expect_has "updated: blob" "$out" "ns_b:fbin = $(od -An -v -tx1 big.bin | tr -d ' \n') (blob, 3800 bytes)"
expect_eq "updated: erased key gone" "$(printf '%s\n' "$out" | grep -c '^ns_a:hex ')" 0
expect_eq "updated: kept values" "$(printf '%s\n' "$out" | grep -c '^ns_a:i64 = -9223372036854775808')" 1
# nvs_tool lists exactly otakit's values (one line per key, blobs by chunk)
expect_eq "nvs_tool.py: u32" "$(minimal upd.bin | grep -c '^ *ns_a:u32 = 8$')" 1
expect_eq "nvs_tool.py: no erased key" "$(minimal upd.bin | grep -c 'ns_a:hex')" 0
expect_eq "nvs_tool.py: one str" "$(minimal upd.bin | grep -c 'ns_a:str = ')" 1

# --- 4. on the board: an app reads the generator's partition through nvs_get_*, then writes,
# commits and erases (enough to collect pages); ESP-IDF's tool finds the app's values ----------
pack_test_app app.bin 1 nvs TEST_APP_NVS_NS=ns_a TEST_APP_NVS_ROUNDS=12 TEST_APP_NVS_ERASE=hex \
    "TEST_APP_NVS_GET=u8:u8 i8:i8 u16:u16 i16:i16 u32:u32 i32:i32 u64:u64 i64:i64 str:str blob:hex blob:b64"
"$OTAKIT" flash create board.bin --size 4MB --table singleapp --bootloader bl.bin \
    --app factory=app.bin --part nvs=gen.bin >/dev/null || fail "flash create for the board"
board board.log board.bin --until 'nvs: 12 rounds written'
[ "$BOARD_STATUS" -eq 0 ] || fail "board: exit $BOARD_STATUS, expected 0 (--until)"
for line in 'ns_a:u8 = 255' 'ns_a:i8 = -128' 'ns_a:u16 = 65535' 'ns_a:i16 = -32768' \
    'ns_a:u32 = 4294967295' 'ns_a:i32 = -2147483648' 'ns_a:u64 = 18446744073709551615' \
    'ns_a:i64 = -9223372036854775808' 'ns_a:str = "hello, world"' 'ns_a:hex = deadbeef' \
    'ns_a:b64 = 68656c6c6f'; do
    expect_file_has board.log "^nvs $line\$"
done
expect_file_has board.log 'nvs: 12 rounds written: ESP_OK$'
"$OTAKIT" flash read-partition board.bin --name nvs -o after.bin >/dev/null || fail "read nvs"
integrity after.bin "after the app"
same_as_nvs_tool after.bin "after the app"
run nvs dump after.bin -d values
expect_has "after the app: count" "$out" "ns_a:count = 12 (u32)"
expect_has "after the app: text" "$out" 'ns_a:text = "round 12" (string)'
expect_has "after the app: data" "$out" "ns_a:data = $(printf '0c%.0s' $(seq 3000)) (blob, 3000 bytes)"
expect_has "after the app: generator's values kept" "$out" "ns_b:fbin = $big_hex"
expect_eq "after the app: hex erased" "$(printf '%s\n' "$out" | grep -c '^ns_a:hex ')" 0
expect_eq "nvs_tool.py: count" "$(minimal after.bin | grep -c '^ *ns_a:count = 12$')" 1
expect_eq "nvs_tool.py: one text" "$(minimal after.bin | grep -c 'ns_a:text = ')" 1
expect_eq "nvs_tool.py: hex gone" "$(minimal after.bin | grep -c 'ns_a:hex')" 0
# pages were collected: some page's sequence number is past the partition's page count
max_seq=0
for p in 0 1 2 3 4 5; do
    seq=$(od -An -tu4 -j $((p * 4096 + 4)) -N 4 after.bin | tr -d ' ')
    [ "$seq" != 4294967295 ] && [ "$seq" -gt "$max_seq" ] && max_seq=$seq
done
expect_eq "pages were collected (highest sequence number >= 6)" "$((max_seq >= 6))" 1

# --- 4b. a blank nvs partition: the app (packed by `otakit image pack`) gets ESP-IDF's format ----
pack_test_app blank_app.bin 1 nvs TEST_APP_NVS_NS=ns_a TEST_APP_NVS_ROUNDS=3
"$OTAKIT" flash create blank.bin --size 4MB --table singleapp --bootloader bl.bin \
    --app factory=blank_app.bin >/dev/null || fail "flash create with a blank nvs partition"
board blank.log blank.bin --until 'nvs: 3 rounds written'
[ "$BOARD_STATUS" -eq 0 ] || fail "blank board: exit $BOARD_STATUS, expected 0 (--until)"
expect_file_has blank.log 'nvs: 3 rounds written: ESP_OK$'
"$OTAKIT" flash read-partition blank.bin --name nvs -o blank_nvs.bin >/dev/null || fail "read nvs"
integrity blank_nvs.bin "blank partition after the app"
same_as_nvs_tool blank_nvs.bin "blank partition after the app"
expect_eq "nvs_tool.py: the app's count" "$(minimal blank_nvs.bin | grep -c '^ *ns_a:count = 3$')" 1

# --- 5. refusals -------------------------------------------------------------------------------
printf 'key,type,encoding,value\nns,namespace,,\nv,data,u8,256\n' >bad.csv
expect_error "u8 out of range" 1 "line 3: integer out of range" nvs generate bad.csv x.bin --size 0x3000
printf 'key,type,encoding,value\nv,data,u8,1\n' >bad.csv
expect_error "data before a namespace" 1 "data before any namespace" nvs generate bad.csv x.bin --size 0x3000
expect_error "too small" 1 "no space left" nvs generate all.csv x.bin --size 0x2000
head -c 5000 gen.bin >short.bin
expect_error "not whole pages" 1 "5000 bytes is not a whole number of 4096-byte pages" nvs dump short.bin
expect_error "unknown listing" 2 "unknown listing 'json'" nvs dump gen.bin -d json

echo "nvs.sh: $CHECKS passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
