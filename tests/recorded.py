"""A scenario run once, then checked one test per check.

A long scenario checked with one assert after another reports only its first
broken check and hides the rest. Instead a fixture (of module scope) runs it
once inside ``recording()``, storing what each step showed under the name of
its check (``run["assigned: the coach's hint"] = ...``), and a parametrized
test compares each with its expected value, so every broken check is reported
by its name (see ``tests/core/test_actions.py``'s ``whole_loop`` for the
pattern this generalises).

An expected value may be a function of ``run.kept``, for what only the run
knows (an exercise's id, a text to compare another with): kept values are
references, not checks. ``run.saw(check, value, text)`` records a value with
the text it was found in (a message, a hover), shown if its check fails.

If the scenario raises, it stops there: what it recorded before is still
checked, every later check fails as not reached, and ``loose_ends`` (a test of
its own in each module) reports the traceback, and any value recorded without
a check.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

Checks = Sequence[tuple[str, Any]]


def names(checks: Checks) -> list[str]:
    """The checks' names, as the parametrized test's ids."""
    return [name for name, _ in checks]


@dataclass
class Run:
    seen: dict[str, Any] = field(default_factory=dict)
    kept: dict[str, Any] = field(default_factory=dict)
    context: dict[str, str] = field(default_factory=dict)
    stopped: str | None = None  # the traceback of what stopped the scenario before its end

    def __setitem__(self, check: str, value: Any) -> None:
        if check in self.seen:
            raise KeyError(f"{check!r} recorded twice")
        self.seen[check] = value

    def saw(self, check: str, value: Any, context: str) -> None:
        """Record ``value`` for ``check``, and the text it was found in, to show if the check fails."""
        self[check] = value
        self.context[check] = context

    def __repr__(self) -> str:  # short, for pytest's report of a failed check
        return f"Run({len(self.seen)} seen, {'stopped' if self.stopped else 'to the end'})"

    def actual(self, check: str) -> Any:
        """What the run showed for ``check``; fails the test if the run never got there."""
        if check not in self.seen:
            if self.stopped is not None:
                pytest.fail(f"not reached: the scenario stopped before it with {self.stopped.strip().splitlines()[-1]}", pytrace=False)
            pytest.fail(f"{check!r} was never recorded", pytrace=False)
        return self.seen[check]

    def expected(self, value: Any) -> Any:
        return value(self.kept) if callable(value) else value

    def loose_ends(self, checks: Checks) -> list[str]:
        """What would make the checks' passing mean less: the scenario stopped early, or recorded a value no check reads."""
        ends = [f"the scenario stopped before its end:\n{self.stopped}"] if self.stopped is not None else []
        checked = set(names(checks))
        ends += [f"recorded but never checked: {name!r}" for name in self.seen if name not in checked]
        return ends


@contextmanager
def recording() -> Iterator[Run]:
    """A run to record a scenario's steps in; an exception in the scenario ends it, kept as ``run.stopped``."""
    run = Run()
    try:
        yield run
    except Exception:
        run.stopped = traceback.format_exc()


def found_in_order(text: str, parts: Sequence[str]) -> list[str]:
    """``parts`` in the order ``text`` has them, each missing one marked at the end: equal to ``parts`` when all are there in order."""
    places = {part: text.find(part) for part in parts}
    there = sorted((part for part in parts if places[part] != -1), key=places.__getitem__)
    return there + [f"missing: {part}" for part in parts if places[part] == -1]


def failure_of(check: Callable[[], object]) -> str | None:
    """What a helper that asserts (``assert_converged``, say) failed with, traceback and all; None if it passed."""
    try:
        check()
    except AssertionError:
        return traceback.format_exc()
    return None
