"""pytest-embedded service for otakit's simulated board."""

from .board import OtakitBoard
from .dut import OtakitDut
from .serial import OtakitEsptoolSerial, OtakitSerial

__all__ = ['OtakitBoard', 'OtakitDut', 'OtakitEsptoolSerial', 'OtakitSerial']

__version__ = '0.1.0'
