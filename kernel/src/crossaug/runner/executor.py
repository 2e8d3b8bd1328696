"""Executors: where batches run. The runner only needs :meth:`Executor.map`.

:class:`BatchTask` is the unit of work (picklable: a recipe, the seed and the
error policy); executors call it on batches of input records and must yield
results **in submission order**, so the manifest is byte-identical whatever the
executor, worker count or batch size. A distributed engine plugs in by
implementing :class:`Executor` and registering it as a ``crossaug.executors``
entry point (``crossaug-ray`` does).

Example:
    >>> ex = make_executor("serial", 1)
    >>> list(ex.map(lambda b: sum(b), [[1, 2], [3]]))
    [3, 3]
"""

from __future__ import annotations

import abc
import logging
import multiprocessing
import sys
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import registry
from ..cache import using_cache
from ..errors import BadSample, ConfigError, CrossaugError, MissingDependency, MissingResource, PluginLoadError
from ..hooks import get_plugin_manager
from ..io.datasets import RawRecord, to_sample
from ..io.text_lines import LineRecords, TextLines
from ..models import enforce_determinism, strict_mode
from ..precision import apply_torch_threads, set_worker_count
from ..recipe import Augment, Recipe, check_output_ids
from ..rng import Seeder, take_rng_time
from ..sample import Sample
from ..step import uses_models
from ..timing import merge_timings, take_timings, timed
from .blocks import input_block
from .process_pool import ProcessPool
from .records import dumps, rejection_record
from .summary import Tally

log = logging.getLogger(__name__)

#: errors about the set-up, not a sample: they stop the run under every error policy
SETUP_ERRORS = (MissingDependency, MissingResource, PluginLoadError, ConfigError)
#: inputs whose outputs :meth:`BatchTask._stream` makes before it writes their lines: a few at a time
#: run about 1.5% faster (``typo``) than one (the two kinds of work alternate less often), while many
#: (a whole batch's outputs kept) cost more than they save
STREAM_CHUNK = 16


@dataclass
class BatchResult:
    """The batch's parents (in input order), their finished manifest lines as one UTF-8 block (in the
    same order), the time per step and the counts of those lines."""

    ids: list[str]
    block: bytes
    timings: dict[str, list[float]] = field(default_factory=dict)
    tally: Tally | None = None


