"""``crossaug.run``: a recipe over a dataset into an output directory.

Output directory layout: ``manifest.jsonl`` (one line per produced or rejected
sample), ``media/`` (audio and image files), ``summary.json`` (counts, filter
statistics, timings), ``report.html`` (a gallery), ``run.json`` (recipe and
seed, checked on ``resume``).

Example:
    >>> import tempfile
    >>> from crossaug.builtin.typo import Typo
    >>> from crossaug.recipe import Augment
    >>> res = run(Augment(Typo(rate=0.1), n=2), ["a small test", "another one"],
    ...           tempfile.mkdtemp(), seed=1, report=False)
    >>> res.summary["inputs"], res.summary["kept"]
    (2, 4)
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import registry
from .._json import to_jsonable
from ..errors import ConfigError
from ..hooks import get_plugin_manager
from ..importing import code_trusted, trusting_code
from ..io.datasets import RawRecord, count_records, iter_records, to_sample
from ..io.datasets import dedupe as _dedupe
from ..io.text_lines import line_batches
from ..models import deterministic as strict_mode_on
from ..models import machine_device, strict_mode
from ..recipe import Recipe
from ..rng import take_rng_time
from ..step import model_settings, uses_models
from ..timing import merge_timings, take_timings
from .executor import BatchTask, Executor, batch_independent, make_executor
from .manifest import COMMIT_INTERVAL, Manifest
from .summary import Tally, summarise

log = logging.getLogger(__name__)


@dataclass
class RunResult:
    """Where a run wrote its output, and its summary."""

    output_dir: Path
    summary: dict[str, Any]

    @property
    def manifest_path(self) -> Path:
        return self.output_dir / "manifest.jsonl"

    @property
    def report_path(self) -> Path:
        return self.output_dir / "report.html"

    @property
    def label_balance(self) -> dict[str, Any] | None:
        """Inputs and kept outputs per label, the share shift (percentage points) and a warning, or ``None``."""
        return self.summary.get("labels")


#: ``batch_size=None`` for a recipe whose outputs per input do not depend on the batch: batches
#: start at AUTO_BATCH_START inputs and grow to about AUTO_BATCH_SECONDS of a worker's time each,
#: at most AUTO_BATCH_MAX inputs (other recipes: AUTO_BATCH_START)
AUTO_BATCH_START = 8
AUTO_BATCH_SECONDS = 0.05
AUTO_BATCH_MAX = 1024


class BatchSizer:
    """Inputs per batch: ``fixed``, or (``None``) sized from the measured time per input.

    Outputs cannot depend on it: only recipes whose outputs per input do not depend on the batch
    are sized (:func:`~crossaug.runner.executor.batch_independent`), and batches still leave in
    input order. Bigger batches spread a batch's fixed cost (sending it to a process worker and
    its lines back) over more inputs; the time bound keeps the first lines and a slow recipe's
    batches coming as often as before.

    Example:
        >>> s = BatchSizer(None); s.size
        8
        >>> s.observe({"recipe:x": [0.004, 8], "runner:serialise": [0.0, 8]}, "recipe:x", 8); s.size
        100
        >>> BatchSizer(16).size
        16
    """

    def __init__(self, fixed: int | None) -> None:
        self.auto = fixed is None
        self.size = AUTO_BATCH_START if fixed is None else fixed

    def observe(self, timings: dict[str, list[float]], recipe_key: str, inputs: int) -> None:
        """Size the next batches from a finished batch's ``timings`` (its worker's time per stage)."""
        if not self.auto or inputs <= 0 or "runner:first-batch" in timings:  # a first batch holds loads
            return
        spent = timings.get(recipe_key, (0.0,))[0] + timings.get("runner:serialise", (0.0,))[0]
        if spent > 0:
            self.size = max(1, min(AUTO_BATCH_MAX, int(AUTO_BATCH_SECONDS * inputs / spent)))


def _text_file(inputs: Any) -> bool:
    """Whether ``inputs`` names a ``.txt`` file (read as :func:`~crossaug.io.datasets.iter_records` does)."""
    return isinstance(inputs, (str, Path)) and Path(inputs).suffix.lower() == ".txt" and Path(inputs).is_file()


def _input_records(inputs: Any) -> Iterator[RawRecord]:
    """The records of ``inputs``, a repeated id refused (:func:`~crossaug.io.datasets.dedupe`); a text
    file's ids are its line numbers, unique by construction, so no set of them is kept."""
    records = iter_records(inputs)
    return records if _text_file(inputs) else _dedupe(records)


