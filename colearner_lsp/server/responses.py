"""Response documents: answer an exercise by writing Markdown in any editor.

``colearner.respond`` without text writes ``.colearner/responses/<topic>-<short id>.md``
(a name a person reads in the editor's tab), prefilled with the exercise, a
marked area for the answer and the evidence the scope lets go (the anchored
file when it changed since the assignment, see ``suggested_evidence``), and
asks the editor to open it; "Send response" (a code lens and a code action in
that document) reads the answer back and sends it. Everything outside the
markers is ignored, so the prompt text never reaches the coach. The document's first line names its exercise in full
(``<!-- colearner:exercise ID -->``); a document named ``<id>.md`` (written
before names were readable) is still read by its name.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.config import CONFIG_DIR, RESPONSES_DIR
from ..core.display import one_line, visible
from ..core.model.state import ExerciseState
from ..core.private_files import private_dir, write_private

if TYPE_CHECKING:
    from ..core.instance import Instance

log = logging.getLogger(__name__)

ANSWER_START, ANSWER_END = "<!-- answer:start -->", "<!-- answer:end -->"
EVIDENCE_START, EVIDENCE_END = "<!-- evidence:start -->", "<!-- evidence:end -->"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}\.md$")
_ID = r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}"
_MARKER = re.compile(rf"\A<!-- colearner:exercise ({_ID}) -->\n")
SHORT_ID = 8  # characters of the id in a document's name (the topic says the rest)
TOPIC_CHARS = 40


def topic_slug(topic: str) -> str:
    """A topic as a file-name part: ASCII letters and digits joined by '-', lower case, bounded."""
    ascii_only = unicodedata.normalize("NFKD", str(topic)).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9]+", "-", ascii_only).strip("-").lower()[:TOPIC_CHARS].rstrip("-")
    return slug or "exercise"


def document_name(topic: str, exercise_id: str, id_chars: int = SHORT_ID) -> str:
    """``loops-1a2b3c4d.md``; only [a-z0-9-.] whatever the topic and id hold."""
    short = re.sub(r"[^A-Za-z0-9]", "", exercise_id)[:id_chars] or "x"
    return f"{topic_slug(topic)}-{short}.md"


def response_path(root: Path, ex: ExerciseState) -> Path:
    """Where the exercise's document lives: named after its topic and short id; the full id
    when another exercise's document already has that name (same topic, same short id)."""
    folder = Path(root) / CONFIG_DIR / RESPONSES_DIR
    path = folder / document_name(ex.topic, ex.exercise_id)
    if path.exists() and _marked(path) not in (None, ex.exercise_id):
        path = folder / document_name(ex.topic, ex.exercise_id, id_chars=200)
    return path


