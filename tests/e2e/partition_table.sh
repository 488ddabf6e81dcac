#!/usr/bin/env bash
# otakit partition-table, end to end: the built-in tables to binary (SHA-256 from the spec),
# binary to CSV for the shared vectors against what gen_esp32part.py printed, round trips,
# standard input and output, warnings, and errors (exit status, a single line, no output file).
set -u

. "$(dirname "$0")/lib.bash"
VECTORS=${OTAKIT_VECTORS:-}
tmp=$WORK

# This script's run and expect_error (in place of lib.bash's): the partition-table subcommand is
# implied, and an error also leaves stdout empty.
run() {
    "$OTAKIT" partition-table "$@" >"$tmp/stdout" 2>"$tmp/stderr"
    rc=$?
    out=$(cat "$tmp/stdout")
    err=$(cat "$tmp/stderr")
}

expect_error() { # what status reason args...
    local what=$1 status=$2 reason=$3
    shift 3
    run "$@"
    expect_eq "$what: exit status" "$rc" "$status"
    expect_eq "$what: stderr lines" "$(wc -l <"$tmp/stderr" | tr -d ' ')" 1
    expect_eq "$what: stdout" "$(wc -c <"$tmp/stdout" | tr -d ' ')" 0
    case $err in
    "otakit"*"$reason"*) ok ;;
    *) bad "$what: stderr '$err' lacks '$reason'" ;;
    esac
}

# --- help ------------------------------------------------------------------------------------
run --help
expect_eq "--help status" "$rc" 0
case $out in "usage: otakit partition-table"*) ok ;; *) bad "--help text: $out" ;; esac

# --- the built-in tables, written as ESP-IDF ships them ----------------------------------------
cat >"$tmp/singleapp.csv" <<'EOF'
# Name,   Type, SubType, Offset,  Size, Flags
# Note: if you have increased the bootloader size, make sure to update the offsets to avoid overlap
nvs,      data, nvs,     ,        0x6000,
phy_init, data, phy,     ,        0x1000,
factory,  app,  factory, ,        1M,
EOF
cat >"$tmp/two_ota.csv" <<'EOF'
# Name,   Type, SubType, Offset,   Size, Flags
# Note: if you have increased the bootloader size, make sure to update the offsets to avoid overlap
nvs,      data, nvs,     ,        0x4000,
otadata,  data, ota,     ,        0x2000,
phy_init, data, phy,     ,        0x1000,
factory,  app,  factory, ,        1M,
ota_0,    app,  ota_0,   ,        1M,
ota_1,    app,  ota_1,   ,        1M,
EOF
cat >"$tmp/two_ota_large.csv" <<'EOF'
# Name,   Type, SubType, Offset,   Size, Flags
# Note: if you have increased the bootloader size, make sure to update the offsets to avoid overlap
nvs,      data, nvs,     ,        0x6000,
otadata,  data, ota,     ,        0x2000,
phy_init, data, phy,     ,        0x1000,
ota_0,    app,  ota_0,   ,        1700K,
ota_1,    app,  ota_1,   ,        1700K,
EOF

run "$tmp/singleapp.csv" "$tmp/singleapp.bin"
expect_eq "singleapp status" "$rc" 0
expect_eq "singleapp quiet" "$err" ""
expect_eq "singleapp sha256" "$(sha "$tmp/singleapp.bin")" \
    7f00b6c042a89b15b0cac534f82ed988caf29278ff5700b0c511eb1b5bb7c820
run "$tmp/two_ota.csv" "$tmp/two_ota.bin"
expect_eq "two_ota status" "$rc" 0
expect_eq "two_ota sha256" "$(sha "$tmp/two_ota.bin")" \
    d1c0e9d02fa9d26cd2e1984e7b5dd20157204f501ddc83ce82229e5f3175ee8b
