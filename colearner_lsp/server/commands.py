"""``workspace/executeCommand``: the ``colearner.*`` verbs, each calling the same core action as the CLI.

Every command takes one object argument (see ``command_args``) and returns a
small JSON result, ``{"ok": true, …}``. Errors a person can fix come back as
JSON-RPC errors with the core's message; the server keeps running.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from lsprotocol import types
from pygls.uris import from_fs_path

from ..core import actions
from ..core.display import one_line
from ..core.errors import InvalidArgument, NotFound
from ..core.protocol.events import EvidenceSnapshot
from ..core.sharing.evidence import GIT_IGNORED, EvidencePreview
from .command_args import (
    AdvanceSessionArgs,
    AssignArgs,
    AttachEvidenceArgs,
    ExerciseArgs,
    FeedbackArgs,
    Range,
    RequestEvidenceArgs,
    RespondArgs,
    SetScopeArgs,
    SubmitProgressArgs,
    parse,
)
from .progress import snapshot_progress
from .responses import exercise_of_document, read_answer, response_path, suggested_evidence, write_document
from .server import USER_ERRORS, ColearnerServer, user_error


def register(ls: ColearnerServer) -> None:
    @ls.command("colearner.acknowledge")
    async def acknowledge(ls: ColearnerServer, *arguments: Any) -> dict[str, Any]:
        args = parse(ExerciseArgs, arguments, "colearner.acknowledge")
        event_id = await ls.act(actions.acknowledge, args.exercise_id)
        return {"ok": True, "event_id": event_id, "exercise_id": args.exercise_id}

    @ls.command("colearner.respond")
    async def respond(ls: ColearnerServer, *arguments: Any) -> dict[str, Any]:
        args = parse(RespondArgs, arguments, "colearner.respond")
        if args.text is None and args.document is None:
            return await open_response_document(ls, args.exercise_id)
        text, evidence = args.text, args.evidence
        if text is None:
            text, listed = answer_in_document(ls, args.document or "", args.exercise_id)
            evidence = evidence if evidence is not None else listed
        shown: list[EvidencePreview] = []
        async with snapshot_progress(ls, "colearner: evidence for your response", wanted=evidence is not None) as report:
            event_id = await ls.act(
                actions.respond,
                args.exercise_id,
                text,
                evidence=evidence,
                progress=report,
                include_ignored=args.include_ignored,
                on_preview=shareable(bool(evidence), shown),
            )
        result = {"ok": True, "event_id": event_id, "exercise_id": args.exercise_id}
        return result | (shown[0].as_json() if shown else {})

    @ls.command("colearner.attachEvidence")
    async def attach_evidence(ls: ColearnerServer, *arguments: Any) -> dict[str, Any]:
        args = parse(AttachEvidenceArgs, arguments, "colearner.attachEvidence")
        paths = list(args.paths or [])
        if args.uri is not None:
            paths.append(workspace_path(ls, args.uri))
        shown: list[EvidencePreview] = []
        async with snapshot_progress(ls, "colearner: evidence snapshot") as report:
            event = await ls.act(
                actions.attach_evidence,
                args.exercise_id,
                paths or None,
                args.request_id,
                progress=report,
                include_ignored=args.include_ignored,
                on_preview=shareable(bool(paths), shown),
            )
        assert isinstance(event.payload, EvidenceSnapshot)
        return {"ok": True, "event_id": event.event_id, "files": len(event.payload.files)} | shown[0].as_json()

    @ls.command("colearner.submitProgress")
    async def submit_progress(ls: ColearnerServer, *arguments: Any) -> dict[str, Any]:
        args = parse(SubmitProgressArgs, arguments, "colearner.submitProgress")
        event_id = await ls.act(actions.submit_progress, args.session_id, args.completed, args.confidence)
        return {"ok": True, "event_id": event_id}

    @ls.command("colearner.advanceSession")
    async def advance_session(ls: ColearnerServer, *arguments: Any) -> dict[str, Any]:
        args = parse(AdvanceSessionArgs, arguments, "colearner.advanceSession")
        event_id = await ls.act(actions.advance_session, args.session_id, args.to, args.reason)
        return {"ok": True, "event_id": event_id}

    @ls.command("colearner.assign")
    async def assign(ls: ColearnerServer, *arguments: Any) -> dict[str, Any]:
        args = parse(AssignArgs, arguments, "colearner.assign")
        path = workspace_path(ls, args.uri)
        first, last = anchor_lines(args.range)
        require_saved(ls, path)
        session_id = args.session_id or only_open_session(ls)
        exercise_id = await ls.act(
            actions.assign_exercise,
            session_id,
            topic=args.topic,
            exercise=args.exercise,
            expected=args.expected,
            path=path,
            start_line=first,
            end_line=last,
            tests=args.tests,
            step_id=args.step_id,
        )
        anchor = {"path": path, "start_line": first, "end_line": last}
        return {"ok": True, "exercise_id": exercise_id, "session_id": session_id, "anchor": anchor}

    @ls.command("colearner.sendFeedback")
    async def send_feedback(ls: ColearnerServer, *arguments: Any) -> dict[str, Any]:
        args = parse(FeedbackArgs, arguments, "colearner.sendFeedback")
        event_id = await ls.act(
            actions.send_feedback,
            args.exercise_id,
            grade=args.grade,
            next_step=args.next_step,
            confidence_delta=args.confidence_delta,
            mistakes=args.mistakes,
        )
        return {"ok": True, "event_id": event_id, "exercise_id": args.exercise_id}

    @ls.command("colearner.requestEvidence")
    async def request_evidence(ls: ColearnerServer, *arguments: Any) -> dict[str, Any]:
        args = parse(RequestEvidenceArgs, arguments, "colearner.requestEvidence")
        event_id = await ls.act(actions.request_evidence, args.exercise_id, args.paths, args.reason)
        return {"ok": True, "event_id": event_id, "exercise_id": args.exercise_id}

    @ls.command("colearner.setScope")
    async def set_scope(ls: ColearnerServer, *arguments: Any) -> dict[str, Any]:
        args = parse(SetScopeArgs, arguments, "colearner.setScope")
        version = await ls.act(actions.set_scope, args.session_id, args.allow, args.deny, args.share, args.max_files)
        return {"ok": True, "version": version}


# ---------------------------------------------------------------- helpers


def workspace_path(ls: ColearnerServer, uri: str) -> str:
    """The repository path of ``uri``; an error naming the repository when it is outside it."""
    inst = ls.require()
    path = ls.repo_path(uri)
    if path is None:
        raise user_error(InvalidArgument(f"{uri} is not a file of this repository ({inst.root}); open a file inside it"))
    return path


def shareable(named: bool, shown: list[EvidencePreview]) -> Callable[[EvidencePreview], None]:
    """The ``on_preview`` of the editor's evidence: keep the preview for the result, and refuse,
    before anything is sent, files the student named that would be withheld.

    The editor has no dry run, so a named file that would not go is an error
    naming each such file and why; what the scope leaves out of a request's
    globs or of the changed files is listed in the result instead.
    """

    def check(preview: EvidencePreview) -> None:
        if named and preview.withheld:
            listed = "; ".join(f"{one_line(w.path)}: {w.reason}" for w in preview.withheld[:10])
            more = f"; and {len(preview.withheld) - 10} more" if len(preview.withheld) > 10 else ""
            hint = ", or pass include_ignored: true for git-ignored files" if any(w.reason == GIT_IGNORED for w in preview.withheld) else ""
            raise InvalidArgument(f"nothing sent: these files would be withheld ({listed}{more}); leave them out{hint}")
        shown.append(preview)

    return check


def anchor_lines(r: Range) -> tuple[int, int]:
    """1-based inclusive lines of an editor selection (a selection ending at column 0 stops the line before)."""
    first, last = r.start.line + 1, r.end.line + 1
    if r.end.character == 0 and r.end.line > r.start.line:
        last -= 1
    if last < first:
        raise user_error(InvalidArgument(f"the range ends (line {r.end.line}) before it starts (line {r.start.line})"))
    return first, last


def require_saved(ls: ColearnerServer, path: str) -> None:
    """The anchor is taken from the file on disk, so the editor's buffer must match it."""
    if ls.is_open(path) and ls.text_of(path) != ls.disk_text(path):
        raise user_error(InvalidArgument(f"save {path} first: the exercise is anchored to the file as saved on disk"))


