"""The DUT on otakit's board: console, serial operations and app of the build directory."""

import typing as t

from pytest_embedded.dut import Dut

from .board import OtakitBoard
from .serial import OtakitEsptoolSerial, OtakitSerial


class OtakitDut(Dut):
    def __init__(self, qemu: OtakitBoard, **kwargs) -> None:
        # pytest-embedded fills the simulator slot it calls "qemu" with the board object.
        self.board = qemu
        super().__init__(**kwargs)
        if qemu.serial_mode == 'esptool':
            self.serial = OtakitEsptoolSerial(qemu, self.app)
            self._hard_reset_func = self.serial.hard_reset
        else:
            self.serial = OtakitSerial(qemu, self.app)
            self._hard_reset_func = qemu.hard_reset

    def expect(self, *args, **kwargs):
        self.board.power_on()
        return super().expect(*args, **kwargs)

    def expect_exact(self, *args, **kwargs):
        self.board.power_on()
        return super().expect_exact(*args, **kwargs)

    def write(self, s: t.AnyStr) -> None:
        self.board.write(s)

    def hard_reset(self) -> None:
        self._hard_reset_func()

    def close(self) -> None:
        self.board.close()
        super().close()
