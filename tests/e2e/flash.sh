#!/usr/bin/env bash
# otakit flash, end to end: create (byte layout of what idf.py flash writes, refusals with the
# output left untouched), info (what boots, read-only), read/write/erase-partition (round trips,
# refusals, no byte outside the target partition changes), a flash built from real ESP-IDF
# binaries against what an otadata reader printed for them, --help and error lines.
# ctest-parts: create partitions
set -u

. "$(dirname "$0")/lib.bash"
VECTORS=${OTAKIT_VECTORS:-}
tmp=$WORK

expect_lacks() { # what text needle
    case $2 in *"$3"*) bad "$1: output has '$3'" ;; *) ok ;; esac
}
fsize() { stat -c %s "$1"; }

# --- images ------------------------------------------------------------------------------------
head -c 3000 /dev/urandom >"$tmp/payload"
head -c 5000 /dev/urandom >"$tmp/nvs.bin"
"$OTAKIT" image pack -o "$tmp/boot.bin" --bootloader --chip esp32 --build-time 0 || exit 1
"$OTAKIT" image pack -o "$tmp/app1.bin" --app --chip esp32 --payload "$tmp/payload" \
    --project demo --project-ver v1 --build-time 0 || exit 1
"$OTAKIT" image pack -o "$tmp/app2.bin" --app --chip esp32 --payload "$tmp/payload" \
    --project demo --project-ver v2 --build-time 0 || exit 1
"$OTAKIT" image pack -o "$tmp/app_c3.bin" --app --chip esp32c3 --payload "$tmp/payload" \
    --build-time 0 || exit 1
"$OTAKIT" image pack -o "$tmp/boot_c3.bin" --bootloader --chip esp32c3 --build-time 0 || exit 1
cat >"$tmp/two_ota.csv" <<'EOF'
nvs,      data, nvs,     ,        0x4000,
otadata,  data, ota,     ,        0x2000,
phy_init, data, phy,     ,        0x1000,
factory,  app,  factory, ,        1M,
ota_0,    app,  ota_0,   ,        1M,
ota_1,    app,  ota_1,   ,        1M,
EOF

if part create; then
# --- help ------------------------------------------------------------------------------------
for sub in create info read-partition write-partition erase-partition; do
    run flash "$sub" --help
    expect_eq "flash $sub --help status" "$rc" 0
    case $out in "usage: otakit flash $sub"*) ok ;; *) bad "flash $sub --help: $out" ;; esac
done
run flash --help
expect_eq "flash --help status" "$rc" 0
expect_has "flash --help" "$out" "write-partition"

# --- create: the layout idf.py flash leaves ----------------------------------------------------
F=$tmp/flash.bin
run flash create "$F" --size 4MB --table two_ota --bootloader "$tmp/boot.bin" --app "$tmp/app1.bin"
expect_eq "create status" "$rc" 0
expect_eq "create stderr" "$err" ""
expect_eq "flash size" "$(fsize "$F")" 4194304
all_ff "$F" 0 4096 && ok || bad "bytes below the ESP32 bootloader offset are not erased"
cmp -s -i 0:4096 -n "$(fsize "$tmp/boot.bin")" "$tmp/boot.bin" "$F" && ok ||
    bad "bootloader not at 0x1000"
bl_end=$((4096 + $(fsize "$tmp/boot.bin")))
all_ff "$F" "$bl_end" $((0x8000 - bl_end)) && ok || bad "bootloader region not erased after it"
# The two_ota table: the spec's SHA-256 of the generator's 3072-byte binary.
dd if="$F" of="$tmp/table.bin" bs=1 skip=$((0x8000)) count=3072 status=none
expect_eq "table SHA-256" "$(sha "$tmp/table.bin")" \
    d1c0e9d02fa9d26cd2e1984e7b5dd20157204f501ddc83ce82229e5f3175ee8b
all_ff "$F" $((0x8C00)) $((0x400)) && ok || bad "table sector tail not erased"
all_ff "$F" $((0xD000)) $((0x2000)) && ok || bad "otadata not blank"
cmp -s -i 0:$((0x10000)) -n "$(fsize "$tmp/app1.bin")" "$tmp/app1.bin" "$F" && ok ||
    bad "app not at factory (0x10000)"
app_end=$((0x10000 + $(fsize "$tmp/app1.bin")))
all_ff "$F" "$app_end" $((0x410000 - app_end)) && ok ||
    bad "flash after the app not erased"
expect_has "create summary" "$out" "0x00010000  factory"