class BatchTask:
    """Process one batch of records with ``recipe`` and return manifest lines.

    Args:
        recipe: the recipe to run.
        seed: the run's root seed.
        on_error: ``raise`` (stop at the first bad sample) or ``skip`` (record
            it as rejected with its reason and go on).
        out_dir: output directory (media files are written there).
        recipe_name: name written in each manifest line.
        cache_dir: on-disk result cache for cacheable transforms (see :mod:`crossaug.cache`).
        deterministic: run in strict mode (see :func:`crossaug.models.strict_mode`).
    """

    def __init__(self, recipe: Recipe, seed: int, on_error: str, out_dir: Path, recipe_name: str,
                 cache_dir: str | Path | None = None, deterministic: bool = False) -> None:
        if on_error not in ("raise", "skip"):
            raise ConfigError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
        self.recipe = recipe
        self.seed = seed
        self.on_error = on_error
        self.out_dir = Path(out_dir)
        self.recipe_name = recipe_name
        self.cache_dir = cache_dir
        self.deterministic = deterministic

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_warm"}  # each worker's copy starts cold

    def _reason(self, exc: BaseException) -> str:
        if isinstance(exc, CrossaugError):
            return f"{type(exc).__name__}: {exc}"
        return f"{type(exc).__name__}: {exc} (unexpected error in {self.recipe_name}; see logs)"

    def _process(self, samples: list[Sample]) -> list[list[Sample]]:
        pm = get_plugin_manager()
        pm.hook.crossaug_before_step(step=self.recipe, samples=samples)
        with timed(f"recipe:{self.recipe_name}", len(samples)):
            outputs = self.recipe.process(samples, Seeder(self.seed), **_checked(self.recipe))
        if len(outputs) != len(samples):
            raise RuntimeError(f"{self.recipe_name} returned {len(outputs)} groups for {len(samples)} inputs")
        check_output_ids(self.recipe_name, samples, outputs)
        pm.hook.crossaug_after_step(step=self.recipe, samples=samples, outputs=outputs)
        return outputs

    def _process_each(self, samples: list[Sample]) -> list[list[Sample] | BaseException] | None:
        """:meth:`Augment.process_each <crossaug.recipe.Augment.process_each>` with the step hooks;
        ``None`` when it raised something other than a refused input (then the batch is redone)."""
        pm = get_plugin_manager()
        pm.hook.crossaug_before_step(step=self.recipe, samples=samples)
        try:
            with timed(f"recipe:{self.recipe_name}", len(samples)):
                groups = list(self.recipe.process_each(samples, Seeder(self.seed), **_checked(self.recipe)))
        except SETUP_ERRORS:
            raise
        except Exception:
            return None
        if len(groups) != len(samples):
            raise RuntimeError(f"{self.recipe_name} returned {len(groups)} groups for {len(samples)} inputs")
        ok = [(s, g) for s, g in zip(samples, groups) if not isinstance(g, BaseException)]
        check_output_ids(self.recipe_name, [s for s, _ in ok], [g for _, g in ok])
        pm.hook.crossaug_after_step(step=self.recipe, samples=[s for s, _ in ok], outputs=[g for _, g in ok])
        return groups

    def _alone(self, sample: Sample) -> list[Sample] | BaseException:
        try:
            return self._process([sample])[0]
        except SETUP_ERRORS:
            raise
        except Exception as exc:
            return exc

    def _isolate(self, samples: list[Sample], exc: Exception) -> list[list[Sample] | BaseException]:
        """Each sample's outputs or error, after processing ``samples`` together raised ``exc``.

        Others are unaffected by a failing sample (per-sample RNG). When the error names a
        sample of the batch, that sample is run alone and the samples before and after it run
        as two batches (recursively), instead of every sample alone: a batch with one refused
        input costs about 1.5x, not 2x plus the per-call overhead of each sample.
        """
        if len(samples) == 1:
            return [exc]
        named = getattr(exc, "sample_id", None) if isinstance(exc, BadSample) else None
        at = next((k for k, s in enumerate(samples) if s.id == named), None) if named is not None else None
        if at is None:
            return [self._alone(s) for s in samples]
        out: list[list[Sample] | BaseException] = []
        for part in (samples[:at], None, samples[at + 1:]):
            if part is None:
                out.append(self._alone(samples[at]))
                continue
            if not part:
                continue
            try:
                out += list(self._process(part))
            except SETUP_ERRORS:
                raise
            except Exception as inner:
                out += self._isolate(part, inner)
        return out

    def __call__(self, records: Sequence[RawRecord] | TextLines) -> BatchResult:
        if "torch" in sys.modules:  # an explicit thread count per worker (backends set it again when they load)
            apply_torch_threads()
        first, self._warm = not getattr(self, "_warm", False), True  # this copy's first batch (one per worker)
        start = time.perf_counter()
        with using_cache(self.cache_dir), strict_mode(self.deterministic):
            if self.deterministic and uses_models(self.recipe):  # before a recipe's own model calls
                enforce_determinism(model_step=True)
            result = self._run(records)
        if first:  # model loads and imports land here: summary.json shows them per worker
            result.timings["runner:first-batch"] = [time.perf_counter() - start, 1]
        return result

    def _run(self, records: Sequence[RawRecord] | TextLines) -> BatchResult:
        took = -time.perf_counter()
        required = self.recipe.required_fields()
        decoded: list[Sample | None] | None = None
        if isinstance(records, TextLines):  # lines of a text file this worker reads (and decodes) itself
            records, decoded = records.decoded(required)
        lines: dict[int, list[dict[str, Any]]] = {}
        valid: list[tuple[int, Sample]] = []
        for i, sample in enumerate(decoded) if decoded is not None else enumerate([None] * len(records)):
            if sample is not None:
                valid.append((i, sample))
                continue
            rec = records[i]
            try:
                valid.append((i, to_sample(rec, required)))
            except BadSample as exc:
                if self.on_error == "raise":
                    raise
                lines[i] = [rejection_record(rec, self._reason(exc), self.recipe_name)]
        blocks: dict[int, bytes] = {}
        tally = Tally()
        spent: list[float] = [0.0, 0]  # the recipe's own seconds; inputs, when this method times them
        if valid and not (self._streams() and self._stream(records, valid, lines, blocks, tally, spent)):
            tally = Tally()  # what a stream that gave up had counted goes with its lines
            spent[0] += self._whole(records, valid, lines, blocks, tally)
        ids = records.ids if isinstance(records, LineRecords) else [r.id for r in records]
        if len(blocks) < len(ids):  # rejections: their lines, counted
            for i, recs in lines.items():
                for line in recs:
                    tally.add(line)
                blocks[i] = "".join(dumps(line) + "\n" for line in recs).encode("utf-8")
        block = b"".join([blocks[i] for i in range(len(ids))])
        timings = take_timings()
        if spent[1]:
            merge_timings(timings, {f"recipe:{self.recipe_name}": spent})
        timings["runner:serialise"] = [took + time.perf_counter() - spent[0], len(records)]
        timings["runner:rng"] = take_rng_time()
        return BatchResult(ids, block, timings, tally)

    def _streams(self) -> bool:
        """Whether an input's lines may be built as soon as its outputs exist: an ``Augment``
        whose inputs decoding already checked (see :func:`_decoding_checks`). Lines built while
        the outputs are fresh, and the outputs dropped soon after, cost a few µs less per input
        than a batch's outputs kept until all exist."""
        return _decoding_checks(self.recipe)

    def _stream(self, records: Sequence[RawRecord], valid: list[tuple[int, Sample]],
                lines: dict[int, list[dict[str, Any]]], blocks: dict[int, bytes], tally: Tally,
                spent: list[float]) -> bool:
        """The outputs of a few inputs (:data:`STREAM_CHUNK`), then at once their lines (into
        ``blocks``, or a rejection into ``lines``), and so on; the same bytes as :meth:`_whole`.
        ``False`` (no line kept; the caller drops ``tally``, which holds some counts) when an input
        raised something other than a refusal under ``skip``: the batch is then redone by
        :meth:`_whole`, which sets that input apart. Plugins watching ``crossaug_after_step`` get
        the batch's outputs at its end, as from :meth:`_whole` (only then are the outputs kept
        that long)."""
        pm = get_plugin_manager()
        pm.hook.crossaug_before_step(step=self.recipe, samples=[s for _, s in valid])
        watched: tuple[list[Sample], list[list[Sample]]] | None = (
            ([], []) if pm.hook.crossaug_after_step.get_hookimpls() else None)
        one, seeder, name, out_dir = self.recipe._one_input(), Seeder(self.seed), self.recipe_name, self.out_dir
        skip, clock, took = self.on_error == "skip", time.perf_counter, 0.0
        refused: list[tuple[int, Sample, BadSample]] = []
        for at in range(0, len(valid), STREAM_CHUNK):  # a few inputs' outputs, then their lines
            made = []
            start = clock()
            for i, sample in valid[at:at + STREAM_CHUNK]:
                try:
                    made.append((i, sample, one(sample, seeder)))
                except BadSample as exc:
                    if not skip:
                        raise
                    refused.append((i, sample, exc))
                except SETUP_ERRORS:
                    raise
                except Exception:
                    if not skip:
                        raise
                    for k, _ in valid:  # redone the general way (decoding's rejections are not in valid)
                        lines.pop(k, None)
                        blocks.pop(k, None)
                    return False
            took += clock() - start
            for i, sample, group in made:
                if watched is not None:
                    watched[0].append(sample)
                    watched[1].append(group)
                if group:
                    blocks[i] = input_block(group, sample, name, out_dir, tally)
                else:
                    lines[i] = [rejection_record(records[i], "recipe produced no candidates", name)]
        for i, _, exc in refused:
            lines[i] = [rejection_record(records[i], self._reason(exc), name)]
        if watched is not None:
            pm.hook.crossaug_after_step(step=self.recipe, samples=watched[0], outputs=watched[1])
        for _, sample, exc in refused:
            pm.hook.crossaug_on_step_error(step=self.recipe, sample=sample, error=exc)
        spent[0] += took
        spent[1] += len(valid)
        return True

    def _whole(self, records: Sequence[RawRecord], valid: list[tuple[int, Sample]],
               lines: dict[int, list[dict[str, Any]]], blocks: dict[int, bytes], tally: Tally) -> float:
        """The batch's outputs all together (through the step hooks, which time the recipe), then
        their lines; returns the seconds spent making the outputs."""
        samples = [s for _, s in valid]
        took = -time.perf_counter()
        groups: list[list[Sample] | BaseException] | None = None
        if self.on_error == "skip" and _per_input(self.recipe):
            groups = self._process_each(samples)
        if groups is None:
            try:
                groups = list(self._process(samples))
            except Exception as exc:
                if self.on_error == "raise" or isinstance(exc, SETUP_ERRORS):
                    raise
                groups = self._isolate(samples, exc)
        took += time.perf_counter()
        for (i, sample), group in zip(valid, groups):
            if isinstance(group, BaseException):
                if not isinstance(group, CrossaugError):
                    log.warning("sample %r failed:\n%s", sample.id, "".join(traceback.format_exception(group)))
                get_plugin_manager().hook.crossaug_on_step_error(step=self.recipe, sample=sample, error=group)
                lines[i] = [rejection_record(records[i], self._reason(group), self.recipe_name)]
            elif not group:
                lines[i] = [rejection_record(records[i], "recipe produced no candidates", self.recipe_name)]
            else:  # lines built with what an input's outputs share built once (the same bytes)
                blocks[i] = input_block(group, sample, self.recipe_name, self.out_dir, tally)
        return took


