"""The board's serial port as pytest-embedded-idf's tests use it: flashing and resetting act on
the board's flash image and power, as esptool acts on a chip (then resets it, esptool's default
`--after hard_reset`)."""

import logging
import os
import typing as t

from .board import OtakitBoard


class OtakitSerial:
    def __init__(self, board: OtakitBoard, app) -> None:
        self.board = board
        self.app = app

    def _write(self, files: t.Iterable[t.Tuple[int, str]]) -> None:
        self.board.stop()
        size = os.path.getsize(self.board.flash_path)
        with open(self.board.flash_path, 'r+b') as flash:
            for offset, path in files:
                with open(path, 'rb') as f:
                    data = f.read()
                if offset + len(data) > size:
                    raise ValueError(f'{path} at {offset:#x} does not fit a {size >> 20} MB flash')
                flash.seek(offset)
                flash.write(data)
                logging.info('otakit: wrote %s at %#x (%d bytes)', path, offset, len(data))
        self.board.start()

    def flash(self, app=None) -> None:
        """Writes the build's flash files (flasher_args.json) and resets, as `idf.py flash`;
        the files flasher_args.json marks encrypted go through flash encryption when the app
        has it (its eFuses burnt first when it requires a prepared chip), as pytest-embedded-idf
        passes them to esptool with --encrypt-files."""
        app = app or self.app
        self.board.stop()
        if app.sdkconfig.get('SECURE_FLASH_ENC_ENABLED'):
            self.board.provision_flash_encryption()
        self.board.write_files([(f.offset, f.file_path, f.encrypted) for f in app.flash_files])
        self.board.start()

    def write_flash_no_enc(self) -> None:
        """Writes the build's flash files in plaintext whatever the eFuses say."""
        self._write((f.offset, f.file_path) for f in self.app.flash_files)

    def bootloader_flash(self) -> None:
        """Writes only the bootloader at CONFIG_BOOTLOADER_OFFSET_IN_FLASH, then resets."""
        path = os.path.join(self.app.binary_path, 'bootloader', 'bootloader.bin')
        offset = int(self.app.sdkconfig.get('BOOTLOADER_OFFSET_IN_FLASH', 0))
        self._write([(offset, path)])

    def erase_flash(self) -> None:
        """Erases the whole chip (every byte 0xFF) and resets, as `esptool erase_flash`."""
        self.board.stop()
        size = os.path.getsize(self.board.flash_path)
        with open(self.board.flash_path, 'r+b') as flash:
            block = b'\xff' * 65536
            for _ in range(size // len(block)):
                flash.write(block)
        self.board.start()

    def erase_partition(self, partition_name: str) -> None:
        """Erases one partition by name, then resets: where the table in flash says, or with
        flash encryption on (the table in flash is ciphertext) where the build's table says, as
        pytest-embedded-idf finds it."""
        self.board.stop()
        if self.board.flash_encryption_on():
            offset, size = self._build_partition(partition_name)
            with open(self.board.flash_path, 'r+b') as flash:
                flash.seek(offset)
                flash.write(b'\xff' * size)
        else:
            self.board.otakit('flash', 'erase-partition', self.board.flash_path, '--name',
                              partition_name)
        self.board.start()

    def _build_partition(self, name: str) -> t.Tuple[int, int]:
        """Offset and size of a partition in the build's binary partition table."""
        import struct

        path = os.path.join(self.app.binary_path, 'partition_table', 'partition-table.bin')
        with open(path, 'rb') as f:
            table = f.read(0xC00)
        for i in range(0, len(table) - 31, 32):
            magic, _, _, offset, size, label = struct.unpack('<HBBII16s', table[i:i + 28])
            if magic != 0x50AA:
                break
            if label.rstrip(b'\0').decode(errors='replace') == name:
                return offset, size
        raise ValueError(f'partition name "{name}" not found in app partition table')

    def hard_reset(self) -> None:
        self.board.hard_reset()

    def close(self) -> None:
        self.board.stop()


class OtakitEsptoolSerial:
    """The DUT's serial operations through the board's serial port (`--otakit-serial esptool`),
    with esptool, as pytest-embedded-idf's IdfSerial runs them on a chip: `flash()`,
    `erase_partition()` and `dump_flash()` are IdfSerial's own code, given an esptool
    connection to the board (made as esptool makes it: DTR/RTS reset into download mode, then
    SYNC). Each operation ends with esptool's hard reset, which boots the board from flash.

    The flash file starts erased, and the first power-on flashes the build through the port, as
    pytest-embedded-idf flashes a chip before its test."""

    def __init__(self, board: OtakitBoard, app) -> None:
        self.board = board
        self.app = app
        self.esp = None
        # what IdfSerial's methods read besides `esp` and `app`
        self._meta = None
        self.erase_nvs = False
        self.esp_flash_force = False
        self.port = None
        board.on_power_on = self.flash
        self._erase_file()

    def _erase_file(self) -> None:
        size = os.path.getsize(self.board.flash_path)
        with open(self.board.flash_path, 'r+b') as flash:
            block = b'\xff' * 65536
            for _ in range(size // len(block)):
                flash.write(block)

    def _run(self, method, *args):
        """Runs an IdfSerial method (without pytest-embedded-serial-esp's connection wrapper,
        whose part this does) on an esptool connection to the board."""
        import inspect

        import esptool
        from pytest_embedded_idf.serial import IdfSerial

        self.port = self.board.serial_url()
        self.esp = esptool.cmds.detect_chip(self.port, 115200, 'default-reset')
        try:
            return inspect.unwrap(getattr(IdfSerial, method))(self, *args)
        finally:
            self.esp._port.close()
            self.esp = None

    def _esptool(self, *args: str) -> None:
        import esptool

        self.port = self.board.serial_url()
        self.esp = esptool.cmds.detect_chip(self.port, 115200, 'default-reset')
        try:
            esptool.main(list(args), esp=self.esp)
        finally:
            self.esp._port.close()
            self.esp = None

    def _force_flag(self, app=None):
        return []

    def flash(self, app=None) -> None:
        """IdfSerial.flash: esptool write-flash of the build's flash files, then a hard reset."""
        self._run('flash', app)

    def write_flash_no_enc(self) -> None:
        self.flash()

    def bootloader_flash(self) -> None:
        path = os.path.join(self.app.binary_path, 'bootloader', 'bootloader.bin')
        offset = int(self.app.sdkconfig.get('BOOTLOADER_OFFSET_IN_FLASH', 0))
        self._esptool('write-flash', hex(offset), path)

    def erase_flash(self) -> None:
        self._esptool('erase-flash')

    def erase_partition(self, partition_name: str) -> None:
        self._run('erase_partition', partition_name)

    def dump_flash(self, partition=None, address=None, size=None, output=None):
        return self._run('dump_flash', partition, address, size, output)

    def hard_reset(self) -> None:
        """A reset through the port's RTS (EN), as esptool's --after hard-reset."""
        import serial

        port = serial.serial_for_url(self.board.serial_url(), do_not_open=True)
        port.dtr = False
        port.rts = False
        port.open()
        port.rts = True
        port.rts = False
        port.close()

    def close(self) -> None:
        """Releases the port (nothing is held between operations); the board runs on."""
