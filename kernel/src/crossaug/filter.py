"""Filters: first-class steps that score candidates against their parent and keep or reject them.

A filter's :meth:`Filter.score_batch` returns one float per (candidate, parent)
pair; :meth:`Filter.passes` turns a score into a verdict. Both the score and the
verdict are recorded in the candidate's lineage, and rejected candidates stay in
the output (``kept=False`` with a reason) so nothing is silently dropped.

Example:
    >>> from crossaug import Sample
    >>> from crossaug.builtin.length_ratio import LengthRatio
    >>> f = LengthRatio(min_ratio=0.5)
    >>> parent = Sample("p", {"text": "four words are here"})
    >>> [c.kept for c in f([Sample("c", {"text": "four"}), Sample("d", {"text": "four words"})],
    ...                     [parent, parent])]
    [False, True]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from .errors import BadSample
from .sample import Sample
from .step import Step
from .timing import timed


class Filter(Step):
    """Base class of filters. Subclasses implement :meth:`score_batch` and :meth:`passes`."""

    kind: ClassVar[str] = "filter"

    def score_batch(self, candidates: Sequence[Sample], parents: Sequence[Sample]) -> list[float]:
        raise NotImplementedError

    def passes(self, score: float) -> bool:
        raise NotImplementedError

    def verdict(self, score: float) -> str:
        """Human-readable reason for a rejection."""
        return f"{self.name}: score {score:.4g} failed"

    def __call__(self, candidates: Sequence[Sample], parents: Sequence[Sample]) -> list[Sample]:
        """Score each candidate against its parent; record score and verdict in lineage.

        Candidates already rejected pass through untouched.
        """
        if len(candidates) != len(parents):
            raise ValueError(f"got {len(candidates)} candidates but {len(parents)} parents")
        for c in list(candidates) + list(parents):
            if not isinstance(c, Sample):
                raise BadSample(f"{self.name}: expected Samples, got {type(c).__name__}")
        live = [i for i, c in enumerate(candidates) if c.kept]
        scores: list[float] = []
        if live:
            with timed(self.name, len(live)):
                scores = self.score_batch([candidates[i] for i in live], [parents[i] for i in live])
            if len(scores) != len(live):
                raise RuntimeError(f"{self.name} returned {len(scores)} scores for {len(live)} candidates")
        out = list(candidates)
        for i, score in zip(live, scores):
            ok = bool(self.passes(score))
            reason = None if ok else self.verdict(score)
            step = self.lineage_step({}, score=float(score), kept=ok, reason=reason)
            c = candidates[i]
            out[i] = (c.replace(lineage=c.lineage + (step,)) if ok else c.reject(reason or "", step))
        return out


__all__ = ["Filter"]
