"""One colearner instance: its configuration, key, ledger and folded state.

The CLI, the language server and the demo each open an ``Instance`` and call the
action functions in ``actions``; the Kafka bus feeds it with ``receive`` and
drains its outbox. Nothing here imports Kafka or LSP.

``Instance`` is built on two parts of its own: writing ``learning.json``
(``learning_json``), and getting back what its ledger lacks, its own lost events
and peers' it never got (``recovery``).
"""

from __future__ import annotations

import gc
import json
import logging
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .config import CONFIG_DIR, AgentConfig, config_path, find_root, load_config
from .errors import ConfigError
from .intake import Intake
from .learning_json import LearningJson
from .model.fold import apply_event, exercise_named, fold
from .model.state import State
from .protocol.event_types import PAYLOADS, Payload
from .protocol.events import (
    EVENT_ADAPTER,
    NO_SESSION,
    EnvelopeBase,
    new_id,
    now_ts,
    parse_stored,
    payload_dict,
    replay_key,
)
from .protocol.sealing import shared_key
from .protocol.signing import load_private_key, parse_public_key, public_key_text, raw_public_key
from .protocol.wire import write_stream
from .recovery import LedgerRecovery
from .store.ledger import Incoming, Ledger, Outcome
from .store.rows import Built

log = logging.getLogger(__name__)
BIG_BATCH = 64  # judging a batch this big pauses the cyclic GC (see _gc_paused)


@lru_cache(maxsize=256)
def _raw_key(text: str) -> bytes:
    return raw_public_key(parse_public_key(text))


@dataclass(frozen=True)
class Received:
    outcomes: list[Outcome]  # one per message, in order
    applied: list[EnvelopeBase]  # events that changed the state


