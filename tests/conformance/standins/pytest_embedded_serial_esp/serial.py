"""Import-only stand-in for pytest_embedded_serial_esp.serial (see ../README.md)."""
from . import EspSerial

__all__ = ['EspSerial']