def _marked(path: Path) -> str | None:
    """The exercise id on a document's first line, if it has one."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            head = f.read(300)
    except OSError:
        return None
    found = _MARKER.match(head)
    return found.group(1) if found else None


def exercise_of_document(root: Path, path: Path) -> str | None:
    """The exercise id a response document is for, or None when ``path`` is not one."""
    name = Path(path).name
    if not _NAME.match(name):  # first: asked on every code action, and resolving costs a stat per path component
        return None
    folder = Path(root) / CONFIG_DIR / RESPONSES_DIR
    try:
        if Path(path).parent.resolve() != folder.resolve():
            return None
    except OSError:
        return None
    return _marked(Path(path)) or name[: -len(".md")]  # no marker: a document of before, named by its id


def send_argument(root: Path, path: str, uri: str) -> dict[str, str] | None:
    """The ``colearner.respond`` argument that sends a response document; None for any other file."""
    exercise_id = exercise_of_document(root, Path(root) / path)
    return None if exercise_id is None else {"exercise_id": exercise_id, "document": uri}


def suggested_evidence(inst: Instance, ex: ExerciseState) -> list[str]:
    """The evidence a new response document lists: the exercise's anchored file, when it changed
    since the assignment (committed or not) and the scope shares it; else none.

    Other changed files are left for the student to add: they may be work on something else.
    Asks git (for a worker thread).
    """
    from ..core import actions

    path = ex.anchor.path if ex.anchor is not None else ""
    if not path:
        return []
    try:
        preview = actions.preview_evidence(inst, ex.exercise_id, for_response=True)  # every change since, through the scope
    except Exception:  # a suggestion only: the document opens without it, whatever git or the scope said
        log.warning("no evidence suggested for exercise %s", ex.exercise_id, exc_info=True)
        return []
    return [path] if path in preview.shared else []


def listable(path: str) -> bool:
    """Whether ``path`` can be a line of the evidence list that ``read_answer`` reads back as itself
    (no line break or control character, no marker, nothing the list's reading strips)."""
    return bool(path) and one_line(path) == path and "<!--" not in path and "-->" not in path and _listed_path(path) == path


def render(ex: ExerciseState, evidence: Sequence[str] = ()) -> str:
    """The prefilled document for an exercise, listing ``evidence`` (paths) for the answer.

    The editor shows it as text, so the coach's words go through ``visible``
    (``one_line`` where a line is expected): escape sequences and bidi
    overrides are seen in the document, not obeyed by it. A path that could
    not be read back as itself (see ``listable``) is left out.
    """
    anchor = ex.anchor
    where = f"{anchor.path}:{anchor.start_line}-{anchor.end_line}" if anchor is not None else "no anchor"
    tests = "\n".join(f"- `{one_line(t)}`" for t in ex.tests) or "- (none given)"
    feedback = ex.latest_feedback
    revise = ""
    if feedback and feedback.grade == "revise":
        mistakes = "\n".join(f"- {one_line(m.text)}" for m in feedback.mistakes) or "- (none listed)"
        revise = f"\n## Feedback to address\n\nNext step: {visible(feedback.next_step)}\n\n{mistakes}\n"
    return (
        f"<!-- colearner:exercise {ex.exercise_id} -->\n"
        f"# Response: {one_line(ex.topic)}\n\n"
        f"Exercise `{one_line(ex.exercise_id[:SHORT_ID])}` from {one_line(ex.coach)}, at `{one_line(where)}`.\n\n"
        f"## Exercise\n\n{visible(ex.exercise)}\n\n"
        f"## Expected\n\n{visible(ex.expected)}\n\n"
        f"## Tests\n\n{tests}\n{revise}\n"
        "## Your answer\n\n"
        "Write your answer between the two markers; only that text is sent. "
        'Then use "Send response" (code lens at the top, or code action).\n\n'
        f"{ANSWER_START}\n\n{ANSWER_END}\n\n"
        "## Evidence (optional)\n\n"
        "Repository paths to attach as evidence, one per line (only hashes and line counts are shared unless the scope allows more).\n\n"
        f"{EVIDENCE_START}\n{_evidence_lines(evidence)}{EVIDENCE_END}\n"
    )


def _evidence_lines(evidence: Sequence[str]) -> str:
    listed = [path for path in dict.fromkeys(evidence) if listable(path)]
    if not listed:
        return ""
    why = "<!-- changed since the exercise was assigned, and the scope lets it go; delete a line to leave it out -->\n"
    return why + "".join(f"{path}\n" for path in listed)


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
        raise ValueError(f"the response document has lost its answer markers; keep {ANSWER_START} and {ANSWER_END} around your answer")
    listed = _between(text, EVIDENCE_START, EVIDENCE_END) or ""
    paths = [_listed_path(line) for line in listed.splitlines()]
    paths = [p for p in paths if p and not p.startswith("<!--")]
    return answer.strip(), paths or None


def _listed_path(line: str) -> str:
    """A path as written on a line of the evidence list: a Markdown bullet or backquotes allowed."""
    return line.strip().lstrip("-* ").strip("`")


def write_document(root: Path, ex: ExerciseState, evidence: Sequence[str] = ()) -> tuple[Path, bool]:
    """Write the prefilled document (listing ``evidence``) unless a draft is already there; returns (path, created)."""
    path = response_path(root, ex)
    if path.exists():
        return path, False
    private_dir(path.parent)
    try:
        write_private(path, render(ex, evidence), exclusive=True)  # readable by the student only, like all of .colearner/
    except FileExistsError:  # written meanwhile (a second click): keep that draft
        return path, False
    return path, True
