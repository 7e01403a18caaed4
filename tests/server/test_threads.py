"""``colearner/threads``: each exercise as one conversation, its entries in order, its current place, bounded and shown safely."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from colearner_lsp.core.anchor.anchors import LineRange, Relocation
from colearner_lsp.server.anchor_tracker import AnchorTracker
from colearner_lsp.server.threads import MAX_ENTRIES, MAX_MISTAKES, TEXT_CHARS, entries_of, thread_of
from tests.instances import Pair
from tests.records import evidence, feedback, request, response
from tests.server.editor import editor
from tests.server.scenario import FILE, assign, of_kind, start_session
from tests.server.test_findings import EID, exercise, tracker_at

EVIL = "\x1b[2J\x1b]0;pwned\x07\x00\u202eevil\u2066x\u2069\u200b"
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f\u0080-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u206f\ufeff]")


class Live:
    """What ``thread_of`` reads of the server's live state: the tracked anchors."""

    def __init__(self, tracker: AnchorTracker) -> None:
        self.tracker = tracker

    def tracked(self, exercise_id: str) -> Any:
        return self.tracker.get(exercise_id)


def a_round() -> Any:
    return exercise(
        "revise",
        acknowledged_at="2026-01-01T01:00:00Z",
        responses=[response("I added a discount", "2026-01-01T02:00:00Z", "ev1", event_id="r1")],
        evidence=[evidence("ev1", "2026-01-01T02:00:00Z", [{"path": "app/a.py", "status": "modified"}])],
        evidence_requests=[request("q1", "2026-01-01T03:00:00Z", ["tests/**"], "show the test")],
        feedback=[
            feedback(
                "revise",
                "2026-01-01T04:00:00Z",
                "validate it",
                [
                    {"text": "on the lines", "path": "app/a.py", "start_line": 4, "end_line": 4},
                    {"text": "elsewhere", "path": "app/a.py", "start_line": 20, "end_line": 22},
                    "nowhere",
                ],
                event_id="f1",
            )
        ],
    )


def test_entries_are_the_conversation_in_order_with_authors() -> None:
    entries = entries_of(a_round())
    assert [(e["kind"], e["author"]) for e in entries] == [
        ("exercise", "carol"),
        ("answer", "sam"),
        ("evidence_request", "carol"),
        ("feedback", "carol"),
    ]
    assert entries[1]["evidence_summary"] == "1 file: app/a.py (modified)"
    assert [m["text"] for m in entries[3]["mistakes"]] == ["on the lines", "elsewhere", "nowhere"]
    assert entries[3]["grade"] == "revise" and entries[3]["text"] == "validate it"


def test_thread_has_the_current_range_whose_turn_and_mistakes_elsewhere() -> None:
    moved = AnchorTracker()
    moved.add(EID, "app/a.py", LineRange(3, 5), Relocation("moved", LineRange(13, 15), 1.0))
    thread = thread_of(a_round(), Live(moved))  # type: ignore[arg-type]
    assert thread["range"] == {"start_line": 13, "end_line": 15} and not thread["lost"]
    assert thread["short_id"] == EID[:8] and thread["turn"] == "student" and thread["next"] == "answer_request"
    # "on the lines" named lines 4 as assigned; the code moved, so it now lies outside and gets a place of its own
    assert [p["text"] for p in thread["places"]] == ["on the lines", "elsewhere"]

    here = thread_of(a_round(), Live(tracker_at(3)))  # type: ignore[arg-type]
    assert here["range"] == {"start_line": 3, "end_line": 5}
    assert [p["text"] for p in here["places"]] == ["elsewhere"] and here["places"][0]["start_line"] == 20

    lost = thread_of(a_round(), Live(tracker_at(None)))  # type: ignore[arg-type]
    assert lost["lost"] and lost["range"] == {"start_line": 1, "end_line": 1}

    untracked = thread_of(exercise("passed"), None)
    assert untracked["range"] == {"start_line": 3, "end_line": 5} and untracked["turn"] is None and untracked["places"] == []
    assert thread_of(exercise("responded"), None)["turn"] == "coach"
    answered_again = a_round()
    answered_again.state = "responded"
    assert thread_of(answered_again, Live(tracker_at(3)))["places"] == []  # the marks go once the student answers again


