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
        """Writes the build's flash files (flasher_args.json) and resets, as `idf.py flash`."""
        app = app or self.app
        self._write((f.offset, f.file_path) for f in app.flash_files)

    def write_flash_no_enc(self) -> None:
        self.flash()

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
        """Erases one partition by name (the table in flash says where), then resets."""
        self.board.stop()
        self.board.otakit('flash', 'erase-partition', self.board.flash_path, '--name', partition_name)
        self.board.start()

    def hard_reset(self) -> None:
        self.board.hard_reset()

    def close(self) -> None:
        self.board.stop()
