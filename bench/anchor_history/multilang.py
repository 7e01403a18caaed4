"""The multi-language half of the anchor bench: anchors drawn from real releases of JavaScript,
TypeScript, Java, C/C++, CSS and markup projects (see anchor_history.projects), each followed
release by release to the last one by the product and by the baselines, scored against
anchor_history.brace_truth.  One record per (anchor, later version) whose truth is known."""

from __future__ import annotations

import gc
import random
import time
import zlib
from difflib import SequenceMatcher
from pathlib import Path

from anchor_history.baselines import diff_hunks, diff_map, keep_lines
from anchor_history.brace_truth import Outline, draw, outline, truth
from anchor_history.history import History, file_at, git
from anchor_history.projects import PROJECTS, language_of
from anchor_history.registry import build
from colearner_lsp.core.anchor.anchor_fingerprint import make_fingerprint
from colearner_lsp.core.protocol.events import Anchor
from colearner_lsp.server.anchor_tracker import AnchorTracker, locate, relocate

MAX_FILES = 25  # files followed per project and starting version (drawn among those that change)
STEP_METHODS = ("diff-chain", "hunk-chain", "difflib-chain")


def difflib_hunks(old: str | None, new: str | None) -> list[tuple[int, int, int, int]]:
    """The changed stretches between two texts as difflib's SequenceMatcher sees them, numbered as
    ``git diff -U0`` numbers its hunks (so the same carrying applies)."""
    a, b = (old or "").splitlines(), (new or "").splitlines()
    out = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b).get_opcodes():
        if tag != "equal":
            out.append((i1 + 1 if i2 > i1 else i1, i2 - i1, j1 + 1 if j2 > j1 else j1, j2 - j1))
    return out


class Versions:
    """One project's history: files, texts, outlines and diffs, each read once."""

    def __init__(self, history: History) -> None:
        self.history = history
        self.commits = [c for _, c in history.versions]
        self._files = [
            {p for p in git(history.repo, "ls-tree", "-r", "--name-only", c).split("\n") if language_of(p)} for c in self.commits
        ]
        self._texts: dict = {}
        self._outlines: dict = {}
        self._hunks: dict = {}

    def __len__(self) -> int:
        return len(self.commits)

    def files(self, v: int) -> list[str]:
        return sorted(self._files[v])

    def text(self, v: int, path: str) -> str | None:
        if (v, path) not in self._texts:
            ok = path in self._files[v]
            self._texts[v, path] = file_at(self.history.repo, self.commits[v], path) if ok else None
        return self._texts[v, path]

    def outline(self, v: int, path: str) -> Outline | None:
        if (v, path) not in self._outlines:
            text = self.text(v, path)
            self._outlines[v, path] = None if text is None else outline(path, text)
        return self._outlines[v, path]

    def hunks(self, a: int, b: int, path: str, tool: str) -> list:
        if self.text(a, path) == self.text(b, path):
            return []
        if (a, b, path, tool) not in self._hunks:
            self._hunks[a, b, path, tool] = (
                diff_hunks(self.history.repo, self.commits[a], self.commits[b], path)
                if tool == "git"
                else difflib_hunks(self.text(a, path), self.text(b, path))
            )
        return self._hunks[a, b, path, tool]


def collect(cache: Path, starts: int, per_kind: int, stats: dict) -> list[dict]:
    records: list[dict] = []
    for project in PROJECTS:
        vs = Versions(build(cache, project))
        names = project.versions
        stats["packages"].append(f"{project.name} {names[0]}..{names[-1]} ({len(names)} versions, {project.language})")
        for s in range(min(starts, len(vs) - 1)):
            changing = [p for p in vs.files(s) if any(vs.text(v, p) != vs.text(s, p) for v in range(s + 1, len(vs)))]
            rng = random.Random(zlib.crc32(f"{project.name}:{s}".encode()))
            for path in sorted(rng.sample(changing, min(MAX_FILES, len(changing)))):
                src = vs.outline(s, path)
                if src is None:
                    stats["left_out_files"] += 1
                    continue
                drawn = draw(src, per_kind, f"{project.name}:{names[s]}:{path}", path.endswith((".css", ".scss", ".less")))
                if drawn:
                    stats["files"] += 1
                    stats["anchors"] += len(drawn)
                    records += _follow(vs, s, path, drawn, src, project.language, stats)
    return records


def _follow(vs: Versions, s: int, path: str, drawn: list, src: Outline, language: str, stats: dict) -> list[dict]:
    text0 = vs.text(s, path)
    tracker = AnchorTracker()
    chain = {m: {} for m in STEP_METHODS}
    for i, a in enumerate(drawn):
        # Not validated: the bench measures every region, even one whose fingerprint the wire would refuse as too long.
        wire = Anchor.model_construct(path=path, start_line=a.start, end_line=a.end, fingerprint=make_fingerprint(text0, a.start, a.end))
        stats["sizes"].append(len(wire.fingerprint))
        tracker.add(str(i), path, wire, locate(wire, text0))
        for m in chain:
            chain[m][i] = (a.start, a.end)
    out = []
    for v in range(s + 1, len(vs)):
        text = vs.text(v, path)
        length = 0 if text is None else len(text.splitlines())
        timings = {}
        for t in tracker.in_path(path):
            gc.disable()
            t0, c0 = time.perf_counter_ns(), time.process_time_ns()
            found = relocate(t, text)
            elapsed, cpu = time.perf_counter_ns() - t0, time.process_time_ns() - c0
            gc.enable()
            timings[t.exercise_id] = (elapsed / 1000, cpu / 1000, found.score)
            tracker.apply_relocation(t.exercise_id, found)
        alive = text is not None and vs.text(v - 1, path) is not None
        for m, tool, strict in (("diff-chain", "git", False), ("hunk-chain", "git", True), ("difflib-chain", "difflib", False)):
            step = vs.hunks(v - 1, v, path, tool) if alive else None
            for i, r in chain[m].items():
                chain[m][i] = None if r is None or step is None else diff_map(step, *r, length, strict=strict)
        dst = vs.outline(v, path)
        if dst is None:
            stats["gone"] += len(drawn)
            continue
        direct = {tool: vs.hunks(s, v, path, tool) for tool in ("git", "difflib")}
        for i, a in enumerate(drawn):
            known = truth(a, src, dst)
            if known is None:
                stats["left_out"] += 1
                continue
            t = tracker.get(str(i))
            out.append(
                {
                    "language": language,
                    "kind": a.kind,
                    "change": known[0],
                    "truth": known[1],
                    "crossed": v - s,
                    "first": s,
                    "last": v == len(vs) - 1,
                    "package": vs.history.package,
                    "path": path,
                    "anchor": a,
                    "lines": length,
                    "ours": None if t.range is None else (t.range.start_line, t.range.end_line),
                    "status": t.status,
                    "score": timings[str(i)][2],
                    "us": timings[str(i)][0],
                    "cpu_us": timings[str(i)][1],
                    "keep-line": keep_lines(a.start, a.end, length),
                    "diff-chain": chain["diff-chain"][i],
                    "hunk-chain": chain["hunk-chain"][i],
                    "difflib-chain": chain["difflib-chain"][i],
                    "diff-direct": diff_map(direct["git"], a.start, a.end, length),
                    "hunk-direct": diff_map(direct["git"], a.start, a.end, length, strict=True),
                    "difflib-direct": diff_map(direct["difflib"], a.start, a.end, length),
                }
            )
    return out
