"""``colearner doctor``: check what an instance needs and say what to fix."""

from __future__ import annotations

import asyncio
from pathlib import Path

from ..core.config import find_root, load_config
from ..core.errors import ColearnerError


def _line(ok: bool, what: str, fix: str = "") -> bool:
    print(f"[{'ok' if ok else '!!'}] {what}" + (f" — {fix}" if fix and not ok else ""))
    return ok


def _ledger_lines(root: Path, quarantine: bool) -> tuple[bool, bool]:
    """Integrity, recovery and quarantine of the ledger: (healthy, damaged)."""
    from ..core.display import one_line
    from ..core.store.repair import open_checked

    ledger, problems = open_checked(root)
    if problems:
        if ledger is not None:
            ledger.close()
        _line(False, "ledger integrity", f"{one_line(problems[0], 200)}; run 'colearner repair' to set it aside and rebuild it from Kafka")
        return False, True
    if ledger is None:
        _line(True, "ledger: none yet (made by the first command)")
        return True, False
    try:
        healthy = _line(True, f"ledger integrity: ok ({ledger.event_count()} events)")
        if ledger.get_meta("recovery") is not None:
            healthy = _line(
                False,
                "ledger complete",
                "it holds less than this instance published; "
                "run 'colearner sync' with Kafka reachable to read your own events back before writing",
            )
        for (sender, student), detail in sorted(ledger.forks().items()):
            healthy = _line(
                False,
                f"stream of {one_line(sender, 64)} about {one_line(student, 64)}",
                f"forked writer ({one_line(detail, 100)}): two different events signed with their key at one place; "
                "nothing more is applied from it. Their key may be copied, or their ledger restored from an old copy: "
                "ask them, and pin a new key with 'colearner trust NAME KEY --replace' once it is sorted out",
            )
        for (sender, student), held in sorted(ledger.held_streams().items()):
            _line(
                True,
                f"{one_line(sender, 64)} about {one_line(student, 64)}: events {held.low}..{held.high} read, "
                "waiting for the signed end of their batch (asked for again if it does not come)",
            )
        rows, dropped = ledger.quarantined(), ledger.quarantine_dropped()
        summary = f"quarantine: {len(rows)} message(s) kept" + (f", {dropped} older one(s) dropped" if dropped else "")
        _line(True, summary + ("" if quarantine or not rows else " (see 'colearner doctor --quarantine')"))
        if quarantine:
            for row in rows:
                where = f"{row['topic']}[{row['partition']}]@{row['offset']}" if row["topic"] else "re-judged"
                who = one_line(row["sender"] or "unknown sender", 64)
                print(f"  {row['received_at']}  {where}  from {who}  {row['size']} bytes: {one_line(row['reason'], 300)}")
        return healthy, False
    finally:
        ledger.close()


def run_doctor(start: Path, offline: bool = False, quarantine: bool = False) -> int:
    root = find_root(start)
    if not _line(
        root is not None, "configuration found", "run 'colearner init --role coach|student --id NAME' at the top of the repository"
    ):
        return 1
    assert root is not None
    healthy = True
    try:
        config = load_config(root)
        _line(True, f"agent.yaml valid: {config.role} {config.identity!r}")
    except ColearnerError as exc:
        _line(False, "agent.yaml valid", str(exc))
        return 1
    from ..core.protocol.signing import load_private_key, parse_public_key

    try:
        load_private_key(Path(config.key_file))
        _line(True, f"private key readable by its owner only ({config.key_file})")
    except ColearnerError as exc:
        healthy = _line(False, "private key", str(exc))
    bad_peers = []
    for name, peer in config.peers.items():
        try:
            parse_public_key(peer.public_key)
        except ColearnerError:
            bad_peers.append(name)
    wanted = "student" if config.role == "coach" else "coach"
    peers = [n for n, p in config.peers.items() if p.role == wanted]
    healthy &= _line(
        bool(peers) and not bad_peers,
        f"trusted {wanted}s: {', '.join(peers) or 'none'}",
        "pin a key with 'colearner trust NAME KEY'" + (f"; bad keys for {', '.join(bad_peers)}" if bad_peers else ""),
    )
    import git

    try:
        repo = git.Repo(root)
        head = repo.head.commit.hexsha[:10] if repo.head.is_valid() else "no commits yet"
        _line(True, f"git repository at {root} (HEAD {head})")
        ignored = bool(repo.ignored(".colearner/agent.yaml"))
        healthy &= _line(ignored, ".colearner/ is ignored by git", "restore .colearner/.gitignore containing '*'")
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        healthy &= _line(False, "git repository", f"{root} is not a git repository; anchors and evidence need one")
    ledger_ok, damaged = _ledger_lines(root, quarantine)
    healthy &= ledger_ok
    if offline:
        print("[--] broker not checked (--offline)")
        return 0 if healthy else 1
    if damaged:  # the broker checks open the instance, which a damaged ledger cannot
        return 1
    from ..bus.kafka_bus import BrokerUnreachable, KafkaBus
    from ..core.instance import Instance

    inst = Instance.open(root)

    async def probe() -> tuple[bool, str]:
        bus = KafkaBus(inst)
        try:
            await bus.connect(timeout=8)
            assert bus._consumer is not None
            topics = await bus._consumer.topics()
            missing = [t for t in inst.topics() if t not in topics]
            return not missing, ("topics present: " + ", ".join(inst.topics())) if not missing else f"missing topics {missing}"
        except BrokerUnreachable as exc:
            return False, str(exc)
        finally:
            await bus.close()

    ok, detail = asyncio.run(probe())
    healthy &= _line(ok, f"Kafka at {', '.join(config.bootstrap())}" + (f"; {detail}" if ok else ""), detail)
    waiting = inst.ledger.outbox_length()
    _line(True, f"outbox: {waiting} event(s) waiting")
    return 0 if healthy else 1
