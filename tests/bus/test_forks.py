"""A forked writer (DESIGN.md, "Chained streams"): two different events signed with one
key at one place of a stream. Only that key can make them (it was copied, or its
ledger rolled back), so the stream is stopped, and the dashboard and doctor say so."""

from __future__ import annotations

from colearner_lsp.core import actions
from colearner_lsp.core.reports.metrics import dashboard_for
from tests.instances import assigned, run_cli, sync
from tests.kafka_harness import HostileProducer
from tests.wire_forge import PROGRESS, sealed_message


def test_a_forked_writer_is_stopped_and_reported(pair) -> None:  # type: ignore[no-untyped-def]
    session_id, exercise_id = assigned(pair)
    coach, sam = pair.coach(), pair.student()
    try:
        actions.acknowledge(sam, exercise_id)
        sync(sam, coach)
        assert coach.state.exercises[exercise_id].state == "acknowledged"
        # sam's key, another event at seq 1 of his stream: what a copy of his key or an old ledger writes
        rival = sealed_message(
            sam.key,
            {pair.coach_id: coach.public_key, pair.student_id: sam.public_key},
            event_type="exercise_response",
            payload={"exercise_id": exercise_id, "response": "from the other copy"},
            sender=pair.student_id,
            student=pair.student_id,
            actor="student",
            session_id=session_id,
        )
        with HostileProducer(pair.bootstrap) as hostile:
            hostile.send(PROGRESS, pair.student_id.encode(), rival)
        [report] = sync(coach)
        assert report.quarantined == 1
        assert coach.ledger.forks() == {(pair.student_id, pair.student_id): "two signed events at seq 1"}
        [q] = coach.ledger.quarantined()
        assert q["reason"] == f"forked writer: a second signed event at seq 1 of '{pair.student_id}' for '{pair.student_id}'"

        # nothing more of the stream is applied, even sam's real next answer
        actions.respond(sam, exercise_id, "the real answer")
        sync(sam, coach)
        assert coach.state.exercises[exercise_id].state == "acknowledged"
        assert any("is forked" in r["reason"] for r in coach.ledger.quarantined())

        [blocker] = [b for b in dashboard_for(coach)["blockers"] if b["kind"] == "quarantined"]
        assert blocker["student"] == pair.student_id and blocker["reason"].startswith("FORKED: ")
    finally:
        coach.close()
        sam.close()
    doctor = run_cli(pair.coach_root, "--offline", "doctor", env=pair.env())
    assert doctor.returncode != 0
    assert f"stream of {pair.student_id} about {pair.student_id}" in doctor.stdout and "forked writer" in doctor.stdout, doctor.stdout
