"""Benchmark: how well anchors follow real code through many released versions, and how fast.

    python bench/bench_anchors.py           # Python (6 packages x 12 versions) and the other languages
    python bench/bench_anchors.py --quick   # anchors made on the first version only, fewer of them
    python bench/bench_anchors.py --only python|others

The first run fetches releases from the package registries with pip and npm and commits each
version into a git repository under .cache/anchor_history/ (git-ignored); later runs reuse it and
need no network.  Prints figures only; it asserts nothing.

Two halves.  Python, below, with an `ast` ground truth.  JavaScript, TypeScript, Java, C/C++, CSS
and markup (anchor_history.multilang, .projects, .brace_truth), with a ground truth from pygments'
lexers and brackets: the name rule for whole definitions, a line rule (identical unique lines, and
lines edited in place between them) for blocks, lines inside bodies and single lines.  Both halves
are then scored together per language group (anchor_history.scoring): exact, close and overlap
rates, false deletions and false survivals, for ours and for every baseline, including difflib.

What is measured: an exercise is anchored to some lines of a file at one released version (the
first, and in a full run also the second and third), then the student's checkout moves on release
after release to the last one, and after each release the anchor must point at the same code.  The
accuracy is reported for each number of versions crossed since the anchor was made (1, 2, ... 11).

Methods, each carried from version to version as its tool would carry it:
  ours         the product's own path when a commit lands (colearner_lsp.server.anchor_tracker):
               relocate_anchor(original fingerprint, text now, hint = where it was found after the
               previous version, or where it was last seen when lost); the fingerprint made on the
               first version is never refreshed
  keep-line    the range keeps its first version's line numbers
  diff-chain   an editor marker: the range's ends carried through each release's `git diff -U0`
               hunks in turn, generously (an end inside a changed hunk goes to that hunk's matching
               edge, see anchor_history.baselines); once lost it stays lost
  diff-direct  the same through one `git diff -U0` from the anchor's first version to the current one
  hunk-chain,  the same two, but a line inside a changed hunk goes to the hunk's start, or is lost
  hunk-direct  when the hunk only deleted lines (better at answering "lost" for deleted code)
"best baseline" is, at each number of versions, whichever of the five baselines scores highest there.

Ground truth comes from `ast`, comparing the anchor's first version with the current one directly
(see anchor_history.truth): the same qualified def/class, or the same statements inside the same
function.  An answer is correct when its start is within 1 line of the truth and the ranges' IoU is
at least 0.8; when the truth is "lost" (the definition was deleted), only a "lost" answer is
correct.  Anchors are drawn from files that change at least once after the anchor is made; an
anchor is scored only at the versions where its file exists and its truth is reliable.

The headline, "after many versions", pools every anchor that has crossed 5 or more releases (about
half of a 12-version history, typically two to four years of development): by then the code has
drifted far from the anchor's original text, which is where keeping the original fingerprint is most
at risk, and where the small errors of a step-by-step marker have had time to pile up.  The score at
the last version of anchors made on the first one is printed beside it.

Read the rows with this in mind: for an anchor on a whole def/class, ours also looks the definition
up by its name and enclosing names (colearner_lsp.core.anchor.anchor_match), which is how the ground truth
identifies a definition too.  The "inside bodies" rows, and deleted definitions (which must be
answered "lost"), do not lean on it.

Relocation times are those of each relocate() call as the product makes it (the new text's index is
built by the first anchor of each file and version), with the garbage collector paused during the
call: the bench's own large heap is not the server's.  `timing()` adds a synthetic 10,000-line case.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]  # anchor_history, and colearner_lsp when not installed

from anchor_history import multilang, scoring  # noqa: E402
from anchor_history.baselines import diff_hunks, diff_map, keep_lines  # noqa: E402
from anchor_history.history import History, file_at, histories, python_files  # noqa: E402
from anchor_history.truth import Parsed, draw, parse, truth  # noqa: E402

from colearner_lsp.core.anchor import anchors  # noqa: E402
from colearner_lsp.core.anchor.anchor_fingerprint import make_fingerprint  # noqa: E402
from colearner_lsp.core.anchor.anchors import LineRange, TextEdit, relocate_anchor, shift_range  # noqa: E402
from colearner_lsp.core.protocol.events import Anchor  # noqa: E402
from colearner_lsp.server.anchor_tracker import AnchorTracker, locate, relocate  # noqa: E402

BASELINES = ("keep-line", "diff-chain", "diff-direct", "hunk-chain", "hunk-direct")
METHODS = ("ours",) + BASELINES
CHANGES = ("in place", "shifted", "edited", "renamed", "deleted")
STARTS = 3  # anchors are made on each of the first STARTS versions (1 with --quick)
OTHER_STARTS = 2  # the same for the other languages' shorter histories
CACHE = HERE.parent / ".cache" / "anchor_history"
MANY = 5  # the headline pools anchors that crossed this many versions or more


def correct(pred: tuple[int, int] | None, truth: tuple[int, int] | None) -> bool:
    if truth is None or pred is None:
        return truth is None and pred is None
    inter = min(pred[1], truth[1]) - max(pred[0], truth[0]) + 1
    union = max(pred[1], truth[1]) - min(pred[0], truth[0]) + 1
    return abs(pred[0] - truth[0]) <= 1 and max(inter, 0) / union >= 0.8


class Versions:
    """One package's history: file texts, parses and diffs, each read from git once."""

    def __init__(self, history: History) -> None:
        self.history = history
        self.commits = [c for _, c in history.versions]
        self._files = {c: set(python_files(history.repo, c)) for c in self.commits}
        self._texts: dict[tuple[int, str], str | None] = {}
        self._parsed: dict[tuple[int, str], Parsed | None] = {}
        self._hunks: dict[tuple[int, int, str], list] = {}

    def __len__(self) -> int:
        return len(self.commits)

    def files(self, v: int) -> list[str]:
        return sorted(self._files[self.commits[v]])

    def text(self, v: int, path: str) -> str | None:
        """The file at version ``v`` (None: not in that version)."""
        if (v, path) not in self._texts:
            c = self.commits[v]
            self._texts[v, path] = file_at(self.history.repo, c, path) if path in self._files[c] else None
        return self._texts[v, path]

    def parsed(self, v: int, path: str) -> Parsed | None:
        if (v, path) not in self._parsed:
            text = self.text(v, path)
            self._parsed[v, path] = None if text is None else parse(text)
        return self._parsed[v, path]

    def hunks(self, a: int, b: int, path: str) -> list:
        if self.text(a, path) == self.text(b, path):
            return []
        if (a, b, path) not in self._hunks:
            self._hunks[a, b, path] = diff_hunks(self.history.repo, self.commits[a], self.commits[b], path)
        return self._hunks[a, b, path]


