"""Who judges a message: what the receive boundary needs to know of the reading instance.

The instance's configuration (``config.AgentConfig``) is one; the wire asks only for these
fields, so it does not depend on the configuration file's model (which itself uses the
wire's identity rule).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from .vocabulary import Actor


class PinnedPeer(Protocol):
    @property
    def role(self) -> Actor: ...

    @property
    def public_key(self) -> str: ...


class Reader(Protocol):
    @property
    def identity(self) -> str: ...

    @property
    def role(self) -> Actor: ...

    @property
    def peers(self) -> Mapping[str, PinnedPeer]: ...
