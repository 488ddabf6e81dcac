#!/usr/bin/env bash
# Flash encryption (ESP32, development mode) on the board: a chip prepared as ESP-IDF's CI
# prepares it (`otakit flash enable-encryption`, images written with `otakit flash write
# --encrypt`) boots native_ota_example, which updates itself over HTTPS: the new app and the
# otadata are written encrypted and boot. A plaintext flash on that chip does not boot. What the
# board wrote decrypts with espsecure (the espsecure part; skipped without ../shared's esptool).
# Encrypted NVS (the nvs part; skipped without ../shared's nvs_partition_gen.py): the board reads
# a partition nvs_partition_gen.py encrypted with the keys in nvs_keys, and generates keys in a
# blank nvs_keys partition.
# ctest-parts: boot espsecure nvs
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/netlib.bash"

ESPTOOL_DIR=$OTAKIT_SOURCE_DIR/../shared/conformance/esp-idf/components/esptool_py/esptool
PYENV=$OTAKIT_BUILD_DIR/pyenv/bin/python
if only_part espsecure && ! { [ -x "$PYENV" ] && PYTHONPATH=$ESPTOOL_DIR "$PYENV" -c \
    'import espsecure' 2>/dev/null; }; then
    echo "SKIP: espsecure (../shared/conformance's esptool) is not available"
    exit 77
fi
GEN_DIR=$OTAKIT_SOURCE_DIR/../shared/conformance/esp-idf-nvs-partition-gen
if only_part nvs && ! PYTHONPATH=$GEN_DIR python3 -c 'import esp_idf_nvs_partition_gen' \
    2>/dev/null; then
    echo "SKIP: nvs_partition_gen.py (../shared/conformance) is not available"
    exit 77
fi

www=$WORK/www
mkdir -p "$www" "$WORK/certs"
start_server https "$www" --self-signed 127.0.0.1 --cert-dir "$WORK/certs"
cert=$WORK/certs/ca_cert.pem
FE=(SECURE_FLASH_ENC_ENABLED=y SECURE_FLASH_ENCRYPTION_MODE_DEVELOPMENT=y NVS_ENCRYPTION=n
    SECURE_FLASH_REQUIRE_ALREADY_ENABLED=y)
NATIVE=(EXAMPLE_FIRMWARE_UPG_URL=FROM_STDIN "${FE[@]}")
pack_example "$WORK/v1.bin" native_ota_example 1 "$cert" "${NATIVE[@]}"
pack_example "$www/v2.bin" native_ota_example 2 "$cert" "${NATIVE[@]}"
pack_bootloader "$WORK/bl.bin" "${FE[@]}"

# The plaintext layout, then the same pieces written encrypted on a prepared chip.
make_flash "$WORK/plain.bin" two_ota "factory=$WORK/v1.bin" "$WORK/bl.bin"
piece() { dd if="$WORK/plain.bin" of="$WORK/$1" bs=4096 skip=$(($2 / 4096)) \
    count=$(($3 / 4096)) status=none; }
piece bl_region.bin 0x1000 0x7000
piece table.bin 0x8000 0x1000
piece otadata.bin 0xd000 0x2000
head -c 32 /dev/urandom >"$WORK/key.bin"
cp "$WORK/plain.bin" "$WORK/enc.bin"
"$OTAKIT" flash enable-encryption "$WORK/enc.bin" --keyfile "$WORK/key.bin" >/dev/null ||
    fail "enable-encryption"
"$OTAKIT" flash write "$WORK/enc.bin" --encrypt 0x1000 "$WORK/bl_region.bin" \
    0x8000 "$WORK/table.bin" 0xd000 "$WORK/otadata.bin" 0x10000 "$WORK/v1.bin" \
    >"$WORK/write.log" || fail "flash write --encrypt"
expect_file_has "$WORK/write.log" '^Wrote [0-9]+ bytes \(encrypted\) at 0x00010000'
# the chip holds ciphertext where the plaintext was
cmp -s -n 4096 -i 0x10000:0x10000 "$WORK/enc.bin" "$WORK/plain.bin" &&
    fail "the app was written in plaintext"
ok
# a second key cannot be burnt over the first
if "$OTAKIT" flash enable-encryption "$WORK/enc.bin" --keyfile "$WORK/v1.bin" 2>/dev/null; then
    fail "enable-encryption accepted a file that is not a key"
fi
head -c 32 /dev/zero | tr '\0' '\377' >"$WORK/key2.bin"
if "$OTAKIT" flash enable-encryption "$WORK/enc.bin" --keyfile "$WORK/key2.bin" \
    2>"$WORK/key2.err"; then
    fail "a second key was burnt"
fi
expect_file_has "$WORK/key2.err" 'another flash encryption key is burnt'