# --- info: factory boots; nothing is written -------------------------------------------------
before=$(sha "$F")
run flash info "$F"
expect_eq "info status" "$rc" 0
expect_has "info chip" "$out" "Chip: ESP32 (from the bootloader image)"
expect_has "info bootloader" "$out" "ESP-IDF v5.5-otakit, version 1"
expect_has "info table" "$out" " 3 factory          factory app      00 00 00010000 00100000"
expect_has "info table md5" "$out" "MD5 row present and correct"
expect_has "info apps" "$out" "factory          @0x010000: valid; demo v1"
expect_has "info empty slot" "$out" "ota_0            @0x110000: empty (erased)"
expect_has "info otadata copy 0" "$out" \
    "copy 0: ota_seq=0xffffffff (4294967295) ota_state=0xffffffff UNDEFINED      crc=0xffffffff computed=0x2144df1c crc_ok=NO (erased) -> invalid"
expect_has "info selection" "$out" "bootloader would select: factory"
expect_has "info log" "$out" "I boot: Defaulting to factory image"
expect_has "info boots" "$out" "Boots: factory (partition factory @0x10000 size 0x100000), image verified: demo v1"
expect_eq "info leaves the flash alone" "$(sha "$F")" "$before"

# A bootloader that names its table offset: create and info follow it.
cat >"$tmp/sdk_boot" <<'EOF'
CONFIG_PARTITION_TABLE_OFFSET=0x10000
CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE=y
EOF
"$OTAKIT" image pack -o "$tmp/boot_t.bin" --bootloader --chip esp32 --sdkconfig "$tmp/sdk_boot" \
    --build-time 0 || exit 1
run flash create "$tmp/t.bin" --size 4MB --table two_ota --bootloader "$tmp/boot_t.bin" \
    --app "$tmp/app1.bin"
expect_eq "create at the bootloader's offset" "$rc" 0
expect_has "create at the bootloader's offset: summary" "$out" "partition table at 0x10000"
expect_eq "table at 0x10000" "$(hexat "$tmp/t.bin" $((0x10000)) 2)" aa50
run flash info "$tmp/t.bin"
expect_eq "info, table at 0x10000" "$rc" 0
expect_has "info config" "$out" "(its sdkconfig): table at 0x10000, rollback on"
expect_has "info boots factory at 0x20000" "$out" "Boots: factory (partition factory @0x20000"
expect_error "--offset against the bootloader" 1 "CONFIG_PARTITION_TABLE_OFFSET" \
    flash create "$tmp/t2.bin" --size 4MB --table two_ota --bootloader "$tmp/boot_t.bin" \
    --offset 0x8000
run flash create "$tmp/t2.bin" --size 4MB --table two_ota --bootloader "$tmp/boot_t.bin" \
    --offset 0x8000 --force
expect_eq "--offset against the bootloader with --force" "$rc" 0

# No factory: the default app partition is ota_0, which boots and gets seq 1 (in the copy only).
run flash create "$tmp/nf.bin" --size 4MB --table two_ota_large --bootloader "$tmp/boot.bin" \
    --app "$tmp/app2.bin"
expect_eq "create two_ota_large" "$rc" 0
cmp -s -i 0:$((0x20000)) -n "$(fsize "$tmp/app2.bin")" "$tmp/app2.bin" "$tmp/nf.bin" && ok ||
    bad "app not in ota_0 (0x20000)"
before=$(sha "$tmp/nf.bin")
run flash info "$tmp/nf.bin"
expect_eq "info no factory" "$rc" 0
expect_has "info no factory: selection" "$out" "bootloader would select: ota_0 (no valid otadata entry, no factory app)"
expect_has "info no factory: log" "$out" "I boot: No factory image, trying OTA 0"
expect_has "info no factory: set_actual_ota_seq" "$out" "I boot: Set actual ota_seq=1 in otadata[0]"
expect_has "info no factory: otadata rewrite" "$out" "This boot rewrites otadata to:"
expect_has "info no factory: boots" "$out" "Boots: ota_0 (partition ota_0 @0x20000 size 0x1a9000), image verified: demo v2"
expect_eq "info no factory leaves the flash alone" "$(sha "$tmp/nf.bin")" "$before"

# Two apps and raw data, by name; the table from a CSV file.
run flash create "$tmp/b.bin" --size 4MB --table "$tmp/two_ota.csv" --bootloader "$tmp/boot.bin" \
    --app factory="$tmp/app1.bin" --app ota_1="$tmp/app2.bin" --part nvs="$tmp/nvs.bin"
expect_eq "create with names" "$rc" 0
cmp -s -i 0:$((0x210000)) -n "$(fsize "$tmp/app2.bin")" "$tmp/app2.bin" "$tmp/b.bin" && ok ||
    bad "app2 not in ota_1"