@contextmanager
def _gc_paused(pause: bool) -> Iterator[None]:
    """Pause Python's cyclic GC around folding a whole ledger (opening an instance)
    or judging and storing a big batch read from the bus.

    Neither makes reference cycles, and the collector's passes over the growing
    state cost about a third of a 100,000-event replay (bench/bench_core.py) and
    half of judging a batch (its many short-lived objects trigger collections
    that walk everything); refcounting still frees everything as usual.
    """
    if not pause or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class Instance(LearningJson, LedgerRecovery):
    """An opened instance. Thread-safe for one process; several processes may share the ledger."""

    def __init__(self, root: Path, config: AgentConfig, key: Ed25519PrivateKey, ledger: Ledger) -> None:
        self.root = Path(root)
        self.config = config
        self.key = key
        self.public_key = public_key_text(key)
        self.ledger = ledger
        self.state = State()
        self._pos = 0
        self._session_events: dict[str, list[EnvelopeBase]] = {}  # parsed, in replay order once refolded
        self._parsed: dict[tuple[str, str], EnvelopeBase] = {}  # events ``receive`` parsed, by (sender, id), so ``refresh`` need not again
        self._lock = threading.RLock()
        LearningJson.__init__(self)
        LedgerRecovery.__init__(self)
        # Told which exercises each fold touched, whoever folded (the bus, an action, a look at
        # what the CLI wrote): the language server shows what changed from this alone.
        self._fold_listeners: list[Callable[[set[str]], None]] = []
        self._config_mtime = self._stat_config()
        self.intake = Intake(config, key, self.public_key, ledger)
        self.refresh()
        self._notice_lost_history()
        if not (self.root / CONFIG_DIR / "learning.json").exists():
            self._learning_dirty = True  # written out once even with nothing in it: the offline inbox reads it

    def _stat_config(self) -> int | None:
        try:
            return config_path(self.root).stat().st_mtime_ns
        except FileNotFoundError:
            return None

    # ------------------------------------------------------------ opening

    @classmethod
    def open(cls, start: Path | None = None) -> Instance:
        """Open the instance whose ``.colearner/agent.yaml`` is at or above ``start``."""
        start = Path(start or os.getcwd())
        root = find_root(start)
        if root is None:
            raise ConfigError(
                f"no .colearner/agent.yaml in {start} or above; run 'colearner init --role coach|student --id NAME' "
                "at the top of the repository"
            )
        config = load_config(root)
        key = load_private_key(Path(config.key_file))
        return cls(root, config, key, Ledger(root / CONFIG_DIR / "ledger.sqlite"))

    def close(self) -> None:
        self.flush_learning_json()
        self.ledger.close()

    @property
    def identity(self) -> str:
        return self.config.identity

    @property
    def role(self) -> str:
        return self.config.role

    def topic(self, event_type: str) -> str:
        """The topic that carries ``event_type``, as declared with its payload class."""
        return str(getattr(self.config.topics, PAYLOADS[event_type].topic_key))

    def topics(self) -> list[str]:
        t = self.config.topics
        return [t.assignments, t.feedback, t.progress, t.events]

    # ------------------------------------------------------------ writing

    def emit(
        self,
        session_id: str,
        student: str,
        payloads: Payload | Sequence[Payload],
        event_ids: dict[int, str] | None = None,
    ) -> list[EnvelopeBase]:
        """Sign and append this instance's events atomically; they go out with the outbox.

        ``payloads`` (one, or several in order) are all about ``student``; each
        one's event type and topic come from its class. ``event_ids`` fixes the
        id of some of them (by position) when another event of the batch must
        refer to it.
        """
        self.refuse_while_recovering()
        batch = [payloads] if isinstance(payloads, Payload) else list(payloads)
        event_ids = event_ids or {}
        readers = self._readers(session_id, student)
        headers = [
            {
                "actor": self.role,
                "session_id": session_id,
                "event_type": p.event_type,
                "event_id": event_ids.get(i) or new_id(),
                "sender": self.identity,
                "student": student,
            }
            for i, p in enumerate(batch)
        ]
        plain = [payload_dict(p) for p in batch]
        topics = [getattr(self.config.topics, p.topic_key) for p in batch]

        def build(first_seq: int, prev: str | None) -> list[Built]:
            # Called under the ledger's write lock: one time for the batch, taken
            # there, makes replay order (ts, sender, seq) follow seq across processes,
            # and the chain continues from the stream's last event whoever wrote it.
            ts = now_ts()
            written = write_stream([{"ts": ts, **h} for h in headers], plain, first_seq, prev, readers, self.key)
            return [
                (w.opened, topic, json.dumps(w.opened, separators=(",", ":"), ensure_ascii=False), w.wire, w.hash)
                for w, topic in zip(written, topics)
            ]

        with self._lock:
            written = self.ledger.append_own_batch(self.identity, student, len(headers), build)
            # A coach's learning.json holds every student: rewriting it on each action
            # would cost more than the action. It follows within a second, and on close.
            self.refresh(defer_write=self.role == "coach")
        return [EVENT_ADAPTER.validate_python(e) for e in written]

    def _readers(self, session_id: str, student: str) -> dict[str, bytes]:
        """Who may open an event about ``student`` in ``session_id``, and the key shared with each:
        this instance, the student, and the session's coach (every pinned coach when the
        session is not known, e.g. a resync request)."""
        names = {self.identity, student}
        if self.role == "student":
            session = self.state.sessions.get(session_id)
            coaches = [session.coach] if session is not None and session.coach in self.config.peers else []
            names.update(coaches or [name for name, peer in self.config.peers.items() if peer.role == "coach"])
            if len(names) == 1:
                raise ConfigError(
                    "no coach is trusted here, so nobody could read this; pin your coach's key with 'colearner trust COACH KEY'"
                )
        readers = {}
        for name in sorted(names):
            if name == self.identity:
                public = self.public_key
            elif name in self.config.peers:
                public = self.config.peers[name].public_key
            else:
                raise ConfigError(
                    f"{name!r} is not trusted here, so an event about them could not be sealed for them; run 'colearner trust {name} KEY'"
                )
            readers[name] = shared_key(self.key, _raw_key(public))
        return readers

    # ------------------------------------------------------------ reading

    def reload_config(self) -> bool:
        """Pick up agent.yaml changes (e.g. 'colearner trust' while a server runs); True if reloaded."""
        path = config_path(self.root)
        try:
            mtime = path.stat().st_mtime_ns
        except FileNotFoundError:
            return False
        if mtime == self._config_mtime:
            return False
        self._config_mtime = mtime
        try:
            self.config = load_config(self.root)
        except ConfigError:
            return False  # keep the last good configuration; doctor/CLI report the mistake
        return True

    def refresh(self, defer_write: bool = False) -> list[EnvelopeBase]:
        """Fold events other processes (or the bus) appended since the last look.

        The ledger holds events in the order this instance learned of them,
        which differs between coach and student (and after a resync). So that
        both fold to the same state, a session is folded in replay order
        ``(ts, sender, seq)``: an event that sorts before one already applied
        to its session makes that session be folded again from its events.

        ``defer_write`` (the bus, reading a stream of events; a coach's action)
        leaves ``learning.json`` to whoever holds the instance: the bus writes it
        when ``learning_json_due``, and ``close`` always does.
        """
        with self._lock, _gc_paused(self._pos == 0):
            # events the bus just judged are parsed already: their rows are read without their text
            rows = self.ledger.events_after(self._pos, text=not self._parsed)
            applied = []
            late: set[str] = set()
            for row in rows:
                self._pos = row.pos
                event = self._parsed.get((row.sender, row.event_id)) or _stored_event(row.raw or self.ledger.event_text(row.pos))
                if event is None:
                    continue
                if not apply_event(self.state, event):
                    continue
                applied.append(event)
                if event.session_id == NO_SESSION:
                    continue
                events = self._session_events.setdefault(event.session_id, [])
                if events and replay_key(event) < replay_key(events[-1]):
                    late.add(event.session_id)
                events.append(event)
            for session_id in late:
                self._refold_session(session_id)
            if applied:
                touched = self._touched(applied, late)
                self.learning_changed(touched)
                if not defer_write:
                    self.flush_learning_json()
                for listener in self._fold_listeners:
                    listener(touched)
            return applied

    def on_fold(self, listener: Callable[[set[str]], None]) -> None:
        """Call ``listener`` with the ids of the exercises every later fold touched (possibly none:
        a session's stage may have moved). It runs on the thread that folded, under the
        instance's lock: it must only take note and return."""
        self._fold_listeners.append(listener)

    def _touched(self, applied: list[EnvelopeBase], refolded: set[str]) -> set[str]:
        """The exercises a fold changed: those its events name, and every one of a session folded again."""
        touched = {x for x in map(exercise_named, applied) if x is not None}
        for session_id in refolded:
            session = self.state.sessions.get(session_id)
            touched.update(session.exercise_ids if session else ())
        return touched

    def _refold_session(self, session_id: str) -> None:
        """Fold one session again from its events in replay order."""
        events = sorted(self._session_events[session_id], key=replay_key)
        self._session_events[session_id] = events
        state = self.state
        old = state.sessions.pop(session_id, None)
        for exercise_id in old.exercise_ids if old else ():
            state.exercises.pop(exercise_id, None)
        for exercise_id in list(state.waiting):
            kept = [e for e in state.waiting[exercise_id] if e.session_id != session_id]
            if kept:
                state.waiting[exercise_id] = kept
            else:
                del state.waiting[exercise_id]
        fresh = fold(events)
        state.exercises.update(fresh.exercises)
        for exercise_id, waiting in fresh.waiting.items():
            state.waiting.setdefault(exercise_id, []).extend(waiting)
        if session_id in fresh.sessions:
            session = fresh.sessions[session_id]
            session._exercises = state.exercises
            state.sessions[session_id] = session

    def receive(self, messages: Sequence[Incoming]) -> Received:
        """Judge, store and apply a batch read from the bus (one ledger transaction).

        Never raises for what a message holds: each is judged on its own and a
        refusal (or a failure while judging it) quarantines that message only.
        """
        with self._lock, _gc_paused(len(messages) >= BIG_BATCH):
            if self.reload_config():  # a peer trusted or removed since start-up counts at once
                self.intake.config = self.config
            students = self._opened_sessions()
            known_before = set(self.state.sessions)
            judged = self.intake.judge(messages, students)
            for event in judged.events:
                # the first of one sender's events under one id is the one the ledger keeps (a
                # later one under the same id is a duplicate there): the fold must read that one
                self._parsed.setdefault((event.sender, event.event_id), event)
            try:
                stored = self.ledger.accept([item for _, item in judged.items], own=self.identity, chains=judged.chains)
                new = self.refresh(defer_write=True)
            finally:
                self._parsed.clear()
            outcomes: list[Outcome] = ["skipped"] * len(messages)
            for (index, _), outcome in zip(judged.items, stored):
                if index is not None:
                    outcomes[index] = outcome
            self._answer_resync_requests(new)
            retried = self._judge_again(set(self.state.sessions) - known_before)
            return Received(outcomes, new + retried)

    def _opened_sessions(self) -> dict[str, str] | None:
        """On a coach, the sessions it opened and their students; a student's events
        count only in those. (A student applies every signed event of its coach.)"""
        if self.role != "coach":
            return None
        return {sid: s.student for sid, s in self.state.sessions.items() if s.coach == self.identity}

    def _judge_again(self, sessions: set[str]) -> list[EnvelopeBase]:
        """Messages quarantined only because their session was unknown, judged again now that it is."""
        if not sessions or self.role != "coach":
            return []
        waiting = self.ledger.retryable(sorted(sessions))
        if not waiting:
            return []
        self.ledger.release([row_id for row_id, _ in waiting])
        return self.receive([message for _, message in waiting]).applied


def _stored_event(raw: str) -> EnvelopeBase | None:
    """A ledger row's event; None (logged) for one that no longer fits its model, so an old or
    hand-made row cannot stop the instance from opening."""
    try:
        return parse_stored(raw)
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        log.warning("an event in the ledger does not fit its model and is left out of the state: %s", str(exc).splitlines()[0])
        return None