if part boot; then
    # --- an update under flash encryption boots --------------------------------------------
    cp "$WORK/enc.bin" "$WORK/upd.bin"
    cp "$WORK/enc.bin.efuse" "$WORK/upd.bin.efuse"
    board_in "$WORK/upd.log" "https://127.0.0.1:$PORT/v2.bin" "$WORK/upd.bin" \
        --until 'app_init: App version: +2$'
    [ "$BOARD_STATUS" -eq 0 ] || fail "update: board exit $BOARD_STATUS"
    [ "$(loaded_offsets "$WORK/upd.log")" = "0x10000 0x110000" ] ||
        fail "update: booted $(loaded_offsets "$WORK/upd.log")"
    ok
    expect_in_order "$WORK/upd.log" \
        'flash_encrypt: flash encryption is enabled \(3 plaintext flashes left\)$' \
        'app_init: App version: +1$' \
        'flash_encrypt: Flash encryption mode is DEVELOPMENT \(not secure\)$' \
        'native_ota_example: Prepare to restart system!$' \
        'boot: Loaded app from partition at offset 0x110000$' \
        'app_init: App version: +2$'
    # ota_0 and the otadata hold ciphertext: no plaintext image header, no plaintext entry
    [ "$(od -An -tx1 -N1 -j $((0x110000)) "$WORK/upd.bin" | tr -d ' ')" != e9 ] ||
        fail "ota_0 was written in plaintext"
    ok
    raw=$(od -An -tx1 -N4 -j $((0xd000)) "$WORK/upd.bin" | tr -d ' ')
    [ "$raw" != 01000000 ] && [ "$raw" != ffffffff ] ||
        fail "the otadata entry was written in plaintext ($raw)"
    ok

    # --- a plaintext flash does not boot on the encrypted chip -----------------------------
    cp "$WORK/plain.bin" "$WORK/p.bin"
    cp "$WORK/enc.bin.efuse" "$WORK/p.bin.efuse"
    board "$WORK/p.log" "$WORK/p.bin" --chip esp32 --max-boots 1
    [ "$BOARD_STATUS" -eq 3 ] || fail "plaintext on an encrypted chip: board exit $BOARD_STATUS"
    ok
    expect_file_has "$WORK/p.log" '^invalid header: 0x'
    expect_file_lacks "$WORK/p.log" 'Loaded app from partition'

    # --- the same flash boots without the eFuses: flash encryption is what changed ---------
    board "$WORK/pp.log" "$WORK/plain.bin" --chip esp32 --until 'native_ota_example: Starting OTA'
    expect_file_has "$WORK/pp.log" 'flash encryption is not enabled, and SECURE_FLASH_REQUIRE'
fi

if part espsecure && [ -x "$PYENV" ]; then
    # --- espsecure decrypts what otakit encrypted and what the board wrote -----------------
    cp "$WORK/enc.bin" "$WORK/upd2.bin"
    cp "$WORK/enc.bin.efuse" "$WORK/upd2.bin.efuse"
    board_in "$WORK/upd2.log" "https://127.0.0.1:$PORT/v2.bin" "$WORK/upd2.bin" \
        --until 'app_init: App version: +2$'
    [ "$BOARD_STATUS" -eq 0 ] || fail "update: board exit $BOARD_STATUS"
    decrypt() { # FLASH ADDR LEN OUT
        dd if="$1" of="$WORK/ct.bin" bs=4096 skip=$(($2 / 4096)) count=$((($3 + 4095) / 4096)) \
            status=none
        PYTHONPATH=$ESPTOOL_DIR "$PYENV" -m espsecure decrypt-flash-data --keyfile \
            "$WORK/key.bin" --address "$2" -o "$4" "$WORK/ct.bin" >/dev/null ||
            fail "espsecure decrypt-flash-data at $2"
    }
    decrypt "$WORK/enc.bin" 0x10000 "$(stat -c %s "$WORK/v1.bin")" "$WORK/d1.bin"
    cmp -s -n "$(stat -c %s "$WORK/v1.bin")" "$WORK/d1.bin" "$WORK/v1.bin" ||
        fail "espsecure does not decrypt otakit's encrypted write to the factory app"
    ok
    decrypt "$WORK/upd2.bin" 0x110000 "$(stat -c %s "$www/v2.bin")" "$WORK/d2.bin"
    cmp -s -n "$(stat -c %s "$www/v2.bin")" "$WORK/d2.bin" "$www/v2.bin" ||
        fail "espsecure does not decrypt the app the board wrote with esp_ota_write"
    ok
    decrypt "$WORK/upd2.bin" 0xd000 0x2000 "$WORK/od.bin"
    seq=$(od -An -tu4 -N4 "$WORK/od.bin" | tr -d ' ')
    [ "$seq" = 1 ] || fail "the otadata entry the board wrote decrypts to ota_seq=$seq, not 1"
    ok
