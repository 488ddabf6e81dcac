#!/usr/bin/env bash
# otakit otadata, end to end: the command's wiring on a few table sizes (2, 3 and 16 OTA slots).
# `switch` writes the copy and the bytes otatool.py's switch_ota_partition would (fixed values
# below: seq and CRC-32 as the spec's table gives them), the bootloader then boots that slot
# (flash info), and nothing outside otadata changes; state and label bytes are kept; `erase`
# blanks otadata so factory (or ota_0) boots; `read` prints what the reference otadata reader
# printed for a real otadata image; refusals, --help and error lines. otatool's algorithm itself
# is checked against a reference model over 2..16 slots in tests/unit/test_otadata.c.
set -u

. "$(dirname "$0")/lib.bash"
VECTORS=${OTAKIT_VECTORS:-}
tmp=$WORK

# otatool.py's CRC of an entry: binascii.crc32(le32(seq), 0xFFFFFFFF) (spec section 2.2).
declare -A CRC=([1]=0x4743989A [3]=0xED4A5011 [5]=0xC8210FCD [16]=0xAFE6A860 [17]=0x175ACF05
    [4294967294]=0x99F8B879)

le32() { # the printf escapes of the 4 little-endian bytes of $1
    printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) \
        $(($1 >> 24 & 255))
}
# put32 FILE OFFSET VALUE: writes VALUE little-endian at OFFSET.
put32() {
    # shellcheck disable=SC2059
    printf "$(le32 "$3")" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
get32() { od -An -tu4 -j "$2" -N4 "$1" | tr -d ' '; } # (little-endian host)
ff_file() { head -c "$2" /dev/zero | tr '\0' '\377' >"$1"; }

# --- images ---------------------------------------------------------------------------------
head -c 2000 /dev/urandom >"$tmp/payload"
"$OTAKIT" image pack -o "$tmp/boot.bin" --bootloader --chip esp32 --build-time 0 || exit 1
"$OTAKIT" image pack -o "$tmp/factory.bin" --app --chip esp32 --payload "$tmp/payload" \
    --project demo --project-ver factory --build-time 0 || exit 1
for k in 0 1 2 15; do
    "$OTAKIT" image pack -o "$tmp/app$k.bin" --app --chip esp32 --payload "$tmp/payload" \
        --project demo --project-ver "slot$k" --build-time 0 || exit 1
done

# --- help -------------------------------------------------------------------------------------
for sub in read erase switch; do
    run otadata "$sub" --help
    expect_eq "otadata $sub --help status" "$rc" 0
    case $out in "usage: otakit otadata $sub"*) ok ;; *) bad "otadata $sub --help: $out" ;; esac
done
run otadata --help
expect_eq "otadata --help status" "$rc" 0

# A table with a factory app and N OTA slots of 128 KiB, and a flash with the packed apps in
# their slots (slots without an image stay erased).
make_flash() { # FLASH N [nofactory]
    local f=$1 n=$2 k args=()
    {
        echo "nvs,      data, nvs,     ,  0x4000,"
        echo "otadata,  data, ota,     ,  0x2000,"
        [ "${3:-}" = nofactory ] || echo "factory,  app,  factory, ,  128K,"
        for k in $(seq 0 $((n - 1))); do echo "ota_$k,    app,  ota_$k,   ,  128K,"; done
    } >"$tmp/t$n.csv"
    [ "${3:-}" = nofactory ] || args+=(--app "factory=$tmp/factory.bin")
    for k in $(seq 0 $((n - 1))); do
        [ -f "$tmp/app$k.bin" ] && args+=(--app "ota_$k=$tmp/app$k.bin")
    done
    "$OTAKIT" flash create "$f" --size 4MB --table "$tmp/t$n.csv" --bootloader "$tmp/boot.bin" \
        "${args[@]}" >/dev/null
}
OD=$((0xD000)) # the otadata partition in these tables
OD_LEN=$((0x2000))

