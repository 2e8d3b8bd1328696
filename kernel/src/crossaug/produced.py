"""``Produced``: a transform's output payload with what its lineage should record.

Example:
    >>> Produced("hello world", {"confidence": 0.9}).info["confidence"]
    0.9
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Produced:
    """An output payload plus information to record in lineage (e.g. ASR confidence)."""

    payload: Any
    info: Mapping[str, Any] = field(default_factory=dict)


__all__ = ["Produced"]
