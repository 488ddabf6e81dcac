"""The simulated board as a pytest-embedded service: `otakit board run` on a flash image."""

import logging
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import threading
import typing as t
import uuid

from pytest_embedded.log import MessageQueue

if t.TYPE_CHECKING:
    from pytest_embedded_idf.app import IdfApp


class _BoardProcess(subprocess.Popen):
    """One `otakit board run` process. Its console (stdout and stderr) is read from a pipe by a
    thread and goes, byte for byte as a serial port delivers it, to the DUT's message queue and
    to a log file beside pytest-embedded's other logs; input is its stdin. With `--serial`, the
    port the board prints is kept in `serial_url` (rfc2217://, whose DTR/RTS reset the board)."""

    _PORT_LINE = re.compile(rb'otakit: serial port socket://127\.0\.0\.1:(\d+)\n')

    def __init__(self, msg_queue: MessageQueue, cmd: list, meta=None) -> None:
        self.serial_url: t.Optional[str] = None
        self.serial_ready = threading.Event()
        self._head = b''
        logdir = meta.logdir if meta else tempfile.mkdtemp(prefix='otakit-board-')
        self.logfile = os.path.join(logdir, f'otakit-{uuid.uuid4()}.log')
        self._log = open(self.logfile, 'wb')
        self._q = msg_queue
        logging.info('Executing %s', ' '.join(cmd))
        super().__init__(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, bufsize=0)
        self._reader = threading.Thread(target=self._forward, daemon=True)
        self._reader.start()

    def _forward(self) -> None:
        while True:
            data = os.read(self.stdout.fileno(), 65536)
            if not data:
                break
            self._log.write(data)
            self._log.flush()
            self._q.put(data)
            self._find_port(data)
        self.serial_ready.set()  # the board ended: nobody waits for a port any longer

    def _find_port(self, data: bytes) -> None:
        if self.serial_ready.is_set() or len(self._head) > 65536:
            return
        self._head += data
        m = self._PORT_LINE.search(self._head)
        if m:
            self.serial_url = f'rfc2217://127.0.0.1:{int(m.group(1))}'
            self.serial_ready.set()

    def write(self, s: t.AnyStr) -> None:
        data = s.encode() + b'\n' if isinstance(s, str) else s
        try:
            self.stdin.write(data)
        except BrokenPipeError:
            logging.warning('otakit board: console input after the board stopped')

    def close(self) -> None:
        if self.poll() is None:
            self.terminate()
            try:
                self.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
                self.wait()
        self._reader.join(timeout=10)
        self._log.close()


