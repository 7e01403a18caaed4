"""The real ``colearner`` command: every command's happy path prints what the
design says, and every user mistake ends as exactly one clear line on stderr
with a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import json
import uuid

import pytest

from colearner_lsp.core import actions
from colearner_lsp.core.fingerprint import fingerprint
from colearner_lsp.core.protocol.signing import generate_key, public_key_text
from tests.instances import assigned, last_line, run_cli, sync

UUID_LEN = 36


@pytest.fixture
def live(pair):
    """A session with a plan and one exercise the student has received."""
    return (pair, *assigned(pair, plan=(["learn"], [("s1", "reading"), ("s2", "fixing")])))


def mistake(cwd, *args, env, code: int | None = None, says: str | tuple[str, ...] = ()) -> str:
    """Run a command that must fail with one line on stderr; return that line."""
    result = run_cli(cwd, *args, env=env)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode != 0, f"colearner {' '.join(args)} succeeded: {result.stdout}"
    if code is not None:
        assert result.returncode == code
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, f"colearner {' '.join(args)} wrote {len(lines)} lines: {result.stderr}"
    for part in (says,) if isinstance(says, str) else says:
        assert part in lines[0], f"{part!r} not in {lines[0]!r}"
    return lines[0]


def ok(cwd, *args, env) -> str:
    """Run a command that must succeed quietly; return its last stdout line."""
    result = run_cli(cwd, *args, env=env)
    assert result.returncode == 0, f"colearner {' '.join(args)}: {result.stderr}"
    assert result.stderr == "", result.stderr
    return last_line(result)


def is_uuid(text: str) -> bool:
    try:
        return str(uuid.UUID(text)) == text
    except ValueError:
        return False


# ---------------------------------------------------------------- happy paths


def test_every_command_prints_its_id_on_the_last_line(pair, tmp_path):
    env, coach, student = pair.env(), pair.coach_root, pair.student_root

    fresh = tmp_path / "fresh"
    fresh.mkdir()
    assert ok(fresh, "init", "--role", "student", "--id", "ann", env=env).startswith("ed25519:")
    ann_key = ok(fresh, "init", "--role", "student", "--id", "ann", "--force", env=env)
    assert ok(coach, "trust", "ann", ann_key, env=env) == f"trusted student 'ann' ({fingerprint(ann_key)})"

    session_id = ok(coach, "session", "start", "--student", "sam", env=env)
    assert is_uuid(session_id)
    assert is_uuid(ok(coach, "plan", session_id, "--goal", "learn", "--step", "s1:reading", env=env))
    ok(coach, "scope", session_id, "--allow", "app/**", env=env)
    exercise_id = ok(
        coach,
        "assign",
        session_id,
        "--topic",
        "reading",
        "--exercise",
        "explain",
        "--expected",
        "text",
        "--file",
        "app/inventory.py",
        "--lines",
        "5-8",
        "--step",
        "s1",
        env=env,
    )
    assert is_uuid(exercise_id)

    inbox = json.loads(run_cli(student, "inbox", "--json", env=env).stdout)
    assert inbox["sessions"][0]["exercises"][0]["exercise_id"] == exercise_id
    assert is_uuid(ok(student, "ack", exercise_id, env=env))
    assert is_uuid(ok(student, "progress", session_id, "--completed", "s1", "--confidence", "reading=0.8", env=env))
    assert is_uuid(ok(coach, "request-evidence", exercise_id, "--path", "app/*.py", "--reason", "show me", env=env))
    assert is_uuid(ok(student, "evidence", exercise_id, env=env))
    assert is_uuid(ok(student, "respond", exercise_id, "done", "--evidence", "app/inventory.py", env=env))
    assert is_uuid(ok(coach, "feedback", exercise_id, "--grade", "pass", "--next-step", "next", "--confidence-delta", "0.2", env=env))
    ok(student, "sync", env=env)
    history = json.loads(run_cli(student, "history", session_id, "--json", env=env).stdout)
    assert history["stage"] == "done"
    assert json.loads(run_cli(coach, "dashboard", "--json", env=env).stdout)
    assert ok(coach, "sync", env=env).startswith("published ")
    doctor = run_cli(coach, "doctor", env=env)
    assert doctor.returncode == 0 and "Traceback" not in doctor.stderr, doctor.stdout + doctor.stderr


# ---------------------------------------------------------------- mistakes


def test_unknown_session_and_exercise(live):
    pair, session_id, exercise_id = live
    env = pair.env()
    missing = str(uuid.uuid4())
    mistake(pair.coach_root, "plan", missing, "--goal", "g", "--step", "s:t", env=env, says=("no session", missing))
    mistake(
        pair.coach_root,
        "assign",
        missing,
        "--topic",
        "t",
        "--exercise",
        "e",
        "--expected",
        "x",
        "--file",
        "app/inventory.py",
        "--lines",
        "1-2",
        env=env,
        says="no session",
    )
    mistake(pair.coach_root, "history", missing, env=env, says="no session")
    mistake(pair.student_root, "progress", missing, "--completed", "s1", env=env, says="no session")
    mistake(pair.student_root, "ack", missing, env=env, says=("no exercise", "colearner inbox"))
    mistake(pair.student_root, "respond", missing, "text", env=env, says="no exercise")
    mistake(
        pair.coach_root, "feedback", missing, "--grade", "pass", "--next-step", "n", "--confidence-delta", "0", env=env, says="no exercise"
    )
    mistake(pair.coach_root, "request-evidence", missing, "--path", "x", "--reason", "r", env=env, says="no exercise")


def test_wrong_role(live):
    pair, session_id, exercise_id = live
    env = pair.env()
    mistake(
        pair.student_root,
        "assign",
        session_id,
        "--topic",
        "t",
        "--exercise",
        "e",
        "--expected",
        "x",
        "--file",
        "app/inventory.py",
        "--lines",
        "1-2",
        env=env,
        says=("'assign' is for a coach", "'sam'"),
    )
    mistake(pair.student_root, "session", "start", "--student", "sam", env=env, says="for a coach")
    mistake(
        pair.student_root,
        "feedback",
        exercise_id,
        "--grade",
        "pass",
        "--next-step",
        "n",
        "--confidence-delta",
        "0",
        env=env,
        says="for a coach",
    )
    mistake(pair.student_root, "dashboard", env=env, says="for a coach")
    mistake(pair.coach_root, "ack", exercise_id, env=env, says=("'ack' is for a student", "'carol'"))
    mistake(pair.coach_root, "respond", exercise_id, "text", env=env, says="for a student")
    mistake(pair.coach_root, "progress", session_id, env=env, says="for a student")
    mistake(pair.coach_root, "session", "start", "--student", "nobody", env=env, says="not on your roster")


@pytest.mark.parametrize(
    "lines, says",
    [("x-y", "write A-B"), ("5-2", "1 <= A <= B"), ("0-3", "1 <= A <= B"), ("18-400", "outside it"), ("", "write A-B")],
)
def test_bad_lines(live, lines, says):
    pair, session_id, _ = live
    mistake(
        pair.coach_root,
        "assign",
        session_id,
        "--topic",
        "t",
        "--exercise",
        "e",
        "--expected",
        "x",
        "--file",
        "app/inventory.py",
        "--lines",
        lines,
        env=pair.env(),
        says=says,
    )


@pytest.mark.parametrize("path", ["../x", "/etc/passwd", "../student/app/inventory.py", ".git/config", "app/nothing.py", "app"])
def test_files_outside_the_repository_or_missing(live, path):
    pair, session_id, _ = live
    line = mistake(
        pair.coach_root,
        "assign",
        session_id,
        "--topic",
        "t",
        "--exercise",
        "e",
        "--expected",
        "x",
        "--file",
        path,
        "--lines",
        "1-2",
        env=pair.env(),
    )
    assert path.split("/")[-1] in line or "outside" in line or "repository" in line, line


def test_evidence_outside_the_repository_is_never_shared(live):
    """Scope refuses such paths; only their count leaves the machine."""
    pair, _, exercise_id = live
    dry = run_cli(
        pair.student_root,
        "respond",
        exercise_id,
        "done",
        "--evidence",
        "/etc/passwd",
        "--evidence",
        "../coach/README.md",
        "--dry-run",
        env=pair.env(),
    )
    assert dry.returncode == 0 and "sharing 0 file(s)" in dry.stdout and "withholding 2 file(s)" in dry.stdout, dry.stdout
    assert "  - /etc/passwd: is absolute" in dry.stdout and "  - ../coach/README.md: escapes the repository" in dry.stdout
    ok(pair.student_root, "respond", exercise_id, "done", "--evidence", "/etc/passwd", env=pair.env())
    [evidence] = pair.student().state.exercises[exercise_id].evidence
    assert evidence.snapshot.files == [] and evidence.snapshot.withheld == 1


def test_bad_values(live):
    pair, session_id, exercise_id = live
    env = pair.env()
    actions.respond(pair.student(), exercise_id, "an answer")
    sync(pair.student(), pair.coach())
    for delta in ("3", "-1.5"):
        mistake(
            pair.coach_root,
            "feedback",
            exercise_id,
            "--grade",
            "pass",
            "--next-step",
            "n",
            "--confidence-delta",
            delta,
            env=env,
            says=("--confidence-delta", "between -1 and 1"),
        )
    mistake(
        pair.coach_root,
        "feedback",
        exercise_id,
        "--grade",
        "pass",
        "--next-step",
        "n",
        "--confidence-delta",
        "lots",
        env=env,
        code=2,
        says="invalid float value",
    )
    mistake(
        pair.coach_root,
        "feedback",
        exercise_id,
        "--grade",
        "great",
        "--next-step",
        "n",
        "--confidence-delta",
        "0",
        env=env,
        code=2,
        says="invalid choice",
    )
    mistake(pair.student_root, "progress", session_id, "--confidence", "topic=abc", env=env, says=("--confidence", "TOPIC=VALUE"))
    mistake(pair.student_root, "progress", session_id, "--confidence", "noequals", env=env, says="TOPIC=VALUE")
    mistake(pair.student_root, "progress", session_id, "--confidence", "reading=1.5", env=env, says="between 0 and 1")
    mistake(pair.student_root, "progress", session_id, "--completed", "s2", env=env)  # steps go in order
    mistake(pair.coach_root, "plan", session_id, "--goal", "g", "--step", "nocolon", env=env, says="ID:TOPIC")
    mistake(pair.student_root, "respond", exercise_id, "   ", env=env, says="empty")


def test_no_configuration_here(tmp_path, broker):
    empty = tmp_path / "empty"
    empty.mkdir()
    env = {"COLEARNER_BOOTSTRAP": broker.bootstrap}
    from tests.instances import cli_env

    env = cli_env(broker.bootstrap)
    for args in (
        ["inbox"],
        ["sync"],
        ["session", "start", "--student", "x"],
        ["history", "abc"],
        ["trust", "bob", "ed25519:x"],
        ["ack", "x"],
    ):
        mistake(empty, *args, env=env, says="colearner init")


def test_bad_agent_yaml(pair):
    env = pair.env()
    path = pair.student_root / ".colearner" / "agent.yaml"
    good = path.read_text()
    for text, says in [
        ("identity: [unclosed\n", "not valid YAML"),
        ("- just\n- a list\n", "expected a mapping"),
        (good.replace("role: student", "role: teacher"), ("field 'role'", "role: coach or role: student")),
        (good + "colour: blue\n", "unknown field 'colour'"),
        (good.replace("security_protocol: PLAINTEXT", "security_protocol: TLS"), ("security_protocol", "PLAINTEXT, SSL")),
    ]:
        path.write_text(text)
        mistake(pair.student_root, "inbox", env=env, says=("agent.yaml", *((says,) if isinstance(says, str) else says)))
    path.write_text(good)
    run_cli(pair.student_root, "inbox", env=env).check_returncode()


def test_bad_bootstrap_in_the_environment(pair):
    mistake(pair.student_root, "inbox", env={**pair.env(), "COLEARNER_BOOTSTRAP": "nohost"}, says="COLEARNER_BOOTSTRAP")


def test_unknown_command_and_missing_arguments(pair):
    env = pair.env()
    mistake(pair.coach_root, "frobnicate", env=env, code=2, says="invalid choice: 'frobnicate'")
    mistake(pair.coach_root, "assign", env=env, code=2, says="required")
    mistake(pair.coach_root, "feedback", "abc", "--grade", "pass", env=env, code=2, says="--next-step")
    mistake(pair.coach_root, "session", env=env, code=2)
    mistake(pair.coach_root, "init", "--role", "coach", env=env, code=2, says="--id")
    mistake(pair.coach_root, "trust", env=env, code=2, says="required")


def test_init_twice_and_bad_trust(pair):
    env = pair.env()
    assert ok(pair.coach_root, "init", "--role", "coach", "--id", "carol", env=env) == pair.coach_key  # idempotent: same key
    mistake(pair.coach_root, "init", "--role", "coach", "--id", "carl", env=env, says=("already belongs to coach 'carol'", "--force"))
    mistake(pair.coach_root, "init", "--role", "coach", "--id", "bad name!", "--force", env=env)
    mistake(pair.coach_root, "trust", "dave", "not-a-key", env=env, says="not a colearner public key")


# ---------------------------------------------------------------- trust


def test_a_pinned_key_is_never_replaced_silently(pair):
    env, coach = pair.env(), pair.coach_root
    pinned, other = pair.student_key, public_key_text(generate_key())
    assert ok(coach, "trust", "sam", pinned, env=env) == f"already trusted: student 'sam' ({fingerprint(pinned)})"
    line = mistake(coach, "trust", "sam", other, env=env, code=1, says=(fingerprint(pinned), fingerprint(other), "--replace"))
    assert line.startswith("colearner: 'sam' is already trusted")
    assert pair.coach().config.peers["sam"].public_key == pinned
    assert ok(coach, "trust", "sam", other, "--replace", env=env) == (
        f"replaced the key of student 'sam': {fingerprint(pinned)} -> {fingerprint(other)}"
    )
    assert pair.coach().config.peers["sam"].public_key == other


def test_untrust_takes_a_student_off_the_roster(pair):
    env, coach = pair.env(), pair.coach_root
    assert ok(coach, "untrust", "sam", env=env).startswith("no longer trusted: student 'sam'")
    assert "sam" not in pair.coach().config.peers
    mistake(coach, "untrust", "sam", env=env, code=1, says="'sam' is not trusted here")
    mistake(coach, "untrust", env=env, code=2, says="required")
    mistake(pair.coach_root.parent, "untrust", "sam", env=env, says="run 'colearner init' first")


# ---------------------------------------------------------------- private files


def test_colearner_folder_is_private_after_init_and_a_command(tmp_path, broker):
    import os
    import stat

    from tests.instances import cli_env
    from tests.repos import make_origin

    repo = make_origin(tmp_path / "repo")
    env = cli_env(broker.bootstrap)
    folder = repo / ".colearner"
    ok(repo, "init", "--role", "coach", "--id", "carol", env=env)
    (folder / "agent.yaml").chmod(0o644)  # as an older colearner left it
    folder.chmod(0o755)
    ok(repo, "trust", "sam", public_key_text(generate_key()), env=env)
    ok(repo, "session", "start", "--student", "sam", env=env)
    modes = {
        path.name: stat.S_IMODE(os.stat(path).st_mode)
        for path in (folder, folder / "agent.yaml", folder / ".gitignore", folder / "responses")
    }
    assert modes == {".colearner": 0o700, "agent.yaml": 0o600, ".gitignore": 0o600, "responses": 0o700}


# ---------------------------------------------------------------- evidence


def _out(result) -> list[str]:
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stdout + result.stderr
    return result.stdout.splitlines()


def test_dry_run_and_respond_say_the_same_and_name_every_withheld_file(live):
    pair, session_id, exercise_id = live
    env, student = pair.env(), pair.student_root
    actions.set_scope(pair.coach(), session_id, allow=["app/**"])
    sync(pair.coach())
    (student / ".env").write_text("API_TOKEN=hunter2\n")  # git-ignored in the sample repository
    (student / "app" / "inventory.py").write_text("changed\n")
    args = (
        "respond",
        exercise_id,
        "done",
        "--evidence",
        "app/inventory.py",
        "--evidence",
        "app/typo.py",
        "--evidence",
        ".env",
        "--evidence",
        "README.md",
    )
    dry = _out(run_cli(student, *args, "--dry-run", env=env))
    assert dry[-1] == "dry run: nothing sent"
    assert dry[:-1] == [
        "sharing 1 file(s):",
        "  + app/inventory.py",
        "withholding 3 file(s) (named here only; the coach sees just how many):",
        "  - app/typo.py: does not exist",
        "  - README.md: not in the coach's allow list",
        "  - .env: denied by student rule '*.env'",
    ]
    real = _out(run_cli(student, *args, env=env))
    assert real[:-2] == dry[:-1] and real[-2] == "response sent"  # the preview's lines, then "sent"
    sync(pair.coach())
    [evidence] = pair.coach().state.exercises[exercise_id].evidence
    assert [f.path for f in evidence.snapshot.files] == ["app/inventory.py"] and evidence.snapshot.withheld == 3
    wire = "".join(r.raw.decode() if isinstance(r.raw, bytes) else r.raw for r in pair.coach().ledger.events_after(0))
    for name in ("typo", "README", ".env", "hunter2"):
        assert name not in wire


def test_an_ignored_file_goes_only_with_include_ignored(live):
    pair, session_id, exercise_id = live
    env, student = pair.env(), pair.student_root
    actions.set_scope(pair.coach(), session_id, allow=["**"])
    sync(pair.coach())
    (student / ".gitignore").write_text(".env\n*.local\n")
    (student / "settings.local").write_text("token=42\n")
    dry = _out(run_cli(student, "evidence", exercise_id, "--path", "settings.local", "--dry-run", env=env))
    assert "  - settings.local: git-ignored" in dry and "sharing 0 file(s)" in dry
    assert any("--include-ignored" in line for line in dry)
    sent = _out(run_cli(student, "evidence", exercise_id, "--path", "settings.local", env=env))
    assert sent[:-2] == dry[:-1] and sent[-2].startswith("evidence sent: 0 files")
    consented = _out(run_cli(student, "evidence", exercise_id, "--path", "settings.local", "--include-ignored", env=env))
    assert consented[:2] == ["sharing 1 file(s):", "  + settings.local"]
    sync(pair.coach())
    first, second = (e.snapshot for e in pair.coach().state.exercises[exercise_id].evidence)
    assert (first.files, first.withheld) == ([], 1)
    assert [f.path for f in second.files] == ["settings.local"] and second.withheld == 0