def collect(starts: int, per_kind: int) -> tuple[list[dict], dict]:
    """Follow every sampled anchor from its first version to the last; one record per anchor and
    later version where its truth is known."""
    stats = {"anchors": 0, "files": 0, "left_out": 0, "gone": 0, "sizes": [], "packages": [], "steps": 0}
    records: list[dict] = []
    for history in histories(CACHE / "python"):
        vs = Versions(history)
        names = [v for v, _ in history.versions]
        stats["packages"].append(f"{history.package} {names[0]}..{names[-1]} ({len(names)} versions)")
        for s in range(min(starts, len(vs) - 1)):
            for path in vs.files(s):
                text = vs.text(s, path)
                source = vs.parsed(s, path)
                if source is None or all(vs.text(v, path) == text for v in range(s + 1, len(vs))):
                    continue  # unparsable, or never changes: every method would be right
                drawn, left_out = draw(source, per_kind, f"{history.package}:{names[s]}:{path}")
                stats["left_out"] += left_out
                if drawn:
                    stats["files"] += 1
                    stats["anchors"] += len(drawn)
                    records += _follow(vs, s, path, drawn, source, stats)
    return records, stats


def _follow(vs: Versions, s: int, path: str, drawn: list, source: Parsed, stats: dict) -> list[dict]:
    """Carry the anchors of one file made at version ``s`` through every later version, each method
    its own way, and score them against the truth at each version."""
    text0 = vs.text(s, path)
    tracker = AnchorTracker()
    chain = {m: {} for m in ("diff-chain", "hunk-chain", "difflib-chain")}
    for i, a in enumerate(drawn):
        # Not validated: the bench measures every region, even one whose fingerprint the wire would refuse as too long.
        wire = Anchor.model_construct(path=path, start_line=a.start, end_line=a.end, fingerprint=make_fingerprint(text0, a.start, a.end))
        stats["sizes"].append(len(wire.fingerprint))
        tracker.add(str(i), path, wire, locate(wire, text0))  # as when the exercise arrives
        for m in chain:
            chain[m][i] = (a.start, a.end)
    out = []
    for v in range(s + 1, len(vs)):
        text = vs.text(v, path)
        length = 0 if text is None else len(text.splitlines())
        timings = {}
        # What the server does when the file changed on disk (a checkout): AnchorTracker.relocate_path.
        for t in tracker.in_path(path):
            gc.disable()  # the bench's own large heap would otherwise charge its collections to a few calls
            t0, c0 = time.perf_counter_ns(), time.process_time_ns()
            found = relocate(t, text)
            elapsed, cpu = time.perf_counter_ns() - t0, time.process_time_ns() - c0
            gc.enable()
            timings[t.exercise_id] = (elapsed / 1000, cpu / 1000, found.score)
            tracker.apply_relocation(t.exercise_id, found)
        stats["steps"] += len(drawn)
        # An editor marker goes with its file: once the file is gone, so is the marker.
        step = None if text is None or vs.text(v - 1, path) is None else vs.hunks(v - 1, v, path)
        for m, strict in (("diff-chain", False), ("hunk-chain", True)):  # difflib-chain: below
            for i, r in chain[m].items():
                chain[m][i] = None if r is None or step is None else diff_map(step, *r, length, strict=strict)
        direct = [] if text is None else vs.hunks(s, v, path)
        prev = vs.text(v - 1, path)
        step = None if text is None or prev is None else multilang.difflib_hunks(prev, text)
        for i, r in chain["difflib-chain"].items():
            chain["difflib-chain"][i] = None if r is None or step is None else diff_map(step, *r, length)
        flat = multilang.difflib_hunks(text0, text) if text is not None else []
        target = vs.parsed(v, path)
        for i, a in enumerate(drawn):
            if target is None:
                stats["gone"] += 1
                continue
            known = truth(a, source, target)
            if known is None:
                stats["left_out"] += 1
                continue
            t = tracker.get(str(i))
            out.append(
                {
                    "language": "python",
                    "lines": length,
                    "difflib-chain": chain["difflib-chain"][i],
                    "difflib-direct": diff_map(flat, a.start, a.end, length),
                    "kind": a.kind,
                    "change": known[0],
                    "truth": known[1],
                    "crossed": v - s,
                    "first": s,
                    "last": v == len(vs) - 1,
                    "package": vs.history.package,
                    "path": path,
                    "anchor": a,
                    "ours": None if t.range is None else (t.range.start_line, t.range.end_line),
                    "status": t.status,
                    "score": timings[str(i)][2],
                    "us": timings[str(i)][0],
                    "cpu_us": timings[str(i)][1],
                    "keep-line": keep_lines(a.start, a.end, length),
                    "diff-chain": chain["diff-chain"][i],
                    "hunk-chain": chain["hunk-chain"][i],
                    "diff-direct": diff_map(direct, a.start, a.end, length),
                    "hunk-direct": diff_map(direct, a.start, a.end, length, strict=True),
                }
            )
    return out


