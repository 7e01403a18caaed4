"""Payloads are sealed to their readers (DESIGN.md, "Events on the wire (v2)", "Security").

A whole session, every field holding a distinctive marker, runs over a real broker;
then an outsider reads every topic from the beginning and finds none of it: not in
the bytes, not in anything that decodes from base64 or zlib. And with two students,
neither one's instance can open the other's events.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import re
import zlib
from pathlib import Path

from colearner_lsp.core import actions
from colearner_lsp.core.instance import Instance
from colearner_lsp.core.store.ledger import Incoming
from tests.instances import add_student, sync
from tests.kafka_harness import raw_consume
from tests.repos import git
from tests.wire_forge import ASSIGNMENTS, EVENTS, FEEDBACK, PROGRESS

TOPICS = (ASSIGNMENTS, FEEDBACK, PROGRESS, EVENTS)
MARK = "Zq7Mark"  # in every text a session writes


def everything_on_the_broker(bootstrap: str) -> list[bytes]:
    async def read() -> list[bytes]:
        out: list[bytes] = []
        for topic in TOPICS:
            out += [r.value for r in await raw_consume(bootstrap, topic, 10_000, timeout=3) if r.value]
        return out

    return asyncio.run(read())


def decodings(raw: bytes) -> list[bytes]:
    """``raw`` and whatever its base64-looking runs decode to, and those inflated when they are zlib or raw deflate."""
    found = [raw]
    for run in re.findall(rb"[A-Za-z0-9+/=_-]{16,}", raw):
        for decode in (base64.b64decode, base64.urlsafe_b64decode):
            try:
                data = decode(run + b"=" * (-len(run) % 4))
            except (binascii.Error, ValueError):
                continue
            found.append(data)
            for wbits in (15, -15, 31):
                try:
                    found.append(zlib.decompress(data, wbits))
                except zlib.error:
                    pass
    return found


def run_marked_session(coach: Instance, student: Instance, student_id: str) -> dict[str, str]:
    """A whole session whose every text holds MARK; returns the secrets besides MARK (hashes, commit)."""
    root = student.root
    secret = f"app/{MARK.lower()}_notes.py"
    (coach.root / "app" / f"{MARK.lower()}_notes.py").write_text(f"def {MARK}_code():\n    return '{MARK} source line'\n")
    git(coach.root, "add", "-A")
    git(coach.root, "commit", "-q", "-m", "notes")
    git(root, "pull", "-q")
    session_id = actions.start_session(coach, student_id)
    actions.send_plan(coach, session_id, [f"goal {MARK}"], [(f"step-{MARK}", f"topic {MARK}")])
    actions.set_scope(coach, session_id, allow=["app/**"], share="diff")
    exercise_id = actions.assign_exercise(
        coach,
        session_id,
        topic=f"topic {MARK}",
        exercise=f"exercise {MARK}",
        expected=f"expected {MARK}",
        tests=[f"pytest -k {MARK}"],
        path=secret,
        start_line=1,
        end_line=2,
        step_id=f"step-{MARK}",
    )
    sync(coach, student)
    (root / secret).write_text(f"def {MARK}_code():\n    return '{MARK} changed by the student'\n")
    actions.respond(student, exercise_id, f"answer {MARK}", evidence=[secret])
    actions.submit_progress(student, session_id, [f"step-{MARK}"], {f"topic {MARK}": 0.7})
    sync(student, coach)
    actions.request_evidence(coach, exercise_id, [f"app/{MARK}*"], f"reason {MARK}")
    actions.send_feedback(
        coach,
        exercise_id,
        grade="revise",
        next_step=f"next {MARK}",
        confidence_delta=-0.1,
        mistakes=[f"mistake {MARK}", {"text": f"anchored {MARK}", "path": secret, "start_line": 1, "end_line": 1}],
    )
    sync(coach, student)
    ex = coach.state.exercises[exercise_id]
    assert ex.responses and f"answer {MARK}" in json.dumps([r.to_json() for r in ex.responses])  # the coach did read everything
    snapshot = next(json.loads(r.raw) for r in coach.ledger.events_after(0) if '"evidence_snapshot"' in r.raw)
    assert MARK in snapshot["payload"]["diff"]  # the student's code went out (share: diff)
    blobs = {f["blob_sha"] for f in snapshot["payload"]["files"] if f["blob_sha"]}
    return {"commit": snapshot["payload"]["commit"], **{f"blob{i}": b for i, b in enumerate(sorted(blobs))}, "path": secret}


def test_an_outsider_reading_every_topic_learns_nothing_of_the_session(pair) -> None:  # type: ignore[no-untyped-def]
    coach, student = pair.coach(), pair.student()
    try:
        secrets = run_marked_session(coach, student, pair.student_id)
    finally:
        coach.close()
        student.close()
    messages = everything_on_the_broker(pair.bootstrap)
    assert len(messages) >= 12
    needles = [MARK.encode(), MARK.lower().encode(), *(v.encode() for v in secrets.values())]
    for raw in messages:
        for text in decodings(raw):
            for needle in needles:
                assert needle not in text, (needle, raw[:200])
    # what an outsider does see, by design: who, about whom, which type, when, seq
    header = json.loads(messages[0])
    assert {"sender", "student", "event_type", "seq", "ts", "session_id"} <= set(header)


def test_two_students_cannot_open_each_others_events(pair, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bob_root = add_student(pair, tmp_path, "bob")
    coach, sam, bob = pair.coach(), pair.student(), Instance.open(bob_root)
    try:
        for student in (sam, bob):
            session_id = actions.start_session(coach, student.identity)
            actions.send_plan(coach, session_id, [f"goal for {student.identity}"], [("s1", "t")])
        sync(coach, sam, bob)
        actions.submit_progress(sam, None, ["s1"], {"t": 0.9})
        sync(sam, coach)
        everything = everything_on_the_broker(pair.bootstrap)
        about_sam = [m for m in everything if json.loads(m)["student"] == pair.student_id]
        about_bob = [m for m in everything if json.loads(m)["student"] == "bob"]
        assert about_sam and about_bob
        # the coach opened both students' streams
        assert {s.student for s in coach.state.sessions.values()} == {pair.student_id, "bob"}
        # neither student holds or shows anything of the other's
        assert "goal for bob" not in json.dumps(sam.state.to_json()) and "goal for sam" not in json.dumps(bob.state.to_json())
        # bob's instance, handed every message about sam, opens none of them: each is refused, never applied
        before = bob.state.to_json()
        got = bob.receive([Incoming(raw=m, topic=PROGRESS) for m in about_sam])
        assert got.applied == [] and set(got.outcomes) == {"quarantined"} and bob.state.to_json() == before
        reasons = {q["reason"] for q in bob.ledger.quarantined()}
        assert all("concerns another student ('sam')" in r or "wrote as" in r or "not trusted" in r for r in reasons), reasons
        # and bob's key cannot open them even when the header check is taken away: the seal says why
        from colearner_lsp.core.protocol.receive import Claim, examine, open_claim
        from colearner_lsp.core.protocol.sealing import shared_key

        bob_as_sam = bob.config.model_copy(update={"identity": pair.student_id})
        for raw in about_sam:
            claim = examine(raw, bob_as_sam, bob.public_key)
            if not isinstance(claim, Claim):
                continue  # e.g. sam's own events, which bob does not trust
            verdict = open_claim(claim, "bob", shared_key(bob.key, claim.public_key))
            assert verdict.reason is not None and "not addressed to 'bob'" in verdict.reason, verdict.reason
    finally:
        for inst in (coach, sam, bob):
            inst.close()