def _per_input(recipe: Recipe) -> bool:
    """Whether ``recipe`` is an :class:`~crossaug.recipe.Augment` whose outputs per input do not
    depend on the batch (its own ``process``), so a refused input can be set aside in place."""
    return isinstance(recipe, Augment) and type(recipe).process is Augment.process


def batch_independent(recipe: Recipe) -> bool:
    """Whether ``recipe``'s outputs for an input are the same bytes in any batch: a per-input
    :class:`~crossaug.recipe.Augment` without neural steps (a neural step's output may change
    within tolerance with its batch), so the runner may size its batches freely."""
    return _per_input(recipe) and not uses_models(recipe)


def _decoding_checks(recipe: Recipe) -> bool:
    """Whether decoding an input (:func:`~crossaug.io.datasets.to_sample`, which validates every
    field it decodes and requires the recipe's fields) already did what ``recipe.check`` does: an
    :class:`~crossaug.recipe.Augment` with its own ``process``, ``process_each`` and the base ``check``."""
    kind = type(recipe)
    return _per_input(recipe) and kind.check is Recipe.check and kind.process_each is Augment.process_each


def _checked(recipe: Recipe) -> dict[str, bool]:
    """The keyword that tells ``recipe.process``/``process_each`` its inputs are checked, when they are."""
    return {"checked": True} if _decoding_checks(recipe) else {}


