"""Import-only stand-in for the qemu.qmp package (see ../README.md)."""
