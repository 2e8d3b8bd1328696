"""Input limits and value checks: what no input row may exceed or contain.

Every limit has a generous default and is set per run through an environment
variable (so process and Ray workers see it too): ``CROSSAUG_MAX_BYTES_<KIND>``
(``AUDIO``, ``IMAGE``, ``TEXT``, ``ROW``; sizes like ``64MB``) and
``CROSSAUG_MAX_TEXT_CHARS``. :func:`check_value` finds what JSON cannot hold.

Example:
    >>> parse_size("64MB"), MAX_BYTES["image"] == 256 * 2**20
    (67108864, True)
    >>> check_value({"a": [1.0, float("nan")]})
    "value['a'][1] is NaN/inf (not valid JSON)"
"""

from __future__ import annotations

import math
import os
import re
from typing import Any

#: largest file read per modality (and ``row``: one JSONL/TXT line or CSV row), in bytes
MAX_BYTES = {"audio": 1 << 30, "image": 256 << 20, "text": 16 << 20, "row": 64 << 20}
MAX_TEXT_CHARS = 1_000_000
MAX_DEPTH = 32
#: longest rejected value copied into the manifest (characters); longer ones are cut, their size noted
KEEP_CHARS = 2_000
_UNITS = {"": 1, "B": 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}


def parse_size(text: str | int) -> int:
    """``"64MB"`` -> bytes (binary units); plain integers are bytes."""
    m = re.fullmatch(r"\s*(\d+)\s*([KMG]?B?)\s*", str(text).upper())
    if not m:
        from ..errors import ConfigError

        raise ConfigError(f"cannot read size {text!r}; write e.g. 512MB, 2GB or a number of bytes")
    return int(m.group(1)) * _UNITS[m.group(2)]


def max_bytes(kind: str) -> int:
    """Size cap for files of modality ``kind`` (or ``row``), from the environment or the default."""
    env = os.environ.get(f"CROSSAUG_MAX_BYTES_{kind.upper()}")
    return parse_size(env) if env else MAX_BYTES.get(kind, 1 << 30)


_chars_seen: tuple[object, int] = (None, MAX_TEXT_CHARS)  # (raw value last read, its limit)
_CHARS_VAR = "CROSSAUG_MAX_TEXT_CHARS"
_chars_key: tuple[object, object] = (None, None)  # (the os.environ it was encoded for, the key)


def _chars_raw() -> object:
    """The variable's raw value: from ``os.environ``'s own table when it is the standard mapping
    (``os.environ.get`` of an unset variable raises and catches a ``KeyError`` inside, ~0.7 us),
    else through its ``get``. The table is what every change through ``os.environ`` writes."""
    global _chars_key
    env = os.environ
    if type(env) is os._Environ:
        owner, key = _chars_key
        if owner is not env:  # the name as this mapping stores it, encoded once
            key = env.encodekey(_CHARS_VAR)
            _chars_key = (env, key)
        return env._data.get(key)
    return env.get(_CHARS_VAR)


def max_text_chars() -> int:
    """Longest text accepted (characters): ``CROSSAUG_MAX_TEXT_CHARS`` or :data:`MAX_TEXT_CHARS`.

    The text check asks on every input: the variable is read each time (so a change is seen at
    once, whoever makes it) and parsed again only when its value differs from the last one.
    """
    global _chars_seen
    raw = _chars_raw()
    seen = _chars_seen
    if raw != seen[0] or raw is None and seen[1] != MAX_TEXT_CHARS:
        text = os.environ.get(_CHARS_VAR)  # parsed as os.environ gives it (a bad value raises each call)
        seen = _chars_seen = (raw, int(text) if text else MAX_TEXT_CHARS)
    return seen[1]


def check_value(value: Any, where: str = "value", depth: int = 0) -> str | None:
    """Why ``value`` cannot be stored as JSON (lone surrogate, NaN/inf, non-string key, too deep), or None."""
    if depth > MAX_DEPTH:
        return f"{where} is nested more than {MAX_DEPTH} levels deep"
    if isinstance(value, str):
        if value.isascii():  # ASCII holds no surrogate: no need to encode it
            return None
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            return (f"{where} holds a lone surrogate {value[exc.start]!r} at character {exc.start} "
                    "(not valid Unicode; was the file decoded with errors ignored?)")
    elif isinstance(value, float) and not math.isfinite(value):
        return f"{where} is NaN/inf (not valid JSON)"
    elif isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                return f"{where} has a non-string key {k!r}"
            why = check_value(k, f"key {k!r}", depth + 1) or check_value(v, f"{where}[{k!r}]", depth + 1)
            if why:
                return why
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            why = check_value(v, f"{where}[{i}]", depth + 1)
            if why:
                return why
    return None


def clip(value: Any) -> Any:
    """A rejected value as stored in the manifest: long strings cut to :data:`KEEP_CHARS`, size noted."""
    if isinstance(value, str) and len(value) > KEEP_CHARS:
        return {"truncated": value[:KEEP_CHARS], "chars": len(value)}
    return value


__all__ = ["MAX_BYTES", "MAX_TEXT_CHARS", "MAX_DEPTH", "KEEP_CHARS", "parse_size", "max_bytes",
           "max_text_chars", "check_value", "clip"]
