"""The one output writer: every file exactrelu writes goes through :class:`Outputs`.

Invariants:

* a **regular file** (or a new name) appears at its final path only complete: it is written to a
  hidden temporary file in the same folder and renamed over the old file in one step;
* a **symlink** is followed: the file it points to is replaced that way, the link itself is kept;
* a **non-regular target** is written in place: ``-`` (stdout), a FIFO, a character device (such as
  ``/dev/fd/N`` of a pipe, or ``/dev/null``); sockets, block devices and folders are refused;
* files that **belong together** (one :class:`Outputs`) are renamed together, under an exclusive
  ``flock`` of their folder (so a concurrent writer of the same names cannot interleave its pair
  with ours) and with SIGINT/SIGTERM held off between the renames, or not at all: if anything fails
  or the process is interrupted before :meth:`Outputs.commit`, every temporary file is removed;
* everything that can be refused is refused by :meth:`Outputs.open`, **before** the caller's
  computation: a missing or unwritable folder, a folder given as a file, an output that is one of the
  inputs or another output (same resolved path or same inode);
* every error names the path the user gave, never a temporary file.

:data:`WRITTEN` lists (in order) every output of this process that was published or written to in
place, so a caller reporting an interruption never says "nothing was written" when something was.

>>> import pathlib, tempfile
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> with Outputs() as out:
...     net, cert = out.add(folder / "s.json"), out.add(folder / "s.cert.json")
...     _ = out.open()
...     _ = net.write("{}\\n"); _ = cert.write("[]\\n")
...     out.commit()
>>> sorted(p.name for p in folder.iterdir())
['s.cert.json', 's.json']
>>> Output(folder / "s.json").check_against([folder / "s.json"])
Traceback (most recent call last):
...
exactrelu.errors.OutputError: ...s.json: is also an input; refusing to overwrite it
"""

from __future__ import annotations

import fcntl
import os
import signal
import stat
import sys
import tempfile
import threading
from pathlib import Path
from typing import Callable, Iterable, Optional, Sequence

from ..errors import OutputError

STDOUT = "-"
WRITTEN: list[str] = []


def _stat(path: str, what: str) -> Optional[os.stat_result]:
    """``os.stat`` (following symlinks), ``None`` if nothing is there; a NUL byte is an error."""
    try:
        return os.stat(path)
    except FileNotFoundError:
        return None
    except ValueError:
        raise OutputError(f"{path!r}: the {what} path contains a NUL byte") from None
    except NotADirectoryError:
        raise OutputError(f"{path}: a part of the path is not a folder") from None
    except OSError as exc:
        raise OutputError(f"{path}: cannot use this {what} path: {exc.strerror}") from None


def identity(path: str | Path) -> Optional[tuple]:
    """What makes two paths the same file: the inode of an existing file, else the resolved path."""
    text = os.fspath(path)
    if text == STDOUT:
        return ("stdout",)
    st = _stat(text, "file")
    if st is not None:
        return ("inode", st.st_dev, st.st_ino)
    return ("path", os.path.realpath(text))


