"""pytest-embedded-otakit itself: the DUT's console, resets and serial operations on the board.

Runs on ESP-IDF's hello_world (built with `otakit build` by run_service.sh):
  pytest --embedded-services idf,otakit --app-path HELLO --build-dir build
"""
import os
import re

from pytest_embedded_idf.app import IdfApp
from pytest_embedded_otakit import OtakitDut


def test_console_and_app(dut: OtakitDut) -> None:
    assert isinstance(dut, OtakitDut)
    assert isinstance(dut.app, IdfApp)
    assert dut.app.target == 'esp32'
    dut.expect_exact('Hello world!')
    dut.expect(re.compile(rb'This is esp32 chip with 2 CPU core\(s\)'))


def test_hard_reset_boots_again(dut: OtakitDut) -> None:
    dut.expect_exact('Hello world!')
    dut.serial.hard_reset()
    dut.expect_exact('rst:0x1 (POWERON_RESET)')
    dut.expect_exact('Hello world!')


def test_erase_flash_then_flash(dut: OtakitDut) -> None:
    dut.expect_exact('Hello world!')
    dut.serial.erase_flash()
    dut.expect_exact('invalid header: 0xffffffff')
    with open(dut.board.flash_path, 'rb') as f:
        assert set(f.read(0x20000)) == {0xFF}
    dut.serial.flash()
    dut.expect_exact('Hello world!')


def test_erase_partition(dut: OtakitDut) -> None:
    dut.expect_exact('Hello world!')
    dut.board.stop()
    with open(dut.board.flash_path, 'r+b') as f:
        f.seek(0x9000)
        f.write(bytes(0x6000))  # nvs of the singleapp table, programmed to zeros
    dut.board.start()
    dut.serial.erase_partition('nvs')
    with open(dut.board.flash_path, 'rb') as f:
        f.seek(0x9000)  # nvs of the singleapp table
        assert set(f.read(0x6000)) == {0xFF}
    dut.expect_exact('Hello world!')


def test_write_types_on_console(dut: OtakitDut) -> None:
    # hello_world does not read its console; writing must not disturb the board.
    dut.write('ignored')
    dut.expect_exact('Restarting in 9 seconds...')
    assert os.path.isfile(dut.board.flash_path)