cmp -s -i 0:$((0x9000)) -n 5000 "$tmp/nvs.bin" "$tmp/b.bin" && ok || bad "nvs data not at 0x9000"
all_ff "$tmp/b.bin" $((0x9000 + 5000)) $((0x4000 - 5000)) && ok || bad "nvs tail not erased"

# --- create: refusals leave OUT untouched ------------------------------------------------------
cp "$F" "$tmp/keep.bin"
keep=$(sha "$tmp/keep.bin")
create_fails() { # what status reason args...
    local what=$1 status=$2 reason=$3
    shift 3
    expect_error "$what" "$status" "$reason" flash create "$tmp/keep.bin" "$@"
    expect_eq "$what: output untouched" "$(sha "$tmp/keep.bin")" "$keep"
}
head -c $((0x4001)) /dev/zero >"$tmp/big"
create_fails "file larger than its partition" 1 "do not fit partition 'nvs'" \
    --size 4MB --table two_ota --bootloader "$tmp/boot.bin" --part nvs="$tmp/big"
{ cat "$tmp/boot.bin"; head -c $((0x7001 - $(fsize "$tmp/boot.bin"))) /dev/zero; } >"$tmp/bigboot"
create_fails "bootloader too large" 1 "do not fit below the partition table" \
    --size 4MB --table two_ota --bootloader "$tmp/bigboot"
create_fails "unknown partition" 1 "no partition named 'nope'" \
    --size 4MB --table two_ota --bootloader "$tmp/boot.bin" --part nope="$tmp/nvs.bin"
create_fails "app for another chip" 1 "an app for ESP32-C3, the flash is for ESP32" \
    --size 4MB --table two_ota --bootloader "$tmp/boot.bin" --app "$tmp/app_c3.bin"
create_fails "--chip against the bootloader" 1 "a bootloader for ESP32, not for ESP32-C3" \
    --size 4MB --table two_ota --bootloader "$tmp/boot.bin" --chip esp32c3
create_fails "app in a data partition" 1 "partition 'nvs' is not an app partition" \
    --size 4MB --table two_ota --bootloader "$tmp/boot.bin" --app nvs="$tmp/app1.bin"
create_fails "partition given twice" 1 "partition 'factory' is already given" \
    --size 4MB --table two_ota --bootloader "$tmp/boot.bin" --app "$tmp/app1.bin" \
    --app factory="$tmp/app2.bin"
create_fails "table beyond the flash" 1 "does not fit in configured flash size 2MB" \
    --size 2MB --table two_ota --bootloader "$tmp/boot.bin"
create_fails "not an app image" 1 "not an app image" \
    --size 4MB --table two_ota --bootloader "$tmp/boot.bin" --app "$tmp/nvs.bin"
create_fails "bootloader not an image" 1 "not an ESP image" \
    --size 4MB --table two_ota --bootloader "$tmp/nvs.bin"
# A corrupted app (one byte in the payload): the verifier's hash check refuses it.
cp "$tmp/app1.bin" "$tmp/bad.bin"
printf '\x5a' | dd of="$tmp/bad.bin" bs=1 seek=$(($(fsize "$tmp/bad.bin") - 100)) conv=notrunc \
    status=none
create_fails "corrupted app" 1 "not a valid ESP32 app image in partition 'factory'" \
    --size 4MB --table two_ota --bootloader "$tmp/boot.bin" --app "$tmp/bad.bin"
run flash create "$tmp/forced.bin" --size 4MB --table two_ota --bootloader "$tmp/boot.bin" \
    --app "$tmp/bad.bin" --force
expect_eq "corrupted app with --force" "$rc" 0
run flash info "$tmp/forced.bin"
expect_eq "info: nothing bootable" "$rc" 1
expect_has "info: the invalid app" "$out" "factory          @0x010000: invalid:"
case $err in "otakit: flash info: $tmp/forced.bin: nothing boots"*) ok ;; *) bad "info error: $err" ;; esac
expect_error "bad --size" 2 "--size '3MB'" \
    flash create "$tmp/keep.bin" --size 3MB --table two_ota --bootloader "$tmp/boot.bin"
expect_error "missing --bootloader" 2 "--bootloader missing" \
    flash create "$tmp/keep.bin" --size 4MB --table two_ota
expect_error "unreadable bootloader" 1 "$tmp/none.bin" \
    flash create "$tmp/keep.bin" --size 4MB --table two_ota --bootloader "$tmp/none.bin"
expect_eq "refusals leave no temporary files" "$(ls "$tmp" | grep -c 'tmp')" 0
run flash create "$tmp/c3.bin" --size 2MB --table singleapp --bootloader "$tmp/boot_c3.bin" \
    --app "$tmp/app_c3.bin"
