"""The simulated board as a pytest-embedded service: `otakit board run` on a flash image."""

import logging
import os
import shlex
import shutil
import subprocess
import typing as t

from pytest_embedded.log import DuplicateStdoutPopen, MessageQueue

if t.TYPE_CHECKING:
    from pytest_embedded_idf.app import IdfApp


class _BoardProcess(DuplicateStdoutPopen):
    SOURCE = 'OTAKIT'


class OtakitBoard:
    """One board: its flash image (a file that keeps its contents across resets) and the running
    `otakit board run` process, whose console output goes to the DUT's message queue.

    A reset (power cycle) ends the process and starts a new one on the same flash image, as
    power-cycling a chip keeps its flash.
    """

    def __init__(
        self,
        msg_queue: MessageQueue,
        app: 'IdfApp',
        meta=None,
        otakit_prog_path: t.Optional[str] = None,
        otakit_flash_path: t.Optional[str] = None,
        otakit_board_args: t.Optional[str] = None,
        **kwargs,
    ) -> None:
        self._q = msg_queue
        self._meta = meta
        self.app = app
        self.prog = otakit_prog_path or shutil.which('otakit') or 'otakit'
        self.flash_path = otakit_flash_path or os.path.join(app.binary_path, 'otakit', 'flash.bin')
        self.extra_args = shlex.split(otakit_board_args or '')
        self._proc: t.Optional[_BoardProcess] = None
        self.create_flash()
        self.start()

    def otakit(self, *args: str) -> str:
        """Runs an otakit command; returns its standard output, raises on failure."""
        res = subprocess.run([self.prog, *args], capture_output=True, text=True)
        if res.returncode != 0:
            raise RuntimeError(f'otakit {" ".join(args)}: {res.stderr.strip()}')
        return res.stdout

    def create_flash(self) -> None:
        """Writes the build's files to a fresh flash image, as `idf.py flash` writes a chip."""
        os.makedirs(os.path.dirname(self.flash_path), exist_ok=True)
        self.otakit('flash', 'create', self.flash_path, '--build', self.app.binary_path)

    def start(self) -> None:
        cmd = [self.prog, 'board', 'run', self.flash_path, '--chip', self.app.target,
               *self.extra_args]
        self._proc = _BoardProcess(msg_queue=self._q, cmd=cmd, meta=self._meta)

    def stop(self) -> None:
        """Powers the board off (the process ends; the flash image stays)."""
        if self._proc is None:
            return
        proc, self._proc = self._proc, None
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        else:
            proc.close()
        logging.debug('otakit board stopped')

    def hard_reset(self) -> None:
        self.stop()
        self.start()

    def write(self, s: t.AnyStr) -> None:
        """Types s on the board's console (a str gets a newline, as pytest-embedded does)."""
        if self._proc is not None:
            self._proc.write(s)

    def close(self) -> None:
        self.stop()

    def terminate(self) -> None:
        self.stop()