def accuracy(records: list[dict], method: str) -> float:
    if not records:
        return float("nan")
    return 100.0 * sum(correct(r[method], r["truth"]) for r in records) / len(records)


def _row(label: str, rs: list[dict]) -> str:
    acc = {m: accuracy(rs, m) for m in METHODS}
    best = max(BASELINES, key=lambda m: acc[m])
    cells = "".join(f"{acc[m]:>{max(len(m), 6) + 2}.1f}%" for m in METHODS)
    return f"{label:28}{len(rs):>7}{cells}  {best:>13}{acc['ours'] - acc[best]:>+7.1f}"


def _header(label: str) -> str:
    methods = "".join(f"{m:>{max(len(m), 6) + 3}}" for m in METHODS)
    return f"{label:28}{'scored':>7}{methods}  {'best baseline':>13}{'gain':>7}"


def report(records: list[dict], stats: dict, starts: int) -> None:
    print("Anchor relocation through many released versions (real code history)")
    for line in stats["packages"]:
        print(f"  {line}")
    made_on = "the first version" if starts == 1 else f"each of the first {starts} versions"
    print(
        f"  {stats['anchors']} anchors made on {made_on} of each package, in {stats['files']} files that change"
        " later, each followed release by release to the last version"
    )
    print(
        f"  scored: (anchor, version) pairs, {len(records)} in all; left out for lack of a reliable ground truth:"
        f" {stats['left_out']}; file not in that version: {stats['gone']}"
    )
    print("  correct = start within +-1 line of the truth and IoU >= 0.8; a deleted definition must be 'lost'")
    print(f"  lost threshold in use: {anchors.LOST_BELOW}; gain = ours minus the best of the five baselines on that row, in points\n")

    by_crossed = defaultdict(list)
    for r in records:
        by_crossed[r["crossed"]].append(r)
    print("Accuracy by number of versions crossed since the anchor was made")
    print(_header("versions crossed"))
    for k in sorted(by_crossed):
        print(_row(f"  {k}", by_crossed[k]))

    many = [r for r in records if r["crossed"] >= MANY]
    gains = []
    for k in sorted(by_crossed):
        if k >= MANY:
            rs = by_crossed[k]
            gains.append((accuracy(rs, "ours") - max(accuracy(rs, m) for m in BASELINES), k))
    print(f"\nAfter many versions ({MANY} or more crossed)")
    print(_header(""))
    print(_row(f"  all, {MANY}+ versions", many))
    print(_row("  at the last version *", [r for r in records if r["last"] and r["first"] == 0]))
    groups = {
        "  whole definitions": [r for r in many if r["kind"] == "def"],
        "  inside bodies": [r for r in many if r["kind"] == "body"],
        "  moved or changed": [r for r in many if r["change"] != "in place"],
    }
    groups |= {f"  change: {c}": [r for r in many if r["change"] == c] for c in CHANGES}
    for package in dict.fromkeys(r["package"] for r in many):
        groups[f"  package: {package}"] = [r for r in many if r["package"] == package]
    for name, rs in groups.items():
        print(_row(name, rs))
    print(f"  * anchors made on the first version, after all {max(by_crossed, default=0)} releases")
    print("  change: how the anchored code differs from when the anchor was made (ast ground truth)")
    acc = {m: accuracy(many, m) for m in METHODS}
    best = max(BASELINES, key=lambda m: acc[m])
    worst_gain, worst_k = min(gains) if gains else (float("nan"), 0)
    print(
        f"\nHEADLINE after {MANY}+ versions: ours {acc['ours']:.1f}% vs best baseline {best} {acc[best]:.1f}%:"
        f" {acc['ours'] - acc[best]:+.1f} points (smallest gain at any single count of {MANY}+ versions:"
        f" {worst_gain:+.1f} at {worst_k})"
    )

    statuses = defaultdict(int)
    for r in records:
        statuses[r["status"]] += 1
    print("\nRelocation time per anchor and version (the index of each new file is built on its first anchor):")
    for label, key in (("wall", "us"), ("CPU", "cpu_us")):
        times = sorted(r[key] for r in records)
        print(f"  {label:4} p50 {_pct(times, 50):.0f} us, p99 {_pct(times, 99):.0f} us, max {times[-1]:.0f} us")
    print(f"Statuses (of the scored pairs): {dict(sorted(statuses.items()))}")
    sizes = stats["sizes"]
    print(f"Fingerprint size: p50 {statistics.median(sizes):.0f} chars, max {max(sizes)} chars")


