"""pytest-embedded-otakit with `--otakit-serial esptool`: the DUT's serial operations are
pytest-embedded-idf's esptool operations through the board's serial port.

Runs on ESP-IDF's hello_world (built with `otakit build` by run_service.sh):
  pytest --embedded-services idf,otakit --otakit-serial esptool --app-path HELLO --build-dir build
"""
import os
import re

from pytest_embedded_otakit import OtakitDut, OtakitEsptoolSerial


def _flash_bytes(dut: OtakitDut, offset: int, size: int) -> bytes:
    with open(dut.board.flash_path, 'rb') as f:
        f.seek(offset)
        return f.read(size)


def _build_file(dut: OtakitDut, name: str) -> tuple:
    for f in dut.app.flash_files:
        if os.path.basename(f.file_path) == name:
            with open(f.file_path, 'rb') as fh:
                return f.offset, fh.read()
    raise AssertionError(f'{name} is not among the flash files')


def test_first_power_on_flashes_through_the_port(dut: OtakitDut) -> None:
    assert isinstance(dut.serial, OtakitEsptoolSerial)
    # The flash file starts erased: the chip has nothing to boot until esptool writes it.
    dut.expect_exact('invalid header: 0xffffffff')
    # esptool's reset through DTR/RTS put it in download mode, its hard reset boots the app.
    dut.expect_exact('waiting for download')
    dut.expect(re.compile(rb'rst:0x1 \(POWERON_RESET\),boot:0x13 \(SPI_FAST_FLASH_BOOT\)'))
    dut.expect_exact('Hello world!')
    offset, data = _build_file(dut, 'hello_world.bin')
    assert _flash_bytes(dut, offset, len(data)) == data
    assert os.environ['ESPTOOL_PORT'].startswith('rfc2217://127.0.0.1:')


def test_dump_flash_reads_the_board(dut: OtakitDut) -> None:
    dut.expect_exact('Hello world!')
    offset, data = _build_file(dut, 'partition-table.bin')
    read = dut.serial.dump_flash(address=str(offset), size=str(len(data)))
    assert read == data
    dut.expect_exact('Hello world!')  # esptool's hard reset after the read


def test_erase_partition_then_erase_flash_then_flash(dut: OtakitDut) -> None:
    dut.expect_exact('Hello world!')
    nvs = dut.app.partition_table['nvs']
    dut.serial.erase_partition('nvs')
    assert set(_flash_bytes(dut, nvs['offset'], nvs['size'])) == {0xFF}
    dut.expect_exact('Hello world!')
    dut.serial.erase_flash()
    dut.expect_exact('invalid header: 0xffffffff')
    assert set(_flash_bytes(dut, 0, 0x20000)) == {0xFF}
    dut.serial.flash()
    dut.expect_exact('Hello world!')


def test_hard_reset_through_rts(dut: OtakitDut) -> None:
    dut.expect_exact('Hello world!')
    dut.serial.hard_reset()
    dut.expect_exact('rst:0x1 (POWERON_RESET)')
    dut.expect_exact('Hello world!')
