"""Character-level typo noise (keyboard-neighbour substitution, deletion, insertion, swap).

Each alphabetic character is edited with probability ``rate``; the edit type is
drawn uniformly from ``ops``. Used as a light, dependency-free text augmentation
(noise robustness in the style of Belinkov and Bisk, 2018) and by the kernel's
demo when no plugin provides one.

Example:
    >>> import numpy as np
    >>> from crossaug import Sample
    >>> aug = Typo(rate=0.5, ops=("swap",))
    >>> s = Sample("s", {"text": "abc"})
    >>> p = aug.sample_params(s, np.random.default_rng(0))
    >>> aug.apply(s, p).fields["text"] != "abc"
    True
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from ..augmentation import Augmentation
from ..errors import BadSample, ConfigError
from ..sample import Sample

_ROWS = ["qwertyuiop", "asdfghjkl", "zxcvbnm"]
OPS = ("substitute", "delete", "insert", "swap")


@functools.lru_cache(maxsize=1024)
def keyboard_neighbours(ch: str) -> str:
    """Letters next to ``ch`` on a QWERTY keyboard (``""`` for non-letters)."""
    low = ch.lower()
    for r, row in enumerate(_ROWS):
        c = row.find(low)
        if c < 0:
            continue
        out = []
        for rr in (r - 1, r, r + 1):
            if 0 <= rr < len(_ROWS):
                for cc in (c - 1, c, c + 1):
                    if 0 <= cc < len(_ROWS[rr]) and (rr, cc) != (r, c):
                        out.append(_ROWS[rr][cc])
        s = "".join(out)
        return s.upper() if ch.isupper() else s
    return ""


def apply_edits(text: str, edits: Sequence[Sequence[Any]]) -> str:
    """Apply ``[position, op, char]`` edits right to left so positions stay valid."""
    ordered = sorted(edits, key=lambda e: -int(e[0]))
    spots = [int(e[0]) for e in ordered]
    if all(0 <= p < len(text) for p in spots) and all(a - b >= 2 for a, b in zip(spots, spots[1:])):
        return _apply_apart(text, ordered)  # edits two or more apart (as drawn): one linear pass
    chars = list(text)
    for pos, op, ch in ordered:
        pos = int(pos)
        if op == "substitute":
            chars[pos] = ch
        elif op == "delete":
            del chars[pos]
        elif op == "insert":
            chars.insert(pos + 1, ch)
        elif op == "swap" and pos + 1 < len(chars):
            chars[pos], chars[pos + 1] = chars[pos + 1], chars[pos]
    return "".join(chars)


def _apply_apart(text: str, edits: Sequence[Sequence[Any]]) -> str:
    """:func:`apply_edits` for edits at least two characters apart, in time linear in ``text``."""
    out, end = [], len(text)
    for pos, op, ch in edits:  # right to left; each edit only touches text[pos:pos + 2]
        pos = int(pos)
        nxt = text[pos + 1] if pos + 1 < len(text) else ""
        piece = {"substitute": ch, "delete": "", "insert": text[pos] + ch,
                 "swap": nxt + text[pos] if nxt else text[pos]}.get(op, text[pos])
        out.append(text[pos + 2 if op == "swap" and nxt else pos + 1:end])
        out.append(piece)
        end = pos
    out.append(text[:end])
    return "".join(reversed(out))


@functools.lru_cache(maxsize=64)
def _letters(text: str) -> tuple[int, ...]:
    """Positions of the letters of ``text``, once per text (a recipe makes ``n`` outputs of it)."""
    return tuple(i for i, ch in enumerate(text) if ch.isalpha())


class Typo(Augmentation):
    """Random keyboard typos.

    Args:
        rate: probability that a letter is edited.
        ops: edit types to draw from (``substitute``, ``delete``, ``insert``, ``swap``).
        field: the text field to edit.
    """

    name: ClassVar[str] = "text.typo"
    modalities: ClassVar[tuple[str, ...]] = ("text",)
    neural: ClassVar[bool | None] = False  # said, not inferred on every call's lineage step
    json_params: ClassVar[bool] = True  # a new dict of plain values per call: the lineage keeps it

    def __init__(self, rate: float = 0.05, ops: Sequence[str] = OPS, field: str = "text") -> None:
        if not 0.0 <= float(rate) <= 1.0:
            raise ConfigError(f"text.typo rate must lie in [0, 1], got {rate}")
        bad = [o for o in ops if o not in OPS]
        if bad or not ops:
            raise ConfigError(f"text.typo ops must be a non-empty subset of {OPS}, got {list(ops)}")
        self.rate = float(rate)
        self.ops = list(ops)
        self.field = field

    def sample_params(self, sample: Sample, rng: np.random.Generator) -> dict[str, Any]:
        text = sample[self.field]
        edits: list[list[Any]] = []
        letters = _letters(text)
        hits = rng.random(len(letters)) < self.rate
        taken: set[int] = set()
        for k in np.flatnonzero(hits).tolist():  # the letters drawn (the others draw nothing more)
            i = letters[k]
            if i in taken or i + 1 in taken:
                continue
            op = self.ops[int(rng.integers(len(self.ops)))]
            ch = ""
            if op in ("substitute", "insert"):
                near = keyboard_neighbours(text[i]) or "e"
                ch = near[int(rng.integers(len(near)))]
            edits.append([i, op, ch])
            taken.update((i, i + 1))
        if len(edits) and sum(1 for e in edits if e[1] == "delete") >= len(text.strip()):
            edits = [e for e in edits if e[1] != "delete"]
        return {"edits": edits}

    def apply(self, sample: Sample, params: Mapping[str, Any]) -> Sample:
        text = sample[self.field]
        for pos, _, _ in params["edits"]:
            if not 0 <= int(pos) < len(text):
                raise BadSample(f"recorded edit position {pos} outside text of length {len(text)}",
                                sample_id=sample.id, field=self.field)
        return sample.derive(None, **{self.field: apply_edits(text, params["edits"])})
