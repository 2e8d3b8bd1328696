"""PyTorch datasets that augment on the fly, inside ``DataLoader`` workers.

:class:`AugmentedDataset` (map-style) returns, for item ``i``, one augmented
version of ``data[i]``; :class:`AugmentedIterableDataset` streams an iterable,
shards it across DataLoader workers and runs the recipe in batches.

Seeding: every random draw is keyed by ``(seed, epoch, position in the data)``
through :class:`~crossaug.Seeder`. Two workers never share a stream (each
position belongs to one worker), a run is reproducible for a fixed seed (and,
beyond what is required, does not even depend on the number of workers or the
order items are requested in), and each epoch draws new augmentations once you
call :meth:`set_epoch` (the epoch lives in shared memory, so persistent
workers see it too). :func:`seed_worker` additionally seeds Python's and
numpy's global generators per worker for user code that relies on them.

torch is imported by this module only (``pip install 'crossaug[torch]'``).

Example:
    >>> from crossaug.builtin.typo_recipe import TypoRecipe
    >>> ds = AugmentedDataset(["a small cat", "a big dog"], TypoRecipe(rate=0.3), seed=1)
    >>> len(ds), ds[0].parent_id, ds[0].fields["text"] == ds[0].fields["text"]
    (2, '0', True)
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np
from crossaug.errors import ConfigError, CrossaugError, MissingDependency
from crossaug.recipe import Recipe
from crossaug.rng import Seeder
from crossaug.sample import Sample

from . import as_recipe, row_to_sample

try:
    import torch
    from torch.utils.data import Dataset, IterableDataset, get_worker_info
except ImportError:  # pragma: no cover - depends on environment
    torch = None
    Dataset = IterableDataset = object  # type: ignore[assignment,misc]

    def get_worker_info() -> Any:  # type: ignore[misc]
        return None

log = logging.getLogger(__name__)

ON_ERROR = ("raise", "original")


def _need_torch() -> None:
    if torch is None:
        raise MissingDependency("pip install 'crossaug[torch]'", what="torch (crossaug_integrations.torch_dataset)")


def seed_worker(worker_id: int) -> None:
    """``worker_init_fn`` that seeds ``random`` and numpy's global generator from torch's worker seed.

    DataLoader gives every worker a distinct torch seed (``base_seed + worker_id``) but
    leaves ``random`` and ``numpy.random`` alone; this makes them distinct and reproducible too.
    """
    _need_torch()
    seed = torch.initial_seed() % 2**32
    random.seed(seed)
    np.random.seed(seed)


def collate_samples(batch: list[Any]) -> list[Any]:
    """``collate_fn`` that returns the batch as a list (for :class:`~crossaug.Sample` items)."""
    return list(batch)


def sample_to_dict(sample: Sample) -> dict[str, Any]:
    """``{"id", "parent_id", <fields>..., "label"}``: a ``format`` that default collation understands
    for text and numeric labels (audio/image payloads need your own conversion)."""
    out: dict[str, Any] = {"id": sample.id, "parent_id": sample.root_id}
    out.update(sample.fields)
    if sample.label is not None:
        out["label"] = sample.label
    return out


class _Augmenter:
    """The shared logic: one row at a position and epoch -> augmented sample(s)."""

    def __init__(self, recipe: Recipe | str, seed: int, p: float, format: Callable[[Sample], Any] | None,
                 on_error: str, params: dict[str, Any] | None) -> None:
        _need_torch()
        if not 0.0 <= float(p) <= 1.0:
            raise ConfigError(f"p must be in [0, 1], got {p!r}")
        if on_error not in ON_ERROR:
            raise ConfigError(f"on_error must be one of {ON_ERROR}, got {on_error!r}")
        if not isinstance(seed, int) or seed < 0:
            raise ConfigError(f"seed must be a non-negative int, got {seed!r}")
        self.recipe = as_recipe(recipe, params)
        self.seed = seed
        self.p = float(p)
        self.format = format
        self.on_error = on_error
        self._epoch = torch.zeros(1, dtype=torch.int64).share_memory_()
        self._modalities: set[str] | None = None

    @property
    def epoch(self) -> int:
        return int(self._epoch.item())

    def set_epoch(self, epoch: int) -> None:
        """Draw new augmentations for ``epoch`` (call before iterating each epoch)."""
        if not isinstance(epoch, int) or epoch < 0:
            raise ConfigError(f"epoch must be a non-negative int, got {epoch!r}")
        self._epoch.fill_(epoch)

    def _fit(self, rows: Iterable[Any]) -> None:
        if self.recipe.requires_fit:
            self.recipe.fit(self._to_sample(r, i) for i, r in enumerate(rows))

    def warm_up(self, rows: Iterable[Any]) -> None:
        """Run the recipe once on the first row here, so lazily loaded resources (WordNet, models)
        are inherited by every forked worker of every epoch instead of reloaded by each."""
        for row in rows:
            try:
                self.recipe.process([self._to_sample(row, 0)], Seeder(self.seed).child("warm-up"))
            except CrossaugError:  # a bad first row fails again, with its message, when it is loaded
                pass
            return

    def _to_sample(self, row: Any, position: int) -> Sample:
        if self._modalities is None:
            from crossaug.io.datasets import known_modalities

            self._modalities = known_modalities()
        return row_to_sample(row, position, self.recipe.required_fields(), self._modalities)

    def _out(self, sample: Sample) -> Any:
        return self.format(sample) if self.format is not None else sample

    def groups(self, items: Sequence[tuple[int, Any]], epoch: int) -> list[tuple[int, Sample, list[Sample]]]:
        """For each (position, row): the input sample and its kept candidates (none if not augmented)."""
        seeder = Seeder(self.seed).child("torch", epoch)
        samples = [(pos, self._to_sample(row, pos)) for pos, row in items]
        todo = [(pos, s) for pos, s in samples
                if self.p >= 1.0 or seeder.rng("p", pos).random() < self.p]
        results: dict[int, list[Sample]] = {}
        # the position is part of the key, so equal ids (or equal rows) still get their own streams
        for pos, s in todo:
            try:
                group = self.recipe.process([s], seeder.child(pos))[0]
            except CrossaugError:
                if self.on_error == "raise":
                    raise
                log.warning("augmenting item %d failed; using the original", pos, exc_info=True)
                group = []
            results[pos] = [c for c in group if c.kept]
        return [(pos, s, results.get(pos, [])) for pos, s in samples]

    def pick(self, position: int, sample: Sample, kept: list[Sample], epoch: int) -> Sample:
        if not kept:
            return sample
        if len(kept) == 1:
            return kept[0]
        return kept[int(Seeder(self.seed).rng("torch-pick", epoch, position).integers(len(kept)))]


class AugmentedDataset(Dataset):  # type: ignore[misc]
    """Map-style dataset: item ``i`` is one augmented version of ``data[i]`` (new each epoch).

    The recipe runs on the single item; among its kept candidates one is chosen at
    random (keyed by seed, epoch and index). Items the recipe rejects entirely come
    back unchanged.

    Args:
        data: a sequence of rows: :class:`~crossaug.Sample`, dicts of columns (``text``,
            ``audio``, ``image``, ``label``, ``id``), strings, or a Hugging Face dataset.
        recipe: a :class:`~crossaug.Recipe` or a registered recipe name (built with ``params``).
        seed: root seed.
        p: probability that an item is augmented (else it is returned as is).
        format: turns the chosen :class:`~crossaug.Sample` into what the model needs
            (e.g. :func:`sample_to_dict` or your tokenizer call); default: the Sample
            (use ``collate_fn=collate_samples``).
        on_error: ``raise`` or ``original`` (log, and return the un-augmented item).
        params: recipe parameters when ``recipe`` is a name.
        warm_up: run the recipe once on the first item here, so forked workers inherit what it
            loads lazily (``False`` for GPU models, which belong in the workers).
    """

    def __init__(self, data: Sequence[Any], recipe: Recipe | str, seed: int = 0, *, p: float = 1.0,
                 format: Callable[[Sample], Any] | None = None, on_error: str = "raise",
                 params: dict[str, Any] | None = None, warm_up: bool = True) -> None:
        if not hasattr(data, "__getitem__") or not hasattr(data, "__len__"):
            raise ConfigError(f"AugmentedDataset needs a sequence (len and indexing); got {type(data).__name__}; "
                              "use AugmentedIterableDataset for streams")
        self.data = data
        self.augmenter = _Augmenter(recipe, seed, p, format, on_error, params)
        self.augmenter._fit(data[i] for i in range(len(data)))
        if warm_up:
            self.augmenter.warm_up(data[i] for i in range(min(1, len(data))))

    def set_epoch(self, epoch: int) -> None:
        """Draw new augmentations for ``epoch`` (call before each epoch, like ``DistributedSampler``)."""
        self.augmenter.set_epoch(epoch)

    @property
    def epoch(self) -> int:
        return self.augmenter.epoch

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> Any:
        index = int(index)
        if index < 0:
            index += len(self)
        aug = self.augmenter
        epoch = aug.epoch
        [(pos, sample, kept)] = aug.groups([(index, self.data[index])], epoch)
        return aug._out(aug.pick(pos, sample, kept, epoch))


class AugmentedIterableDataset(IterableDataset):  # type: ignore[misc]
    """Iterable dataset: streams ``data``, shards it across DataLoader workers, augments in batches.

    Worker ``w`` of ``W`` takes the rows at positions ``w, w + W, w + 2W, ...``, so workers
    never process (or draw random numbers for) the same row.

    Args:
        data: an iterable of rows that can be iterated again each epoch (a list, a file's
            lines, a Hugging Face dataset) or a zero-argument callable returning an iterator.
        recipe: a :class:`~crossaug.Recipe` or a registered recipe name (built with ``params``).
        seed: root seed.
        batch_size: rows per recipe call (model-backed steps batch these).
        mode: ``one`` (one random kept candidate per row) or ``all`` (every kept candidate).
        include_original: also yield the input row before its candidates.
        p: probability that a row is augmented.
        format: turns each :class:`~crossaug.Sample` into what the model needs.
        on_error: ``raise`` or ``original``.
        params: recipe parameters when ``recipe`` is a name.
        rank, world_size: this process's share in distributed training (default: from
            ``torch.distributed`` when it is initialised, else 0 and 1); rows are split
            across ``world_size * num_workers`` shards.
        warm_up: run the recipe once on the first row in this process (see :class:`AugmentedDataset`).
    """

    def __init__(self, data: Iterable[Any] | Callable[[], Iterable[Any]], recipe: Recipe | str, seed: int = 0, *,
                 batch_size: int = 8, mode: str = "one", include_original: bool = False, p: float = 1.0,
                 format: Callable[[Sample], Any] | None = None, on_error: str = "raise",
                 params: dict[str, Any] | None = None, rank: int | None = None,
                 world_size: int | None = None, warm_up: bool = True) -> None:
        if mode not in ("one", "all"):
            raise ConfigError(f"mode must be 'one' or 'all', got {mode!r}")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigError(f"batch_size must be a positive integer, got {batch_size!r}")
        if isinstance(data, Iterator):
            raise ConfigError("AugmentedIterableDataset needs data it can iterate again each epoch "
                              "(a list, a dataset, or a callable returning a fresh iterator), not a one-shot iterator")
        if (rank is None) != (world_size is None):
            raise ConfigError("give both rank and world_size, or neither")
        if world_size is not None and not (isinstance(world_size, int) and isinstance(rank, int)
                                           and 0 <= rank < world_size):
            raise ConfigError(f"need 0 <= rank < world_size, got rank={rank!r}, world_size={world_size!r}")
        self.data = data
        self.rank = rank
        self.world_size = world_size
        self.batch_size = batch_size
        self.mode = mode
        self.include_original = include_original
        self.augmenter = _Augmenter(recipe, seed, p, format, on_error, params)
        self.augmenter._fit(self._rows())
        if warm_up:
            self.augmenter.warm_up(self._rows())

    def _rows(self) -> Iterable[Any]:
        return self.data() if callable(self.data) else self.data

    def _rank(self) -> tuple[int, int]:
        if self.world_size is not None:
            return int(self.rank), int(self.world_size)  # type: ignore[arg-type]
        dist = torch.distributed
        if dist.is_available() and dist.is_initialized():
            return dist.get_rank(), dist.get_world_size()
        return 0, 1

    def set_epoch(self, epoch: int) -> None:
        """Draw new augmentations for ``epoch`` (persistent workers see it too)."""
        self.augmenter.set_epoch(epoch)

    @property
    def epoch(self) -> int:
        return self.augmenter.epoch

    def __iter__(self) -> Iterator[Any]:
        info = get_worker_info()
        worker, workers = (info.id, info.num_workers) if info is not None else (0, 1)
        rank, world = self._rank()
        worker, workers = rank * workers + worker, world * workers
        epoch = self.augmenter.epoch
        buffer: list[tuple[int, Any]] = []
        for position, row in enumerate(self._rows()):
            if position % workers != worker:
                continue
            buffer.append((position, row))
            if len(buffer) >= self.batch_size:
                yield from self._emit(buffer, epoch)
                buffer = []
        if buffer:
            yield from self._emit(buffer, epoch)

    def _emit(self, items: list[tuple[int, Any]], epoch: int) -> Iterator[Any]:
        aug = self.augmenter
        for pos, sample, kept in aug.groups(items, epoch):
            if self.include_original:
                yield aug._out(sample)
            if self.mode == "one":
                if kept or not self.include_original:
                    yield aug._out(aug.pick(pos, sample, kept, epoch))
            else:
                for cand in kept:
                    yield aug._out(cand)


class GroupedOutputsDataset(Dataset):  # type: ignore[misc]
    """Map-style dataset over a finished run's outputs: item ``i`` is one kept output of parent ``i``.

    For augmentations too costly to run each epoch (LLM rewrites, as LaCLIP's), run the
    recipe once, then train on its outputs: the kept outputs are grouped by parent (in
    order of first appearance) and each epoch draws one per parent, keyed by
    ``(seed, epoch, index)`` like :class:`AugmentedDataset` (independent of workers and of
    the order items are requested in). With ``originals``, an input is a candidate next to
    its outputs (LaCLIP draws among the original caption and its rewrites); a parent whose
    outputs were all rejected then still yields its original.

    Args:
        outputs: produced samples (:class:`~crossaug.Sample`) or manifest lines (dicts with
            ``parent_id`` and ``kept``, as :func:`crossaug.read_manifest` yields them).
        seed: root seed of the draws.
        originals: the input rows (Samples or dicts with ``id``), to draw among as well.
        format: turns the chosen item into what the model needs (default: the item as given).

    Example:
        >>> rows = [{"id": "a~0", "parent_id": "a", "kept": True, "text": "x"},
        ...         {"id": "a~1", "parent_id": "a", "kept": True, "text": "y"},
        ...         {"id": "b~0", "parent_id": "b", "kept": False, "text": "z"},
        ...         {"id": "b~1", "parent_id": "b", "kept": True, "text": "w"}]
        >>> ds = GroupedOutputsDataset(rows, seed=0)
        >>> len(ds), ds[1]["id"], ds[0]["id"] in ("a~0", "a~1")
        (2, 'b~1', True)
    """

    def __init__(self, outputs: Iterable[Any], seed: int = 0, *, originals: Iterable[Any] | None = None,
                 format: Callable[[Any], Any] | None = None) -> None:
        _need_torch()
        if not isinstance(seed, int) or seed < 0:
            raise ConfigError(f"seed must be a non-negative int, got {seed!r}")
        groups: dict[str, list[Any]] = {}
        if originals is not None:
            for row in originals:
                rid = row.id if isinstance(row, Sample) else (row.get("id") if isinstance(row, dict) else None)
                if not rid:
                    raise ConfigError(f"originals need an id (a Sample or a dict with 'id'), got {type(row).__name__}")
                groups.setdefault(str(rid), []).append(row)
        for k, row in enumerate(outputs):
            if isinstance(row, Sample):
                parent, kept = row.root_id, row.kept
            elif isinstance(row, dict):
                parent, kept = row.get("parent_id") or row.get("id"), bool(row.get("kept", True))
            else:
                raise ConfigError(f"output {k}: expected a Sample or a manifest line (dict), got {type(row).__name__}")
            if parent is None:
                raise ConfigError(f"output {k} has neither parent_id nor id")
            if kept:
                groups.setdefault(str(parent), []).append(row)
        self.parents = [p for p, g in groups.items() if g]
        self.groups = [groups[p] for p in self.parents]
        self.seed, self.format = seed, format
        self._epoch = torch.zeros(1, dtype=torch.int64).share_memory_()

    def set_epoch(self, epoch: int) -> None:
        """Draw new picks for ``epoch`` (call before each epoch)."""
        if not isinstance(epoch, int) or epoch < 0:
            raise ConfigError(f"epoch must be a non-negative int, got {epoch!r}")
        self._epoch.fill_(epoch)

    @property
    def epoch(self) -> int:
        return int(self._epoch.item())

    def __len__(self) -> int:
        return len(self.groups)

    def pick_index(self, index: int, epoch: int | None = None) -> int:
        """Which candidate of group ``index`` is drawn in ``epoch`` (default: the current one)."""
        epoch = self.epoch if epoch is None else epoch
        n = len(self.groups[index])
        return 0 if n == 1 else int(Seeder(self.seed).rng("torch-grouped-pick", epoch, index).integers(n))

    def __getitem__(self, index: int) -> Any:
        index = int(index)
        if index < 0:
            index += len(self)
        item = self.groups[index][self.pick_index(index)]
        return self.format(item) if self.format is not None else item


__all__ = ["AugmentedDataset", "AugmentedIterableDataset", "GroupedOutputsDataset", "seed_worker",
           "collate_samples", "sample_to_dict"]
