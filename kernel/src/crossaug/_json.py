"""Conversion of parameters and scores to plain JSON values (stable across runs)."""

from __future__ import annotations

import math
from pathlib import PurePath
from typing import Any

import numpy as np

_AS_IS = frozenset({str, int, bool, type(None)})
#: classes written as their ``to_dict()``; :class:`~crossaug.step.Step` adds itself (it imports this module)
DICT_TYPES: list[type] = []


def to_jsonable(value: Any) -> Any:
    """Convert numpy scalars/arrays, tuples, paths and steps to JSON-ready values.

    Example:
        >>> to_jsonable({"a": np.float32(0.5), "b": (1, 2), "c": np.arange(2)})
        {'a': 0.5, 'b': [1, 2], 'c': [0, 1]}
    """
    kind = type(value)
    if kind in _AS_IS:
        return value
    if kind is float:
        return value if math.isfinite(value) else to_jsonable(np.float64(value))
    if kind is list or kind is tuple:
        return _list(value)
    if kind is dict:  # a loop, not a comprehension: lineage params are small dicts of lists
        out = {}
        for k, v in value.items():
            t = type(v)
            out[k if type(k) is str else str(k)] = (
                v if t in _AS_IS else _list(v) if t is list or t is tuple else to_jsonable(v))
        return out
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        if math.isnan(f) or math.isinf(f):
            return None if math.isnan(f) else (1e308 if f > 0 else -1e308)
        return f
    if isinstance(value, PurePath):
        return str(value)
    if DICT_TYPES and isinstance(value, tuple(DICT_TYPES)):
        return value.to_dict()
    return value


def _list(value: list[Any] | tuple[Any, ...]) -> list[Any]:
    """:func:`to_jsonable` of a list or tuple: plain items kept without a call each, and one level of
    nested lists (lineage edits are lists of plain lists) converted in place of a call each."""
    out = []
    append = out.append
    for v in value:
        t = type(v)
        if t in _AS_IS:
            append(v)
        elif t is list or t is tuple:
            inner = []
            for x in v:
                inner.append(x if type(x) in _AS_IS else to_jsonable(x))
            append(inner)
        else:
            append(to_jsonable(v))
    return out
