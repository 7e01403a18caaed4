"""Helpers for tests that talk to a real (embedded) Kafka-compatible broker.

- :class:`TlsFront` puts a TLS terminator (Debian's ``socat``) in front of a
  broker, because the embedded Tansu cannot serve TLS itself.
- :class:`HostileProducer` writes arbitrary bytes onto topics with
  confluent-kafka, i.e. *not* through colearner's own producer, so tests can
  feed consumers garbage, wrong-shape JSON or huge values.
- :func:`raw_consume` reads what actually landed on a topic, with no group.

Starting a broker behind TLS (the order matters: the broker must advertise
the TLS port, so that port is chosen before the broker starts)::

    tls_port = free_port()
    broker = EmbeddedBroker(advertised=f"127.0.0.1:{tls_port}").start()
    front = TlsFront(broker.port, port=tls_port, require_client_cert=True).start()

or simply ``with tls_broker(require_client_cert=True) as (broker, front): ...``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.helpers import create_ssl_context
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from colearner_lsp.bus.broker import LOOPBACK, EmbeddedBroker, free_port
from tests.waiting import until, until_async

# --------------------------------------------------------------------------
# Throwaway PKI
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Issued:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "colearner tests"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _issue(
    common_name: str,
    issuer: _Issued | None = None,
    *,
    ca: bool = False,
    server: bool = False,
) -> _Issued:
    """Make a key pair and a certificate; self-signed when ``issuer`` is None.

    EC P-256 keys because they are generated in microseconds, unlike RSA.
    """
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(issuer.cert.subject if issuer else _name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        # Backdated a little so clock skew between processes never matters.
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    elif server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address(LOOPBACK)),
                ]
            ),
            critical=False,
        ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    else:
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
    signer = issuer.key if issuer else key
    return _Issued(builder.sign(signer, hashes.SHA256()), key)


def _write_pem(directory: Path, stem: str, issued: _Issued) -> tuple[Path, Path]:
    cert_path = directory / f"{stem}.pem"
    key_path = directory / f"{stem}.key"
    cert_path.write_bytes(issued.cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        issued.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


# --------------------------------------------------------------------------
# TLS terminator
# --------------------------------------------------------------------------


class TlsFront:
    """``socat`` terminating TLS on ``127.0.0.1:port`` for a plaintext broker.

    Needs the ``socat`` Debian package. With ``require_client_cert=True``
    (socat ``verify=1``) only clients presenting a certificate signed by
    :attr:`ca_file` get through (mutual TLS).

    Files: :attr:`ca_file` (trust this to accept the server),
    :attr:`client_cert`/:attr:`client_key` (signed by that CA), and
    :attr:`untrusted_client_cert`/:attr:`untrusted_client_key`, signed by a
    second CA the front does not trust, for negative tests.
    """

    def __init__(self, broker_port: int, *, port: int = 0, require_client_cert: bool = False) -> None:
        self.broker_port = broker_port
        self.port = port or free_port()
        self.require_client_cert = require_client_cert
        self.broker: EmbeddedBroker | None = None  # set by tls_broker()
        self.dir = Path(tempfile.mkdtemp(prefix="colearner-tls-"))
        self._proc: subprocess.Popen | None = None
        self._log: Any = None

        ca = _issue("colearner test CA", ca=True)
        rogue_ca = _issue("untrusted test CA", ca=True)
        self.ca_file, _ = _write_pem(self.dir, "ca", ca)
        self.server_cert, self.server_key = _write_pem(self.dir, "server", _issue("localhost", ca, server=True))
        self.client_cert, self.client_key = _write_pem(self.dir, "client", _issue("test-client", ca))
        self.untrusted_ca_file, _ = _write_pem(self.dir, "untrusted-ca", rogue_ca)
        self.untrusted_client_cert, self.untrusted_client_key = _write_pem(self.dir, "untrusted-client", _issue("rogue-client", rogue_ca))

    @property
    def bootstrap(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.dir / "socat.log"

    def start(self, timeout: float = 5.0) -> TlsFront:
        socat = shutil.which("socat")
        if socat is None:
            raise RuntimeError("TlsFront needs socat: apt-get install -y socat")
        listen = ",".join(
            [
                f"openssl-listen:{self.port}",
                f"bind={LOOPBACK}",
                "reuseaddr",
                "fork",  # one child per client connection
                f"cert={self.server_cert}",
                f"key={self.server_key}",
                f"cafile={self.ca_file}",
                f"verify={1 if self.require_client_cert else 0}",
            ]
        )
        self._log = open(self.log_path, "ab")
        self._proc = subprocess.Popen(
            [socat, listen, f"tcp:{LOOPBACK}:{self.broker_port}"],
            cwd=self.dir,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            # A process group of its own, so stop() also reaps forked children.
            start_new_session=True,
        )
        try:
            until(self._listening, what=f"socat to listen on {self.bootstrap}", timeout=timeout, every=0.01)
        except BaseException:
            self.stop()
            raise
        return self

    def _listening(self) -> bool:
        assert self._proc is not None
        if self._proc.poll() is not None:
            raise RuntimeError(f"socat exited with {self._proc.returncode}: {self.log_path.read_text(errors='replace')[-2000:]}")
        try:
            socket.create_connection((LOOPBACK, self.port), timeout=0.2).close()
        except OSError:
            return False
        return True

    def stop(self) -> None:
        """Stop socat and its per-connection children; delete the PEM files."""
        if self._proc is not None:
            # The whole group, even if the parent is gone, so no forked child
            # keeps a connection to the broker open.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._proc.pid, signal.SIGTERM)
            try:
                self._proc.wait(3)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self._proc.pid, signal.SIGKILL)
                self._proc.wait()
            self._proc = None
        if self._log is not None:
            self._log.close()
            self._log = None
        shutil.rmtree(self.dir, ignore_errors=True)

    def ssl_context(self, client: str = "trusted") -> ssl.SSLContext:
        """Client-side context trusting the test CA.

        ``client``: ``"trusted"`` presents the CA-signed client certificate,
        ``"untrusted"`` one from the rogue CA, ``"none"`` no certificate.
        """
        certs = {
            "trusted": (self.client_cert, self.client_key),
            "untrusted": (self.untrusted_client_cert, self.untrusted_client_key),
            "none": (None, None),
        }[client]
        return create_ssl_context(cafile=self.ca_file, certfile=certs[0], keyfile=certs[1])

    def __enter__(self) -> TlsFront:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


@contextlib.contextmanager
def tls_broker(
    require_client_cert: bool = False,
) -> Iterator[tuple[EmbeddedBroker, TlsFront]]:
    """An embedded broker reachable only as a TLS client through socat."""
    tls_port = free_port()  # first: the broker must advertise it
    with EmbeddedBroker(advertised=f"{LOOPBACK}:{tls_port}") as broker:
        with TlsFront(broker.port, port=tls_port, require_client_cert=require_client_cert) as front:
            front.broker = broker
            yield broker, front


# --------------------------------------------------------------------------
# Writing and reading raw records
# --------------------------------------------------------------------------


class HostileProducer:
    """confluent-kafka producer that writes exactly the bytes it is given.

    ``murmur2_random`` is librdkafka's name for the Java/aiokafka partitioner,
    so a key lands on the same partition colearner's aiokafka code would
    choose. ``message.max.bytes`` is raised so huge values reach the broker
    instead of being refused inside librdkafka.
    """

    def __init__(self, bootstrap: str, **config: Any) -> None:
        from confluent_kafka import Producer  # test-only dependency

        self._producer = Producer(
            {
                "bootstrap.servers": bootstrap,
                "partitioner": "murmur2_random",
                "acks": "all",
                "message.max.bytes": 16 * 1024 * 1024,
                "socket.timeout.ms": 10_000,
                "message.timeout.ms": 10_000,
                # Broker restarts are routine in these tests; don't log each drop.
                "log.connection.close": False,
                **config,
            }
        )

    def send(self, topic: str, key: bytes | None, value: bytes | None, timeout: float = 15.0) -> tuple[int, int]:
        """Produce one record and wait for the broker; returns (partition, offset).

        Raises ``confluent_kafka.KafkaException`` if the broker refused it.
        """
        from confluent_kafka import KafkaException

        outcome: dict[str, Any] = {}

        def on_delivery(err: Any, msg: Any) -> None:
            outcome["err"], outcome["msg"] = err, msg

        self._producer.produce(topic, key=key, value=value, on_delivery=on_delivery)
        remaining = self._producer.flush(timeout)
        if remaining or "err" not in outcome:
            raise TimeoutError(f"record to {topic} not delivered within {timeout}s")
        if outcome["err"] is not None:
            raise KafkaException(outcome["err"])
        msg = outcome["msg"]
        return msg.partition(), msg.offset()

    def send_json(self, topic: str, key: bytes | None, obj: Any) -> tuple[int, int]:
        """Send any JSON-serialisable object (e.g. a wrong-shape event)."""
        return self.send(topic, key, json.dumps(obj).encode())

    def close(self) -> None:
        """Flush and shut librdkafka down (it logs reconnect noise otherwise)."""
        self._producer.close()

    def __enter__(self) -> HostileProducer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


async def list_topics(bootstrap: str, **client_kwargs: Any) -> set[str]:
    """Names of the topics that exist, without creating any.

    Use this (not :func:`topic_partitions`) to check that a topic is *gone*.
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **client_kwargs)
    await admin.start()
    try:
        return set(await admin.list_topics())
    finally:
        await admin.close()