class Output:
    """One target of an :class:`Outputs`: write text (or bytes, if ``binary``) with :meth:`write`."""

    def __init__(self, given: str | Path, binary: bool = False) -> None:
        self.given = os.fspath(given)
        self.binary = binary
        self.final: Optional[Path] = None  # the regular file replaced (kind "file")
        self.size = 0
        self._fh = None
        self._tmp: Optional[str] = None
        if self.given == STDOUT:
            self.kind = "stdout"
            return
        if not self.given:
            raise OutputError("an output path is empty")
        st = _stat(self.given, "output")
        if st is None or stat.S_ISREG(st.st_mode):
            self.kind = "file"
            self.final = Path(os.path.realpath(self.given))
            parent = self.final.parent
            if not parent.is_dir():
                raise OutputError(f"{self.given}: the folder {parent} does not exist")
            if not os.access(parent, os.W_OK | os.X_OK):
                raise OutputError(f"{self.given}: cannot write in the folder {parent} (permission denied)")
            self._mode = stat.S_IMODE(st.st_mode) if st is not None else None
        elif stat.S_ISDIR(st.st_mode):
            raise OutputError(f"{self.given}: is a folder; give a file name")
        elif stat.S_ISFIFO(st.st_mode) or stat.S_ISCHR(st.st_mode):
            self.kind = "stream"
            if not os.access(self.given, os.W_OK):
                raise OutputError(f"{self.given}: cannot write to it (permission denied)")
        else:
            raise OutputError(f"{self.given}: is neither a regular file, a FIFO nor a character device; "
                              "refusing to write to it")

    def __repr__(self) -> str:
        return f"Output({self.given!r}, {self.kind})"

    @property
    def regular(self) -> bool:
        """Whether the output is a regular file (replaced atomically), as opposed to a stream."""
        return self.kind == "file"

    def check_against(self, inputs: Iterable[str | Path]) -> "Output":
        """Refuse the output if it is one of ``inputs`` (same inode or same resolved path)."""
        mine = identity(self.given)
        for path in inputs:
            if os.fspath(path) != STDOUT and identity(path) == mine:
                raise OutputError(f"{self.given}: is also an input; refusing to overwrite it")
        return self

    # -------------------------------------------------------------- used by Outputs
    def _open(self) -> None:
        try:
            if self.kind == "file":
                fd, self._tmp = tempfile.mkstemp(dir=self.final.parent, prefix=f".{self.final.name}.", suffix=".tmp")
                self._fh = os.fdopen(fd, "wb")
            elif self.kind == "stream":
                self._fh = open(self.given, "wb")
        except OSError as exc:
            self._discard()
            raise OutputError(f"{self.given}: cannot write: {exc.strerror}") from None

    def write(self, data: str | bytes) -> int:
        """Write ``data`` (``str`` for a text output, ``bytes`` for a binary one)."""
        if isinstance(data, str) != (not self.binary):
            raise TypeError(f"{self.given}: expected {'bytes' if self.binary else 'str'}")
        if self.kind == "file" and self._fh is None:
            raise OutputError(f"{self.given}: the output was not opened")
        raw = data.encode("utf-8") if isinstance(data, str) else data
        try:
            if self.kind == "stdout":
                if self.binary:
                    sys.stdout.flush()
                    sys.stdout.buffer.write(raw)
                else:
                    sys.stdout.write(data)
            else:
                if self.kind == "stream" and not self.size and raw:
                    WRITTEN.append(self.given)
                self._fh.write(raw)
        except OSError as exc:
            raise OutputError(f"{self.given}: cannot write: {exc.strerror}") from None
        self.size += len(raw)
        return len(data)

    def flush(self) -> None:
        if self._fh is not None:
            self._fh.flush()

    def overwrite(self, offset: int, data: bytes) -> None:
        """Replace ``len(data)`` bytes already written at ``offset`` (a regular file, before the
        commit; e.g. a hash known only at the end, in a placeholder of the same length)."""
        if self.kind != "file" or self._fh is None:
            raise OutputError(f"{self.given}: only a regular file being written can be patched")
        try:
            self._fh.flush()
            end = self._fh.tell()
            if offset < 0 or offset + len(data) > end:
                raise OutputError(f"{self.given}: a patch outside what was written")
            self._fh.seek(offset)
            self._fh.write(data)
            self._fh.seek(end)
        except OSError as exc:
            raise OutputError(f"{self.given}: cannot write: {exc.strerror}") from None

    def _finish(self) -> None:
        """Flush and close (and fsync a temporary file), before the rename."""
        try:
            if self.kind == "stdout":
                sys.stdout.flush()
            elif self._fh is not None:
                self._fh.flush()
                if self.kind == "file":
                    os.fsync(self._fh.fileno())
                self._fh.close()
                self._fh = None
        except OSError as exc:
            raise OutputError(f"{self.given}: cannot write: {exc.strerror}") from None

    def _publish(self) -> None:
        if self.kind != "file":
            return
        mode = self._mode
        if mode is None:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        try:
            os.chmod(self._tmp, mode)
            os.replace(self._tmp, self.final)
        except OSError as exc:
            raise OutputError(f"{self.given}: cannot write: {exc.strerror}") from None
        self._tmp = None
        WRITTEN.append(self.given)

    def _discard(self) -> None:
        if self._fh is not None:
            try:
                self._fh.close()
            except OSError:
                pass
            self._fh = None
        if self._tmp is not None:
            try:
                os.unlink(self._tmp)
            except FileNotFoundError:
                pass
            self._tmp = None


