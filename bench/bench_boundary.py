"""Benchmark: what the receive boundary costs per message, beside what it replaced.

    python bench/bench_boundary.py

For each kind of message, µs per message (median of 7 rounds, CPU time):

- decode: ``strict_json.decode`` (size, depth, number and duplicate-key
  rules) against plain ``json.loads``, which is what the boundary did before;
- decode + schema: each of those followed by ``parse_event``;
- judge: the whole ``receive.judge`` (decode, schema, who may write it, the
  Ed25519 check), so the boundary's share of a message's cost shows;
- hostile: the cost of refusing a value nested 500,000 deep and an integer of
  4,000 digits, which before stopped the reader instead.

Messages: a typical signed response, and an evidence snapshot of 200 files
with a 100 kB diff (many brackets in its strings, the depth walk's worst
ordinary case). Prints figures only; it asserts nothing.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from colearner_lsp.core.config import AgentConfig, Peer  # noqa: E402
from colearner_lsp.core.protocol.events import now_ts, parse_wire  # noqa: E402
from colearner_lsp.core.protocol.receive import judge_alone  # noqa: E402
from colearner_lsp.core.protocol.sealing import shared_key  # noqa: E402
from colearner_lsp.core.protocol.signing import generate_key, public_key_text, raw_public_key  # noqa: E402
from colearner_lsp.core.protocol.strict_json import Refused, decode  # noqa: E402
from colearner_lsp.core.protocol.wire import write_stream  # noqa: E402

ROUNDS = 7


def envelope(event_type: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "ts": now_ts(),
        "actor": "student",
        "session_id": str(uuid.uuid4()),
        "event_type": event_type,
        "payload": payload,
        "event_id": str(uuid.uuid4()),
        "sender": "alice",
        "student": "alice",
        "seq": 7,
    }


def per_message_us(work: Callable[[bytes], Any], raw: bytes, count: int) -> float:
    times = []
    for _ in range(ROUNDS):
        start = time.process_time()
        for _ in range(count):
            work(raw)
        times.append((time.process_time() - start) / count * 1e6)
    return statistics.median(times)


def refusing(work: Callable[[bytes], Any]) -> Callable[[bytes], Any]:
    def run(raw: bytes) -> None:
        try:
            work(raw)
        except Refused:
            pass

    return run


def main() -> None:
    key = generate_key()
    config = AgentConfig.model_validate(
        {
            "identity": "coach",
            "role": "coach",
            "key_file": "unused",
            "peers": {"alice": Peer(role="student", public_key=public_key_text(key)).model_dump()},
        }
    )
    response = envelope("exercise_response", {"exercise_id": str(uuid.uuid4()), "response": "It sums price × qty " * 20})
    files = [{"path": f"src/module_{i}.py", "blob_sha": "ab" * 20, "size": 1200 + i, "lines": 40, "status": "modified"} for i in range(200)]
    diff = "".join(f"@@ -{i},3 +{i},4 @@\n-    x = items[{i}]\n+    x = items[{i}] or {{}}\n" for i in range(2500))[:100_000]
    snapshot = envelope(
        "evidence_snapshot",
        {
            "exercise_id": str(uuid.uuid4()),
            "commit": "cd" * 20,
            "branch": "main",
            "dirty": True,
            "files": files,
            "summary": "200 files",
            "diff": diff,
        },
    )
    # as alice would send them (wire v2: sealed to her and the coach, her own signed tip); the
    # coach's key is hers here, so one key opens for both names
    readers = {name: shared_key(key, raw_public_key(key.public_key())) for name in ("coach", "alice")}

    def as_sent(env: dict[str, Any]) -> bytes:
        header = {k: v for k, v in env.items() if k not in ("payload", "seq")}
        return write_stream([header], [env["payload"]], 1, None, readers, key)[0].wire.encode()

    messages = {"response": (as_sent(response), 20_000), "snapshot (200 files, 100 kB diff)": (as_sent(snapshot), 200)}
    print(
        f"{'message':36} {'json.loads':>11} {'strict':>9} {'ratio':>6} | {'+schema old':>11} {'+schema new':>11} {'ratio':>6} | {'judge':>9} {'boundary share':>14}"
    )
    for name, (raw, count) in messages.items():
        old = per_message_us(json.loads, raw, count)
        new = per_message_us(decode, raw, count)
        old_schema = per_message_us(lambda r: parse_wire(json.loads(r)), raw, count)
        new_schema = per_message_us(lambda r: parse_wire(decode(r)), raw, count)
        verdict = judge_alone(raw, config, key)  # (no session rule: the boundary's cost alone)
        assert verdict.accepted, verdict.reason
        whole = per_message_us(lambda r: judge_alone(r, config, key), raw, count)
        print(
            f"{name:36} {old:9.1f}µs {new:7.1f}µs {new / old:5.2f}x | {old_schema:9.1f}µs {new_schema:9.1f}µs "
            f"{new_schema / old_schema:5.2f}x | {whole:7.1f}µs {(new - old) / whole:13.1%}"
        )
    print("\nrefusing hostile values (before: the reader stopped with a traceback)")
    for name, raw in {
        "nested 500,000 deep": b"[" * 500_000 + b"]" * 500_000,
        "integer of 4,000 digits": b'{"seq": ' + b"9" * 4000 + b"}",
    }.items():
        print(f"  {name:28} {per_message_us(refusing(decode), raw, 5) / 1000:8.2f} ms per message")


if __name__ == "__main__":
    main()