class Executor(abc.ABC):
    """Runs a task over batches; yields results in the order batches were given."""

    #: whether the batches run where this machine's files are (this process or its workers): the
    #: runner may then give them a ``.txt`` input's batches as line ranges they read and decode
    #: themselves (:mod:`crossaug.io.text_lines`)
    local_files: bool = False
    #: whether batches run in the thread that iterates :meth:`map` (the runner then commits the
    #: manifest from that thread too, between batches, instead of from a background thread)
    in_calling_thread: bool = False

    @abc.abstractmethod
    def map(self, task: Callable[[Any], Any], batches: Iterable[Any]) -> Iterator[Any]:
        ...

    def close(self) -> None:  # noqa: B027 - optional hook, a no-op by default
        """Release workers."""


class SerialExecutor(Executor):
    """Everything in the calling thread (``workers=1``)."""

    in_calling_thread = True
    local_files = True

    def map(self, task: Callable[[Any], Any], batches: Iterable[Any]) -> Iterator[Any]:
        for batch in batches:
            yield task(batch)


_worker_task: Callable[[Any], Any] | None = None


def _init_worker(task: Callable[[Any], Any], workers: int = 1, forked_after_torch: bool = False) -> None:
    """Runs first in each worker.

    torch runs ``cores // workers`` intra-op threads per worker (see
    :func:`crossaug.precision.torch_threads`), except in a child forked after the parent
    ran torch's thread pool (a recipe's ``fit``, say): such a child hangs on its first
    parallel torch op, so it runs torch single-threaded.
    """
    global _worker_task
    _worker_task = task
    set_worker_count(workers, 1 if forked_after_torch else None)
    if "torch" in sys.modules:
        apply_torch_threads()


def cuda_in_use() -> bool:
    """Whether this process has initialised CUDA (a forked child must not inherit that context)."""
    torch = sys.modules.get("torch")
    return bool(torch is not None and torch.cuda.is_initialized())


#: a batch of records as sent to a process worker: this tag and each record's attribute dict
_RECORDS = "crossaug.records/1"
_new = object.__new__


