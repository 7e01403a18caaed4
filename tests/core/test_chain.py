"""``chain.link``: which events of a stream a signed tip vouches for (pure; no keys, no ledger).

Each case is what an attacker or an unlucky network does to a stream: a forged event in
the middle of a batch, a reordered batch, a dropped event, a replayed old batch, a
tip with a bad signature, and a forked writer. Each is refused with its reason, and
what the real chain reaches is still accepted.
"""

from __future__ import annotations

import hashlib

import pytest

from colearner_lsp.core.protocol.chain import MAX_HELD_EVENTS, Link, link

STREAM = "'alice' for 'alice'"


def h(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=32).hexdigest()


def batch(first: int, count: int, prev: str | None, tag: str = "", signed_last: bool = True) -> list[Link]:
    """``count`` events from seq ``first`` chained after ``prev``; the last is a signed tip."""
    out = []
    for i in range(count):
        seq = first + i
        digest = h(f"{tag}{seq}")
        out.append(Link(seq, prev, digest, signed_last and i == count - 1, 100, ref=f"{tag}{seq}"))
        prev = digest
    return out


def good(one: Link) -> bool:
    return not str(one.ref).startswith("bad")


def run(head: tuple[int, str | None], candidates: list[Link], accepted: dict[int, str] | None = None, forked: str | None = None):  # type: ignore[no-untyped-def]
    return link(STREAM, head, candidates, good, lambda seq: (accepted or {}).get(seq), forked)


def refs(links: list[Link]) -> list[str]:
    return [str(one.ref) for one in links]


def test_a_whole_batch_from_the_start_is_accepted_in_order() -> None:
    events = batch(1, 5, None)
    out = run((0, None), list(reversed(events)))
    assert refs(out.accepted) == ["1", "2", "3", "4", "5"]
    assert out.head == (5, events[-1].hash) and out.held == [] and out.refused == []


def test_a_batch_continues_from_the_head() -> None:
    first = batch(1, 3, None)
    out = run((3, first[-1].hash), batch(4, 2, first[-1].hash))
    assert refs(out.accepted) == ["4", "5"]


def test_events_without_their_tip_are_held_until_it_comes() -> None:
    events = batch(1, 4, None)
    out = run((0, None), events[:3])
    assert out.accepted == [] and refs(out.held) == ["1", "2", "3"]
    out = run((0, None), out.held + events[3:])
    assert refs(out.accepted) == ["1", "2", "3", "4"]


def test_a_forged_event_in_the_middle_of_a_signed_batch_is_refused() -> None:
    events = batch(1, 4, None)
    forged = Link(2, events[0].hash, h("forged"), False, 100, ref="forged")
    out = run((0, None), [events[0], forged, *events[1:]])
    assert refs(out.accepted) == ["1", "2", "3", "4"]
    [(refused, reason)] = out.refused
    assert refused.ref == "forged" and reason == f"seq 2 of {STREAM} is not the event the signed tip at seq 4 vouches for"


def test_an_event_replaced_by_a_forgery_stops_the_batch_until_the_real_one_comes() -> None:
    events = batch(1, 4, None)
    forged = Link(2, events[0].hash, h("forged"), False, 100, ref="forged")
    out = run((0, None), [events[0], forged, events[2], events[3]])
    assert out.accepted == [] and len(out.held) == 4  # the tip's chain does not pass the forgery
    out = run((0, None), [*out.held, events[1]])  # a resend brings the real one
    assert refs(out.accepted) == ["1", "2", "3", "4"] and refs([r for r, _ in out.refused]) == ["forged"]


def test_a_reordered_batch_is_accepted_in_its_order() -> None:
    events = batch(1, 5, None)
    out = run((0, None), [events[3], events[0], events[4], events[2], events[1]])
    assert refs(out.accepted) == ["1", "2", "3", "4", "5"]


def test_a_batch_whose_events_swapped_places_is_refused() -> None:
    """Two events exchanged under each other's seq: their hashes no longer chain."""
    events = batch(1, 3, None)
    one, two = events[0], events[1]
    swapped = [Link(1, None, two.hash, False, 100, ref="bad-swap-1"), Link(2, two.hash, one.hash, False, 100, ref="bad-swap-2"), events[2]]
    out = run((0, None), swapped)
    assert out.accepted == [] and len(out.held) == 3


def test_a_dropped_event_holds_what_follows() -> None:
    events = batch(1, 5, None)
    out = run((0, None), [e for e in events if e.seq != 3])
    assert out.accepted == [] and refs(out.held) == ["1", "2", "4", "5"]


def test_a_replayed_old_batch_is_a_duplicate_and_a_forged_one_refused() -> None:
    events = batch(1, 3, None)
    accepted = {e.seq: e.hash for e in events}
    out = run((3, events[-1].hash), events, accepted)
    assert refs(out.duplicates) == ["1", "2", "3"] and out.accepted == [] and out.refused == []
    stale = Link(2, events[0].hash, h("old-other"), False, 100, ref="bad-stale")
    out = run((3, events[-1].hash), [stale], accepted)
    [(refused, reason)] = out.refused
    assert reason == f"seq 2 of {STREAM} is already taken by the event its writer signed"


def test_a_tip_with_a_bad_signature_is_refused_and_its_batch_held() -> None:
    events = batch(1, 3, None, tag="bad")
    out = run((0, None), events)
    [(refused, reason)] = out.refused
    assert refused.ref == "bad3" and reason == f"bad signature on the tip at seq 3 of {STREAM}"
    assert refs(out.held) == ["bad1", "bad2"] and out.accepted == []


def test_a_signed_tip_that_does_not_continue_from_the_head_is_refused() -> None:
    first = batch(1, 2, None)
    other = batch(3, 2, h("not the head"), tag="x")
    out = run((2, first[-1].hash), other)
    [(refused, reason)] = out.refused
    assert refused.ref == "x4" and reason == f"the signed tip at seq 4 of {STREAM} does not continue from the event accepted at seq 2"


def test_a_forked_writer_is_refused_and_the_stream_stopped() -> None:
    events = batch(1, 3, None)
    accepted = {e.seq: e.hash for e in events}
    rival = Link(2, events[0].hash, h("rival"), True, 100, ref="rival")  # validly signed, another event at seq 2
    out = run((3, events[-1].hash), [rival], accepted)
    assert out.fork == "two signed events at seq 2"
    assert out.refused[0][1] == f"forked writer: a second signed event at seq 2 of {STREAM}"
    later = batch(4, 2, events[-1].hash)
    out = run((3, events[-1].hash), later, accepted, forked="two signed events at seq 2")
    assert out.accepted == [] and all("is forked" in reason for _, reason in out.refused)


def test_two_signed_tips_at_one_place_in_the_same_read_are_a_fork() -> None:
    events = batch(1, 3, None)
    rival = Link(3, events[1].hash, h("rival"), True, 100, ref="rival")
    out = run((0, None), [*events, rival])
    assert out.fork == "two signed events at seq 3" and out.held == []


def test_held_events_are_bounded() -> None:
    events = batch(1, MAX_HELD_EVENTS + 10, None, signed_last=False)
    out = run((0, None), events)
    assert len(out.held) == MAX_HELD_EVENTS
    assert len(out.refused) == 10 and all("than a reader holds" in reason for _, reason in out.refused)


@pytest.mark.parametrize("count", [1, 2, 7])
def test_the_same_event_twice_is_one_candidate(count: int) -> None:
    events = batch(1, count, None)
    out = run((0, None), events + events)
    assert len(out.accepted) == count and len(out.duplicates) == count
