#!/usr/bin/env bash
# Makes the Python environment of the conformance tests: a virtual environment (Debian's
# python3-venv) that sees Debian's pytest, pexpect, filelock and pyyaml, with pytest-embedded
# 2.8.1, pytest-embedded-idf and their pure-Python dependencies installed offline from
# ../shared/conformance, and otakit's own pytest-embedded-otakit.
#   pyenv.sh SOURCE_DIR ENV_DIR
set -euo pipefail
src=$1
env=$2
kit=$src/../shared/conformance
if [ ! -d "$kit/pytest-embedded" ]; then
    echo "pyenv: $kit not found; the conformance tests will be skipped"
    exit 0
fi
pip=("$env/bin/python" -m pip install --quiet --no-index --no-deps --no-build-isolation)
stamp=$env/.otakit-kit
if [ ! -f "$stamp" ]; then
    rm -rf "$env"
    /usr/bin/python3 -m venv --system-site-packages "$env"
    for p in pytest-embedded/pytest-embedded pytest-embedded/pytest-embedded-serial \
        pytest-embedded/pytest-embedded-idf pytest-embedded/pytest-embedded-qemu \
        esp-bool-parser esp-idf-panic-decoder; do
        "${pip[@]}" "$kit/$p"
    done
    touch "$stamp"
fi
# otakit's own service, reinstalled at every build so that it follows the source.
"${pip[@]}" --force-reinstall "$src/python/pytest-embedded-otakit"
