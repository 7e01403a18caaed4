"""Shared pytest fixtures.

Kafka fixtures run a real embedded broker (Tansu, memory only). Tests that use
them are marked ``kafka`` automatically, and TLS ones also ``tls`` (these need
Debian's ``socat``), so ``pytest -m "not kafka"`` runs only pure tests.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from colearner_lsp.bus.broker import EmbeddedBroker
from tests.kafka_harness import TlsFront, tls_broker

_KAFKA_FIXTURES = {"broker", "broker_module", "broker_session", "tls_front", "mtls_front"}
_TLS_FIXTURES = {"tls_front", "mtls_front"}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "kafka: runs against a real embedded broker")
    config.addinivalue_line("markers", "tls: needs socat for a TLS front to the broker")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        if used & _KAFKA_FIXTURES:
            item.add_marker(pytest.mark.kafka)
        if used & _TLS_FIXTURES:
            item.add_marker(pytest.mark.tls)


# -- Kafka ---------------------------------------------------------------------


@pytest.fixture
def broker() -> Iterator[EmbeddedBroker]:
    """A fresh broker of the test's own; free to kill or restart."""
    with EmbeddedBroker() as b:
        yield b


@pytest.fixture(scope="module")
def broker_module() -> Iterator[EmbeddedBroker]:
    """A fresh broker for one module's fixtures (a scenario run once, then checked step by step)."""
    with EmbeddedBroker() as b:
        yield b


@pytest.fixture(scope="session")
def broker_session() -> Iterator[EmbeddedBroker]:
    """One broker for the whole run: fast, but shared — use unique topics
    (see ``topic``) and never kill or restart it."""
    with EmbeddedBroker() as b:
        yield b


@pytest.fixture
def topic() -> str:
    """A topic name no other test uses."""
    return f"test.{uuid.uuid4().hex[:12]}"


@pytest.fixture
def tls_front() -> Iterator[TlsFront]:
    """A broker reachable through TLS (server auth only); ``.broker`` is it."""
    with tls_broker(require_client_cert=False) as (_, front):
        yield front


@pytest.fixture
def mtls_front() -> Iterator[TlsFront]:
    """Like ``tls_front`` but clients must present a certificate from its CA."""
    with tls_broker(require_client_cert=True) as (_, front):
        yield front


# -- Instances -------------------------------------------------------------------


@pytest.fixture(autouse=True)
def key_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test keeps private keys in a temporary folder, never in the user's data dir; no bootstrap override leaks in."""
    folder = tmp_path_factory.mktemp("keys")
    monkeypatch.setenv("COLEARNER_KEY_DIR", str(folder))
    monkeypatch.delenv("COLEARNER_BOOTSTRAP", raising=False)
    return folder


@pytest.fixture
def pair(tmp_path, broker):
    """A coach and a student (real git repos, keys exchanged) on a fresh broker."""
    from tests.instances import make_pair

    return make_pair(tmp_path, broker.bootstrap)


@pytest.fixture
def live(pair):
    """A session with one exercise on app/inventory.py:5-8, delivered: (pair, session_id, exercise_id)."""
    from tests.instances import assigned

    return (pair, *assigned(pair))
