#!/usr/bin/env bash
# Tests pytest-embedded-otakit (tests/pytest/test_otakit_service.py) on ESP-IDF's hello_world,
# built with otakit build. Exit 77 (skipped) without ../shared/conformance or the environment.
. "$OTAKIT_SOURCE_DIR/tests/e2e/lib.bash"
. "$OTAKIT_SOURCE_DIR/tests/e2e/idflib.bash"
py=$OTAKIT_BUILD_DIR/pyenv/bin/python
if [ ! -x "$py" ]; then
    echo "SKIP: no pytest-embedded environment at $OTAKIT_BUILD_DIR/pyenv"
    exit 77
fi
idf_copy examples/get-started/hello_world hello_world
idf_build hello_world
cd "$WORK/hello_world" || fail "no project"
"$py" -m pytest "$OTAKIT_SOURCE_DIR/tests/pytest/test_otakit_service.py" -p no:cacheprovider \
    --rootdir "$WORK" --embedded-services idf,otakit --target esp32 --app-path "$WORK/hello_world" \
    --build-dir build --otakit-prog-path "$OTAKIT" -rA || fail "pytest failed"
# The same service with its serial operations through the board's serial port: esptool (ESP-IDF's
# copy) and pytest-embedded-idf's IdfSerial (whose pytest-embedded-serial-esp import the
# conformance stand-in satisfies).
ESPTOOL_DIR="$OTAKIT_SOURCE_DIR/../shared/conformance/esp-idf/components/esptool_py/esptool"
IDF_PATH=$IDF_CONFORMANCE PYTHONPATH="$OTAKIT_SOURCE_DIR/tests/conformance/standins:$ESPTOOL_DIR" \
    "$py" -m pytest "$OTAKIT_SOURCE_DIR/tests/pytest/test_otakit_esptool.py" -p no:cacheprovider \
    --rootdir "$WORK" --embedded-services idf,otakit --target esp32 --app-path "$WORK/hello_world" \
    --build-dir build --otakit-prog-path "$OTAKIT" --otakit-serial esptool -rA ||
    fail "pytest (esptool) failed"