expect_eq "ESP32-C3 flash" "$rc" 0
cmp -s -n "$(fsize "$tmp/boot_c3.bin")" "$tmp/boot_c3.bin" "$tmp/c3.bin" && ok ||
    bad "ESP32-C3 bootloader not at 0x0"
run flash info "$tmp/c3.bin"
expect_has "ESP32-C3 info" "$out" "Boots: factory (partition factory @0x10000"

# --- info: an invalid table -----------------------------------------------------------------
cp "$F" "$tmp/badtable.bin"
printf '\x00' | dd of="$tmp/badtable.bin" bs=1 seek=$((0x8000)) conv=notrunc status=none
run flash info "$tmp/badtable.bin"
expect_eq "info, bad table: status" "$rc" 1
expect_has "info, bad table: stdout" "$out" "Partition table at 0x8000: invalid:"
expect_eq "info, bad table: error line" "$err" \
    "otakit: flash info: $tmp/badtable.bin: partition table at 0x8000: partition 0 invalid magic number 0x5000"
expect_error "info, not a flash size" 1 "" flash info "$tmp/nvs.bin"
expect_error "info, missing file" 1 "$tmp/missing.bin" flash info "$tmp/missing.bin"
fi # part create

if part partitions; then
# --- read / write / erase a partition ------------------------------------------------------
cat >"$tmp/parts.csv" <<'EOF'
nvs,      data, nvs,     ,        0x4000,
otadata,  data, ota,     ,        0x2000,
cfg,      data, 0x40,    ,        0x1000, readonly
odd,      data, 0x41,    0x10000, 0x800,
factory,  app,  factory, 0x20000, 1M,
ota_0,    app,  ota_0,   ,        1M,
EOF
P=$tmp/p.bin
run flash create "$P" --size 4MB --table "$tmp/parts.csv" --bootloader "$tmp/boot.bin" \
    --app "$tmp/app1.bin" --part cfg="$tmp/payload"
expect_eq "create with a readonly partition" "$rc" 0

run flash read-partition "$P" --name nvs -o "$tmp/nvs_read"
expect_eq "read nvs" "$rc" 0
expect_eq "read nvs size" "$(fsize "$tmp/nvs_read")" $((0x4000))
all_ff "$tmp/nvs_read" 0 $((0x4000)) && ok || bad "blank nvs does not read as 0xFF"
run flash read-partition "$P" --partition-name cfg --output "$tmp/cfg_read"
cmp -s -n 3000 "$tmp/payload" "$tmp/cfg_read" && ok || bad "read cfg: not the data written"
"$OTAKIT" flash read-partition "$P" --boot-default -o - >"$tmp/fact_read" 2>"$tmp/stderr"
expect_eq "read boot default to stdout: size" "$(fsize "$tmp/fact_read")" $((0x100000))
cmp -s -n "$(fsize "$tmp/app1.bin")" "$tmp/app1.bin" "$tmp/fact_read" && ok ||
    bad "boot default is not the factory app"

# Write: erase then program; the rest erased; nothing outside changes; round trip.
head -c 1000 /dev/urandom >"$tmp/small"
for sel in "--name nvs" "--type data --subtype nvs" "--partition-type data --partition-subtype 2" \
    "-t 1 -s 0x02" "-n nvs"; do
    cp "$P" "$tmp/before.bin"
    # shellcheck disable=SC2086
    run flash write-partition "$P" $sel "$tmp/small"
    expect_eq "write ($sel)" "$rc" 0
    cmp -s -i 0:$((0x9000)) -n 1000 "$tmp/small" "$P" && ok || bad "write ($sel): data"
    all_ff "$P" $((0x9000 + 1000)) $((0x4000 - 1000)) && ok || bad "write ($sel): tail not erased"
    same_outside "$P" "$tmp/before.bin" $((0x9000)) $((0x4000)) && ok ||
        bad "write ($sel): bytes outside nvs changed"
    # shellcheck disable=SC2086
    run flash read-partition "$P" $sel -o "$tmp/rt"
    cmp -s -n 1000 "$tmp/small" "$tmp/rt" && ok || bad "round trip ($sel)"
    head -c 1000 /dev/urandom >"$tmp/small"
done
run flash write-partition "$P" --name nvs --input "$tmp/nvs.bin"
expect_eq "write --input" "$rc" 0
cmp -s -i 0:$((0x9000)) -n 5000 "$tmp/nvs.bin" "$P" && ok || bad "write --input: data"