def _pct(sorted_values: list[float], p: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * p / 100))]


def synthetic_file(functions: int = 500, body: int = 18) -> str:
    """About 10,000 lines of plausible Python: varied names and constants, common lines repeated."""
    rng = random.Random(7)
    out = ["import math", ""]
    for f in range(functions):
        out += ["", f"def handler_{f}(request, limit={rng.randint(1, 99)}):", f'    """Handle case {f}."""']
        for k in range(body - 3):
            if k % 5 == 4:
                out.append("    if result is None:")
                out.append("        return None")
            else:
                out.append(f"    result = compute_{rng.randint(0, 999)}(request, {k}, {rng.random():.4f})")
        out.append("    return result")
    return "\n".join(out) + "\n"


def timing() -> None:
    text = synthetic_file()
    n = len(text.splitlines())
    rng = random.Random(11)
    ranges = []
    for _ in range(500):
        s = rng.randint(1, n - 10)
        ranges.append(LineRange(s, s + rng.randint(0, 9)))
    fps = [make_fingerprint(text, r.start_line, r.end_line) for r in ranges]
    inserted = "# a new header\n# another line\n\n"
    moved = inserted + text
    edit = TextEdit(0, 0, 0, 0, inserted)

    def timed(call):
        t0, c0 = time.perf_counter(), time.process_time()
        result = call()
        return result, time.perf_counter() - t0, time.process_time() - c0

    results, stale, stale_cpu = timed(lambda: [relocate_anchor(fp, moved, r) for fp, r in zip(fps, ranges)])
    ok = sum(res.range == LineRange(r.start_line + 3, r.end_line + 3) for res, r in zip(results, ranges))
    shifted = [shift_range(r, edit) for r in ranges]
    results, tracked, tracked_cpu = timed(lambda: [relocate_anchor(fp, moved, r) for fp, r in zip(fps, shifted)])
    exact = sum(res.status == "exact" for res in results)
    singles = []
    for i in range(50):  # a new text object each time: nothing cached
        fresh = moved + f"# {i}\n"
        singles.append(timed(lambda: relocate_anchor(fps[i], fresh, shifted[i]))[1])

    print(f"\nTiming: {n}-line file, 500 anchors, 3 lines inserted at the top (wall / CPU)")
    print(
        f"  stale hints (old line numbers): {stale * 1000:.1f} / {stale_cpu * 1000:.1f} ms for all 500,"
        f" index built once; {ok}/500 found at the right lines"
    )
    print(
        f"  hints carried by shift_range:   {tracked * 1000:.1f} / {tracked_cpu * 1000:.1f} ms for all 500 ({exact}/500 exact at the hint)"
    )
    print(
        f"  one anchor, fast path, nothing cached: median {statistics.median(singles) * 1e6:.0f} us, max {max(singles) * 1e6:.0f} us (wall)"
    )
    one_by_one(text, ranges[:300], fps[:300])


