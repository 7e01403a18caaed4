"""Response documents: answer an exercise by writing Markdown in any editor.

``colearner.respond`` without text writes ``.colearner/responses/<id>.md``,
prefilled with the exercise and a marked area for the answer, and asks the
editor to open it; "Send response" (a code lens and a code action in that
document) reads the answer back and sends it. Everything outside the markers
is ignored, so the prompt text never reaches the coach.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..core.config import CONFIG_DIR, RESPONSES_DIR
from ..core.display import one_line, visible
from ..core.private_files import private_dir, write_private
from ..core.state import ExerciseState

ANSWER_START, ANSWER_END = "<!-- answer:start -->", "<!-- answer:end -->"
EVIDENCE_START, EVIDENCE_END = "<!-- evidence:start -->", "<!-- evidence:end -->"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}\.md$")


def response_path(root: Path, exercise_id: str) -> Path:
    return Path(root) / CONFIG_DIR / RESPONSES_DIR / f"{exercise_id}.md"


def exercise_of_document(root: Path, path: Path) -> str | None:
    """The exercise id a response document is for, or None when ``path`` is not one."""
    folder = Path(root) / CONFIG_DIR / RESPONSES_DIR
    try:
        if Path(path).parent.resolve() != folder.resolve():
            return None
    except OSError:
        return None
    name = Path(path).name
    return name[: -len(".md")] if _NAME.match(name) else None


def send_argument(root: Path, path: str, uri: str) -> dict[str, str] | None:
    """The ``colearner.respond`` argument that sends a response document; None for any other file."""
    exercise_id = exercise_of_document(root, Path(root) / path)
    return None if exercise_id is None else {"exercise_id": exercise_id, "document": uri}


def render(ex: ExerciseState) -> str:
    """The prefilled document for an exercise.

    The editor shows it as text, so the coach's words go through ``visible``
    (``one_line`` where a line is expected): escape sequences and bidi
    overrides are seen in the document, not obeyed by it.
    """
    anchor = ex.anchor or {}
    where = f"{anchor.get('path')}:{anchor.get('start_line')}-{anchor.get('end_line')}" if anchor else "no anchor"
    tests = "\n".join(f"- `{one_line(t)}`" for t in ex.tests) or "- (none given)"
    feedback = ex.latest_feedback
    revise = ""
    if feedback and feedback.get("grade") == "revise":
        mistakes = "\n".join(f"- {one_line(m.get('text', ''))}" for m in feedback.get("mistakes", [])) or "- (none listed)"
        revise = f"\n## Feedback to address\n\nNext step: {visible(feedback.get('next_step', ''))}\n\n{mistakes}\n"
    return (
        f"# Response: {one_line(ex.topic)}\n\n"
        f"Exercise `{one_line(ex.exercise_id)}` from {one_line(ex.coach)}, at `{one_line(where)}`.\n\n"
        f"## Exercise\n\n{visible(ex.exercise)}\n\n"
        f"## Expected\n\n{visible(ex.expected)}\n\n"
        f"## Tests\n\n{tests}\n{revise}\n"
        "## Your answer\n\n"
        "Write your answer between the two markers; only that text is sent. "
        "Then use \"Send response\" (code lens at the top, or code action).\n\n"
        f"{ANSWER_START}\n\n{ANSWER_END}\n\n"
        "## Evidence (optional)\n\n"
        "Repository paths to attach as evidence, one per line (only hashes and line counts are shared unless the scope allows more).\n\n"
        f"{EVIDENCE_START}\n{EVIDENCE_END}\n"
    )


def _between(text: str, start: str, end: str) -> str | None:
    a = text.find(start)
    if a < 0:
        return None
    b = text.find(end, a + len(start))
    if b < 0:
        return None
    return text[a + len(start) : b]


def read_answer(text: str) -> tuple[str, list[str] | None]:
    """The answer and the evidence paths (None when none are listed) written in a response document."""
    answer = _between(text, ANSWER_START, ANSWER_END)
    if answer is None:
        raise ValueError(
            f"the response document has lost its answer markers; keep {ANSWER_START} and {ANSWER_END} around your answer"
        )
    listed = _between(text, EVIDENCE_START, EVIDENCE_END) or ""
    paths = [line.strip().lstrip("-* ").strip("`") for line in listed.splitlines()]
    paths = [p for p in paths if p and not p.startswith("<!--")]
    return answer.strip(), paths or None


def write_document(root: Path, ex: ExerciseState) -> tuple[Path, bool]:
    """Write the prefilled document unless a draft is already there; returns (path, created)."""
    path = response_path(root, ex.exercise_id)
    if path.exists():
        return path, False
    private_dir(path.parent)
    try:
        write_private(path, render(ex), exclusive=True)  # readable by the student only, like all of .colearner/
    except FileExistsError:  # written meanwhile (a second click): keep that draft
        return path, False
    return path, True