expect_eq "two_ota size" "$(wc -c <"$tmp/two_ota.bin" | tr -d ' ')" 3072
run "$tmp/two_ota_large.csv" "$tmp/two_ota_large.bin"
expect_eq "two_ota_large status" "$rc" 0
expect_eq "two_ota_large MD5 row" "$(hexat "$tmp/two_ota_large.bin" 0xA0 2)" ebeb
expect_eq "two_ota_large MD5 digest" "$(hexat "$tmp/two_ota_large.bin" 0xB0 16)" \
    37f38b32a34f7412f158930062441178

# The command's own copies of the built-in tables give the same bytes.
for name in singleapp two_ota two_ota_large; do
    "$OTAKIT" partition-table --print-builtin "$name" >"$tmp/$name.builtin.csv"
    expect_eq "--print-builtin $name" "$?" 0
    "$OTAKIT" partition-table "$tmp/$name.builtin.csv" "$tmp/$name.builtin.bin"
    if cmp -s "$tmp/$name.bin" "$tmp/$name.builtin.bin"; then ok; else bad "$name built-in copy"; fi
done

# Binary to CSV on standard output, and back.
run "$tmp/two_ota.bin"
expect_eq "two_ota to CSV status" "$rc" 0
expect_eq "two_ota to CSV" "$out" "# ESP-IDF Partition Table
# Name, Type, SubType, Offset, Size, Flags
nvs,data,nvs,0x9000,16K,
otadata,data,ota,0xd000,8K,
phy_init,data,phy,0xf000,4K,
factory,app,factory,0x10000,1M,
ota_0,app,ota_0,0x110000,1M,
ota_1,app,ota_1,0x210000,1M,"
"$OTAKIT" partition-table "$tmp/two_ota.bin" - >"$tmp/back.csv"
"$OTAKIT" partition-table "$tmp/back.csv" "$tmp/back.bin"
if cmp -s "$tmp/two_ota.bin" "$tmp/back.bin"; then ok; else bad "two_ota round trip"; fi

# Standard input, and binary written to standard output when it is not a terminal.
"$OTAKIT" partition-table - <"$tmp/two_ota.csv" >"$tmp/stdio.bin"
expect_eq "stdin to stdout status" "$?" 0
expect_eq "stdin to stdout sha256" "$(sha "$tmp/stdio.bin")" "$(sha "$tmp/two_ota.bin")"

# The output directory is created as needed.
run "$tmp/singleapp.csv" "$tmp/new/dir/table.bin"
expect_eq "nested output status" "$rc" 0
expect_eq "nested output" "$(sha "$tmp/new/dir/table.bin")" "$(sha "$tmp/singleapp.bin")"

# Options: table offset, MD5 off, bootloader rows.
run -o 0x10000 "$tmp/two_ota.csv" "$tmp/moved.bin"
expect_eq "--offset status" "$rc" 0
run --offset=0x10000 "$tmp/moved.bin"
case $out in *$'\n'"nvs,data,nvs,0x11000,16K,"$'\n'*) ok ;; *) bad "--offset placement: $out" ;; esac
run --disable-md5sum "$tmp/two_ota.csv" "$tmp/nomd5.bin"
expect_eq "--disable-md5sum row" "$(hexat "$tmp/nomd5.bin" 0xC0 32)" \
    ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff
cat >"$tmp/boot.csv" <<'EOF'
bootloader,      bootloader,      primary, N/A, N/A,
partition_table, partition_table, primary, N/A, N/A,
nvs,             data,            nvs,     ,    24K,
factory,         app,             factory, ,    1M,
EOF
expect_error "bootloader row without its offset" 2 \
    "Primary bootloader offset is not defined. Please use --primary-bootloader-offset" \
    "$tmp/boot.csv" "$tmp/boot.bin"
run --primary-bootloader-offset 0x1000 "$tmp/boot.csv" "$tmp/boot.bin"
expect_eq "bootloader rows status" "$rc" 0
run "$tmp/boot.bin"
case $out in *"bootloader,bootloader,primary,0x1000,28K,"*"partition_table,partition_table,primary,0x8000,4K,"*) ok ;;
*) bad "bootloader rows: $out" ;; esac

