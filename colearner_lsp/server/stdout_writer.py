"""Writing to stdout without ever making the event loop wait for the client to read.

pygls writes stdout with a blocking ``write`` + ``flush``. A pipe holds 64 KB,
and one publishDiagnostics of a file with a hundred exercises is about that
much: while the editor is busy elsewhere and does not read, the next write
blocks the event loop, and every request behind it waits (bench/stall_probe.py
found the slowest callbacks of bench_lsp.py's busy phases inside that write).
Over TCP the loop's transport already writes without blocking; this does the
same for a stdout pipe or socket: what the pipe cannot take now waits here, in
order, and the loop writes it when the pipe has room.

When the server stops, what is still waiting is written out blocking
(``finish``): the client may be reading it. A client that closed its end makes
the next ``write`` raise ``BrokenPipeError``, as the blocking writer's would.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading

log = logging.getLogger(__name__)


class NonBlockingWriter:
    """pygls's writer interface (``write``, ``close``) over a file descriptor the loop watches."""

    def __init__(self, fd: int, loop: asyncio.AbstractEventLoop) -> None:
        self.fd, self.loop = fd, loop
        self.pending = bytearray()  # written by us, not yet taken by the pipe
        self.lost: OSError | None = None  # why the client's end cannot be written any more
        self.loop_thread = threading.get_ident()  # made on the loop's thread: the one that writes
        os.set_blocking(fd, False)

    def write(self, data: bytes) -> None:
        if threading.get_ident() != self.loop_thread and not self.loop.is_closed():
            # a message sent from a worker thread is written by the loop, in turn with the others
            self.loop.call_soon_threadsafe(self.write, data)
            return
        if self.lost is not None:
            raise BrokenPipeError(f"the client's end of stdout is gone ({self.lost})")
        if self.pending:  # behind what waits: order is the protocol's
            self.pending += data
            return
        try:
            written = os.write(self.fd, data)
        except BlockingIOError:
            written = 0
        if written < len(data):
            self.pending += data[written:]
            self.loop.add_writer(self.fd, self._write_pending)

    def _write_pending(self) -> None:
        try:
            written = os.write(self.fd, self.pending)
        except BlockingIOError:
            return
        except OSError as exc:  # the client went away: nothing waiting can reach it
            self.lost = exc
            self.pending.clear()
            self._stop_watching()
            log.error("the connection to the client is lost (%s)", exc)
            return
        del self.pending[:written]
        if not self.pending:
            self._stop_watching()

    def _stop_watching(self) -> None:
        if not self.loop.is_closed():
            self.loop.remove_writer(self.fd)

    def finish(self) -> None:
        """Write out what still waits, blocking (the loop is stopping); then leave the descriptor blocking."""
        self._stop_watching()
        os.set_blocking(self.fd, True)
        data, self.pending = bytes(self.pending), bytearray()
        try:
            while data and self.lost is None:
                data = data[os.write(self.fd, data) :]
        except OSError as exc:
            self.lost = exc

    def close(self) -> None:
        self.finish()
