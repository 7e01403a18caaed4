"""Connecting to Kafka: the client settings, and why a connection failed.

``connection_options`` turns the ``kafka`` section of agent.yaml into aiokafka's
keyword arguments (bootstrap servers, TLS, SASL); ``explain`` and ``diagnose``
turn a failed connection into one sentence with the likely fix. They read the
configuration only, never an ``Instance`` or its ledger, so they live apart
from the bus, which moves events once it is connected.
"""

from __future__ import annotations

import asyncio
import ssl
import struct

from ..core.config import AgentConfig
from ..core.errors import ColearnerError

PROBE_TIMEOUT_S = 5.0


class BrokerUnreachable(ColearnerError):
    """The configured Kafka cannot be reached (or refuses us); events stay in the outbox."""


def connection_options(config: AgentConfig) -> dict[str, object]:
    """aiokafka keyword arguments for bootstrap servers, TLS and SASL."""
    import os

    kafka = config.kafka
    options: dict[str, object] = {
        "bootstrap_servers": config.bootstrap(),
        "client_id": f"{kafka.client_id}-{config.identity}",
        "security_protocol": kafka.security_protocol,
        "request_timeout_ms": kafka.request_timeout_ms,
    }
    if kafka.security_protocol in ("SSL", "SASL_SSL"):
        tls = kafka.tls
        try:
            context = ssl.create_default_context(cafile=tls.cafile if tls else None)
        except (OSError, ssl.SSLError) as exc:
            raise BrokerUnreachable(
                f"kafka.tls.cafile: cannot load {tls.cafile if tls else ''} ({getattr(exc, 'strerror', None) or exc}); "
                "point it at the PEM file of the CA that signed the broker's certificate"
            ) from None
        if tls and tls.certfile:
            try:
                context.load_cert_chain(tls.certfile, tls.keyfile)
            except (OSError, ssl.SSLError) as exc:
                raise BrokerUnreachable(
                    f"kafka.tls: cannot load client certificate {tls.certfile} ({getattr(exc, 'strerror', None) or exc}); "
                    "fix kafka.tls.certfile and kafka.tls.keyfile in .colearner/agent.yaml"
                ) from None
        context.check_hostname = tls.check_hostname if tls else True
        options["ssl_context"] = context
    if kafka.security_protocol.startswith("SASL"):
        if kafka.sasl is None:
            raise BrokerUnreachable("kafka.security_protocol is SASL_* but kafka.sasl is not set; add mechanism and username")
        password = os.environ.get(kafka.sasl.password_env)
        if password is None:
            raise BrokerUnreachable(f"set the SASL password in the environment variable {kafka.sasl.password_env}")
        options.update(
            sasl_mechanism=kafka.sasl.mechanism,
            sasl_plain_username=kafka.sasl.username,
            sasl_plain_password=password,
        )
    return options


def explain(exc: BaseException, config: AgentConfig) -> str:
    """A sentence for a connection failure, with the likely fix."""
    servers = ", ".join(config.bootstrap())
    text = str(exc) or exc.__class__.__name__
    if isinstance(exc, ssl.SSLError) or "SSL" in text or "certificate" in text.lower():
        return (
            f"TLS handshake with {servers} failed ({text[:160]}); check kafka.tls.cafile, and that "
            "kafka.tls.certfile/keyfile hold a client certificate the broker accepts"
        )
    if "Unable to bootstrap" in text:
        text = "no broker answered"
    return (
        f"cannot reach Kafka at {servers} ({text[:160]}); start one with 'colearner broker', "
        "or fix kafka.bootstrap_servers in .colearner/agent.yaml (or COLEARNER_BOOTSTRAP)"
    )


# Kafka ApiVersions v0 request, correlation id 1, no client id: any broker answers it.
_API_VERSIONS = struct.pack(">ihhih", 10, 18, 0, 1, -1)


async def diagnose(config: AgentConfig) -> str | None:
    """Find out why a connection failed, by hand, where aiokafka only says it did.

    Connects to the first bootstrap server with the configured TLS settings and
    sends one request, so that a refused client certificate (which TLS 1.3
    reports only after the handshake) shows up. Returns a sentence with the
    fix, or None when this probe sees nothing wrong.
    """
    server = config.bootstrap()[0]
    host, _, port = server.rpartition(":")
    host = host.strip("[]")
    kafka = config.kafka
    tls = kafka.security_protocol in ("SSL", "SASL_SSL")
    context = connection_options(config).get("ssl_context") if tls else None
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, int(port), ssl=context, server_hostname=host if tls else None),
            PROBE_TIMEOUT_S,
        )
    except ssl.SSLCertVerificationError as exc:
        return f"the TLS certificate of {server} is not trusted ({exc.verify_message}); set kafka.tls.cafile to the CA that signed it" + (
            ", or kafka.tls.check_hostname: false" if "hostname" in str(exc) else ""
        )
    except ssl.SSLError as exc:
        return (
            f"TLS handshake with {server} failed ({exc.reason or exc}); check that the broker serves TLS "
            "there and that kafka.tls.cafile is right"
        )
    except (TimeoutError, OSError) as exc:
        why = "connection refused" if isinstance(exc, ConnectionRefusedError) else (str(exc) or "no answer")
        return (
            f"cannot reach Kafka at {server} ({why}); start one with 'colearner broker', or fix "
            "kafka.bootstrap_servers in .colearner/agent.yaml (or COLEARNER_BOOTSTRAP)"
        )
    try:
        writer.write(_API_VERSIONS)
        await writer.drain()
        head = await asyncio.wait_for(reader.read(4), PROBE_TIMEOUT_S)
    except ssl.SSLError as exc:
        reason = (exc.reason or str(exc)).lower()
        if "certificate_required" in reason or "certificate required" in reason or not kafka.tls or not kafka.tls.certfile:
            return (
                f"{server} requires a client certificate (mutual TLS) and none was accepted ({exc.reason}); "
                "set kafka.tls.certfile and kafka.tls.keyfile to a certificate signed by a CA the broker trusts"
            )
        return (
            f"{server} refused our client certificate in the TLS handshake ({exc.reason}); use a certificate "
            "signed by a CA the broker trusts in kafka.tls.certfile/keyfile"
        )
    except (TimeoutError, OSError):
        head = b""
    finally:
        writer.close()
    if head:
        return None
    if tls:
        return (
            f"{server} closed the TLS connection without answering; it may require a client certificate "
            "(kafka.tls.certfile/keyfile) or not be a Kafka broker"
        )
    return (
        f"{server} closed the connection without answering; if the broker serves TLS, set "
        "kafka.security_protocol: SSL and kafka.tls.cafile in .colearner/agent.yaml"
    )
