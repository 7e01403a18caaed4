"""The command line imports only what a command needs (start-up, issue 17).

``colearner --help`` builds its parser without the core's models, Kafka or git;
``colearner --offline inbox`` reads the ledger and folds it without the bus.
Each runs in a fresh interpreter, the way the ``colearner`` script calls
``main``, and reports the modules it ended with: a heavy import put back at the
top of a module fails here, not only in bench/bench_cli.py.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path
from typing import get_args

import pytest

from colearner_lsp.cli.main import build_parser
from colearner_lsp.core.config import AgentConfig
from colearner_lsp.core.identity import init_instance
from colearner_lsp.core.protocol.events import AssessmentFeedback, ScopePolicy, SessionLifecycle
from tests.instances import cli_env
from tests.repos import make_origin

# What the colearner script does, then the names of every module loaded.
PROBE = """
import sys
from colearner_lsp.cli.main import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print("\\n--modules--")
print("\\n".join(sorted(sys.modules)))
sys.exit(code)
"""

# Third-party packages (and asyncio) that together took ~0.5 s before any command ran.
HEAVY = {
    "pydantic",
    "pydantic_core",
    "aiokafka",
    "asyncio",
    "git",
    "cryptography",
    "nacl",
    "yaml",
    "sqlite3",
    "rich",
    "pygls",
    "lsprotocol",
    "jsonschema",
    "pathspec",
    "logging",
}
# What the offline inbox has no use for: the bus, the editor, git, evidence, rendering.
NOT_FOR_INBOX = {"aiokafka", "asyncio", "git", "rich", "pygls", "lsprotocol", "jsonschema", "pathspec"}


def run_probe(cwd: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    result = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=cwd, env=cli_env(), capture_output=True, text=True, timeout=60)
    result.stdout, _, modules = result.stdout.rpartition("\n--modules--\n")
    return result, set(modules.split())


def packages(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


@pytest.fixture
def student(tmp_path: Path) -> Path:
    """A git repository with a student instance; the broker named is never tried offline."""
    root = make_origin(tmp_path / "repo")
    init_instance(root, "student", "sam", "127.0.0.1:9")
    return root


def test_help_imports_no_core_models_kafka_or_git(tmp_path):
    result, modules = run_probe(tmp_path, "--help")
    assert result.returncode == 0, result.stderr
    assert "inbox" in result.stdout and "--offline" in result.stdout
    assert packages(modules) & HEAVY == set()
    ours = {m for m in modules if m.startswith("colearner_lsp.")}
    assert ours <= {
        "colearner_lsp.cli",
        "colearner_lsp.cli.main",
        "colearner_lsp.core",
        "colearner_lsp.core.errors",
        "colearner_lsp.core.protocol",
        "colearner_lsp.core.protocol.vocabulary",
    }, ours


@pytest.mark.parametrize("args", [["feedback", "--help"], ["advance", "x", "--to", "nowhere"]])
def test_a_command_s_help_and_argument_errors_import_no_core_either(tmp_path, args):
    result, modules = run_probe(tmp_path, *args)
    assert result.returncode in (0, 2), result.stderr
    assert "Traceback" not in result.stderr
    assert packages(modules) & HEAVY == set()
    assert "colearner_lsp.cli.commands" not in modules


def test_offline_inbox_reads_the_ledger_without_the_bus(student):
    result, modules = run_probe(student, "--offline", "inbox")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "sam: nothing yet (no session has reached this instance; try 'colearner sync')"
    assert result.stderr == ""
    assert packages(modules) & NOT_FOR_INBOX == set()
    assert not {m for m in modules if m.startswith(("colearner_lsp.bus", "colearner_lsp.server", "colearner_lsp.views"))}
    assert "colearner_lsp.core.store.ledger" in modules  # it did read the ledger
    handlers = {m for m in modules if m.startswith("colearner_lsp.cli.commands.")}
    assert handlers == {"colearner_lsp.cli.commands.student", "colearner_lsp.cli.commands.exchange"}  # its group of commands alone


def test_offline_inbox_on_a_damaged_ledger_is_one_line(student):
    first, _ = run_probe(student, "--offline", "inbox")
    assert first.returncode == 0, first.stderr
    path = student / ".colearner" / "ledger.sqlite"
    data = path.read_bytes()
    assert len(data) > 3 * 4096
    path.write_bytes(data[:4096] + bytes([0xA5]) * (len(data) - 8192) + data[-4096:])

    result, _ = run_probe(student, "--offline", "inbox")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert "ledger" in line and "colearner repair" in line


def _choices(parser: argparse.ArgumentParser, command: str, flag: str) -> set[str]:
    [commands] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    [option] = [a for a in commands.choices[command]._actions if flag in a.option_strings]
    return set(option.choices or ())


@pytest.mark.parametrize(
    "command, flag, annotation",
    [
        ("init", "--role", AgentConfig.model_fields["role"].annotation),
        ("scope", "--share", ScopePolicy.model_fields["share"].annotation),
        ("feedback", "--grade", AssessmentFeedback.model_fields["grade"].annotation),
        ("advance", "--to", SessionLifecycle.model_fields["to"].annotation),
    ],
)
def test_the_parser_offers_the_models_words(command, flag, annotation):
    """The cheap parser still takes its choices from the words the models accept."""
    assert _choices(build_parser(), command, flag) == set(get_args(annotation))


@pytest.fixture
def student_with_a_session(tmp_path: Path) -> Path:
    """A student whose ledger holds a plan, an exercise and feedback (exchanged in memory), closed as a command leaves it."""
    from colearner_lsp.core import actions
    from tests.core.conftest import Wire, make_pair

    coach, (student,) = make_pair(tmp_path)
    wire = Wire()
    try:
        session_id = actions.start_session(coach, "alice")
        actions.send_plan(coach, session_id, ["read it"], [("s1", "reading")])
        exercise_id = actions.assign_exercise(
            coach, session_id, topic="reading", exercise="explain ␛ it", expected="x", path="service.py", start_line=1, end_line=2
        )
        wire.exchange(coach, student)
        actions.respond(student, exercise_id, "an answer")
        wire.exchange(student, coach)
        actions.send_feedback(coach, exercise_id, grade="revise", next_step="again", confidence_delta=-0.1, mistakes=["a mistake"])
        wire.exchange(coach, student)
        actions.submit_progress(student, session_id, ["s1"], {"reading": 0.5})  # waits in the outbox
    finally:
        coach.close()
        student.close()
    return student.root


def slow_inbox(root: Path) -> dict:
    from colearner_lsp.core import actions
    from colearner_lsp.core.instance import Instance

    inst = Instance.open(root)
    try:
        return actions.inbox(inst)
    finally:
        inst.close()


def test_offline_inbox_reads_learning_json_when_it_is_the_ledgers_state(student_with_a_session):
    import json

    from colearner_lsp.cli.inbox_text import render_inbox

    expected = slow_inbox(student_with_a_session)
    assert expected["outbox"] >= 1 and expected["sessions"]
    for args, want in ((["--json"], json.dumps(expected, indent=2)), ([], render_inbox(expected))):
        result, modules = run_probe(student_with_a_session, "--offline", "inbox", *args)
        assert result.returncode == 0, result.stderr
        assert result.stdout.rstrip("\n") == want.rstrip("\n")
        assert f"{expected['outbox']} event(s) wait in the outbox" in result.stderr
        assert "pydantic" not in packages(modules) and "colearner_lsp.core.store.ledger" not in modules  # no fold


def config_changed_after_learning_json(folder: Path) -> None:
    """agent.yaml written a second after learning.json (set, not waited for: a clock's tick may be coarse)."""
    written = folder.joinpath("learning.json").stat().st_mtime_ns
    os.utime(folder / "agent.yaml", ns=(written + 1_000_000_000, written + 1_000_000_000))


@pytest.mark.parametrize(
    "spoil",
    [
        lambda folder: folder.joinpath("learning.json").write_text("{not json"),
        lambda folder: folder.joinpath("learning.json").write_text('["a list"]'),
        lambda folder: folder.joinpath("learning.json").write_text(
            folder.joinpath("learning.json").read_text().replace('"ledger_pos": ', '"ledger_pos": 1000')
        ),
        lambda folder: folder.joinpath("learning.json").unlink(),
        lambda folder: config_changed_after_learning_json(folder),
    ],
    ids=["not-json", "not-an-object", "ledger-moved-on", "missing", "config-newer"],
)
def test_offline_inbox_folds_the_ledger_when_learning_json_may_not_be_its_state(student_with_a_session, spoil):
    import json

    expected = slow_inbox(student_with_a_session)
    folder = student_with_a_session / ".colearner"
    spoil(folder)
    result, modules = run_probe(student_with_a_session, "--offline", "inbox", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == expected
    assert "colearner_lsp.core.store.ledger" in modules  # the careful way: the ledger folded


def test_the_snapshot_reader_knows_the_ledgers_schema():
    from colearner_lsp.cli.snapshot_inbox import LEDGER_SCHEMA
    from colearner_lsp.core.store.ledger_schema import SCHEMA_VERSION

    assert LEDGER_SCHEMA == SCHEMA_VERSION