async def topic_partitions(bootstrap: str, topic: str, timeout: float = 10.0, **client_kwargs: Any) -> list[int]:
    """Partition ids of ``topic``, waiting up to ``timeout`` for it to exist.

    Beware: a metadata request naming a missing topic makes Tansu (like Kafka
    with ``auto.create.topics.enable``) create it, with 4 partitions.
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **client_kwargs)
    await admin.start()
    try:

        async def partitions() -> list[int]:
            for info in await admin.describe_topics([topic]):
                if info["topic"] == topic and info["error_code"] == 0 and info["partitions"]:
                    return sorted(p["partition"] for p in info["partitions"])
            return []

        found: list[int] = await until_async(partitions, what=f"topic {topic!r} to appear", timeout=timeout, every=0.05)
        return found
    finally:
        await admin.close()


async def raw_consume(bootstrap: str, topic: str, n: int, timeout: float = 10.0, **client_kwargs: Any) -> list[Any]:
    """Read up to ``n`` records of ``topic`` from the beginning of every partition.

    No consumer group: partitions are assigned directly, so there is no join
    delay and nothing is committed. Returns aiokafka ``ConsumerRecord``s in
    arrival order; fewer than ``n`` if ``timeout`` runs out first, so tests
    assert on the count themselves. A missing topic gets auto-created (see
    :func:`topic_partitions`) and yields ``[]``. ``client_kwargs`` go to
    aiokafka (e.g. ``security_protocol="SSL", ssl_context=...``).
    """
    deadline = time.monotonic() + timeout
    partitions = await topic_partitions(bootstrap, topic, timeout, **client_kwargs)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        fetch_max_wait_ms=50,
        **client_kwargs,
    )
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in partitions]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        records: list[Any] = []
        while len(records) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            batch = await consumer.getmany(timeout_ms=int(min(left, 0.5) * 1000))
            for recs in batch.values():
                records.extend(recs)
        return records[:n]
    finally:
        await consumer.stop()
