"""``colearner init`` and ``colearner trust``: keys outside the repository, peers pinned."""

from __future__ import annotations

import base64
import hashlib
import os
import stat
from pathlib import Path

import pytest

from colearner_lsp.core.config import config_path, load_config
from colearner_lsp.core.errors import ConfigError, InvalidArgument, KeyProblem
from colearner_lsp.core.fingerprint import fingerprint
from colearner_lsp.core.identity import init_instance, trust_peer, untrust_peer
from colearner_lsp.core.protocol.signing import generate_key, load_private_key, parse_public_key, public_key_text


def test_init_writes_config_and_a_private_key_outside_the_repo(tmp_path: Path, key_dir: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    config, public = init_instance(repo, "coach", "carol")
    key_file = Path(config.key_file)
    assert key_file.parent == key_dir
    assert repo.resolve() not in key_file.resolve().parents
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert not any(p.suffix == ".pem" for p in repo.rglob("*"))
    assert public_key_text(load_private_key(key_file)) == public
    assert load_config(repo) == config
    assert (config.identity, config.role) == ("carol", "coach")
    assert (repo / ".colearner" / "responses").is_dir()


def test_public_key_printed_form(tmp_path: Path) -> None:
    _, public = init_instance(tmp_path, "student", "alice")
    assert public.startswith("ed25519:") and len(public) == 52
    parse_public_key(public)


def test_two_checkouts_get_two_keys(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    ca, ka = init_instance(tmp_path / "a", "student", "alice")
    cb, kb = init_instance(tmp_path / "b", "student", "alice")
    assert ca.key_file != cb.key_file and ka != kb


def test_init_again_keeps_the_key(tmp_path: Path) -> None:
    _, first = init_instance(tmp_path, "student", "alice")
    _, again = init_instance(tmp_path, "student", "alice")
    assert again == first
    with pytest.raises(ConfigError) as exc:
        init_instance(tmp_path, "coach", "alice")
    assert "already belongs to student 'alice'" in str(exc.value) and "--force" in str(exc.value)
    _, forced = init_instance(tmp_path, "coach", "alice", force=True)
    assert forced != first


def test_init_with_bootstrap(tmp_path: Path) -> None:
    config, _ = init_instance(tmp_path, "coach", "carol", bootstrap="broker.example:9093")
    assert load_config(tmp_path).kafka.bootstrap_servers == ["broker.example:9093"]
    assert config.bootstrap() == ["broker.example:9093"]


def test_init_with_bad_bootstrap(tmp_path: Path, key_dir: Path) -> None:
    with pytest.raises(ConfigError) as exc:
        init_instance(tmp_path, "coach", "carol", bootstrap="nohostport")
    assert str(exc.value) == (
        "--bootstrap: field 'kafka.bootstrap_servers' has a bad value ['nohostport'] "
        "(value error, 'nohostport' is not HOST:PORT); list HOST:PORT entries, e.g. bootstrap_servers: ['127.0.0.1:9092']"
    )
    assert not (tmp_path / ".colearner").exists()
    assert list(key_dir.iterdir()) == []  # no orphan key for an instance that was never made


@pytest.mark.parametrize(
    ("role", "identity", "message"),
    [
        ("teacher", "carol", "--role must be coach or student, not 'teacher'"),
        ("coach", "bad name", "--id 'bad name': use letters, digits, '.', '_', '@' or '-' (at most 64)"),
        ("coach", "", "--id '': use letters"),
    ],
)
def test_init_refuses_bad_arguments(tmp_path: Path, role: str, identity: str, message: str) -> None:
    with pytest.raises(InvalidArgument) as exc:
        init_instance(tmp_path, role, identity)
    assert str(exc.value).startswith(message)
    assert not (tmp_path / ".colearner").exists()


# ---------------------------------------------------------------- trust


def test_trust_adds_the_peer_with_the_opposite_role(tmp_path: Path) -> None:
    (tmp_path / "c").mkdir()
    (tmp_path / "s").mkdir()
    _, coach_key = init_instance(tmp_path / "c", "coach", "carol")
    _, student_key = init_instance(tmp_path / "s", "student", "alice")
    done = trust_peer(tmp_path / "c", "alice", student_key + "\n")
    assert (done.outcome, done.peer.role, done.peer.public_key) == ("added", "student", student_key)
    assert done.fingerprint == fingerprint(student_key)
    done = trust_peer(tmp_path / "s", "carol", coach_key)
    assert done.peer.role == "coach"
    assert load_config(tmp_path / "c").peers["alice"].public_key == student_key
    assert load_config(tmp_path / "s").peers["carol"].role == "coach"
    # the peer re-ran init --force: its new key replaces the pinned one only when asked to
    new_key = public_key_text(generate_key())
    trust_peer(tmp_path / "c", "alice", new_key, replace=True)
    assert load_config(tmp_path / "c").peers["alice"].public_key == new_key
    untrust_peer(tmp_path / "c", "alice")
    assert "alice" not in load_config(tmp_path / "c").peers
    with pytest.raises(InvalidArgument, match="'alice' is not trusted here"):
        untrust_peer(tmp_path / "c", "alice")


def test_trusting_own_name(tmp_path: Path) -> None:
    _, own = init_instance(tmp_path, "coach", "carol")
    with pytest.raises(InvalidArgument) as exc:
        trust_peer(tmp_path, "carol", own)
    assert str(exc.value) == "'carol' is this instance's own name; trust the other side's name and key"


@pytest.mark.parametrize("key", ["ed25519:short", "hello", ""])
def test_trusting_a_bad_key(tmp_path: Path, key: str) -> None:
    init_instance(tmp_path, "coach", "carol")
    with pytest.raises(KeyProblem) as exc:
        trust_peer(tmp_path, "alice", key)
    assert "is not a colearner public key" in str(exc.value)
    assert load_config(tmp_path).peers == {}


def test_trusting_a_bad_name_or_same_role(tmp_path: Path) -> None:
    init_instance(tmp_path, "coach", "carol")
    key = public_key_text(generate_key())
    with pytest.raises(InvalidArgument, match="'a b' is not a valid identity name"):
        trust_peer(tmp_path, "a b", key)
    with pytest.raises(InvalidArgument, match="a coach trusts students, not another coach"):
        trust_peer(tmp_path, "dave", key, role="coach")
    assert load_config(tmp_path).peers == {}


def test_fingerprint_is_sha256_of_the_raw_key_as_ssh_shows_it() -> None:
    key = public_key_text(generate_key())
    raw = base64.b64decode(key.removeprefix("ed25519:"))
    expected = "SHA256:" + base64.b64encode(hashlib.sha256(raw).digest()).decode().rstrip("=")
    assert fingerprint(key) == expected and len(expected) == len("SHA256:") + 43
    assert fingerprint("  " + key.removeprefix("ed25519:") + "\n") == expected  # one key, one fingerprint
    assert fingerprint(public_key_text(generate_key())) != expected
    with pytest.raises(KeyProblem):
        fingerprint("ed25519:short")


def test_trusting_the_same_key_again_changes_nothing(tmp_path: Path) -> None:
    init_instance(tmp_path, "coach", "carol")
    key = public_key_text(generate_key())
    trust_peer(tmp_path, "alice", key)
    before = config_path(tmp_path).read_bytes()
    done = trust_peer(tmp_path, "alice", " " + key + "\n")
    assert (done.outcome, done.fingerprint, done.old_fingerprint) == ("unchanged", fingerprint(key), None)
    assert config_path(tmp_path).read_bytes() == before


def test_a_different_key_for_a_pinned_name_is_refused_naming_both_fingerprints(tmp_path: Path) -> None:
    init_instance(tmp_path, "coach", "carol")
    pinned, other = public_key_text(generate_key()), public_key_text(generate_key())
    trust_peer(tmp_path, "alice", pinned)
    with pytest.raises(KeyProblem) as exc:
        trust_peer(tmp_path, "alice", other)
    message = str(exc.value)
    assert fingerprint(pinned) in message and fingerprint(other) in message
    assert "--replace" in message and "\n" not in message
    assert load_config(tmp_path).peers["alice"].public_key == pinned  # still the pinned key


def test_replace_pins_the_new_key_and_says_which_it_replaced(tmp_path: Path) -> None:
    init_instance(tmp_path, "student", "alice")
    pinned, other = public_key_text(generate_key()), public_key_text(generate_key())
    trust_peer(tmp_path, "carol", pinned)
    done = trust_peer(tmp_path, "carol", other, replace=True)
    assert (done.outcome, done.old_fingerprint, done.fingerprint) == ("replaced", fingerprint(pinned), fingerprint(other))
    assert load_config(tmp_path).peers["carol"].public_key == other
    # --replace for a name not pinned yet simply adds it
    assert trust_peer(tmp_path, "dora", pinned, replace=True).outcome == "added"


# ---------------------------------------------------------------- permissions


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")
def test_colearner_folder_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    old_umask = os.umask(0o022)  # the usual default, which made these files 0644
    try:
        init_instance(tmp_path, "student", "alice")
        trust_peer(tmp_path, "carol", public_key_text(generate_key()))
    finally:
        os.umask(old_umask)
    folder = tmp_path / ".colearner"
    assert mode(folder) == 0o700
    assert mode(folder / "responses") == 0o700
    assert mode(folder / "agent.yaml") == 0o600
    assert mode(folder / ".gitignore") == 0o600
    assert not list(folder.glob("*.tmp"))


@pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")
def test_an_older_instance_is_made_private_when_opened(tmp_path: Path) -> None:
    init_instance(tmp_path, "student", "alice")
    folder = tmp_path / ".colearner"
    draft = folder / "responses" / "ex-1.md"
    draft.write_text("my draft\n")
    for path, loose in (
        (folder, 0o755),
        (folder / "responses", 0o755),
        (folder / "agent.yaml", 0o644),
        (folder / ".gitignore", 0o644),
        (draft, 0o644),
    ):
        path.chmod(loose)
    load_config(tmp_path)  # what opening the instance does first
    assert [mode(folder), mode(folder / "responses")] == [0o700, 0o700]
    assert [mode(folder / "agent.yaml"), mode(folder / ".gitignore"), mode(draft)] == [0o600, 0o600, 0o600]
    assert draft.read_text() == "my draft\n"
