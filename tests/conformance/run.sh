#!/usr/bin/env bash
# Runs one of ESP-IDF's own pytest files, unmodified, on otakit's board:
#   run.sh PYTEST_FILE [TARGET [PYTEST_ARGS...]]
# PYTEST_FILE relative to ../shared/conformance/esp-idf; PYTEST_ARGS go to pytest (-k ..., the
# service's options such as --otakit-serial esptool)
# in a copy of that tree (builds go beside each project, as in ESP-IDF's CI), with this
# directory's conftest.py as the tree's root conftest and pytest-embedded from the build's
# virtual environment. Exit 77 (skipped) without ../shared/conformance or the environment.
set -u
: "${OTAKIT:?}" "${OTAKIT_SOURCE_DIR:?}" "${OTAKIT_BUILD_DIR:?}"
rel=$1
target=${2:-esp32}
shift $(($# < 2 ? $# : 2))
src=$OTAKIT_SOURCE_DIR/../shared/conformance/esp-idf
py=$OTAKIT_BUILD_DIR/pyenv/bin/python
if [ ! -f "$src/$rel" ]; then
    echo "SKIP: $src/$rel not found (ESP-IDF's tests are test inputs)"
    exit 77
fi
if [ ! -x "$py" ]; then
    echo "SKIP: no pytest-embedded environment at $OTAKIT_BUILD_DIR/pyenv (cmake --build --target pyenv)"
    exit 77
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/otakit-conformance.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp -r "$src" "$work/esp-idf"
cp "$OTAKIT_SOURCE_DIR/tests/conformance/conftest.py" "$work/esp-idf/conftest.py"
cp "$OTAKIT_SOURCE_DIR/tests/conformance/EnvConfig.yml" "$work/esp-idf/EnvConfig.yml"
dir=$(dirname "$work/esp-idf/$rel")
cd "$dir"
export IDF_PATH=$work/esp-idf
# esptool as ESP-IDF keeps it (a submodule of esptool_py), for the tests that import it.
export PYTHONPATH=$OTAKIT_SOURCE_DIR/tests/conformance/standins:$work/esp-idf/components/esptool_py/esptool
"$py" -m pytest "$(basename "$rel")" -p no:cacheprovider --rootdir "$work/esp-idf" \
    --embedded-services idf,otakit --target "$target" --app-path "$dir" \
    --otakit-prog-path "$OTAKIT" -rA -o log_cli=false --junitxml "$work/junit.xml" "$@"
rc=$?
# pytest: 0 all passed or skipped, 5 nothing collected (an error here).
exit $rc