def test_hostile_text_is_shown_not_interpreted_and_bounded() -> None:
    long = "A" * 20_000
    mistakes = [{"text": f"{EVIL} {i}", "path": f"app/{EVIL}.py", "start_line": 9} for i in range(100)]
    mistakes.append({"text": "bad place", "path": "../../etc/passwd", "start_line": 1})
    revises = [feedback("revise", f"2026-01-02T00:{i % 60:02d}:00Z", EVIL + long, mistakes, event_id=f"f{i}") for i in range(200)]
    responses = [response(EVIL + long, f"2026-01-01T00:{i % 60:02d}:00Z", event_id=f"r{i}") for i in range(200)]
    ex = exercise(
        "revise",
        topic=EVIL + long,
        exercise=EVIL + long,
        expected=EVIL,
        coach=EVIL,
        student=EVIL,
        tests=[EVIL] * 50,
        feedback=revises,
        responses=responses,
        assigned_at=EVIL,
    )
    thread = thread_of(ex, Live(tracker_at(3)))  # type: ignore[arg-type]
    wire = json.dumps(thread, ensure_ascii=False)
    found = RAW.search(wire.replace("\n", ""))
    assert found is None, f"U+{ord(found.group()):04X} in {wire[max(0, found.start() - 40) : found.start() + 40]!r}"
    assert "␛[2J␛]0;pwned␇␀⟨U+202E⟩evil⟨U+2066⟩x⟨U+2069⟩⟨U+200B⟩" in thread["topic"]
    assert len(thread["entries"]) == MAX_ENTRIES and thread["entries"][0]["kind"] == "exercise"
    assert thread["entries_left_off"] == 401 - MAX_ENTRIES
    assert all(len(e["text"]) <= TEXT_CHARS * 2 for e in thread["entries"])  # a picture may stand for one character
    assert len(thread["topic"]) <= 200
    last = thread["entries"][-1]
    assert len(last["mistakes"]) == MAX_MISTAKES and last["mistakes_left_off"] == 101 - MAX_MISTAKES
    assert all("passwd" not in m.get("path", "") for m in last["mistakes"])
    assert len(thread["places"]) <= 20 and len(wire) < 400_000


async def test_threads_request_follows_the_anchor_as_the_file_is_edited(pair: Pair) -> None:
    session_id = await asyncio.to_thread(start_session, pair)
    exercise_id = await asyncio.to_thread(assign, pair, session_id)
    async with editor(pair.student_root) as ed:
        await ed.wait_diagnostics(FILE, lambda ds: of_kind(ds, "exercise"))
        answer = await ed.request("colearner/threads", {})
        (thread,) = answer["threads"]
        assert thread["exercise_id"] == exercise_id and thread["range"] == {"start_line": 12, "end_line": 16}
        assert [e["kind"] for e in thread["entries"]] == ["exercise"] and thread["turn"] == "student"
        assert thread["next"] == "acknowledge" and thread["topic"] == "loops" and thread["path"] == FILE

        ed.open(FILE)
        ed.change(FILE, (0, 0), (0, 0), "# one\n# two\n")
        await ed.until(lambda: ed.diagnostics(FILE) and ed.diagnostics(FILE)[0].range.start.line == 13, what="the diagnostic moved")
        moved = (await ed.request("colearner/threads", {}))["threads"][0]
        assert moved["range"] == {"start_line": 14, "end_line": 18}

        await ed.run("colearner.acknowledge", {"exercise_id": exercise_id})
        await ed.run("colearner.respond", {"exercise_id": exercise_id, "text": "done \x1b[31m"})
        answered = (await ed.request("colearner/threads", {}))["threads"][0]
        assert [e["kind"] for e in answered["entries"]] == ["exercise", "answer"]
        assert answered["entries"][1]["text"] == "done ␛[31m" and answered["entries"][1]["author"] == pair.student_id
        assert answered["turn"] == "coach"


def test_response_documents_are_named_after_the_topic_and_short_id(tmp_path: Any) -> None:
    """The response document a thread's exercise opens reads as its topic in the editor's tab, whatever the topic holds
    (kept here with the other names the threads show; the document's own tests are in test_responses_and_args.py)."""
    from colearner_lsp.server.responses import document_name, exercise_of_document, write_document

    assert document_name("loops", "e1234567-89ab") == "loops-e1234567.md"
    hostile = document_name(EVIL + "/../x" + "A" * 500, "../" + EVIL)
    assert re.fullmatch(r"[a-z0-9-]{1,40}-[A-Za-z0-9]{1,8}\.md", hostile), hostile
    assert document_name("Ünïcode · topic", "12345678") == "unicode-topic-12345678.md" and document_name("", "ab") == "exercise-ab.md"

    ex = exercise("revise", feedback=[feedback("revise", "2026-01-02T00:00:00Z", "n")])
    path, created = write_document(tmp_path, ex)
    assert created and path.name == f"loops-{EID[:8]}.md" and exercise_of_document(tmp_path, path) == EID
    assert EID not in path.read_text().split("\n", 1)[1]  # the full id only on the marker line a renderer hides
    twin = exercise("revise", exercise_id=EID[:8] + "-other", feedback=[])
    other, _ = write_document(tmp_path, twin)  # same topic, same short id: the full id names it
    assert other != path and exercise_of_document(tmp_path, other) == twin.exercise_id
    legacy = path.parent / f"{EID}.md"
    legacy.write_text("# Response: a document written before names were readable\n")
    assert exercise_of_document(tmp_path, legacy) == EID
