"""Import-only stand-in for qemu.qmp (see ../README.md)."""


class QMPClient:
    def __init__(self, *args, **kwargs):
        raise RuntimeError('QEMU is not used on the otakit board')
