"""Wire text in the terminal: a coach's exercise, feedback and reasons full of
escape sequences, BEL, NUL and bidi overrides reach the student's and the
coach's terminal through the real ``colearner`` commands (real subprocesses,
real embedded broker) as visible pictures, never as the bytes themselves.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from colearner_lsp.core import actions
from colearner_lsp.core.protocol.events import now_ts
from colearner_lsp.core.protocol.signing import sign_envelope
from tests.instances import Pair, sync

# Clear the screen, home the cursor, set the window title (OSC … BEL), NUL,
# then a right-to-left override and a bidi isolate.
EVIL = "\x1b[2J\x1b[H\x1b]0;pwned\x07\x00\u202eevil\u2066x\u2069"
# Bytes a terminal acts on (C0 but \t and \n, and DEL), as UTF-8 never encodes them otherwise.
RAW_BYTES = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f]")
# Characters that reorder or hide text, and C1 controls (8-bit CSI among them).
RAW_CHARS = re.compile("[\u0080-\u009f\u202a-\u202e\u2066-\u2069\u200b-\u200f]")


def terminal_output(cwd: Path, *args: str, env: dict[str, str]) -> str:
    """What ``colearner ARGS`` writes to stdout, checked byte by byte, then decoded."""
    result = subprocess.run([sys.executable, "-m", "colearner_lsp", *args], cwd=cwd, env=env, capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    raw = result.stdout
    found = RAW_BYTES.search(raw)
    assert found is None, (
        f"colearner {' '.join(args)} printed byte {found.group()!r} at {found.start()}: {raw[max(0, found.start() - 40) : found.start() + 40]!r}"
    )
    text = raw.decode("utf-8")
    found_char = RAW_CHARS.search(text)
    assert found_char is None, f"colearner {' '.join(args)} printed U+{ord(found_char.group()):04X}"
    assert RAW_BYTES.search(result.stderr) is None, result.stderr
    return text


def forged_progress(pair: Pair, session_id: str) -> bytes:
    """A signed message from the student whose payload has a field named with escape
    sequences: refused by the schema, with a reason that quotes the field's name."""
    env = {
        "ts": now_ts(),
        "actor": "student",
        "session_id": session_id,
        "event_type": "progress_update",
        "payload": {"completed": [], EVIL: 1},
        "event_id": "6f1c2d3e-0000-4000-8000-000000000001",
        "sender": pair.student_id,
        "student": pair.student_id,
        "seq": 900,
    }
    return json.dumps(sign_envelope(env, pair.student().key)).encode()


@pytest.fixture
def hostile(pair: Pair):
    """A session whose every coach-written text is hostile: plan, exercise, evidence request, feedback, lifecycle."""
    coach, student = pair.coach(), pair.student()
    session_id = actions.start_session(coach, pair.student_id)
    actions.send_plan(coach, session_id, [f"goal {EVIL}"], [("s1", f"step {EVIL}")])
    exercise_id = actions.assign_exercise(
        coach,
        session_id,
        topic=f"topic {EVIL}",
        exercise=f"first line {EVIL}\nsecond line {EVIL}",
        expected=f"expected {EVIL}",
        path="app/inventory.py",
        start_line=5,
        end_line=8,
        tests=[f"pytest {EVIL}"],
    )
    sync(coach, student)
    actions.acknowledge(student, exercise_id)
    actions.respond(student, exercise_id, f"answer {EVIL}", None)
    sync(student, coach)
    actions.request_evidence(coach, exercise_id, ["app/*.py"], f"reason {EVIL}")
    actions.send_feedback(
        coach,
        exercise_id,
        grade="revise",
        next_step=f"next {EVIL}",
        confidence_delta=-0.1,
        mistakes=[f"mistake {EVIL}", {"text": f"anchored {EVIL}", "path": "app/inventory.py", "start_line": 5, "end_line": 6}],
    )
    actions.advance_session(coach, session_id, "review", f"because {EVIL}")
    sync(coach, student, coach)
    return pair, session_id


def test_inbox_shows_the_coachs_escape_sequences(hostile) -> None:
    pair, _ = hostile
    out = terminal_output(pair.student_root, "inbox", env=pair.env())
    assert "topic ␛[2J␛[H␛]0;pwned␇␀⟨U+202E⟩evil⟨U+2066⟩x⟨U+2069⟩" in out
    assert "goal ␛[2J" in out and "step ␛[2J" in out
    assert "expected ␛[2J" in out and "test: pytest ␛[2J" in out
    assert "mistake ␛[2J" in out and "anchored ␛[2J" in out and "next: next ␛[2J" in out
    assert "reason ␛[2J" in out
    # The exercise keeps its two lines, both indented under the exercise.
    assert "    first line ␛[2J" in out and "\n    second line ␛[2J" in out


def test_history_shows_reasons_and_summaries(hostile) -> None:
    pair, session_id = hostile
    for root in (pair.student_root, pair.coach_root):
        out = terminal_output(root, "history", session_id, env=pair.env())
        assert "(because ␛[2J␛[H␛]0;pwned␇␀⟨U+202E⟩evil" in out  # the lifecycle reason
        assert "␛[2J" in out.split("events (")[1]  # event summaries quote topics and texts too
        # One event, one line: every event line starts with its time.
        events = out.split("events (")[1].rstrip("\n").splitlines()[1:]
        assert events, out
        stray = [line for line in events if not re.match(r"  \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ  ", line)]
        assert not stray, stray


def test_dashboard_shows_topics_reasons_and_quarantine(hostile) -> None:
    from tests.kafka_harness import HostileProducer

    pair, session_id = hostile
    with HostileProducer(pair.bootstrap) as producer:
        producer.send("colearner.progress.v1", pair.student_id.encode(), forged_progress(pair, session_id))
    [report] = sync(pair.coach())
    assert report.quarantined == 1

    out = terminal_output(pair.coach_root, "dashboard", env=pair.env())
    folded = re.sub(r"\s+", "", out)  # the Reason column folds long reasons over lines
    assert "topic␛[2J␛[H␛]0;pwned␇␀⟨U+202E⟩evil" in folded  # the unanswered evidence request names the exercise
    assert "reason␛[2J" in folded
    assert "quarantine" in out and "␛]0;pwned␇" in folded  # the refused field's name, quoted by the reason
