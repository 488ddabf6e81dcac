#!/usr/bin/env bash
# Installs the Debian packages otakit needs that are not installed yet (apt-get, with sudo when
# not root). Prints nothing and does nothing when everything is present.
set -euo pipefail

packages=(
    gcc g++ make cmake pkg-config git
    libssl-dev openssl            # crypto and certificates
    libcurl4-openssl-dev curl     # HTTP(S) client
    libmicrohttpd-dev             # firmware server, esp_http_server
    libgnutls28-dev               # firmware server: its TLS key as a GnuTLS external key
    libcjson-dev                  # cJSON for apps (ESP-IDF's json component), flasher_args.json
    libcmocka-dev                 # unit tests
    clang libclang-rt-dev         # make fuzz: libFuzzer and its sanitizers
    nginx-light                   # second firmware server in end-to-end tests
    python3 python3-venv python3-yaml  # otakit build: manifests
    python3-kconfiglib            # otakit build: Kconfig, as ESP-IDF's kconfgen
    python3-pytest python3-pexpect python3-filelock flit  # pytest-embedded (conformance tests)
    python3-rangehttpserver       # ESP-IDF's advanced_https_ota test's server
    zlib1g-dev                    # the board's serial download protocol: compressed writes
    python3-serial python3-bitstring python3-cryptography python3-intelhex python3-rich-click
                                  # esptool, otatool, parttool against the board's serial port
)

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
# Any nginx flavour (nginx, nginx-light, nginx-full) provides the server binary.
clean=()
for p in "${missing[@]}"; do
    [[ $p == nginx-light && -x /usr/sbin/nginx ]] && continue
    clean+=("$p")
done
[[ ${#clean[@]} -eq 0 ]] && exit 0

sudo=()
if [[ $(id -u) -ne 0 ]]; then
    sudo=(sudo)
fi
echo "Installing missing packages: ${clean[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${clean[@]}"