fi
if part nvs && PYTHONPATH=$GEN_DIR python3 -c 'import esp_idf_nvs_partition_gen' 2>/dev/null; then
    # --- the board reads what nvs_partition_gen.py encrypted --------------------------------
    pack_example "$WORK/n1.bin" native_ota_example 1 "$cert" EXAMPLE_FIRMWARE_UPG_URL=FROM_STDIN \
        SECURE_FLASH_ENC_ENABLED=y SECURE_FLASH_REQUIRE_ALREADY_ENABLED=y NVS_ENCRYPTION=y \
        PARTITION_TABLE_TWO_OTA_ENCRYPTED_NVS=y
    make_flash "$WORK/nplain.bin" two_ota_encr_nvs "factory=$WORK/n1.bin" "$WORK/bl.bin"
    dd if="$WORK/nplain.bin" of="$WORK/ntable.bin" bs=4096 skip=8 count=1 status=none
    printf 'key,type,encoding,value\nstorage,namespace,,\nanswer,data,u32,42\n%s\n' \
        'greeting,data,string,hello encrypted' >"$WORK/n.csv"
    head -c 64 /dev/urandom >"$WORK/nvskeys.bin"
    (cd "$WORK" && PYTHONPATH=$GEN_DIR python3 -m esp_idf_nvs_partition_gen encrypt n.csv \
        nvs_enc.bin 0x4000 --inputkey nvskeys.bin --outdir "$WORK" >/dev/null) ||
        fail "nvs_partition_gen.py encrypt"
    "$OTAKIT" nvs dump "$WORK/nvs_enc.bin" --keyfile "$WORK/nvskeys.bin" -d values \
        >"$WORK/nv1.log" || fail "nvs dump --keyfile"
    expect_file_has "$WORK/nv1.log" '^storage:answer = 42 \(u32\)$'
    expect_file_has "$WORK/nv1.log" '^storage:greeting = "hello encrypted" \(string\)$'
    # the nvs_keys record: the keys, their CRC-32, as nvs_partition_gen.py writes it
    python3 -c 'import sys, zlib, struct; k = open(sys.argv[1], "rb").read(64); \
open(sys.argv[2], "wb").write(k + struct.pack("<I", zlib.crc32(k, 0xFFFFFFFF)) + b"\xff" * 12)' \
        "$WORK/nvskeys.bin" "$WORK/keyrec.bin"
    cp "$WORK/nplain.bin" "$WORK/n.bin"
    "$OTAKIT" flash enable-encryption "$WORK/n.bin" --keyfile "$WORK/key.bin" >/dev/null
    "$OTAKIT" flash write "$WORK/n.bin" 0x9000 "$WORK/nvs_enc.bin" --encrypt-files \
        0x1000 "$WORK/bl_region.bin" 0x8000 "$WORK/ntable.bin" 0x10000 "$WORK/n1.bin" \
        0xd000 "$WORK/otadata.bin" 0x310000 "$WORK/keyrec.bin" >/dev/null || fail "flash write"
    board "$WORK/n.log" "$WORK/n.bin" --until 'native_ota_example: Starting OTA example task'
    [ "$BOARD_STATUS" -eq 0 ] || fail "encrypted NVS: board exit $BOARD_STATUS"
    ok
    expect_file_lacks "$WORK/n.log" 'Generating NVS encr-keys'
    # nvs_flash_init mounted the entries as valid: a wrong cipher would have erased them
    dd if="$WORK/n.bin" of="$WORK/nvs_after.bin" bs=4096 skip=9 count=4 status=none
    "$OTAKIT" nvs dump "$WORK/nvs_after.bin" --keyfile "$WORK/nvskeys.bin" -d values \
        >"$WORK/nv2.log" || fail "nvs dump --keyfile after the boot"
    expect_file_has "$WORK/nv2.log" '^storage:answer = 42 \(u32\)$'
    expect_file_has "$WORK/nv2.log" '^storage:greeting = "hello encrypted" \(string\)$'
    cmp -s -n 64 "$WORK/nvs_after.bin" "$WORK/nvs_enc.bin" || fail "the page header changed"
    ok

    # --- a blank nvs_keys partition gets keys on the first nvs_flash_init -------------------
    cp "$WORK/nplain.bin" "$WORK/k.bin"
    "$OTAKIT" flash enable-encryption "$WORK/k.bin" --keyfile "$WORK/key.bin" >/dev/null
    "$OTAKIT" flash write "$WORK/k.bin" --encrypt 0x1000 "$WORK/bl_region.bin" \
        0x8000 "$WORK/ntable.bin" 0x10000 "$WORK/n1.bin" 0xd000 "$WORK/otadata.bin" >/dev/null ||
        fail "flash write"
    board "$WORK/k.log" "$WORK/k.bin" --until 'native_ota_example: Starting OTA example task'
    expect_file_has "$WORK/k.log" 'nvs: Generating NVS encr-keys...$'
    raw=$(od -An -tx1 -N16 -j $((0x310000)) "$WORK/k.bin" | tr -d ' ')
    [ "$raw" != ffffffffffffffffffffffffffffffff ] || fail "no keys were written"
    ok
    board "$WORK/k2.log" "$WORK/k.bin" --until 'native_ota_example: Starting OTA example task'
    expect_file_lacks "$WORK/k2.log" 'Generating NVS encr-keys'
fi
echo "PASS: $CHECKS checks"