# switch_to FLASH N HOW SLOT COPY SEQ: `otadata switch FLASH --HOW ...` to SLOT must write SEQ
# (with its CRC) into otadata copy COPY, leave the other copy and everything outside otadata as
# they were, and make the bootloader select and boot ota_SLOT.
switch_to() {
    local f=$1 n=$2 how=$3 slot=$4 copy=$5 seq=$6 what="N=$2: switch to ota_$4"
    cp "$f" "$tmp/before.bin"
    dd if="$f" of="$tmp/exp" bs=4096 skip=$((OD / 4096)) count=2 status=none
    put32 "$tmp/exp" $((copy * 4096)) "$seq"
    put32 "$tmp/exp" $((copy * 4096 + 28)) "${CRC[$seq]}"
    if [ "$how" = name ]; then
        run otadata switch "$f" --name "ota_$slot"
    else
        run otadata switch "$f" --slot "$slot"
    fi
    expect_eq "$what: status" "$rc" 0
    expect_has "$what: copy written" "$out" "otadata copy $copy: "
    expect_has "$what: selection" "$out" "bootloader would select: ota_$slot"
    dd if="$f" of="$tmp/got" bs=4096 skip=$((OD / 4096)) count=2 status=none
    cmp -s "$tmp/got" "$tmp/exp" && ok || bad "$what: otadata bytes differ from otatool's"
    same_outside "$f" "$tmp/before.bin" $OD $OD_LEN && ok ||
        bad "$what: bytes outside otadata changed"
    local keep
    keep=$(sha "$f")
    run flash info "$f"
    expect_eq "$what: info status" "$rc" 0
    expect_has "$what: info boots the slot" "$out" "Boots: ota_$slot (partition ota_$slot @"
    expect_has "$what: info image" "$out" "image verified: demo slot$slot"
    expect_eq "$what: info wrote nothing" "$(sha "$f")" "$keep"
}

# --- switch: three table sizes ------------------------------------------------------------
# 3 slots from blank otadata: seq 1 into copy 0; then slot 2 -> seq 3 (the next seq above 1 that
# is 2 mod 3) into copy 1; then slot 1 -> seq 5 into copy 0; slot 1 again (already active) ->
# an equal seq 5 into copy 1, which loses the tie to copy 0 and still boots ota_1.
F3=$tmp/f3.bin
make_flash "$F3" 3 || fail "N=3: flash create"
switch_to "$F3" 3 slot 0 0 1
switch_to "$F3" 3 name 2 1 3
switch_to "$F3" 3 slot 1 0 5
switch_to "$F3" 3 name 1 1 5
# 2 slots: ota_0 from blank is seq 1 into copy 0; ota_0 again is an equal seq 1 into copy 1.
F2=$tmp/f2.bin
make_flash "$F2" 2 || fail "N=2: flash create"
switch_to "$F2" 2 name 0 0 1
switch_to "$F2" 2 slot 0 1 1
# 16 slots: the last slot from blank is seq 16; back to ota_0 is seq 17.
F16=$tmp/f16.bin
make_flash "$F16" 16 || fail "N=16: flash create"
switch_to "$F16" 16 name 15 0 16
switch_to "$F16" 16 slot 0 1 17

# --- erase: blank otadata, factory boots; without factory, ota_0 --------------------------------
F=$F3
cp "$F" "$tmp/before.bin"
run otadata erase "$F"
expect_eq "erase status" "$rc" 0
expect_has "erase message" "$out" "Erased ota_data partition contents"
all_ff "$F" $OD $OD_LEN && ok || bad "erase: otadata not blank"
same_outside "$F" "$tmp/before.bin" $OD $OD_LEN && ok || bad "erase: bytes outside otadata changed"
run flash info "$F"
expect_has "after erase: selection" "$out" "bootloader would select: factory (no valid otadata entry)"
expect_has "after erase: boots factory" "$out" "Boots: factory (partition factory @0x10000"

