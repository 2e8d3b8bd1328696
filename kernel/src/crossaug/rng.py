"""Randomness: one root seed, independent streams derived by name.

Every random draw in crossaug comes from a ``numpy.random.Generator`` derived
from the run's root seed and a *key* (step path, sample id, candidate index)
with ``numpy.random.SeedSequence``. Streams depend only on the key, never on
worker count, batch size or execution order, so a run is reproducible whatever
the executor.

Example:
    >>> a = Seeder(7).rng("text.eda", "s1").integers(0, 1000)
    >>> b = Seeder(7).child("text.eda").rng("s1").integers(0, 1000)
    >>> c = Seeder(7).rng("text.eda", "s2").integers(0, 1000)
    >>> bool(a == b), bool(a == c)
    (True, False)
"""

from __future__ import annotations

import functools
import hashlib
from typing import Any

import numpy as np

_MASK63 = (1 << 63) - 1


@functools.lru_cache(maxsize=65536)
def _str_words(part: str) -> tuple[int, ...]:
    digest = hashlib.blake2b(part.encode("utf-8"), digest_size=16).digest()
    return (1,) + tuple(int.from_bytes(digest[i:i + 4], "little") for i in range(0, 16, 4))


def _key_words(part: str | int) -> tuple[int, ...]:
    """Map one key part to 32-bit words, stable across processes and Python runs."""
    if isinstance(part, (int, np.integer)) and not isinstance(part, bool):
        value = int(part)
        if value < 0:
            raise ValueError(f"key parts must be non-negative, got {value}")
        return (0, value & 0xFFFFFFFF, value >> 32)
    return _str_words(str(part))


class Seeder:
    """A root seed plus a key path; hands out generators for sub-keys.

    Args:
        seed: the run's root seed (non-negative int).
        path: key parts already applied (used by :meth:`child`).
    """

    __slots__ = ("seed", "path")

    def __init__(self, seed: int = 0, path: tuple[str | int, ...] = ()) -> None:
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
            raise ValueError(f"seed must be a non-negative int, got {seed!r}")
        self.seed = int(seed)
        self.path = tuple(path)

    def child(self, *parts: str | int) -> Seeder:
        """A seeder one level down the key path."""
        return Seeder(self.seed, self.path + parts)

    def seed_sequence(self, *parts: str | int) -> np.random.SeedSequence:
        words: list[int] = []
        for part in self.path + parts:
            words.extend(_key_words(part))
        return np.random.SeedSequence(self.seed, spawn_key=tuple(words))

    def rng(self, *parts: str | int) -> np.random.Generator:
        """A fresh ``numpy.random.Generator`` for the key ``path + parts``."""
        return np.random.Generator(np.random.PCG64(self.seed_sequence(*parts)))

    def integer_seed(self, *parts: str | int) -> int:
        """A 63-bit integer seed for the key, for libraries that take an int."""
        state = self.seed_sequence(*parts).generate_state(2, dtype=np.uint32)
        return int((int(state[1]) << 32 | int(state[0])) & _MASK63)

    def __repr__(self) -> str:
        return f"Seeder(seed={self.seed}, path={self.path!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Seeder) and (self.seed, self.path) == (other.seed, other.path)

    def __hash__(self) -> int:
        return hash((self.seed, self.path))


def draw_seed(rng: np.random.Generator) -> int:
    """Draw a 63-bit integer seed from ``rng`` (to record and replay)."""
    return int(rng.integers(0, _MASK63, dtype=np.int64))


def torch_generator(seed: int | np.random.Generator, device: Any = "cpu") -> Any:
    """A ``torch.Generator`` seeded from an int or from a numpy generator.

    torch is imported here only; the kernel never needs it.
    """
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - depends on environment
        from .errors import MissingDependency

        raise MissingDependency("pip install torch", what="torch") from exc
    if isinstance(seed, np.random.Generator):
        seed = draw_seed(seed)
    gen = torch.Generator(device=device)
    gen.manual_seed(int(seed))
    return gen


__all__ = ["Seeder", "draw_seed", "torch_generator"]