# Erase: the whole partition and nothing else.
cp "$P" "$tmp/before.bin"
run flash erase-partition "$P" --name nvs
expect_eq "erase nvs" "$rc" 0
all_ff "$P" $((0x9000)) $((0x4000)) && ok || bad "erase nvs: not erased"
same_outside "$P" "$tmp/before.bin" $((0x9000)) $((0x4000)) && ok ||
    bad "erase: bytes outside nvs changed"

# Refusals: nothing changes.
keep=$(sha "$P")
part_fails() { # what status reason args...
    local what=$1 status=$2 reason=$3
    shift 3
    expect_error "$what" "$status" "$reason" "$@"
    expect_eq "$what: flash untouched" "$(sha "$P")" "$keep"
}
head -c $((0x4001)) /dev/urandom >"$tmp/toobig"
part_fails "write too large" 1 "Input file size exceeds partition size" \
    flash write-partition "$P" --name nvs "$tmp/toobig"
part_fails "write readonly" 1 '"cfg" partition is read-only' \
    flash write-partition "$P" --name cfg "$tmp/small"
part_fails "erase readonly" 1 '"cfg" partition is read-only' \
    flash erase-partition "$P" --name cfg
part_fails "write unknown name" 1 "no partition named 'nope'" \
    flash write-partition "$P" --name nope "$tmp/small"
part_fails "erase part of a sector" 1 "does not cover whole 0x1000-byte sectors" \
    flash erase-partition "$P" --name odd
part_fails "unknown subtype keyword" 1 "unknown subtype 'bogus'" \
    flash erase-partition "$P" --type data --subtype bogus
part_fails "no such type/subtype" 1 "no partition of type app subtype ota_1" \
    flash erase-partition "$P" --type app --subtype ota_1
part_fails "no selection" 2 "select the partition" flash erase-partition "$P"
part_fails "two selections" 2 "select the partition" \
    flash erase-partition "$P" --name nvs --boot-default
part_fails "type without subtype" 2 "--subtype is needed" \
    flash erase-partition "$P" --type data
part_fails "write without FILE" 2 "FILE missing" flash write-partition "$P" --name nvs
part_fails "unknown option" 2 "unknown option '--bogus'" \
    flash erase-partition "$P" --name nvs --bogus
part_fails "read-partition without -o" 2 "-o FILE missing" flash read-partition "$P" --name nvs
cp "$P" "$tmp/before.bin"
run flash write-partition "$P" --name cfg --ignore-readonly "$tmp/small"
expect_eq "write readonly with --ignore-readonly" "$rc" 0
same_outside "$P" "$tmp/before.bin" $((0xF000)) $((0x1000)) && ok ||
    bad "readonly write: bytes outside cfg changed"
run flash read-partition "$P" --name odd -o "$tmp/odd"
expect_eq "read a partial-sector partition" "$(fsize "$tmp/odd")" $((0x800))

# --- real ESP-IDF binaries: bootloader, table, Arduino app and boot_app0 otadata ---------------
R=${VECTORS:+$VECTORS/espressif__esptool/c233552aaf}
if [ -n "$R" ] && [ -f "$R/0x1000_bootloader.bin" ] && [ -f "$VECTORS/info/12.txt" ]; then
    run flash create "$tmp/real.bin" --size 4MB --table "$R/0x8000_partitions.bin" \
        --bootloader "$R/0x1000_bootloader.bin" --app app0="$R/0x10000_firmware.bin" \
        --part otadata="$R/0xe000_boot_app0.bin"
    expect_eq "real: create" "$rc" 0
    dd if="$tmp/real.bin" of="$tmp/real_table" bs=1 skip=$((0x8000)) count=3072 status=none
    cmp -s "$tmp/real_table" "$R/0x8000_partitions.bin" && ok ||
        bad "real: table bytes differ from the binary given"
    run flash info "$tmp/real.bin"
    expect_eq "real: info" "$rc" 0
    # Every otadata line the reference reader printed, word for word.
    grep -E '^  copy |^active copy|^OTA app partitions|^bootloader would select|^  -> ' \
        "$VECTORS/info/12.txt" >"$tmp/want12"
    while IFS= read -r line; do
        expect_has "real: vectors/info/12.txt line" "$out" "$line"
    done <"$tmp/want12"
    expect_eq "real: reference lines read" "$(wc -l <"$tmp/want12" | tr -d ' ')" 6
    expect_has "real: boots" "$out" "Boots: ota_0 (partition app0 @0x10000 size 0x300000), image verified: arduino-lib-builder"
else
    echo "note: shared vectors absent; real-binary checks skipped" >&2
fi
fi # part partitions

echo "flash.sh: $CHECKS passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
