"""Scoring the anchor bench's records: per language group, kind and method.

* exact: the answer is the truth's lines exactly (for deleted code: "lost");
* close: start within 1 line of the truth and IoU >= 0.8 (the Python bench's historical criterion);
* overlap: the answer shares at least one line with the truth (for deleted code: "lost");
* false deletion: of the records whose code is still there, the share answered "lost";
* false survival: of the records whose code was deleted, the share answered with lines.
"""

from __future__ import annotations

from collections import defaultdict

BASELINES = ("keep-line", "diff-chain", "diff-direct", "hunk-chain", "hunk-direct", "difflib-chain", "difflib-direct")
METHODS = ("ours",) + BASELINES
NAMES = {
    "diff-chain": "git-hist",
    "diff-direct": "git-hist/1",
    "hunk-chain": "git-hunk",
    "hunk-direct": "git-hunk/1",
    "difflib-chain": "difflib",
    "difflib-direct": "difflib/1",
    "keep-line": "keep-line",
    "ours": "ours",
}


def close(pred, truth) -> bool:
    if truth is None or pred is None:
        return truth is None and pred is None
    inter = min(pred[1], truth[1]) - max(pred[0], truth[0]) + 1
    union = max(pred[1], truth[1]) - min(pred[0], truth[0]) + 1
    return abs(pred[0] - truth[0]) <= 1 and max(inter, 0) / union >= 0.8


def exact(pred, truth) -> bool:
    return pred == truth


def overlap(pred, truth) -> bool:
    if truth is None or pred is None:
        return truth is None and pred is None
    return min(pred[1], truth[1]) >= max(pred[0], truth[0])


def rates(rs: list[dict], m: str) -> dict[str, float]:
    nan = float("nan")
    if not rs:
        return {"exact": nan, "close": nan, "overlap": nan, "fd": nan, "fs": nan}
    kept = [r for r in rs if r["truth"] is not None]
    gone = [r for r in rs if r["truth"] is None]
    pct = lambda part, whole: 100.0 * part / whole if whole else nan  # noqa: E731
    return {
        "exact": pct(sum(exact(r[m], r["truth"]) for r in rs), len(rs)),
        "close": pct(sum(close(r[m], r["truth"]) for r in rs), len(rs)),
        "overlap": pct(sum(overlap(r[m], r["truth"]) for r in rs), len(rs)),
        "fd": pct(sum(r[m] is None for r in kept), len(kept)),
        "fs": pct(sum(r[m] is not None for r in gone), len(gone)),
    }


def _groups(records: list[dict]) -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = {"overall": records}
    by_language = defaultdict(list)
    for r in records:
        by_language[r["language"]].append(r)
    groups |= dict(sorted(by_language.items()))
    groups["all but python"] = [r for r in records if r["language"] != "python"]
    return groups


def report(records: list[dict]) -> dict[str, dict]:
    """Print the per-language tables; returns {group: {method: rates}} for the headline."""
    print("\nPer language group, every (anchor, later version) pair; % of the pairs scored")
    print("  exact = the truth's lines exactly (deleted code: 'lost'); close = start +-1 and IoU >= 0.8;")
    print("  overlap = shares a line; FD = false deletions (of code still there); FS = false survivals (of deleted code)")
    print("  baselines: git-hist = `git diff --histogram` hunks release by release (/1: one diff from the first")
    print("  version), generous at hunk edges; git-hunk = the same, a line in a pure deletion is lost;")
    print("  difflib = difflib.SequenceMatcher line opcodes, carried the same way; keep-line = same numbers\n")
    groups = _groups(records)
    table: dict[str, dict] = {}
    head = f"{'group':16}{'scored':>8}{'kept':>7}{'gone':>6} | {'ours: exact':>11}{'close':>7}{'overl':>7}{'FD':>6}{'FS':>6}"
    print(head + f" | {'best baseline':>14}{'exact':>7}{'gain':>7} | {'git-hist ex/FD/FS':>19} | {'difflib ex/FD/FS':>18}")
    for name, rs in groups.items():
        per = {m: rates(rs, m) for m in METHODS}
        table[name] = per
        best = max(BASELINES, key=lambda m: per[m]["exact"])
        o, g, d = per["ours"], per["diff-chain"], per["difflib-chain"]
        kept = sum(r["truth"] is not None for r in rs)
        print(
            f"{name:16}{len(rs):>8}{kept:>7}{len(rs) - kept:>6} | {o['exact']:>10.1f}%{o['close']:>6.1f}%{o['overlap']:>6.1f}%"
            f"{o['fd']:>5.1f}%{o['fs']:>5.1f}% | {NAMES[best]:>14}{per[best]['exact']:>6.1f}%{o['exact'] - per[best]['exact']:>+7.1f}"
            f" | {g['exact']:>6.1f}/{g['fd']:>5.1f}/{g['fs']:>5.1f} | {d['exact']:>6.1f}/{d['fd']:>5.1f}/{d['fs']:>5.1f}"
        )
    print("\nExact rate of every method, per group (close rate in brackets)")
    print(f"{'group':16}" + "".join(f"{NAMES[m]:>17}" for m in METHODS))
    for name, per in table.items():
        print(f"{name:16}" + "".join(f"{per[m]['exact']:>8.1f} ({per[m]['close']:>5.1f})" for m in METHODS))
    print("\nPer language and kind (def = whole definition, block = control block, body = lines inside a")
    print("definition, line = one line; deleted = pairs whose code was deleted, any kind)")
    print(
        f"{'language':14}{'kind':9}{'scored':>7} | {'ours ex':>8}{'close':>7}{'FD':>6}{'FS':>6} | {'best baseline':>14}{'exact':>7}{'gain':>7}"
    )
    for name, rs in groups.items():
        if name in ("overall", "all but python"):
            continue
        kinds = defaultdict(list)
        for r in rs:
            kinds[r["kind"]].append(r)
        kinds["deleted"] = [r for r in rs if r["truth"] is None]
        for kind, ks in kinds.items():
            if not ks:
                continue
            per = {m: rates(ks, m) for m in METHODS}
            best = max(BASELINES, key=lambda m: per[m]["exact"])
            o = per["ours"]
            print(
                f"{name:14}{kind:9}{len(ks):>7} | {o['exact']:>7.1f}%{o['close']:>6.1f}%{o['fd']:>5.1f}%{o['fs']:>5.1f}%"
                f" | {NAMES[best]:>14}{per[best]['exact']:>6.1f}%{o['exact'] - per[best]['exact']:>+7.1f}"
            )
    print("\nRelocation time per anchor and version (the new text's index is built by its first anchor), wall")
    for name, rs in groups.items():
        times = sorted(r["us"] for r in rs)
        if times:
            big = sorted(r["us"] for r in rs if r.get("lines", 0) >= 5000)
            extra = f"; files of 5000+ lines: p50 {_pct(big, 50) / 1000:.2f} ms, p99 {_pct(big, 99) / 1000:.2f} ms" if big else ""
            print(
                f"  {name:16} p50 {_pct(times, 50) / 1000:.2f} ms, p99 {_pct(times, 99) / 1000:.2f} ms,"
                f" max {times[-1] / 1000:.1f} ms{extra}"
            )
    return table


def _pct(values: list[float], p: float) -> float:
    return values[min(len(values) - 1, int(len(values) * p / 100))] if values else float("nan")
