"""Randomness: one root seed, independent streams derived by name.

Every random draw in crossaug comes from a ``numpy.random.Generator`` derived
from the run's root seed and a *key* (step path, sample id, candidate index).
The key is hashed with BLAKE2b (256 bits) and the digest is the state of a
PCG64 generator, handed to it directly instead of through a ``SeedSequence``:
a stream costs a few microseconds. Streams depend only on the key, never on
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

import hashlib
import sys
import time
from typing import Any

import numpy as np
from numpy.random.bit_generator import ISpawnableSeedSequence

_MASK63 = (1 << 63) - 1
_DOMAIN = b"crossaug.rng/2\0"
_NATIVE_LE = sys.byteorder == "little"
_WORD_BYTES = {np.uint32: 4, np.uint64: 8}
_clock = time.perf_counter
_spent: list[float] = [0.0, 0]


def _key_bytes(part: str | int) -> bytes:
    """One key part as unambiguous bytes, stable across processes and Python runs."""
    if type(part) is str:
        data = part.encode("utf-8", "surrogatepass")
        return b"s%d:%s" % (len(data), data)
    if type(part) is int and part >= 0:
        return b"i%d;" % part
    if isinstance(part, (int, np.integer)) and not isinstance(part, bool):
        value = int(part)
        if value < 0:
            raise ValueError(f"key parts must be non-negative, got {value}")
        return b"i%d;" % value
    data = str(part).encode("utf-8", "surrogatepass")
    return b"s%d:%s" % (len(data), data)


class KeyedSeed(ISpawnableSeedSequence):
    """A 256-bit digest used as a bit generator's seed words as they are (no ``SeedSequence`` mixing).

    A digest is already uniformly mixed, so the words go straight into the
    generator's state; asked for more words than it holds (another bit generator),
    it expands them through a ``SeedSequence``.
    """

    __slots__ = ("digest",)

    def __init__(self, digest: bytes) -> None:
        self.digest = digest

    def generate_state(self, n_words: int, dtype: Any = np.uint32) -> np.ndarray:
        if _NATIVE_LE and n_words * _WORD_BYTES.get(dtype, 64) <= len(self.digest):
            return np.frombuffer(self.digest, dtype=dtype, count=n_words)  # the common case, PCG64's 4 x 64 bits
        dtype = np.dtype(dtype)
        if n_words * dtype.itemsize <= len(self.digest):
            return np.frombuffer(self.digest, dtype=dtype.newbyteorder("<"), count=n_words).astype(dtype)
        entropy = int.from_bytes(self.digest, "little")
        return np.random.SeedSequence(entropy).generate_state(n_words, dtype)

    def spawn(self, n_children: int) -> list[KeyedSeed]:
        return [KeyedSeed(hashlib.blake2b(b"spawn%d;" % i + self.digest, digest_size=32).digest())
                for i in range(n_children)]


class Seeder:
    """A root seed plus a key path; hands out generators for sub-keys.

    Args:
        seed: the run's root seed (non-negative int).
        path: key parts already applied (used by :meth:`child`).
    """

    __slots__ = ("seed", "path", "_prefix")

    def __init__(self, seed: int = 0, path: tuple[str | int, ...] = ()) -> None:
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
            raise ValueError(f"seed must be a non-negative int, got {seed!r}")
        self.seed = int(seed)
        self.path = tuple(path)
        prefix = hashlib.blake2b(_DOMAIN + _key_bytes(self.seed), digest_size=32)
        for part in self.path:
            prefix.update(_key_bytes(part))
        self._prefix = prefix

    def child(self, *parts: str | int) -> Seeder:
        """A seeder one level down the key path."""
        return Seeder(self.seed, self.path + parts)

    def digest(self, *parts: str | int) -> bytes:
        """The 32-byte BLAKE2b digest of the key ``path + parts`` (the stream's seed)."""
        h = self._prefix.copy()
        h.update(b"".join([_key_bytes(part) for part in parts]))
        return h.digest()

    def rng(self, *parts: str | int) -> np.random.Generator:
        """A fresh ``numpy.random.Generator`` (PCG64) for the key ``path + parts``."""
        start = _clock()
        gen = np.random.Generator(np.random.PCG64(KeyedSeed(self.digest(*parts))))
        _spent[0] += _clock() - start
        _spent[1] += 1
        return gen

    def integer_seed(self, *parts: str | int) -> int:
        """A 63-bit integer seed for the key, for libraries that take an int."""
        return int.from_bytes(self.digest(*parts)[:8], "little") & _MASK63

    def __reduce__(self) -> tuple[Any, ...]:
        return (Seeder, (self.seed, self.path))

    def __repr__(self) -> str:
        return f"Seeder(seed={self.seed}, path={self.path!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Seeder) and (self.seed, self.path) == (other.seed, other.path)

    def __hash__(self) -> int:
        return hash((self.seed, self.path))


def take_rng_time() -> list[float]:
    """``[seconds, streams]`` spent making streams in this process since the last call (runner timings)."""
    spent = list(_spent)
    _spent[:] = [0.0, 0]
    return spent


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


__all__ = ["Seeder", "KeyedSeed", "draw_seed", "torch_generator"]
