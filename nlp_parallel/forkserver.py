"""The fork server behind forked popen gateways (driver side: :mod:`.forks`).

Standard library only: when it is not forked from the driver it runs as
``python -c SOURCE FD [MODULE...]``, FD being its end of the control socket and the
modules what it imports before forking.

Control socket (a Unix stream socket), one request at a time:

driver -> server                                server -> driver
----------------                                ----------------
``F`` with three fds: the child's stdin,        the child's pid, 8 bytes
stdout and *alive* pipe ends
``W`` + six 8-byte lengths + a task's           ``0`` or ``1`` (failed) + 8-byte
digest, name, source, filename, options and     length + the error's text
the places of files whose text the options
hold (JSON), UTF-8
(closes the socket)                             (exits)

A forked child puts its pipes on fds 0 and 1 and runs execnet's worker bootstrap
from there, exactly as ``python -c "import sys;exec(eval(sys.stdin.readline()))"``
does in a popen gateway.  It keeps the alive pipe's write end until it exits, so the
driver sees its exit as end-of-file although it is not the driver's child.
"""

from __future__ import annotations

import gc
import importlib
import json
import linecache
import os
import signal
import socket
import struct
import sys
import threading
import traceback

#: ``sys.modules`` entry through which a forked worker finds the tasks set up here
#: (``tasks``: the driver's digest of a task -> (namespace, setup's result)).
PREPARED = "_nlp_parallel_prepared"
#: This process's name in ``ps`` and ``top``: forked from the driver, its command
#: line is the driver's.
NAME = b"nlp-forkserver"


def serve(sock: socket.socket, preload: list[str]) -> None:
    """Answer the driver's requests until it closes ``sock``."""
    _set_name(NAME)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C: the driver closes us
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    for name in preload:
        importlib.import_module(name)
    prepared: dict = {}
    module = type(sys)(PREPARED)
    module.tasks = prepared  # type: ignore[attr-defined]
    sys.modules[PREPARED] = module
    gc.collect()
    gc.freeze()  # workers share these objects' pages rather than copy them in collections
    sock.settimeout(1.0)  # wake up now and then to reap exited workers
    try:
        _answer(sock, prepared)
    finally:
        _reap()


def _answer(sock: socket.socket, prepared: dict) -> None:
    while True:
        _reap()
        try:
            request, fds, _, _ = socket.recv_fds(sock, 1, 3)
        except socket.timeout:
            continue
        except OSError:
            return
        if request == b"F" and len(fds) == 3:
            pid = os.fork()
            if pid == 0:
                sock.close()
                _child(*fds)
            for fd in fds:
                os.close(fd)
            sock.sendall(struct.pack("!q", pid))
        elif request == b"W" and not fds:
            lengths = struct.unpack("!6q", exactly(sock, 48))
            error = _prepare(prepared, *(exactly(sock, n).decode("utf-8") for n in lengths))
            gc.freeze()
            data = (error or "").encode("utf-8")
            sock.sendall((b"1" if error else b"0") + struct.pack("!q", len(data)) + data)
        else:  # the driver closed the socket
            for fd in fds:
                os.close(fd)
            return


def _prepare(prepared: dict, digest: str, name: str, source: str, filename: str,
             options: str, files: str) -> str | None:
    """Run a task's setup once here, as a worker would; the error's text if it fails.

    This repeats ``worker.load_module`` and the setup call on purpose: run as
    ``python -c``, this module imports nothing of the package, whose imports would
    cost more than the setup saves.
    """
    try:
        for number, text in enumerate(_read_files(json.loads(files))):
            options = options.replace(json.dumps("\0file%d\0" % number), text, 1)
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        namespace: dict = {"__name__": name, "__file__": filename}
        exec(compile(source, filename, "exec"), namespace)
        setup = namespace.get("setup")
        handler = setup(json.loads(options)) if setup else None
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    prepared[digest] = (namespace, handler)
    return None


def _read_files(places: list) -> list:
    """The text of each NLTK data file in ``places`` (``nlp_parallel.models.identity``),
    read through NLTK's own path pointers, so that its path sandbox and its checks
    of a file (and of a zip's member) apply here as in the driver.

    Raises ValueError for a file that is not what the driver found: the driver
    then sends its workers the text it reads itself.
    """
    if not places:
        return []
    from nltk.data import FileSystemPathPointer, ZipFilePathPointer

    texts = []
    for place in places:
        if "zip" in place:
            path = place["zip"]
            pointer = ZipFilePathPointer(path, place["member"])
            info = pointer.zipfile.getinfo(place["member"])
            member = (info.CRC, info.file_size) == (place["crc"], place["file_size"])
        else:
            path = place["file"]
            pointer = FileSystemPathPointer(path)
            member = True
        with pointer.open(encoding="utf-8") as f:
            texts.append(f.read())
        st = os.stat(path)
        if not member or (st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev) != (
                place["size"], place["mtime_ns"], place["ino"], place["dev"]):
            raise ValueError("%s changed since the driver found it" % path)
    return texts


def _child(stdin: int, stdout: int, alive: int) -> None:
    """Become a popen gateway's worker; never returns."""
    status = 1
    try:
        _set_name(os.path.basename(sys.executable).encode()[:15])
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.dup2(stdin, 0)
        os.dup2(stdout, 1)
        os.close(stdin)
        os.close(stdout)
        sys.stdin = open(0, closefd=False)  # noqa: SIM115 - fds 0 and 1 stay open
        sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
        line = b""
        while not line.endswith(b"\n"):  # nothing follows it until this worker answers
            data = os.read(0, 1)
            if not data:
                raise EOFError("the driver closed the pipe before the bootstrap")
            line += data
        exec(eval(line.decode("utf-8")), {"__name__": "__main__"})  # noqa: S307
        status = 0
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        # As an interpreter's exit would: wait for threads, flush, but run none of
        # the handlers registered by the process it was forked from.
        for thread in threading.enumerate():
            if thread is not threading.current_thread() and not thread.daemon:
                thread.join()
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(status)


def exactly(sock: socket.socket, size: int) -> bytes:
    """Read ``size`` bytes from ``sock``; raises EOFError when it closes first."""
    chunks = []
    while size:
        try:
            chunk = sock.recv(min(size, 1 << 20))
        except socket.timeout:
            continue
        if not chunk:
            raise EOFError("the driver closed the fork server's socket")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _set_name(name: bytes) -> None:
    try:
        import ctypes

        ctypes.CDLL(None).prctl(15, name, 0, 0, 0)  # PR_SET_NAME
    except (ImportError, OSError, AttributeError):
        pass


if __name__ == "__main__":
    serve(socket.socket(fileno=int(sys.argv[1])), sys.argv[2:])