# A warning does not fail.
printf 'app, data, spiffs, , 64K\n' >"$tmp/warn.csv"
run "$tmp/warn.csv" "$tmp/warn.bin"
expect_eq "warning status" "$rc" 0
case $err in *"WARNING: Partition has name 'app' which is a partition type"*) ok ;;
*) bad "warning text: $err" ;; esac
if [ -s "$tmp/warn.bin" ]; then ok; else bad "warning: no output"; fi

# --- errors ----------------------------------------------------------------------------------
printf 'nvs, data, nvs, , 0x4000\nphy, data, phy, 0xC000, 0x1000\n' >"$tmp/overlap.csv"
expect_error "overlap" 2 "CSV Error at line 2: Partitions overlap" "$tmp/overlap.csv" \
    "$tmp/overlap.bin"
if [ -e "$tmp/overlap.bin" ]; then bad "output written on error"; else ok; fi
printf 'nvs, data, nvs, , 0x4000, secret\n' >"$tmp/flag.csv"
expect_error "unknown flag" 2 "Error at line 1: CSV flag column contains unknown flag 'secret'" \
    "$tmp/flag.csv" "$tmp/flag.bin"
expect_error "flash size" 2 "does not fit in configured flash size 2MB" --flash-size 2MB \
    "$tmp/two_ota.csv" "$tmp/fs.bin"
expect_error "missing input" 1 "cannot open" "$tmp/no-such.csv" "$tmp/x.bin"
expect_error "no arguments" 2 "missing input file"
expect_error "unknown option" 2 "unknown option '--bogus'" --bogus "$tmp/two_ota.csv"
expect_error "bad offset" 2 "--offset needs a number" --offset 12q "$tmp/two_ota.csv"
expect_error "bad flash size" 2 "invalid choice '3MB'" --flash-size=3MB "$tmp/two_ota.csv"
expect_error "MD5 row with MD5 off" 2 "Invalid magic bytes (b'\\xeb\\xeb')" --disable-md5sum \
    "$tmp/two_ota.bin"

# --- the shared vectors (skipped when absent) -------------------------------------------------
if [ -n "$VECTORS" ] && [ -f "$VECTORS/MANIFEST.md" ]; then
    # The CSV lines gen_esp32part.py printed for row $1 (info/$1.txt).
    info_csv() {
        sed -n '/^# ESP-IDF Partition Table$/,/^Parsing binary partition input/p' \
            "$VECTORS/info/$1.txt" | sed '$d'
    }
    for row in \
        "11 espressif__esptool/c233552aaf/0x8000_partitions.bin" \
        "30 espressif__esp-serial-flasher/a3717b8268/example/spiffs_image/partition-table.bin" \
        "33 espressif__esp-idf/fc72712b10/components/partition_table/test_gen_esp32part_host/partitions.bin" \
        "58 charlie-x__ESP32_Alexa/1cb6b9da78/partitions.bin"; do
        nn=${row%% *}
        file=$VECTORS/${row#* }
        run "$file" "$tmp/v$nn.csv"
        expect_eq "row $nn status" "$rc" 0
        expect_eq "row $nn quiet" "$err" ""
        expect_eq "row $nn CSV" "$(cat "$tmp/v$nn.csv")" "$(info_csv "$nn")"
        md5=
        if [ "$nn" = 58 ]; then md5=--disable-md5sum; fi
        run $md5 "$tmp/v$nn.csv" "$tmp/v$nn.bin"
        expect_eq "row $nn back to binary" "$rc" 0
        if cmp -s "$file" "$tmp/v$nn.bin"; then ok; else bad "row $nn round trip bytes"; fi
    done
    row8=$VECTORS/espressif__esptool/c859e47d46/test/images/partitions_singleapp.bin
    expect_error "row 8" 2 "Partition table is missing an end-of-table marker" "$row8"
    expect_error "row 8 --no-verify" 2 "Partition table is missing an end-of-table marker" \
        --no-verify "$row8" "$tmp/v8.csv"
    if [ -e "$tmp/v8.csv" ]; then bad "row 8 output written"; else ok; fi
else
    echo "shared vectors absent: vector checks skipped"
fi

echo "$CHECKS passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
