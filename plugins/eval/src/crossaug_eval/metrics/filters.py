"""Kept and rejected ratios per filter, from a run's ``summary.json`` statistics.

Example:
    >>> filter_ratios({"text.edit-distance": {"scored": 4, "rejected": 1}})
    {'text.edit-distance': {'scored': 4, 'kept': 3, 'rejected': 1, 'kept_ratio': 0.75, 'rejected_ratio': 0.25}}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def filter_ratios(filters: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """``{filter: {scored, kept, rejected, kept_ratio, rejected_ratio}}`` (ratios of scored candidates)."""
    out = {}
    for name, f in filters.items():
        scored, rejected = int(f.get("scored", 0)), int(f.get("rejected", 0))
        out[name] = {"scored": scored, "kept": scored - rejected, "rejected": rejected,
                     "kept_ratio": (scored - rejected) / scored if scored else None,
                     "rejected_ratio": rejected / scored if scored else None}
    return out


__all__ = ["filter_ratios"]
