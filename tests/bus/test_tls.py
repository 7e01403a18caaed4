"""Kafka over TLS, and mutual TLS, through socat in front of the embedded broker
(Tansu serves plaintext only). Instances are configured the way a user would:
``kafka.security_protocol: SSL`` and ``kafka.tls`` in ``agent.yaml``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from colearner_lsp.core.config import load_config, save_config, validate_config
from tests.instances import last_line, make_pair, run_cli

pytestmark = pytest.mark.timeout(240)


def use_tls(root: Path, cafile: Path | None, cert: tuple[Path, Path] | None = None, protocol: str = "SSL") -> None:
    """Edit ``agent.yaml`` as a user would."""
    data = load_config(root).model_dump(mode="json", exclude_none=True)
    tls = {"cafile": str(cafile)} if cafile else {}
    if cert:
        tls.update(certfile=str(cert[0]), keyfile=str(cert[1]))
    data["kafka"].update(security_protocol=protocol, tls=tls)
    save_config(root, validate_config(data))


def refused(root: Path, env: dict[str, str]) -> str:
    """Run ``colearner sync``, which must fail quickly with one line; return it."""
    started = time.monotonic()
    result = run_cli(root, "sync", env=env, timeout=90)
    took = time.monotonic() - started
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert took < 30, f"refusal took {took:.1f}s"
    return line


def assign_and_receive(pair, env) -> None:
    session_id = last_line(run_cli(pair.coach_root, "session", "start", "--student", "sam", env=env))
    assigned = run_cli(
        pair.coach_root,
        "assign",
        session_id,
        "--topic",
        "reading",
        "--exercise",
        "explain it",
        "--expected",
        "a paragraph",
        "--file",
        "app/inventory.py",
        "--lines",
        "5-8",
        env=env,
    )
    assert assigned.returncode == 0 and assigned.stderr == "", assigned.stderr
    inbox = run_cli(pair.student_root, "inbox", "--json", env=env)
    assert inbox.returncode == 0 and inbox.stderr == "", inbox.stderr
    [exercise] = json.loads(inbox.stdout)["sessions"][0]["exercises"]
    assert exercise["exercise_id"] == last_line(assigned)


def test_instances_exchange_over_tls(tmp_path, tls_front):
    pair = make_pair(tmp_path, tls_front.bootstrap)
    for root in (pair.coach_root, pair.student_root):
        use_tls(root, tls_front.ca_file)
    assign_and_receive(pair, pair.env())


def test_a_broker_certificate_from_an_unknown_ca_is_refused(tmp_path, tls_front):
    pair = make_pair(tmp_path, tls_front.bootstrap)
    use_tls(pair.student_root, tls_front.untrusted_ca_file)
    line = refused(pair.student_root, pair.env())
    assert "certificate" in line and "not trusted" in line and "kafka.tls.cafile" in line


def test_plaintext_against_a_tls_port_says_to_use_ssl(tmp_path, tls_front):
    pair = make_pair(tmp_path, tls_front.bootstrap)
    line = refused(pair.student_root, pair.env())
    assert "security_protocol: SSL" in line


def test_mutual_tls_admits_a_valid_certificate_and_refuses_the_rest(tmp_path, mtls_front):
    pair = make_pair(tmp_path, mtls_front.bootstrap)
    env = pair.env()
    use_tls(pair.coach_root, mtls_front.ca_file, (mtls_front.client_cert, mtls_front.client_key))

    # No client certificate at all.
    use_tls(pair.student_root, mtls_front.ca_file)
    line = refused(pair.student_root, env)
    assert "client certificate" in line and "kafka.tls.certfile" in line

    # A certificate the broker's CA did not sign.
    use_tls(pair.student_root, mtls_front.ca_file, (mtls_front.untrusted_client_cert, mtls_front.untrusted_client_key))
    line = refused(pair.student_root, env)
    assert "certificate" in line and "kafka.tls.certfile" in line

    # A valid one: the exchange works.
    use_tls(pair.student_root, mtls_front.ca_file, (mtls_front.client_cert, mtls_front.client_key))
    assign_and_receive(pair, env)


def test_an_unreadable_client_certificate_is_named(tmp_path, mtls_front):
    pair = make_pair(tmp_path, mtls_front.bootstrap)
    use_tls(pair.student_root, mtls_front.ca_file, (tmp_path / "missing.pem", tmp_path / "missing.key"))
    line = refused(pair.student_root, pair.env())
    assert "cannot load client certificate" in line and "missing.pem" in line and "kafka.tls.certfile" in line


def test_a_missing_ca_file_is_named(tmp_path, tls_front):
    pair = make_pair(tmp_path, tls_front.bootstrap)
    use_tls(pair.student_root, tmp_path / "no-ca.pem")
    line = refused(pair.student_root, pair.env())
    assert "kafka.tls.cafile" in line and "no-ca.pem" in line
