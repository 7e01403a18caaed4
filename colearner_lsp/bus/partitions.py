"""How the events are spread over a topic's partitions: how many there are, which one
a student's key lands on, and which of them an instance reads."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiokafka import TopicPartition
from aiokafka.partitioner import DefaultPartitioner

if TYPE_CHECKING:
    from ..core.instance import Instance

PARTITIONS = 4  # what Tansu auto-creates; key routing depends on it staying fixed


def partition_for(student: str, partitions: int = PARTITIONS) -> int:
    """The partition a student's key lands on (aiokafka's default murmur2 partitioner)."""
    ids = list(range(partitions))
    return DefaultPartitioner()(student.encode("utf-8"), ids, ids)


def partitions_to_read(inst: Instance) -> list[TopicPartition]:
    """A coach reads every partition, a student only those its key maps to."""
    if inst.role == "coach":
        return [TopicPartition(t, p) for t in inst.topics() for p in range(PARTITIONS)]
    mine = partition_for(inst.identity)
    return [TopicPartition(t, mine) for t in inst.topics()]
