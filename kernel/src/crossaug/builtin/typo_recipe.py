"""Recipe ``typo``: ``n`` keyboard-typo variants of each text (kernel-only, no plugins).

Example:
    >>> from crossaug import Sample
    >>> [s.id for s in TypoRecipe(n=2)([Sample("a", {"text": "hello there"})])]
    ['a~0', 'a~1']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from ..recipe import Augment
from .typo import OPS, Typo


class TypoRecipe(Augment):
    """``n`` typo-noised copies of each input's ``text``.

    Args:
        rate: probability that a letter is edited.
        n: outputs per input.
        ops: edit types.
    """

    name: ClassVar[str] = "typo"

    def __init__(self, rate: float = 0.05, n: int = 1, ops: Sequence[str] = OPS) -> None:
        super().__init__(Typo(rate=rate, ops=ops), n=n)
        self.rate = rate
        self.ops = list(ops)

    def get_params(self) -> dict[str, object]:
        return {"rate": self.rate, "n": self.n, "ops": self.ops}