F=$tmp/nf.bin
make_flash "$F" 3 nofactory || bad "no-factory flash create failed"
run otadata switch "$F" --slot 2
expect_has "no factory: switch" "$out" "bootloader would select: ota_2"
run flash info "$F"
expect_has "no factory: boots ota_2" "$out" "Boots: ota_2 (partition ota_2 @"
run otadata erase "$F"
expect_eq "no factory: erase" "$rc" 0
run flash info "$F"
expect_has "no factory, erased: log" "$out" "I boot: No factory image, trying OTA 0"
expect_has "no factory, erased: boots ota_0" "$out" "Boots: ota_0 (partition ota_0 @0x10000"
run otadata read "$F"
expect_has "no factory, erased: read" "$out" "bootloader would select: ota_0 (no valid otadata entry, no factory app)"

# --- switch keeps state and label bytes; the state is not looked at ----------------------------
# Copy 0: seq 1, label 'A' x 20, state VALID; copy 1: seq 5, label 'B' x 20, state ABORTED.
# otatool takes copy 1 as the base (ABORTED, but valid for otatool): slot 0 of 2 above seq 5 is
# seq 5 again, written into copy 0 with copy 0's label and state kept.
ff_file "$tmp/crafted" $OD_LEN
put32 "$tmp/crafted" 0 1
printf 'AAAAAAAAAAAAAAAAAAAA' | dd of="$tmp/crafted" bs=1 seek=4 conv=notrunc status=none
put32 "$tmp/crafted" 24 2
put32 "$tmp/crafted" 28 "${CRC[1]}"
put32 "$tmp/crafted" 4096 5
printf 'BBBBBBBBBBBBBBBBBBBB' | dd of="$tmp/crafted" bs=1 seek=4100 conv=notrunc status=none
put32 "$tmp/crafted" $((4096 + 24)) 4
put32 "$tmp/crafted" $((4096 + 28)) "${CRC[5]}"
F=$tmp/c.bin
make_flash "$F" 2 && "$OTAKIT" flash write-partition "$F" --name otadata "$tmp/crafted" >/dev/null ||
    bad "crafted otadata: set-up failed"
cp "$tmp/crafted" "$tmp/exp"
put32 "$tmp/exp" 0 5
put32 "$tmp/exp" 28 "${CRC[5]}"
run otadata switch "$F" --slot 0
expect_eq "crafted: switch" "$rc" 0
expect_has "crafted: copy 0 written" "$out" "otadata copy 0: "
dd if="$F" of="$tmp/got" bs=4096 skip=$((OD / 4096)) count=2 status=none
cmp -s "$tmp/got" "$tmp/exp" && ok || bad "crafted: otadata bytes differ from otatool's"
expect_eq "crafted: label kept" "$(od -An -c -j 4 -N 3 "$tmp/got" | tr -d ' ')" AAA
expect_eq "crafted: state kept" "$(get32 "$tmp/got" 24)" 2
run otadata read "$F"
expect_has "crafted: copy 1 aborted" "$out" \
    "copy 1: ota_seq=0x00000005 (5) ota_state=0x00000004 ABORTED        crc=0xc8210fcd computed=0xc8210fcd crc_ok=yes -> invalid"
expect_has "crafted: copy 0 valid" "$out" \
    "copy 0: ota_seq=0x00000005 (5) ota_state=0x00000002 VALID          crc=0xc8210fcd computed=0xc8210fcd crc_ok=yes -> VALID"
# otatool.py read_otadata's two lines, first: '{:8s}' headers and '0x{:08x}' fields
expect_eq "crafted: otatool's lines" "$(printf '%s\n' "$out" | head -n 2)" \
    "$(printf '             %-8s \t  %-8s | \t  %-8s \t   %-8s\nFirmware:  0x%08x \t0x%08x | \t0x%08x \t 0x%08x' \
        OTA_SEQ CRC OTA_SEQ CRC 5 $((0xc8210fcd)) 5 $((0xc8210fcd)))"
expect_has "crafted: zero-padded fields" "$out" "Firmware:  0x00000005 	0xc8210fcd | 	0x00000005 	 0xc8210fcd"