def only_open_session(ls: ColearnerServer) -> str:
    inst = ls.require()
    sessions = [s for s in list(inst.state.sessions.values()) if s.stage != "done" and (s.coach in (None, inst.identity))]
    if len(sessions) == 1:
        return sessions[0].session_id
    listed = ", ".join(f"{s.student}: {s.session_id}" for s in sessions[:10])
    why = (
        f"there are {len(sessions)} open sessions ({listed})"
        if sessions
        else "there is no open session ('colearner session start --student NAME')"
    )
    raise user_error(InvalidArgument(f"name the session with session_id: {why}"))


async def open_response_document(ls: ColearnerServer, exercise_id: str) -> dict[str, Any]:
    """Write the exercise's response document (keeping a draft), listing the evidence to suggest, and
    ask the editor to show it."""
    inst = ls.require()
    try:
        actions.require_role(inst, "student", "respond")
        ex = actions.find_exercise(inst, exercise_id)
    except USER_ERRORS as exc:
        raise user_error(exc) from None
    # The evidence is asked of git only for a new document: a draft keeps what the student listed.
    evidence = [] if response_path(inst.root, ex).exists() else await asyncio.to_thread(suggested_evidence, inst, ex)
    path, created = write_document(inst.root, ex, evidence)
    uri = from_fs_path(str(path)) or ""
    shown = False
    window = ls.client_capabilities.window
    if window and window.show_document and window.show_document.support:
        result = await ls.window_show_document_async(types.ShowDocumentParams(uri=uri, take_focus=True))
        shown = bool(result and result.success)
    return {"ok": True, "exercise_id": ex.exercise_id, "document": uri, "created": created, "shown": shown}


def answer_in_document(ls: ColearnerServer, uri: str, exercise_id: str) -> tuple[str, list[str] | None]:
    """The answer (and evidence paths) written in a response document."""
    inst = ls.require()
    path = workspace_path(ls, uri)
    try:
        ex = actions.find_exercise(inst, exercise_id)
    except USER_ERRORS as exc:
        raise user_error(exc) from None
    if exercise_of_document(inst.root, inst.root / path) != ex.exercise_id:
        raise user_error(InvalidArgument(f"{path} is not the response document of exercise {ex.exercise_id}"))
    text = ls.text_of(path)
    if text is None:
        raise user_error(NotFound(f"{path} does not exist; run colearner.respond with only the exercise_id to create it"))
    try:
        return read_answer(text)
    except ValueError as exc:
        raise user_error(InvalidArgument(str(exc))) from None