class Outputs:
    """Files that belong together (see the module docstring): :meth:`add` each, :meth:`open` them
    all before the computation, write, then :meth:`commit`.  Used as a context manager, leaving the
    block without a commit removes every temporary file."""

    def __init__(self, inputs: Sequence[str | Path] = ()) -> None:
        self.inputs = [os.fspath(p) for p in inputs if p is not None]
        self.targets: list[Output] = []
        self.committed = False

    def add(self, path: str | Path, binary: bool = False) -> Output:
        target = Output(path, binary)
        self.targets.append(target)
        return target

    def open(self) -> "Outputs":
        """Check every output (against the inputs and each other) and open them all."""
        seen: dict[tuple, str] = {}
        for target in self.targets:
            target.check_against(self.inputs)
            key = identity(target.given)
            if key in seen:
                raise OutputError(f"{target.given}: is given twice as an output (also as {seen[key]})")
            seen[key] = target.given
        try:
            for target in self.targets:
                target._open()
        except BaseException:
            self.discard()
            raise
        return self

    def commit(self) -> None:
        """Finish every output and rename the regular ones into place together (module docstring)."""
        try:
            for target in self.targets:
                target._finish()
        except BaseException:
            self.discard()
            raise
        folders = sorted({str(t.final.parent) for t in self.targets if t.kind == "file"})
        main_thread = threading.current_thread() is threading.main_thread()
        if main_thread:
            old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        locks = []
        try:
            for folder in folders:
                fd = os.open(folder, os.O_RDONLY)
                locks.append(fd)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                except OSError:  # a file system without locks: the renames still happen together
                    pass
            for target in self.targets:
                target._publish()
            self.committed = True
        finally:
            for fd in locks:
                os.close(fd)  # closing releases the lock
            self.discard()
            if main_thread:
                signal.pthread_sigmask(signal.SIG_SETMASK, old)

    def drop(self, target: Output) -> None:
        """Give up one output before the commit (the answer has nothing to put there): its temporary
        file is removed and nothing is published under its name."""
        target._discard()
        self.targets.remove(target)

    def discard(self) -> None:
        """Remove every temporary file that was not published."""
        for target in self.targets:
            target._discard()

    def __enter__(self) -> "Outputs":
        return self

    def __exit__(self, *exc) -> None:
        self.discard()


def write_with(path: str | Path, produce: Callable[[Output], object], binary: bool = False,
               inputs: Sequence[str | Path] = ()) -> int:
    """Write one output with ``produce(output)``; return its size in bytes."""
    with Outputs(inputs) as outputs:
        target = outputs.add(path, binary)
        outputs.open()
        produce(target)
        outputs.commit()
    return target.size


def write_text(path: str | Path, text: str, inputs: Sequence[str | Path] = ()) -> int:
    """Write ``text`` (UTF-8) to ``path`` through the writer; return its size in bytes."""
    return write_with(path, lambda out: out.write(text), inputs=inputs)


def write_bytes(path: str | Path, data: bytes, inputs: Sequence[str | Path] = ()) -> int:
    """Write ``data`` to ``path`` through the writer; return its size in bytes."""
    return write_with(path, lambda out: out.write(data), binary=True, inputs=inputs)