class OtakitBoard:
    """One board: its flash image (a file that keeps its contents across resets) and the running
    `otakit board run` process, whose console output goes to the DUT's message queue.

    A reset (power cycle) ends the process and starts a new one on the same flash image, as
    power-cycling a chip keeps its flash. The board powers on when the test first reads or
    writes its console (or resets it), not when the fixture is made: ESP-IDF's tests start their
    servers first, and a board that boots in a few milliseconds of real time would otherwise
    reach them before they listen.
    """

    def __init__(
        self,
        msg_queue: MessageQueue,
        app: 'IdfApp',
        meta=None,
        otakit_prog_path: t.Optional[str] = None,
        otakit_flash_path: t.Optional[str] = None,
        otakit_board_args: t.Optional[str] = None,
        otakit_pace: t.Optional[str] = None,
        otakit_serial: t.Optional[str] = None,
        **kwargs,
    ) -> None:
        self._q = msg_queue
        self._meta = meta
        self.app = app
        self.prog = otakit_prog_path or shutil.which('otakit') or 'otakit'
        self.flash_path = otakit_flash_path or os.path.join(app.binary_path, 'otakit', 'flash.bin')
        self.extra_args = shlex.split(otakit_board_args or '')
        # Tests written for a chip expect its real-time pace (servers start while it boots).
        pace = float(otakit_pace) if otakit_pace is not None else 1.0
        if pace > 0:
            self.extra_args = ['--pace', f'{pace:g}', *self.extra_args]
        # 'esptool': the board gets a serial port, and the DUT's serial operations go through it
        # with esptool (OtakitEsptoolSerial); 'file' (default): they act on the flash file.
        self.serial_mode = otakit_serial or 'file'
        if self.serial_mode not in ('file', 'esptool'):
            raise ValueError(f'--otakit-serial {self.serial_mode}: expected file or esptool')
        if self.serial_mode == 'esptool':
            self.extra_args = [*self.extra_args, '--serial', 'socket:0']
        self.on_power_on: t.Optional[t.Callable[[], None]] = None
        self._proc: t.Optional[_BoardProcess] = None
        self._powered = False
        self.create_flash()

    def otakit(self, *args: str) -> str:
        """Runs an otakit command; returns its standard output, raises on failure."""
        res = subprocess.run([self.prog, *args], capture_output=True, text=True)
        if res.returncode != 0:
            raise RuntimeError(f'otakit {" ".join(args)}: {res.stderr.strip()}')
        return res.stdout

    def create_flash(self) -> None:
        """Writes the build's files to a fresh flash image, as `idf.py flash` writes a chip; an
        app built for a chip whose flash encryption is already on
        (CONFIG_SECURE_FLASH_REQUIRE_ALREADY_ENABLED) gets such a chip: its eFuses are burnt
        (random key, development mode) and the files are written encrypted."""
        os.makedirs(os.path.dirname(self.flash_path), exist_ok=True)
        self.otakit('flash', 'create', self.flash_path, '--build', self.app.binary_path)
        if self.provision_flash_encryption():
            self.write_files([(f.offset, f.file_path, f.encrypted) for f in self.app.flash_files])

    def provision_flash_encryption(self) -> bool:
        """Burns flash encryption on (once; random key, development mode) when the app requires
        a chip prepared that way. Returns whether the eFuses have it on."""
        sdkconfig = self.app.sdkconfig
        if sdkconfig.get('SECURE_FLASH_ENC_ENABLED') and sdkconfig.get(
                'SECURE_FLASH_REQUIRE_ALREADY_ENABLED'):
            self.otakit('flash', 'enable-encryption', self.flash_path)
        return self.flash_encryption_on()

    def flash_encryption_on(self) -> bool:
        """FLASH_CRYPT_CNT has an odd number of bits set in the board's eFuses (the sidecar file
        beside the flash image; each byte stored inverted, FLASH_CRYPT_CNT at offset 14)."""
        try:
            with open(self.flash_path + '.efuse', 'rb') as f:
                block = f.read(16)
        except FileNotFoundError:
            return False
        return len(block) == 16 and bin(~block[14] & 0x7F).count('1') % 2 == 1

    def write_files(self, files) -> None:
        """Writes (offset, path, encrypted) files with `otakit flash write`: encrypted ones
        through flash encryption when the eFuses have it on (as esptool --encrypt-files)."""
        enc = self.flash_encryption_on()
        plain = [a for off, path, e in files if not (e and enc) for a in (hex(off), path)]
        crypt = [a for off, path, e in files if e and enc for a in (hex(off), path)]
        args = [*plain, *(['--encrypt-files', *crypt] if crypt else [])]
        if args:
            self.otakit('flash', 'write', self.flash_path, *args)

    def power_on(self) -> None:
        """Starts the board unless it has been powered on already; then runs on_power_on (the
        esptool serial's first flash, as pytest-embedded-idf flashes a chip before a test)."""
        if not self._powered:
            self.start()
            if self.on_power_on is not None:
                self.on_power_on()

    def serial_url(self, timeout: float = 60) -> str:
        """The running board's serial port as esptool takes it (rfc2217://127.0.0.1:PORT)."""
        self.power_on()
        proc = self._proc
        if proc is None or not proc.serial_ready.wait(timeout) or proc.serial_url is None:
            raise RuntimeError('otakit board: no serial port (is --otakit-serial esptool set?)')
        return proc.serial_url

    def start(self) -> None:
        self._powered = True
        cmd = [self.prog, 'board', 'run', self.flash_path, '--chip', self.app.target,
               *self.extra_args]
        self._proc = _BoardProcess(msg_queue=self._q, cmd=cmd, meta=self._meta)
        if self.serial_mode == 'esptool':
            # ESP-IDF's tools run by a test (otatool.py, parttool.py, esptool) find the board as
            # they find a CI runner's chip: through esptool's ESPTOOL_PORT.
            os.environ['ESPTOOL_PORT'] = self.serial_url() + '/'

    def stop(self) -> None:
        """Powers the board off (the process ends; the flash image stays)."""
        if self._proc is None:
            return
        proc, self._proc = self._proc, None
        proc.close()
        logging.debug('otakit board stopped')

    def hard_reset(self) -> None:
        self.stop()
        self.start()

    def write(self, s: t.AnyStr) -> None:
        """Types s on the board's console (a str gets a newline, as pytest-embedded does)."""
        self.power_on()
        if self._proc is not None:
            self._proc.write(s)

    def close(self) -> None:
        self.stop()

    def terminate(self) -> None:
        self.stop()