def _batches(records: Iterable[RawRecord], size: BatchSizer, skip: set[str], limit: int | None,
             spent: list[float]) -> Iterator[list[RawRecord]]:
    """Batches of ``size.size`` records (read when each batch starts); the time spent reading them is
    added to ``spent[0]``."""
    batch: list[RawRecord] = []
    append = batch.append
    want = size.size
    start = time.perf_counter()
    for count, rec in enumerate(records):
        if limit is not None and count >= limit:
            break
        if skip and rec.id in skip:
            continue
        append(rec)
        if len(batch) >= want:
            spent[0] += time.perf_counter() - start
            yield batch
            batch = []
            append = batch.append
            want = size.size
            start = time.perf_counter()
    spent[0] += time.perf_counter() - start
    if batch:
        yield batch


def _input_identity(inputs: Any) -> dict[str, Any] | None:
    """A fingerprint of a file or folder input (content hash; folder: names and sizes), checked on resume."""
    if not isinstance(inputs, (str, Path)):
        return None
    p = Path(inputs)
    if not p.exists():
        raise ConfigError(f"input {p} does not exist")
    h = hashlib.blake2b(digest_size=16)
    if p.is_dir():
        for f in sorted(f for f in p.rglob("*") if f.is_file()):
            h.update(f"{f.relative_to(p).as_posix()}\0{f.stat().st_size}\0".encode("utf-8", "backslashreplace"))
    elif p.is_file():
        with p.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    else:
        return None
    return {"path": str(p), "blake2b": h.hexdigest()}


def _run_identity(recipe: Recipe, seed: int, recipe_name: str, inputs: Any = None) -> dict[str, Any]:
    return {"recipe": recipe_name, "definition": recipe.to_dict(), "seed": seed, "input": _input_identity(inputs)}


def _check_resume(out: Path, identity: dict[str, Any], resume: bool) -> None:
    """Refuse to resume a run started with another recipe, seed or input (writes nothing)."""
    path = out / "run.json"
    if not (resume and path.is_file()):
        return
    saved = json.loads(path.read_text(encoding="utf-8"))
    for key, what in (("definition", "recipe"), ("seed", "seed"), ("input", "input")):
        if key in saved and saved[key] != identity[key] and (key != "input" or (
                saved[key] or {}).get("blake2b") != (identity[key] or {}).get("blake2b")):
            was = {"recipe": saved.get("recipe"), "seed": saved.get("seed"),
                   "input": (saved.get("input") or {}).get("path", "a Python iterable")}[what]
            raise ConfigError(f"cannot resume {out}: it was started with a different {what} ({was!s}); "
                              "use the same one, or a new output directory")


def _repair_media(out: Path, inputs: Any, task: BatchTask, done: set[str]) -> int:
    """On resume: reprocess committed inputs whose media files do not decode (torn by a crash)."""
    from ..errors import BadSample
    from ..modality import get_modality
    from ..sample import modality_of
    from .manifest import read_manifest
    from .records import MEDIA_DIR

    files = {m for m in registry.names("modality") if not get_modality(m).inline}
    torn: set[str] = set()
    for rec in read_manifest(out):
        for name, value in [*rec.items(), *(rec.get("parent") or {}).items()]:
            if (isinstance(value, str) and value.startswith(f"{MEDIA_DIR}/") and modality_of(name) in files
                    and rec["parent_id"] not in torn):
                try:
                    get_modality(modality_of(name)).load(out / value, field=name)
                except BadSample:
                    torn.add(rec["parent_id"])
    if torn and isinstance(inputs, Iterator):  # a one-shot iterator cannot be read twice
        log.warning("%d input(s) have torn media; resume from a file or a list to rewrite them", len(torn))
    elif torn:
        log.warning("rewriting the media of %d input(s) whose files were torn", len(torn))
        task([r for r in _input_records(inputs) if r.id in torn and r.id in done])
    return len(torn)