def one_by_one(text: str, ranges: list[LineRange], fps: list[str]) -> None:
    """Each relocation on its own text with the anchored code edited (the full search, not the fast
    path) and the file's index built in the call, timed call by call."""
    rows = text.split("\n")
    wall, cpu = [], []
    for i, (r, fp) in enumerate(zip(ranges, fps)):
        edited = rows[:]
        edited[r.start_line - 1] += f"  # edit {i}"
        fresh = "# a new header\n# another line\n\n" + "\n".join(edited)
        gc.disable()
        t0, c0 = time.perf_counter(), time.process_time()
        relocate_anchor(fp, fresh, r)
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        gc.enable()
    for label, times in (("wall", sorted(wall)), ("CPU", sorted(cpu))):
        print(
            f"  one anchor, its first line edited, index built in the call ({len(times)} calls), {label}:"
            f" p50 {_pct(times, 50) * 1000:.1f} ms, p99 {_pct(times, 99) * 1000:.1f} ms, max {times[-1] * 1000:.1f} ms"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="anchors made on the first version only, fewer of them")
    parser.add_argument("--per-file", type=int, default=None, help="anchors of each kind drawn per file")
    parser.add_argument("--lost-below", type=float, default=None, help="try another lost threshold (LOST_BELOW)")
    parser.add_argument("--only", choices=("python", "others"), default=None, help="one half of the bench")
    args = parser.parse_args(argv)
    starts = 1 if args.quick else STARTS
    per_kind = args.per_file or (10 if args.quick else 25)
    if args.lost_below is not None:
        anchors.LOST_BELOW = args.lost_below
    t0 = time.perf_counter()
    records: list[dict] = []
    if args.only != "others":
        records, stats = collect(starts, per_kind)
        report(records, stats, starts)
    if args.only != "python":
        stats = {"anchors": 0, "files": 0, "left_out": 0, "left_out_files": 0, "gone": 0, "sizes": [], "packages": []}
        others = multilang.collect(CACHE, 1 if args.quick else OTHER_STARTS, max(3, per_kind // 4), stats)
        print("\nOther languages: real releases from the npm registry and PyPI")
        for line in stats["packages"]:
            print(f"  {line}")
        print(
            f"  {stats['anchors']} anchors in {stats['files']} files that change later; {len(others)} pairs scored;"
            f" left out for lack of a reliable truth: {stats['left_out']} pairs and {stats['left_out_files']} files"
            f" (unbalanced brackets); file not in that version: {stats['gone']}"
        )
        records += others
    scoring.report(records)
    print(f"(history followed and scored in {time.perf_counter() - t0:.0f} s)")
    del records
    gc.collect()  # so that the timing below does not pay for collecting the records' heap
    timing()


if __name__ == "__main__":
    main()
