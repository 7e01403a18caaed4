"""Linking a stream's events to its signed tips (wire v2).

Each event names the hash of the one before it in its stream (``prev``), and
the last event of each batch a writer produced (its *tip*) is signed. So one
valid signature vouches for every event its chain reaches back to the last
event this reader accepted (the stream's *head*). This module decides, for
one stream, what a set of candidates (new messages and those held from
earlier) comes to:

- accepted: reached by a validly signed tip from the head, in stream order;
- held: not reached yet (its tip has not arrived; bounded by the caller);
- refused, with a reason: a seq at or below the head that is not the event
  accepted there, a tip whose signature fails (checked as soon as it is read),
  an event a signed tip passed over (forged, or not the one the writer chained);
- a fork: two different validly signed events at one place of the stream,
  which only the writer's own key can make (a copied key, or a ledger rolled
  back): the stream is stopped and people are told.

Pure: the caller supplies the head, the hashes of accepted events and the
signature check, so it can be tested without a ledger or a key.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

# A writer signs a tip at least every MAX_BATCH events of a stream, so a reader
# never needs to hold more than a few batches to link them.
MAX_BATCH = 256
MAX_HELD_EVENTS = 4 * MAX_BATCH  # per stream
MAX_HELD_BYTES = 8 * 1_048_576  # per stream


class Link(NamedTuple):
    """One event as the chain sees it; ``ref`` is the caller's handle on it (a tuple: one is made per message)."""

    seq: int
    prev: str | None
    hash: str
    signed: bool
    size: int
    ref: Any = None


@dataclass
class Linked:
    """What became of a stream's candidates (each ``ref`` appears in exactly one list)."""

    accepted: list[Link] = field(default_factory=list)
    held: list[Link] = field(default_factory=list)
    duplicates: list[Link] = field(default_factory=list)
    refused: list[tuple[Link, str]] = field(default_factory=list)
    head: tuple[int, str | None] = (0, None)
    fork: str | None = None  # why the stream is now taken to be forked


def link(
    stream: str,
    head: tuple[int, str | None],
    candidates: Sequence[Link],
    signature_ok: Callable[[Link], bool],
    accepted_hash: Callable[[int], str | None],
    forked: str | None = None,
) -> Linked:
    """Decide the fate of ``candidates`` of the stream (named ``stream`` in reasons) whose head is ``head``.

    ``accepted_hash(seq)`` is the hash of the event accepted at ``seq`` (None when
    it is not kept, e.g. it was accepted and then refused for its payload).
    ``forked``: the stream was found forked before; nothing more is accepted.
    """
    out = Linked(head=head)
    if forked is not None:
        out.refused = [(c, f"the stream {stream} is forked ({forked}); nothing more is applied from it") for c in candidates]
        out.fork = forked
        return out
    pool: dict[str, Link] = {}
    for c in candidates:
        if c.seq <= head[0]:
            _behind_head(out, stream, c, signature_ok, accepted_hash)
        elif c.hash in pool:
            out.duplicates.append(c)  # the same bytes twice (a redelivery while held)
        else:
            pool[c.hash] = c
    # A tip's signature is checked as soon as it is read (it covers the tip's own bytes):
    # a forged one is refused at once rather than held until its chain links.
    for tip in [c for c in pool.values() if c.signed]:
        if not signature_ok(tip):
            del pool[tip.hash]
            out.refused.append((tip, f"bad signature on the tip at seq {tip.seq} of {stream}"))
    while out.fork is None and _accept_next_tip(out, stream, pool, signature_ok):
        pass
    if out.fork is not None:  # what was waiting is kept out too
        out.refused += [(c, f"the stream {stream} is forked ({out.fork})") for c in pool.values()]
        return out
    out.held = sorted(pool.values(), key=lambda c: c.seq)
    _bound(out, stream)
    return out


def _behind_head(
    out: Linked, stream: str, c: Link, signature_ok: Callable[[Link], bool], accepted_hash: Callable[[int], str | None]
) -> None:
    known = accepted_hash(c.seq)
    if known is None or known == c.hash:
        out.duplicates.append(c)
    elif c.signed and signature_ok(c):
        out.fork = f"two signed events at seq {c.seq}"
        out.refused.append((c, f"forked writer: a second signed event at seq {c.seq} of {stream}"))
    else:
        out.refused.append((c, f"seq {c.seq} of {stream} is already taken by the event its writer signed"))


def _accept_next_tip(out: Linked, stream: str, pool: dict[str, Link], signature_ok: Callable[[Link], bool]) -> bool:
    """Accept the furthest signed tip whose chain reaches the head; False when none does."""
    for tip in sorted((c for c in pool.values() if c.signed), key=lambda c: -c.seq):
        chain = _chain_to_head(tip, out.head, pool)
        if chain is None:
            continue
        del pool[tip.hash]
        if isinstance(chain, str):
            out.refused.append((tip, chain.format(stream=stream)))
            return True
        for c in chain[:-1]:
            del pool[c.hash]
        out.accepted += chain
        out.head = (tip.seq, tip.hash)
        for c in [c for c in pool.values() if c.seq <= tip.seq]:
            del pool[c.hash]
            if c.signed:  # (its signature was checked on arrival)
                out.fork = f"two signed events at seq {c.seq}"
                out.refused.append((c, f"forked writer: a second signed event at seq {c.seq} of {stream}"))
            else:
                out.refused.append((c, f"seq {c.seq} of {stream} is not the event the signed tip at seq {tip.seq} vouches for"))
        return True
    return False


def _chain_to_head(tip: Link, head: tuple[int, str | None], pool: dict[str, Link]) -> list[Link] | str | None:
    """The events from the head's successor to ``tip``, in order; a reason (a format
    string) when the signed chain reaches the head's seq but not its hash; None when
    it does not reach the head (an event in between is missing)."""
    path = [tip]
    current = tip
    while current.seq > head[0] + 1:
        before = pool.get(current.prev) if current.prev is not None else None
        if before is None or before.seq != current.seq - 1:
            return None
        path.append(before)
        current = before
    if current.prev != head[1]:
        return f"the signed tip at seq {tip.seq} of {{stream}} does not continue from the event accepted at seq {head[0]}"
    path.reverse()
    return path


def _bound(out: Linked, stream: str) -> None:
    """Held events past the bounds are refused, newest first: a writer signs every MAX_BATCH."""
    total = 0
    kept: list[Link] = []
    for c in out.held:
        total += c.size
        if len(kept) >= MAX_HELD_EVENTS or total > MAX_HELD_BYTES:
            out.refused.append((c, f"more unsigned events of {stream} than a reader holds while it waits for a signed tip"))
        else:
            kept.append(c)
    out.held = kept