def run(recipe: Recipe | str, inputs: Any, output: str | Path, *, seed: int = 0, workers: int = 1,
        batch_size: int | None = None, on_error: str = "raise", resume: bool = False,
        executor: str | Executor = "auto", progress: bool = False, limit: int | None = None,
        params: dict[str, Any] | None = None, report: bool = True, cache_dir: str | Path | None = None,
        executor_options: dict[str, Any] | None = None, deterministic: bool = False,
        trust_code: bool = False, commit_interval: float = COMMIT_INTERVAL) -> RunResult:
    """Run ``recipe`` over ``inputs`` and write the output directory.

    Args:
        recipe: a :class:`Recipe` or a registered recipe name (built with ``params``).
        inputs: a dataset path (JSONL/CSV/TXT/folder), an iterable or a HF dataset.
        output: output directory (created).
        seed: root seed; the same seed gives a byte-identical manifest.
        workers: parallel workers for the local executor.
        batch_size: inputs per batch; ``None``: sized from the measured time per input (about
            50 ms of work per batch, 8 to 1024 inputs) when the recipe's outputs per input do not
            depend on the batch (an ``Augment`` without neural steps), else 8.
        on_error: ``raise`` or ``skip`` (record bad samples as rejected).
        resume: continue a previous, interrupted run in ``output``.
        executor: ``auto``/``serial``/``process``/``thread``/``ray`` or an :class:`Executor`.
        progress: show a progress bar.
        limit: process only the first ``limit`` inputs.
        report: write ``report.html`` at the end.
        cache_dir: on-disk cache of cacheable transforms' outputs, reused by reruns
            (default ``$CROSSAUG_CACHE_DIR`` if set; see :mod:`crossaug.cache`).
        executor_options: options for the executor (ray: ``address``, ``num_gpus``, ...).
        deterministic: strict mode: model steps run one sample at a time with deterministic
            torch algorithms and TF32 off, for exact equality on one machine (recorded in run.json).
        trust_code: allow parameters that name Python code (``module:function``); see docs/security.md.
        commit_interval: seconds between group commits (one fsync of manifest and journal each);
            a crash loses at most this interval's outputs (or, with 1 worker, the last batch's when
            a batch takes longer), which ``resume`` redoes.
    """
    if (trust_code and not code_trusted()) or (deterministic and not strict_mode_on()):
        options = {k: v for k, v in locals().items() if k not in ("recipe", "inputs", "output")}
        with trusting_code(trust_code), strict_mode(deterministic):  # the whole run, workers included
            return run(recipe, inputs, output, **options)
    if isinstance(recipe, str):
        recipe = registry.create("recipe", recipe, **(params or {}))
    if not isinstance(recipe, Recipe):
        raise ConfigError(f"expected a Recipe or a recipe name, got {type(recipe).__name__}")
    if batch_size is not None and (not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1):
        raise ConfigError(f"batch_size must be a positive integer, got {batch_size!r}")
    if batch_size is None and not batch_independent(recipe):
        batch_size = AUTO_BATCH_START  # a batch can change a neural step's output (within tolerance)
    recipe_name = recipe.name or type(recipe).__name__
    out = Path(output)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"output {out} exists and is not a directory; choose a directory")
    identity = _run_identity(recipe, seed, recipe_name, inputs)
    identity.update(deterministic=bool(deterministic), device=machine_device(probe=uses_models(recipe)))
    settings = model_settings(recipe) if uses_models(recipe) else {}
    if settings:  # resolved generation settings, dtype and model snapshot of each model step
        identity["models"] = settings
    out.mkdir(parents=True, exist_ok=True)
    if not resume and (out / "manifest.jsonl").is_file() and (out / "manifest.jsonl").stat().st_size > 0:
        how = "--resume" if "crossaug.cli" in sys.modules else "resume=True"  # word it for the caller
        raise ConfigError(f"{out / 'manifest.jsonl'} already exists; pass {how} to continue that run "
                          "or choose a new output directory")
    _check_resume(out, identity, resume)
    get_plugin_manager().hook.crossaug_configure.call_historic(
        kwargs={"config": {"seed": seed, "output": str(out), "recipe": recipe_name, "workers": workers}})

    fitted = 0.0  # seconds in the recipe's fit
    if recipe.requires_fit:
        if isinstance(inputs, Iterator):
            raise ConfigError(f"recipe {recipe_name!r} reads its inputs twice (fit, then process); "
                              "pass a file, a folder, a list or a dataset, not a one-shot iterator")

        def fit_samples() -> Iterator[Any]:
            for rec in _input_records(inputs):
                try:
                    yield to_sample(rec, recipe.required_fields())
                except Exception:
                    continue  # recorded as rejected during processing
        fitting = time.perf_counter()
        recipe.fit(fit_samples())
        fitted = time.perf_counter() - fitting

    ex = executor if isinstance(executor, Executor) else make_executor(executor, workers,
                                                                          **(executor_options or {}))
    # the thread that runs the batches commits too (see Manifest: a committer thread waiting for the
    # interpreter lock slows a computing thread); a thread that waits on workers leaves it to one
    here = bool(getattr(ex, "in_calling_thread", False))  # an executor class of its own may not say
    manifest = Manifest(out, commit_interval, background=not here)
    manifest.open(resume)
    (out / "run.json").write_text(json.dumps(identity, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    if cache_dir is None:  # resolved here so that every worker (process, Ray actor) uses the same one
        cache_dir = os.environ.get("CROSSAUG_CACHE_DIR") or None
    task = BatchTask(recipe, seed, on_error, out, recipe_name,
                     None if cache_dir is None else Path(cache_dir).absolute(), deterministic=deterministic)
    if resume and manifest.done:
        _repair_media(out, inputs, task, manifest.done)
    take_timings()  # what this thread timed before (a caller's own augment calls, fit, media repair) is
    take_rng_time()  # not this run's batches: a serial run's first batch, or a forked worker, would count it
    timings: dict[str, list[float]] = {"runner:fit": [fitted, 1]} if recipe.requires_fit else {}
    started = time.perf_counter()
    total = count_records(inputs) if progress else None  # counting reads a file once more: only for the bar
    if total is not None and limit is not None:
        total = min(total, limit)
    done_before = len(manifest.done)
    bar = _progress(progress, total, done_before, recipe_name, auto=not here)
    io = [0.0, 0]  # the parent's input reading, appends and group commits
    tally = Tally(merged_only=True)  # the workers' counts: the manifest is read back only after a resume
    sizer, recipe_key = BatchSizer(batch_size), f"recipe:{recipe_name}"
    try:
        batches: Iterable[Any]
        if getattr(ex, "local_files", False) and not manifest.done and limit is None and _text_file(inputs):
            batches = line_batches(Path(inputs), lambda: sizer.size, io)  # workers read the lines
        else:
            batches = _batches(_input_records(inputs), sizer, manifest.done, limit,
                               io)  # manifest.done: read from the journal on resume, not added to after
        for result in ex.map(task, batches):
            start = time.perf_counter()
            manifest.append(result.ids, result.block)
            io[0] += time.perf_counter() - start
            io[1] += len(result.ids)
            sizer.observe(result.timings, recipe_key, len(result.ids))
            merge_timings(timings, result.timings)
            if result.tally is not None:
                tally.merge(result.tally)
            if bar is not None:
                bar.advance(len(result.ids))
    finally:
        ex.close()
        start = time.perf_counter()
        manifest.close()
        io[0] += time.perf_counter() - start
        if bar is not None:
            bar.stop()
    timings["runner:io"] = io
    summary = summarise(out) if resume and done_before else tally.summary()
    summary.update({
        "recipe": recipe_name, "seed": seed, "workers": workers,
        "batch_size": batch_size if batch_size is not None else f"auto (last {sizer.size})",
        "resumed_from": done_before if resume else None,
        "seconds": round(time.perf_counter() - started, 3),
        "timings": {k: {"seconds": round(v[0], 4), "items": int(v[1])} for k, v in sorted(timings.items())},
    })
    (out / "summary.json").write_text(json.dumps(to_jsonable(summary), indent=2) + "\n", encoding="utf-8")
    if report:
        from ..report import write_report

        write_report(out)
    return RunResult(out, summary)


class _Bar:
    """A rich progress bar. ``auto``: redrawn by rich's own thread (10 times a second); else by
    :meth:`advance`, at most 10 times a second, from the thread that runs the batches. rich's
    thread, waiting for the interpreter lock while that thread computes, is woken by each of its
    lock releases (numpy calls, random draws): an `eda` run with 1 worker took 8% longer with it."""

    #: seconds between redraws by :meth:`advance`
    EVERY = 0.1

    def __init__(self, total: int | None, completed: int, label: str, auto: bool = True) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        count = MofNCompleteColumn() if total is not None else TextColumn("{task.completed}")  # never "9/?"
        self.progress = Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(),
                                 count, TimeElapsedColumn(), TimeRemainingColumn(),
                                 transient=False, auto_refresh=auto)
        self.auto = auto
        self.drawn = time.monotonic()
        self.progress.start()
        self.task = self.progress.add_task(label, total=total, completed=completed)

    def advance(self, n: int) -> None:
        self.progress.advance(self.task, n)
        if not self.auto and time.monotonic() - self.drawn >= self.EVERY:
            self.progress.refresh()
            self.drawn = time.monotonic()

    def stop(self) -> None:
        self.progress.refresh()
        self.progress.stop()


def _progress(enabled: bool, total: int | None, completed: int, label: str, auto: bool = True) -> _Bar | None:
    if not enabled or os.environ.get("CROSSAUG_NO_PROGRESS"):
        return None
    return _Bar(total, completed, label, auto)


__all__ = ["run", "RunResult"]
