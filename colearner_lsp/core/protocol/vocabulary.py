"""The protocol's closed sets of words, as ``Literal`` types, and its ranges of numbers.

``events`` and ``event_types`` use them in their models; the command line
offers them as argparse ``choices`` (``typing.get_args``). They live here, apart
from the models, so that building the parser imports no pydantic: start-up
(bench/bench_cli.py).
"""

from __future__ import annotations

from typing import Literal, get_args

Actor = Literal["coach", "student"]
Stage = Literal["init", "plan", "practice", "review", "done"]
Grade = Literal["pass", "revise"]
StepStatus = Literal["next", "active", "done"]
ShareMode = Literal["hashes", "diffstat", "diff"]
SHARE_MODES: tuple[str, ...] = get_args(ShareMode)  # in the order a message lists them

# The ranges of the numbers a user gives, inclusive: the models' bounds, and what
# the command line checks before it talks to Kafka.
CONFIDENCE_RANGE = (0.0, 1.0)  # a student's confidence in a topic
DELTA_RANGE = (-1.0, 1.0)  # a feedback's change to it
