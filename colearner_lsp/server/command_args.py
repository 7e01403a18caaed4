"""The one object argument of each ``colearner.*`` command, validated.

Clients (the VS Code extension, Neovim, code actions) send one JSON object per
command. A missing field, a wrong type or an unknown field is refused with a
JSON-RPC "invalid params" error that names the field and shows the expected shape.

The value rules (grades, stages, share modes, confidence ranges, a mistake's
place) are the core's own types; what is added here is only what a command
asks of its input (text that is not empty, a document's range).
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pygls.exceptions import JsonRpcInvalidParams

from ..core.protocol.events import AnchoredMistake, Confidence, Delta, MaxFiles, PathText
from ..core.protocol.events import Ident as Id
from ..core.protocol.vocabulary import Grade, ShareMode, Stage

Text = Annotated[str, Field(min_length=1, max_length=20_000)]  # what a user typed: not empty
PathList = Annotated[list[PathText], Field(max_length=1000)]


class Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ExerciseArgs(Args):
    exercise_id: Id


class RespondArgs(Args):
    exercise_id: Id
    text: Text | None = None
    evidence: PathList | None = None
    document: Annotated[str, Field(min_length=1)] | None = None
    include_ignored: bool = False  # share git-ignored files the student attached


class AttachEvidenceArgs(Args):
    exercise_id: Id
    paths: PathList | None = None
    uri: Annotated[str, Field(min_length=1)] | None = None
    request_id: Id | None = None
    include_ignored: bool = False  # share git-ignored files the student attached


class SubmitProgressArgs(Args):
    session_id: Id | None = None
    completed: list[Id] = []
    confidence: dict[Id, Confidence] = {}


class AdvanceSessionArgs(Args):
    session_id: Id
    to: Stage
    reason: Annotated[str, Field(max_length=20_000)] = ""


class Position(BaseModel):
    model_config = ConfigDict(extra="ignore")
    line: Annotated[int, Field(ge=0)]
    character: Annotated[int, Field(ge=0)]


class Range(BaseModel):
    model_config = ConfigDict(extra="ignore")
    start: Position
    end: Position


class AssignArgs(Args):
    uri: Annotated[str, Field(min_length=1)]
    range: Range
    topic: Id
    exercise: Text
    expected: Text
    tests: list[Annotated[str, Field(max_length=2000)]] = []
    session_id: Id | None = None
    step_id: Id | None = None


class FeedbackArgs(Args):
    exercise_id: Id
    grade: Grade
    mistakes: list[Text | AnchoredMistake] = []
    next_step: Text
    confidence_delta: Delta


class RequestEvidenceArgs(Args):
    exercise_id: Id
    paths: Annotated[PathList, Field(min_length=1)]
    reason: Text


class SetScopeArgs(Args):
    session_id: Id
    allow: PathList
    deny: PathList = []
    share: ShareMode = "hashes"
    max_files: MaxFiles = 50


class ShowChangeArgs(Args):
    exercise_id: Id
    path: PathText
    evidence_id: Id | None = None
    show: bool = True  # False: open nothing, return both texts (the VS Code extension shows its own diff)


EXAMPLES: dict[type[Args], str] = {
    ExerciseArgs: '{"exercise_id": "…"}',
    RespondArgs: '{"exercise_id": "…", "text"?: "…", "evidence"?: ["path"], "document"?: "file:///…", "include_ignored"?: false}',
    AttachEvidenceArgs: '{"exercise_id": "…", "paths"?: ["path"], "uri"?: "file:///…", "request_id"?: "…", "include_ignored"?: false}',
    SubmitProgressArgs: '{"session_id"?: "…", "completed": ["step-id"], "confidence": {"topic": 0.8}}',
    AdvanceSessionArgs: '{"session_id": "…", "to": "done", "reason": "…"}',
    AssignArgs: '{"uri": "file:///…", "range": {"start": {"line": 0, "character": 0}, "end": {…}}, "topic": "…", '
    '"exercise": "…", "expected": "…", "tests"?: ["cmd"], "session_id"?: "…", "step_id"?: "…"}',
    FeedbackArgs: '{"exercise_id": "…", "grade": "pass|revise", "mistakes"?: ["…"], "next_step": "…", "confidence_delta": -0.1}',
    RequestEvidenceArgs: '{"exercise_id": "…", "paths": ["glob"], "reason": "…"}',
    SetScopeArgs: '{"session_id": "…", "allow": ["glob"], "deny"?: ["glob"], "share"?: "hashes|diffstat|diff", "max_files"?: 50}',
    ShowChangeArgs: '{"exercise_id": "…", "path": "app/x.py", "evidence_id"?: "…", "show"?: true}',
}

A = TypeVar("A", bound=Args)


def _describe(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(p) for p in error["loc"]) or "argument"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


def parse(model: type[A], arguments: tuple[Any, ...], command: str) -> A:
    """The command's single object argument as ``model``; an invalid-params error otherwise."""
    shape = f"{command} takes one object argument: {EXAMPLES[model]}"
    if len(arguments) != 1 or not isinstance(arguments[0], dict):
        got = "no argument" if not arguments else f"{len(arguments)} arguments" if len(arguments) > 1 else type(arguments[0]).__name__
        raise JsonRpcInvalidParams(f"{shape}; got {got}")
    try:
        return model.model_validate(arguments[0])
    except ValidationError as exc:
        raise JsonRpcInvalidParams(f"{command}: {_describe(exc)}. {shape}") from None
