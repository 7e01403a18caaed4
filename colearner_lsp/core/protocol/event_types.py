"""What an event type is, declared once on its payload class.

A payload model in ``events`` carries its wire name, the roles that may write
it and the topic that carries it::

    @declare_event("evidence_request", writers=COACH, topic="assignments")
    class EvidenceRequest(Payload):
        ...

Everything else is found from the class: the envelope union and the schemas
(``PAYLOADS``), the writer rule at the receive boundary, the topic ``emit``
publishes to, and the per-type handlers of the fold and the history, kept in
``PayloadHandlers`` tables keyed by the class. A declared type a table has no
entry for is a failing test (tests/core/test_event_types.py), never a silent skip.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict

from .vocabulary import Actor

# The attribute of ``config.TopicsConfig`` naming the topic a type travels on.
TopicKey = Literal["assignments", "feedback", "progress", "events"]

COACH: frozenset[Actor] = frozenset({"coach"})
STUDENT: frozenset[Actor] = frozenset({"student"})
EITHER: frozenset[Actor] = frozenset({"coach", "student"})


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Payload(Frozen):
    """The payload of one event type; ``declare_event`` fills in the class variables."""

    event_type: ClassVar[str]
    writers: ClassVar[frozenset[Actor]]
    topic_key: ClassVar[TopicKey]


# Every declared type by its wire name, in declaration order (the order of the
# envelope union, so of the envelope schema's ``oneOf``).
PAYLOADS: dict[str, type[Payload]] = {}

P = TypeVar("P", bound=type[Payload])
H = TypeVar("H")


def declare_event(name: str, *, writers: frozenset[Actor], topic: TopicKey) -> Callable[[P], P]:
    """Declare ``name`` as the event type whose payload is the decorated class."""

    def declare(cls: P) -> P:
        if name in PAYLOADS or any(c is cls for c in PAYLOADS.values()):
            raise TypeError(f"event type {name!r} ({cls.__name__}) is declared twice")
        if not writers:
            raise TypeError(f"event type {name!r} has no writers")
        cls.event_type, cls.writers, cls.topic_key = name, writers, topic
        PAYLOADS[name] = cls
        return cls

    return declare


class PayloadHandlers(Generic[H]):
    """One handler per declared event type, looked up by payload class.

    ``nothing_for`` records a type that deliberately has no handler here, so
    that ``missing`` (what the tests check) lists only the forgotten ones.
    """

    def __init__(self, purpose: str) -> None:
        self.purpose = purpose
        self._by_class: dict[type[Payload], H | None] = {}

    def handles(self, *classes: type[Payload]) -> Callable[[H], H]:
        def register(handler: H) -> H:
            for cls in classes:
                self._set(cls, handler)
            return handler

        return register

    def nothing_for(self, cls: type[Payload]) -> None:
        self._set(cls, None)

    def _set(self, cls: type[Payload], handler: H | None) -> None:
        if cls in self._by_class:
            raise TypeError(f"{cls.__name__} has two {self.purpose}s")
        self._by_class[cls] = handler

    def of(self, cls: type[Payload]) -> H | None:
        """The handler of ``cls`` (None: it deliberately has none); KeyError if it was forgotten."""
        try:
            return self._by_class[cls]
        except KeyError:
            raise KeyError(f"no {self.purpose} for {cls.__name__} ({getattr(cls, 'event_type', '?')})") from None

    def missing(self) -> list[str]:
        """Declared event types this table has no entry for."""
        return [name for name, cls in PAYLOADS.items() if cls not in self._by_class]