# --- refusals: nothing changes ------------------------------------------------------------
# A sequence number that would reach 0xFFFFFFFF (ESP-IDF would wrap; otakit refuses).
ff_file "$tmp/high" $OD_LEN
put32 "$tmp/high" 0 4294967294
put32 "$tmp/high" 28 "${CRC[4294967294]}"
"$OTAKIT" flash write-partition "$F" --name otadata "$tmp/high" >/dev/null || bad "high: set-up"
keep=$(sha "$F")
od_fails() { # what status reason args...
    local what=$1 status=$2 reason=$3
    shift 3
    expect_error "$what" "$status" "$reason" "$@"
    expect_eq "$what: flash untouched" "$(sha "$F")" "$keep"
}
od_fails "sequence number exhausted" 1 "cannot be advanced to slot 0" otadata switch "$F" --slot 0
od_fails "slot beyond the OTA partitions" 1 "Partition to switch to not found" \
    otadata switch "$F" --slot 2
od_fails "unknown name" 1 "Partition to switch to not found" otadata switch "$F" --name factory
od_fails "slot and name" 2 "--slot OR --name" otadata switch "$F" --slot 0 --name ota_0
od_fails "no target" 2 "--slot OR --name" otadata switch "$F"
od_fails "slot 16" 2 "not an OTA slot 0..15" otadata switch "$F" --slot 16
od_fails "bad offset" 2 "not a non-zero multiple of 0x1000" otadata read "$F" --offset 0x8100
od_fails "no table there" 1 "partition table at 0x9000" otadata erase "$F" --offset 0x9000
od_fails "no FLASH" 2 "FLASH missing" otadata read
od_fails "missing flash file" 1 "$tmp/none.bin" otadata read "$tmp/none.bin"
"$OTAKIT" flash create "$tmp/single.bin" --size 2MB --table singleapp --bootloader "$tmp/boot.bin" \
    --app "$tmp/factory.bin" >/dev/null || bad "singleapp flash"
expect_error "no otadata partition" 1 "No otadata partition found" \
    otadata switch "$tmp/single.bin" --slot 0
expect_error "no otadata partition (read)" 1 "No otadata partition found" \
    otadata read "$tmp/single.bin"
expect_error "no otadata partition (erase)" 1 "No otadata partition found" \
    otadata erase "$tmp/single.bin"
# --- a real otadata image against the reference reader's output ------------------------------
V65=${VECTORS:+$VECTORS/intechstudio__knot/fe3a5181a9/Firmware/bootloader/otadata_boot_from_ota0.bin}
if [ -n "$V65" ] && [ -f "$V65" ] && [ -f "$VECTORS/info/65.txt" ]; then
    # The table the reference read it with (as listed in info/65.txt).
    cat >"$tmp/knot.csv" <<'EOF'
nvs,     data, nvs,     0x9000,   0x5000,
otadata, data, ota,     0xe000,   0x2000,
ota_0,   app,  ota_0,   0x10000,  0x200000,
ota_1,   app,  ota_1,   0x210000, 0x200000,
uf2,     app,  factory, 0x410000, 0x40000,
ffat,    data, fat,     0x450000, 0x3b0000,
EOF
    run flash create "$tmp/knot.bin" --size 8MB --table "$tmp/knot.csv" \
        --bootloader "$tmp/boot.bin" --part otadata="$V65"
    expect_eq "vector 65: create" "$rc" 0
    run otadata read "$tmp/knot.bin"
    expect_eq "vector 65: read" "$rc" 0
    grep -E '^  copy |^active copy|^OTA app partitions|^bootloader would select|^  -> ' \
        "$VECTORS/info/65.txt" >"$tmp/want65"
    while IFS= read -r line; do
        expect_has "vector 65: info/65.txt line" "$out" "$line"
    done <"$tmp/want65"
    expect_eq "vector 65: reference lines read" "$(wc -l <"$tmp/want65" | tr -d ' ')" 6
else
    echo "note: shared vectors absent; the real otadata check is skipped" >&2
fi

echo "otadata.sh: $CHECKS passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
