"""The protocol's closed sets of words, as ``Literal`` types and nothing else.

``events`` and ``event_types`` use them in their models; the command line
offers them as argparse ``choices`` (``typing.get_args``). They live here, apart
from the models, so that building the parser imports no pydantic: start-up
(bench/bench_cli.py).
"""

from __future__ import annotations

from typing import Literal

Actor = Literal["coach", "student"]
Stage = Literal["init", "plan", "practice", "review", "done"]
Grade = Literal["pass", "revise"]
StepStatus = Literal["next", "active", "done"]
ShareMode = Literal["hashes", "diffstat", "diff"]
