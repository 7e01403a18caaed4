"""agent.yaml: validated on load, and every mistake is one line naming the field,
the value and the fix."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from colearner_lsp.core.config import (
    AgentConfig,
    config_path,
    default_key_dir,
    find_root,
    load_config,
    save_config,
    validate_config,
)
from colearner_lsp.core.errors import ConfigError
from colearner_lsp.core.identity import init_instance
from colearner_lsp.core.instance import Instance
from tests.core.conftest import git_repo

GOOD = "identity: alice\nrole: student\nkey_file: /keys/alice.pem\n"


def write(root: Path, text: str) -> Path:
    path = config_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def error_for(root: Path, text: str) -> str:
    path = write(root, text)
    with pytest.raises(ConfigError) as exc:
        load_config(root)
    message = str(exc.value)
    assert "\n" not in message  # one line
    assert message.startswith(f"{path}: ")
    return message[len(f"{path}: ") :]


def test_good_file_and_defaults(tmp_path: Path) -> None:
    write(tmp_path, GOOD)
    config = load_config(tmp_path)
    assert (config.identity, config.role, config.key_file) == ("alice", "student", "/keys/alice.pem")
    assert config.kafka.bootstrap_servers == ["127.0.0.1:9092"]
    assert config.kafka.security_protocol == "PLAINTEXT"
    assert config.topics.assignments == "colearner.assignments.v1"
    assert config.topics.events == "colearner.events.v1"
    assert config.stall_after_hours == 72 and config.peers == {}


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as exc:
        load_config(tmp_path)
    assert str(exc.value) == (f"{config_path(tmp_path)} not found; run 'colearner init --role coach|student --id NAME' in the repository")


def test_bad_yaml(tmp_path: Path) -> None:
    message = error_for(tmp_path, "identity: alice\nrole: [student\nkey_file: x\n")
    assert message.startswith("not valid YAML at line ")
    assert message.endswith("; fix the syntax or re-run 'colearner init'")


def test_not_a_mapping(tmp_path: Path) -> None:
    assert error_for(tmp_path, "- identity\n- role\n") == ("expected a mapping of settings (identity, role, kafka…), found list")
    assert "found NoneType" in error_for(tmp_path, "")


def test_unknown_field(tmp_path: Path) -> None:
    assert error_for(tmp_path, GOOD + "colour: red\n") == "unknown field 'colour'; remove it or check its spelling"
    assert error_for(tmp_path, GOOD + "kafka:\n  bootstrap: 'h:1'\n") == (
        "unknown field 'kafka.bootstrap'; remove it or check its spelling"
    )


def test_bad_role(tmp_path: Path) -> None:
    message = error_for(tmp_path, GOOD.replace("role: student", "role: teacher"))
    assert message == ("field 'role' has a bad value 'teacher' (input should be 'coach' or 'student'); write role: coach or role: student")


def test_missing_role(tmp_path: Path) -> None:
    assert error_for(tmp_path, "identity: alice\nkey_file: k\n") == ("field 'role' is missing; write role: coach or role: student")


def test_missing_key_file(tmp_path: Path) -> None:
    assert error_for(tmp_path, "identity: alice\nrole: coach\n") == "field 'key_file' is missing"


@pytest.mark.parametrize(
    ("servers", "shown", "why"),
    [
        ("['localhost']", "['localhost']", "'localhost' is not HOST:PORT"),
        ("['host:port']", "['host:port']", "'host:port' is not HOST:PORT"),
        ("[]", "[]", "at least 1 item"),
        ("'127.0.0.1:9092'", "'127.0.0.1:9092'", "valid list"),
    ],
)
def test_bad_bootstrap(tmp_path: Path, servers: str, shown: str, why: str) -> None:
    message = error_for(tmp_path, GOOD + f"kafka:\n  bootstrap_servers: {servers}\n")
    assert message.startswith(f"field 'kafka.bootstrap_servers' has a bad value {shown} (")
    assert why in message
    assert message.endswith("; list HOST:PORT entries, e.g. bootstrap_servers: ['127.0.0.1:9092']")


@pytest.mark.parametrize("identity", ["'bad name'", "'-leading-dash'", "''", "'" + "x" * 65 + "'"])
def test_bad_identity(tmp_path: Path, identity: str) -> None:
    message = error_for(tmp_path, GOOD.replace("identity: alice", f"identity: {identity}"))
    assert message.startswith(f"field 'identity' has a bad value {identity} (string should match pattern ")
    assert message.endswith("; use letters, digits, '.', '_', '@' or '-' (at most 64), e.g. identity: alice")


def test_messages_keep_the_case_of_allowed_values(tmp_path: Path) -> None:
    message = error_for(tmp_path, GOOD + "kafka:\n  security_protocol: TLS\n")
    assert message == (
        "field 'kafka.security_protocol' has a bad value 'TLS' "
        "(input should be 'PLAINTEXT', 'SSL', 'SASL_PLAINTEXT' or 'SASL_SSL'); one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL"
    )
    message = error_for(tmp_path, GOOD + "kafka:\n  sasl: {mechanism: MD5, username: u}\n")
    assert "(input should be 'PLAIN', 'SCRAM-SHA-256' or 'SCRAM-SHA-512')" in message
    assert message.startswith("field 'kafka.sasl.mechanism' has a bad value 'MD5'")


def test_bad_numbers_and_peers(tmp_path: Path) -> None:
    assert error_for(tmp_path, GOOD + "stall_after_hours: -1\n") == (
        "field 'stall_after_hours' has a bad value -1 (input should be greater than 0); "
        "a positive number of hours, e.g. stall_after_hours: 72"
    )
    message = error_for(tmp_path, GOOD + "peers:\n  coach:\n    role: coach\n")
    assert message.startswith("field 'peers.coach.public_key' is missing; paste the key")


def test_validate_config_names_where(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^--bootstrap: field 'kafka.bootstrap_servers'"):
        validate_config({"identity": "a", "role": "coach", "key_file": "k", "kafka": {"bootstrap_servers": ["x"]}}, "--bootstrap")


def test_full_security_settings(tmp_path: Path) -> None:
    write(
        tmp_path,
        GOOD + "kafka:\n  bootstrap_servers: ['broker.example:9093', '[::1]:9094']\n  security_protocol: SASL_SSL\n"
        "  tls: {cafile: ca.pem, certfile: me.pem, keyfile: me.key}\n"
        "  sasl: {mechanism: SCRAM-SHA-512, username: alice}\n",
    )
    config = load_config(tmp_path)
    assert config.kafka.sasl is not None and config.kafka.sasl.mechanism == "SCRAM-SHA-512"
    assert config.kafka.sasl.password_env == "COLEARNER_SASL_PASSWORD"
    assert config.kafka.tls is not None and config.kafka.tls.check_hostname
    assert config.bootstrap() == ["broker.example:9093", "[::1]:9094"]


# ---------------------------------------------------------------- environment


def test_bootstrap_env_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, GOOD + "kafka:\n  bootstrap_servers: ['file-host:9092']\n")
    config = load_config(tmp_path)
    assert config.bootstrap() == ["file-host:9092"]
    monkeypatch.setenv("COLEARNER_BOOTSTRAP", " env-a:19092, env-b:19093 ,")
    assert config.bootstrap() == ["env-a:19092", "env-b:19093"]
    monkeypatch.setenv("COLEARNER_BOOTSTRAP", "   ")
    assert config.bootstrap() == ["file-host:9092"]  # blank means unset


def test_bad_bootstrap_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, GOOD)
    monkeypatch.setenv("COLEARNER_BOOTSTRAP", "no-port")
    with pytest.raises(ConfigError) as exc:
        load_config(tmp_path).bootstrap()
    assert str(exc.value) == "COLEARNER_BOOTSTRAP: 'no-port' is not HOST:PORT; e.g. COLEARNER_BOOTSTRAP=127.0.0.1:9092"


def test_key_dir_env(key_dir: Path) -> None:
    assert default_key_dir() == key_dir


# ---------------------------------------------------------------- files


def test_save_and_find(tmp_path: Path) -> None:
    config = AgentConfig(identity="coach", role="coach", key_file="/k.pem")
    save_config(tmp_path, config)
    assert load_config(tmp_path) == config
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert find_root(deep) == tmp_path.resolve()
    assert not list((tmp_path / ".colearner").glob("*.tmp"))


def test_open_without_config(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no \.colearner/agent\.yaml in .* run 'colearner init"):
        Instance.open(tmp_path)


def test_colearner_folder_stays_out_of_git(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "repo")
    init_instance(repo, "student", "alice")
    inst = Instance.open(repo)  # creates the ledger and learning.json too
    inst.close()
    assert (repo / ".colearner" / "ledger.sqlite").exists()
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all", "--ignored=no"],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert status == ""
    # and it is really ignored, not merely empty
    ignored = subprocess.run(
        ["git", "check-ignore", ".colearner/agent.yaml", ".colearner/ledger.sqlite", ".colearner/.gitignore"],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    assert ignored.returncode == 0 and len(ignored.stdout.split()) == 3
    # a file beside it still shows up: the rule is scoped to .colearner/
    (repo / "notes.txt").write_text("x")
    status = subprocess.run(["git", "status", "--porcelain"], cwd=repo, check=True, capture_output=True, text=True).stdout
    assert status == "?? notes.txt\n"
