"""pytest plugin: registers the `otakit` service of `--embedded-services`.

pytest-embedded 2.8 knows its services by name; this plugin adds `otakit` to that table and,
when a test session names it, puts the board (OtakitBoard) in the simulator slot of the DUT
factory and makes the DUT an OtakitDut (with pytest-embedded-idf's Unity runner when `idf` is
named too).
"""

import pytest
from pytest_embedded import utils as _utils

_utils.SERVICE_LIB_NAMES.setdefault('otakit', 'pytest-embedded-otakit')


def pytest_addoption(parser):
    group = parser.getgroup('embedded-otakit')
    group.addoption('--otakit-prog-path', help='the otakit command (default: otakit on PATH)')
    group.addoption('--otakit-flash-path',
                    help='flash image of the board (default: BUILD_DIR/otakit/flash.bin)')
    group.addoption('--otakit-board-args', help='more options of `otakit board run`')
    group.addoption('--otakit-pace', default='1',
                    help='virtual seconds per real second (default 1, as a chip; 0: unpaced)')
    group.addoption('--otakit-serial', choices=('file', 'esptool'),
                    help='how the DUT flashes, erases and resets the board: "file" acts on its '
                         'flash file and power (default), "esptool" runs pytest-embedded-idf\'s '
                         'esptool operations through the board\'s serial port (rfc2217://); '
                         'also the ini option otakit_serial')
    parser.addini('otakit_serial', 'default of --otakit-serial (file or esptool)', default='file')


def _services(request) -> list:
    value = request.config.getoption('embedded_services', None) or ''
    return [s.strip() for s in value.split(',') if s.strip()]


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef, request):
    outcome = yield
    if fixturedef.argname != '_fixture_classes_and_options' or 'otakit' not in _services(request):
        return
    opts = outcome.get_result()
    from .board import OtakitBoard
    from .dut import OtakitDut

    base = opts.kwargs['dut']
    opts.classes['qemu'] = OtakitBoard
    opts.kwargs['qemu'] = {
        'msg_queue': base['msg_queue'],
        'meta': base.get('meta'),
        'app': None,
        'otakit_prog_path': request.config.getoption('otakit_prog_path'),
        'otakit_flash_path': request.config.getoption('otakit_flash_path'),
        'otakit_board_args': request.config.getoption('otakit_board_args'),
        'otakit_pace': request.config.getoption('otakit_pace'),
        'otakit_serial': (request.config.getoption('otakit_serial')
                          or request.config.getini('otakit_serial')),
    }
    opts.classes['dut'] = OtakitDut
    opts.kwargs['dut'] = {**base, 'qemu': None}
    if 'idf' in _services(request):
        from pytest_embedded_idf.app import IdfApp

        opts.classes['app'] = IdfApp
