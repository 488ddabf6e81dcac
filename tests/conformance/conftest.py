"""ESP-IDF's test environment for its own pytest files, run on otakit's board.

This file takes the place of ESP-IDF's root conftest.py in a copy of the conformance tree: the
tests run there as Espressif wrote them, with `--embedded-services idf,otakit`. It provides what
ESP-IDF's CI gives them: the build directory of each (target, config) pair (build_<target>_<config>,
built here with `otakit build` from sdkconfig.ci.<config> as ESP-IDF's CI builds it), the
`config` and `log_minimum_free_heap_size` fixtures, ESP-IDF's markers, and the selection of one
target. A configuration that needs hardware the board does not model is skipped, naming it.
"""

import logging
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.realpath(__file__))
IDF_PATH = os.environ.get('IDF_PATH', HERE)
sys.path.insert(0, os.path.join(IDF_PATH, 'tools', 'ci', 'python_packages'))

OTAKIT = os.environ.get('OTAKIT', 'otakit')

# sdkconfig options that need hardware the board does not model, and what that hardware is.
UNMODELLED = {
    'BT_ENABLED': 'Bluetooth',
    'EXAMPLE_CONNECT_THREAD': 'Thread (802.15.4 radio)',
    'EXAMPLE_CONNECT_PPP': 'a PPP modem',
}

# ESP-IDF CI markers that name equipment or environments rather than behaviour.
MARKERS = ['generic', 'ethernet_ota', 'wifi_high_traffic', 'wifi_router', 'ethernet',
           'flash_encryption', 'flash_encryption_wifi_high_traffic', 'nightly_run', 'host_test',
           'macos', 'qemu', 'temp_skip_ci', 'esp32', 'esp32c3', 'esp32c5', 'esp32s3',
           'ota_resumption', 'ethernet_flash_8mb', 'timeout', 'recovery_bootloader']


def pytest_configure(config):
    for m in MARKERS:
        config.addinivalue_line('markers', f'{m}: ESP-IDF CI marker')


def _param(item, name, default=None):
    callspec = getattr(item, 'callspec', None)
    return callspec.params.get(name, default) if callspec else default


def pytest_collection_modifyitems(config, items):
    """Keeps the items of the chosen target (--target, default esp32); QEMU and host tests run
    elsewhere."""
    target = config.getoption('target', None) or 'esp32'
    keep, drop = [], []
    for item in items:
        t = _param(item, 'target', target)
        if t != target or item.get_closest_marker('host_test'):
            drop.append(item)
        else:
            keep.append(item)
            if item.get_closest_marker('qemu'):
                item.add_marker(pytest.mark.skip(reason='runs on QEMU, not on a board'))
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture
def config(request) -> str:
    return getattr(request, 'param', None) or 'default'


def _defaults(app_path: str, config: str) -> list:
    files = []
    if os.path.isfile(os.path.join(app_path, 'sdkconfig.defaults')):
        files.append('sdkconfig.defaults')
    ci = 'sdkconfig.ci' if config == 'default' else f'sdkconfig.ci.{config}'
    if os.path.isfile(os.path.join(app_path, ci)):
        files.append(ci)
    elif config != 'default':
        pytest.fail(f'{app_path}: no {ci} for config {config!r}')
    return files


def _build(app_path: str, build: str, target: str, config: str) -> None:
    if os.path.isfile(os.path.join(build, 'flasher_args.json')):
        return
    if os.path.isfile(os.path.join(build, 'config', 'sdkconfig.json')) and _unmodelled(build):
        return  # configured before; build_dir skips it
    cmd = [OTAKIT, 'build', app_path, '-B', build, '--target', target,
           '-D', 'SDKCONFIG_DEFAULTS=' + ';'.join(_defaults(app_path, config)),
           '-D', 'SDKCONFIG=' + os.path.join(build, 'sdkconfig'), '--idf-path', IDF_PATH]
    logging.info('building: %s', ' '.join(cmd))
    res = subprocess.run(cmd, capture_output=True, text=True)
    configured = os.path.isfile(os.path.join(build, 'config', 'sdkconfig.json'))
    if res.returncode != 0 and not (configured and _unmodelled(build)):
        pytest.fail(f'otakit build failed for {app_path} ({target}, {config}):\n'
                    + '\n'.join((res.stdout + res.stderr).splitlines()[-25:]))


def _unmodelled(build: str) -> list:
    import json

    with open(os.path.join(build, 'config', 'sdkconfig.json')) as f:
        sdkconfig = json.load(f)
    return [what for key, what in UNMODELLED.items() if sdkconfig.get(key)]


@pytest.fixture
def build_dir(request, app_path: str, target: str, config: str) -> str:
    """ESP-IDF's CI layout: APP/build_<target>_<config>, built on first use."""
    build = os.path.join(app_path, f'build_{target}_{config}')
    _build(app_path, build, target, config)
    missing = _unmodelled(build)
    if missing:
        pytest.skip(f'config {config} needs {", ".join(missing)}, which the board does not model')
    return build


@pytest.fixture
def log_minimum_free_heap_size(dut):
    def real_func() -> None:
        res = dut.expect(r'Minimum free heap size: (\d+) bytes')
        logging.info('Minimum free heap size: %s bytes', res.group(1).decode())

    return real_func