def _pack(batch: Any) -> Any:
    """A batch as it is pickled for a process worker: records as their attribute dicts (pickling the
    dicts and rebuilding the records costs the parent about a third of pickling the records)."""
    if type(batch) is list and batch and all(type(r) is RawRecord for r in batch):
        return (_RECORDS, [r.__dict__ for r in batch])
    return batch


def _unpack(batch: Any) -> Any:
    if type(batch) is tuple and len(batch) == 2 and batch[0] == _RECORDS:
        records = []
        for state in batch[1]:
            rec = _new(RawRecord)
            rec.__dict__ = state
            records.append(rec)
        return records
    return batch


def _run_in_worker(batch: Any) -> Any:
    assert _worker_task is not None
    return _worker_task(_unpack(batch))


class LocalExecutor(Executor):
    """A pool of ``workers`` threads or processes with a bounded number of batches in flight.

    Processes (:class:`~crossaug.runner.process_pool.ProcessPool`) receive the task once (at
    start-up) and then only batches, so a model-backed recipe loads its model once per worker.
    """

    def __init__(self, workers: int = 2, kind: str = "process", in_flight: int | None = None) -> None:
        if workers < 1:
            raise ConfigError(f"workers must be >= 1, got {workers}")
        if kind not in ("process", "thread"):
            raise ConfigError(f"executor kind must be 'process' or 'thread', got {kind!r}")
        self.workers = workers
        self.kind = kind
        self.in_flight = in_flight or 2 * workers
        self.local_files = True  # threads and processes of this machine read its files
        self._pool: Any = None

    def map(self, task: Callable[[Any], Any], batches: Iterable[Any]) -> Iterator[Any]:
        if self.kind == "process":
            # CUDA cannot be used in a forked child: workers of a parent that touched the GPU are spawned
            spawn = cuda_in_use()
            context = multiprocessing.get_context("spawn") if spawn else None
            forked_after_torch = not spawn and "torch" in sys.modules and _fork_default()
            self._pool = ProcessPool(self.workers, context, _run_in_worker,
                                     (task, self.workers, forked_after_torch), init=_init_worker)
            try:
                yield from self._pool.map((_pack(b) for b in batches), self.in_flight)
            finally:
                self.close()
            return
        set_worker_count(self.workers)  # threads share the process: each runs cores // workers torch threads
        self._pool = ThreadPoolExecutor(self.workers)
        submit: Callable[[Any], Future[Any]] = lambda b: self._pool.submit(task, b)
        pending: deque[Future[Any]] = deque()
        try:
            for batch in batches:
                pending.append(submit(batch))
                if len(pending) >= self.in_flight:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for f in pending:
                f.cancel()
            self.close()

    def close(self) -> None:
        if isinstance(self._pool, ProcessPool):
            self._pool.close()
            self._pool = None
        elif self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
            if self.kind == "thread":
                set_worker_count(1)


def _fork_default() -> bool:
    method = multiprocessing.get_start_method(allow_none=True) or multiprocessing.get_all_start_methods()[0]
    return method == "fork"


#: executors of other distributions the install hint knows (name -> kernel extra)
EXTRAS = {"ray": "ray"}


def make_executor(name: str = "auto", workers: int = 1, **options: Any) -> Executor:
    """``auto`` (serial for 1 worker, else processes), ``serial``, ``process``, ``thread``, or a
    registered one (``crossaug.executors`` entry points, e.g. ``ray`` from ``crossaug-ray``), built
    as ``cls(workers, **options)``.
    """
    if name not in ("auto", "serial", "process", "thread"):
        if name not in registry.names("executor"):
            if name in EXTRAS:
                raise MissingDependency(f"pip install 'crossaug[{EXTRAS[name]}]'", what=f"the {name} executor")
            raise ConfigError(f"unknown executor {name!r}; expected auto, serial, process, thread"
                              + "".join(f" or {n}" for n in registry.names("executor")))
        return registry.load("executor", name)(max(1, workers), **options)
    if options.get("address") is not None:
        raise ConfigError(f"--address is for the ray executor, not {name!r}")
    options.pop("address", None)
    if name == "auto":
        name = "serial" if workers <= 1 else "process"
    if name == "serial":
        return SerialExecutor()
    return LocalExecutor(workers, name, **options)


__all__ = ["Executor", "SerialExecutor", "LocalExecutor", "BatchTask", "BatchResult", "make_executor",
           "batch_independent"]
