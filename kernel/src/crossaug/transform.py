"""Transforms: cross-modal mappings ``A -> B`` (TTS, ASR, captioning, text-to-image).

A transform reads ``input_field`` (default: its ``source`` modality) and writes
``output_field`` (default: its ``target`` modality). It is batched: subclasses
implement :meth:`Transform.transform_batch`, which receives a list of samples
and one integer seed per sample and returns one output payload per sample. The
output for a sample must depend only on that sample and its seed, never on the
rest of the batch, so results are the same whatever the batch size.

Example:
    >>> from crossaug import Sample
    >>> from crossaug.builtin.reverse import ReverseWords
    >>> t = ReverseWords()
    >>> [s.fields["text.reversed"] for s in t([Sample("a", {"text": "one two"})], [0])]
    ['two one']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from .cache import active_cache, cached_transform_batch
from .errors import BadSample
from .models import deterministic, enforce_determinism, runtime_of
from .produced import Produced
from .sample import Sample
from .step import Step
from .timing import timed


class Transform(Step):
    """Base class of cross-modal transforms.

    Subclasses set ``name``, ``source`` and ``target`` and implement
    :meth:`transform_batch`. Models are loaded lazily (on first use) so that a
    transform can be built, listed and serialised without its heavy stack.
    """

    kind: ClassVar[str] = "transform"
    source: ClassVar[str] = "text"
    target: ClassVar[str] = "text"
    batch_size: int = 8
    #: outputs may be stored in the on-disk result cache (see :mod:`crossaug.cache`)
    cacheable: ClassVar[bool] = False

    @property
    def input_field(self) -> str:
        return getattr(self, "in_field", None) or self.source

    @property
    def output_field(self) -> str:
        return getattr(self, "out_field", None) or self.target

    def check(self, sample: Sample) -> None:
        """Raise :class:`BadSample` unless ``sample`` has a valid input field."""
        from .modality import field_modality

        if not isinstance(sample, Sample):
            raise BadSample(f"{self.name}: expected a Sample, got {type(sample).__name__}")
        f = self.input_field
        if f not in sample.fields:
            raise BadSample(f"{self.name} needs field {f!r}; sample has {sorted(sample.fields)}",
                            sample_id=sample.id, field=f)
        field_modality(f).validate(sample.fields[f], sample_id=sample.id, field=f)

    def transform_batch(self, samples: Sequence[Sample], seeds: Sequence[int]) -> list[Any]:
        """Return one output payload (or :class:`Produced`) per sample."""
        raise NotImplementedError

    def __call__(self, samples: Sequence[Sample], seeds: Sequence[int]) -> list[Sample]:
        """Run over ``samples`` in chunks of ``batch_size``; append lineage steps."""
        if len(samples) != len(seeds):
            raise ValueError(f"got {len(samples)} samples but {len(seeds)} seeds")
        for s in samples:
            self.check(s)
        out: list[Sample] = []
        size = max(1, int(getattr(self, "batch_size", 8) or 1))
        neural = self.is_neural
        if neural and deterministic():  # strict mode: one sample per model call, deterministic kernels
            size = 1
            enforce_determinism(model_step=True)
        for start in range(0, len(samples), size):
            chunk = list(samples[start:start + size])
            chunk_seeds = [int(x) for x in seeds[start:start + size]]
            cache = active_cache() if self.cacheable else None
            if cache is not None:
                results = cached_transform_batch(self, cache, chunk, chunk_seeds)
            else:
                with timed(self.name, len(chunk)):
                    results = self.transform_batch(chunk, chunk_seeds)
            if len(results) != len(chunk):
                raise RuntimeError(f"{self.name} returned {len(results)} outputs for {len(chunk)} inputs")
            runtime = {"runtime": runtime_of(self, len(chunk))} if neural else {}
            for sample, seed, result in zip(chunk, chunk_seeds, results):
                info: Mapping[str, Any] = {}
                if isinstance(result, Produced):
                    result, info = result.payload, result.info
                step = self.lineage_step(info, seed=seed, **runtime)
                out.append(sample.derive(step, **{self.output_field: result}))
        return out


def run_each(step: Any, samples: Sequence[Sample], seeds: Sequence[int]) -> list[Sample | str]:
    """``step(samples, seeds)``; a bad sample gets ``"<step>: <reason>"`` in its place and the others still run.

    The batch runs whole first; a :class:`~crossaug.BadSample` sends it through one sample at a time.
    Recipes that chain named transforms use it to keep each input's refusal reason.

    Example:
        >>> class Upper(Transform):
        ...     name, input_field, output_field = "upper", "text", "text"
        ...     def transform_batch(self, samples, seeds):
        ...         if any(s["text"] == "no" for s in samples):
        ...             raise BadSample("refused", sample_id="b")
        ...         return [s["text"].upper() for s in samples]
        >>> [r if isinstance(r, str) else r["text"] for r in run_each(Upper(), [Sample("a", {"text": "hi"}),
        ...     Sample("b", {"text": "no"})], [0, 1])]
        ['HI', 'upper: refused']
    """
    if not samples:
        return []
    try:
        return list(step(list(samples), list(seeds)))
    except BadSample as exc:
        if len(samples) == 1:
            return [exc.reason if exc.reason.startswith(f"{step.name}:") else f"{step.name}: {exc.reason}"]
    return [r for s, seed in zip(samples, seeds) for r in run_each(step, [s], [seed])]


__all__ = ["Transform", "Produced", "run_each"]
