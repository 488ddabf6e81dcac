#!/usr/bin/env bash
# `make install` as a user has it: the installed otakit builds an ordinary ESP-IDF project from a
# directory outside the repository (tests/projects/self_update: an NVS boot counter, a rollback
# check, esp_https_ota with a CONFIG_ URL and an embedded certificate, an event group and a queue),
# and the app updates itself on the board from a server on 127.0.0.1.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/netlib.bash"

PREFIX=$WORK/prefix
cmake --install "$OTAKIT_BUILD_DIR" --prefix "$PREFIX" >"$WORK/install.log" 2>&1 ||
    fail "cmake --install failed: $(tail -3 "$WORK/install.log")"
for f in bin/otakit lib/libotakit_runtime.a lib/cmake/otakit/otakitConfig.cmake \
    lib/pkgconfig/otakit.pc include/otakit/esp/esp_ota_ops.h \
    share/otakit/idf/tools/cmake/project.cmake; do
    [ -e "$PREFIX/$f" ] || fail "not installed: $f"
done
ok "installed layout"
version=$("$PREFIX/bin/otakit" --version)
pcver=$(PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig pkg-config --modversion otakit)
[ "$version" = "otakit $pcver" ] || fail "versions differ: '$version' and pkg-config '$pcver'"
ok "one version: $version"

make_cert "$WORK/certs" 127.0.0.1
mkdir -p "$WORK/www"
start_server www "$WORK/www" --cert "$WORK/certs/ca_cert.pem" --key "$WORK/certs/ca_key.pem"
printf 'CONFIG_SELF_UPDATE_URL="https://127.0.0.1:%s/self_update.bin"\n' "$PORT" >"$WORK/url"

# Two versions of the project, each in its own directory outside the repository.
for v in 1.0 2.0; do
    p=$WORK/self_update_$v
    cp -r "$OTAKIT_SOURCE_DIR/tests/projects/self_update" "$p"
    cp "$WORK/certs/ca_cert.pem" "$p/server_certs/ca_cert.pem"
    echo "$v" >"$p/version.txt"
    (cd "$p" && env -u IDF_PATH "$PREFIX/bin/otakit" build \
        -D "SDKCONFIG_DEFAULTS=sdkconfig.defaults;$WORK/url") >"$WORK/build_$v.log" 2>&1 ||
        fail "installed otakit build of version $v: $(grep -m3 -E 'error|Error' "$WORK/build_$v.log")"
    ok "built version $v with the installed otakit"
done
cp "$WORK/self_update_2.0/build/self_update.bin" "$WORK/www/"

board "$WORK/run.log" "$WORK/self_update_1.0/build" --until 'Already running version 2\.0'
[ "$BOARD_STATUS" = 0 ] || fail "board run ended with status $BOARD_STATUS"
expect_in_order "$WORK/run.log" "${LI}self_update: Boot count: 1$" \
    "${LI}example_common: - IPv4 address: 127\.0\.0\.1,$" \
    "${LI}self_update: Updating from version 1\.0 to 2\.0$" \
    "${LI}self_update: Update installed, restarting$" \
    "${LI}self_update: Boot count: 2$" \
    "${LI}self_update: New image on ota_0 works: cancelling the rollback$" \
    "${LI}self_update: Already running version 2\.0$"
# The boot counter lives in ESP-IDF's NVS page format, as on a chip.
"$OTAKIT" nvs dump "$WORK/self_update_1.0/build/otakit/flash.bin" --name nvs -d values \
    >"$WORK/nvs.txt" ||
    fail "nvs dump of the board's nvs partition"
expect_file_has "$WORK/nvs.txt" '^storage:boots = 2 \(u32\)$'
stop_server www
echo "PASS: $CHECKS checks"
