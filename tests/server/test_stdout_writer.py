"""stdout_writer on a real pipe: a client that does not read never blocks the loop, and loses nothing."""

from __future__ import annotations

import asyncio
import os
import threading
import time

import pytest

from colearner_lsp.server.stdout_writer import NonBlockingWriter

MESSAGE = b"x" * 100_000  # more than a pipe holds (64 KB)


def read_all(fd: int, into: bytearray) -> None:
    while chunk := os.read(fd, 65536):
        into += chunk


def test_writes_the_pipe_cannot_take_wait_in_order_and_reach_the_reader_later() -> None:
    read_end, write_end = os.pipe()
    received = bytearray()

    async def go() -> float:
        writer = NonBlockingWriter(write_end, asyncio.get_running_loop())
        started = time.perf_counter()
        for n in range(5):  # nobody reads yet: a blocking write would hang here for good
            writer.write(b"%d:" % n + MESSAGE)
        took = time.perf_counter() - started
        assert writer.pending, "the pipe took 500 KB without a reader"
        reader = threading.Thread(target=read_all, args=(read_end, received))
        reader.start()
        for _ in range(500):
            if not writer.pending:
                break
            await asyncio.sleep(0.01)
        assert not writer.pending, "the loop did not write out what waited"
        writer.write(b"end")
        writer.close()
        os.close(write_end)
        await asyncio.to_thread(reader.join, 10)
        return took

    took = asyncio.run(go())
    os.close(read_end)
    assert took < 1.0
    assert bytes(received) == b"".join(b"%d:" % n + MESSAGE for n in range(5)) + b"end"


def test_finish_writes_what_still_waits_blocking() -> None:
    read_end, write_end = os.pipe()
    received = bytearray()

    async def fill() -> NonBlockingWriter:
        writer = NonBlockingWriter(write_end, asyncio.get_running_loop())
        writer.write(MESSAGE)
        assert writer.pending
        return writer

    writer = asyncio.run(fill())  # the loop is gone, what the pipe did not take still waits
    reader = threading.Thread(target=read_all, args=(read_end, received))
    reader.start()
    writer.finish()
    assert os.get_blocking(write_end), "the descriptor is left as the process found it: blocking"
    os.close(write_end)
    reader.join(10)
    os.close(read_end)
    assert bytes(received) == MESSAGE


def test_a_client_gone_makes_the_next_write_a_broken_pipe() -> None:
    read_end, write_end = os.pipe()

    async def go() -> None:
        writer = NonBlockingWriter(write_end, asyncio.get_running_loop())
        writer.write(MESSAGE)  # part waits for room
        os.close(read_end)  # the client closes its end
        for _ in range(200):
            if writer.lost is not None:
                break
            await asyncio.sleep(0.01)
        assert isinstance(writer.lost, BrokenPipeError)
        assert not writer.pending, "what waited for a reader that is gone is dropped"
        with pytest.raises(BrokenPipeError, match="client's end of stdout is gone"):
            writer.write(b"more")

    asyncio.run(go())
    os.close(write_end)


def test_messages_sent_from_other_threads_are_written_whole_by_the_loop() -> None:
    read_end, write_end = os.pipe()
    received = bytearray()
    reader = threading.Thread(target=read_all, args=(read_end, received))
    reader.start()

    async def go() -> None:
        writer = NonBlockingWriter(write_end, asyncio.get_running_loop())

        def send(n: int) -> None:
            for i in range(50):
                writer.write(b"<%d.%d:" % (n, i) + MESSAGE[:20000] + b">")

        await asyncio.gather(*(asyncio.to_thread(send, n) for n in range(4)))
        for _ in range(500):
            await asyncio.sleep(0.01)
            if not writer.pending and len(received) >= 4 * 50 * 20000:
                break
        writer.close()

    asyncio.run(go())
    os.close(write_end)
    reader.join(10)
    os.close(read_end)
    messages = bytes(received).split(b">")[:-1]
    assert len(messages) == 200
    assert all(m.startswith(b"<") and m.endswith(MESSAGE[:20000]) and m.count(b":") == 1 for m in messages)
    for n in range(4):  # each thread's messages in the order it sent them
        mine = [m for m in messages if m.startswith(b"<%d." % n)]
        assert mine == [b"<%d.%d:" % (n, i) + MESSAGE[:20000] for i in range(50)]
