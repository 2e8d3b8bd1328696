"""``crossaug_eval.evaluate``: does a recipe help on your data? The papers' protocol as one call.

For each method, k and data seed: augment the class-balanced k-shot training
set with exactly ``budget`` outputs per original, train the classifier
``train_seeds`` times (seeds shared by all methods), score it on the held-out
test set. Then summarise (mean, 95% interval, paired tests against ``none``),
measure affinity and label preservation with a reference model trained on clean
data, diversity from training losses, and write an output directory with
``eval.json``, ``results.jsonl``, a gallery ``manifest.jsonl`` (what each
method produced for one training set) and ``report.html``.

Example:
    >>> from crossaug import Sample
    >>> from crossaug.builtin.typo import Typo
    >>> data = [Sample(f"s{i}", {"text": t}, label=t.split()[0])
    ...         for i, t in enumerate(["red apple", "red cherry", "red rose", "blue sea", "blue sky", "blue jay"] * 2)]
    >>> first = lambda train, seed: (lambda xs: [x["text"].split()[0] for x in xs])
    >>> res = evaluate(data, ["none", Typo(rate=0.0)], classifier=first,
    ...                protocol=Protocol(shots=(1,), data_seeds=2, test_per_class=2, affinity_per_class=0))
    >>> [(row["method"], row["mean"]) for row in res.table]
    [('none', 1.0), ('text.typo', 1.0)]
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from crossaug._json import to_jsonable
from crossaug.errors import ConfigError, CrossaugError
from crossaug.io.datasets import iter_records, to_sample
from crossaug.sample import Sample, modality_of

from .cells import CellCache
from .classifiers import DEFAULT_FOR, Classifier, get_classifier
from .methods import NONE, Method, make_method
from .metrics.affinity import affinity as affinity_ratio
from .metrics.affinity import diversity as diversity_ratio
from .metrics.preservation import accuracy, label_preservation_rate
from .protocol import Protocol
from .stats import summarise

log = logging.getLogger(__name__)


@dataclass
class EvalResult:
    """What :func:`evaluate` measured.

    Attributes:
        results: one record per training run (method, k, data_seed, train_seed,
            accuracy, train_loss, sizes).
        table: one row per (method, k): mean, ci_low, ci_high, runs, and for
            methods other than ``none``: delta, t, p_t, p_wilcoxon.
        quality: per method: affinity, label preservation, diversity, shortfall.
        skipped: methods that could not run, with the reason.
        output_dir: where files were written (``None`` without ``out_dir``).
    """

    results: list[dict[str, Any]]
    table: list[dict[str, Any]]
    quality: dict[str, dict[str, Any]]
    skipped: dict[str, str]
    protocol: dict[str, Any]
    info: dict[str, Any] = field(default_factory=dict)
    output_dir: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable({"protocol": self.protocol, "info": self.info, "table": self.table,
                            "quality": self.quality, "skipped": self.skipped})

    def format_table(self) -> str:
        """Plain-text table: accuracy (mean [95% CI]) per method and k, with p values."""
        lines = [f"{'method':<24} {'k':>3} {'accuracy':>9} {'95% CI':>17} {'delta':>7} {'p (t)':>7}"]
        for r in self.table:
            delta = f"{r['delta']:+.3f}" if "delta" in r else ""
            p = f"{r['p_t']:.3f}" if r.get("p_t") is not None and not math.isnan(r["p_t"]) else ""
            lines.append(f"{r['method']:<24} {r['k']:>3} {r['mean']:>9.3f} [{r['ci_low']:.3f}, {r['ci_high']:.3f}]"
                         f" {delta:>7} {p:>7}")
        return "\n".join(lines)


def load_samples(dataset: Any) -> list[Sample]:
    """Decode a dataset (anything ``crossaug run`` reads) into labelled samples; bad rows are logged."""
    out = []
    for rec in iter_records(dataset):
        try:
            s = to_sample(rec)
        except CrossaugError as exc:
            log.warning("skipping %s: %s", rec.id, exc)
            continue
        if s.label is None:
            raise ConfigError(f"sample {s.id!r} has no label; evaluation needs labelled data")
        out.append(s)
    ids = [s.id for s in out]
    if len(set(ids)) != len(ids):
        raise ConfigError("sample ids must be unique for evaluation")
    return out


def _default_field(samples: Sequence[Sample]) -> str:
    for name in samples[0].fields:
        if modality_of(name) in DEFAULT_FOR:
            return name
    raise ConfigError(f"no field with a built-in classifier in {sorted(samples[0].fields)}; pass field=")


def _named_methods(methods: Any) -> list[tuple[str | None, Any, dict[str, Any]]]:
    if isinstance(methods, Mapping):
        return [(name, spec, {}) for name, spec in methods.items()]
    out = []
    for spec in methods:
        if isinstance(spec, tuple):  # (name, spec, params)
            name, spec_, *rest = spec
            out.append((name, spec_, dict(rest[0]) if rest else {}))
        else:
            out.append((None, spec, {}))
    return out


def evaluate(dataset: Any, methods: Any = (NONE,), *, field: str | None = None, classifier: Any = None,
             protocol: Protocol | None = None, out_dir: str | Path | None = None,
             method_params: Mapping[str, Mapping[str, Any]] | None = None, reference: Any = None,
             report: bool = True, gallery_inputs: int = 30,
             on_progress: Callable[[str], None] | None = None, cache: CellCache | None = None) -> EvalResult:
    """Compare augmentation methods on a labelled dataset with the few-shot protocol.

    Args:
        dataset: labelled samples (a path, an iterable of samples/dicts, a HF dataset).
        methods: names (``none``, recipes, augmentations, peers), objects, a
            ``{name: spec}`` mapping, or ``(name, spec, params)`` tuples. ``none``
            is always added first: it is the baseline of the paired tests.
        field: the field classified (default: the first text/image/audio field).
        classifier: a built-in name, ``module:attr``, an object or a callable
            (see :func:`crossaug_eval.classifiers.get_classifier`).
        protocol: shots, seeds, budget (default :class:`Protocol`).
        out_dir: write ``eval.json``, ``results.jsonl``, the gallery and ``report.html`` here.
        method_params: extra constructor parameters per method name.
        reference: classifier for affinity and label preservation (default: a
            fresh copy of ``classifier`` trained on a larger clean set).
        report: write ``report.html`` (with ``out_dir``).
        gallery_inputs: inputs shown per method in the report's gallery.
        on_progress: called with a line of progress text.
        cache: a :class:`~crossaug_eval.cells.CellCache`: runs (and affinity) found there are
            not trained again; each new run is stored as soon as it is measured, so an
            interrupted grid resumes. Sets whose runs are all cached are not augmented.
    """
    protocol = protocol or Protocol()
    say = on_progress or (lambda msg: log.info("%s", msg))
    started = time.perf_counter()
    samples = list(dataset) if isinstance(dataset, list) and all(isinstance(s, Sample) for s in dataset) \
        else load_samples(dataset)
    if not samples:
        raise ConfigError("the dataset is empty")
    field = field or _default_field(samples)
    labels = [s.label for s in samples]
    base: Classifier = get_classifier(classifier, field=field)

    named = _named_methods(methods)
    if not any(spec in (None, NONE) for _, spec, _ in named):
        named.insert(0, (NONE, NONE, {}))
    built: list[Method] = []
    skipped: dict[str, str] = {}
    used_params: dict[str, dict[str, Any]] = {}
    for name, spec, params in named:
        key = name or (spec if isinstance(spec, str) else getattr(spec, "name", None) or type(spec).__name__)
        params = {**params, **dict((method_params or {}).get(str(key), {}))}
        try:
            built.append(make_method(spec, name=name, params=params, budget=protocol.budget, field=field))
            used_params[built[-1].name] = params
        except CrossaugError as exc:
            skipped[str(key)] = f"{type(exc).__name__}: {exc}"
            say(f"skipping {key}: {exc}")

    pool, test = protocol.split(labels)
    sets = protocol.training_sets(labels, pool)
    test_samples = [samples[i] for i in test]
    test_labels = [s.label for s in test_samples]
    seed = protocol.seed
    results: list[dict[str, Any]] = []
    for method in built:
        t0 = time.perf_counter()
        mparams = used_params.get(method.name)
        cached_runs = 0
        for (k, s), idx in sorted(sets.items()):
            found = {t: cache.get(method.name, k, s, t, mparams) for t in range(protocol.train_seeds)} \
                if cache is not None else {}
            if found and all(found.values()):  # every run of this set is measured: no augmentation needed
                results.extend(_run_record(found[t]) for t in range(protocol.train_seeds))
                cached_runs += protocol.train_seeds
                continue
            originals = [samples[i] for i in idx]
            try:
                augs = method.augment(originals, protocol.budget, seed)
            except CrossaugError as exc:
                skipped[method.name] = f"{type(exc).__name__}: {exc}"
                say(f"{method.name} failed: {exc}")
                break
            train = originals + [a for o in originals for a in augs.get(o.id, [])]
            for t in range(protocol.train_seeds):
                if found.get(t):
                    results.append(_run_record(found[t]))
                    cached_runs += 1
                    continue
                t_run = time.perf_counter()
                clf = base.fresh().fit(train, protocol.train_seed(k, s, t))
                acc = accuracy(test_labels, clf.predict(test_samples))
                run = {"method": method.name, "k": k, "data_seed": s, "train_seed": t,
                       "accuracy": acc, "train_loss": clf.train_loss_, "originals": len(originals),
                       "augmented": len(train) - len(originals)}
                results.append(run)
                if cache is not None:
                    cache.put(method.name, k, s, t, {**run, "seconds": round(time.perf_counter() - t_run, 2)},
                              mparams)
                    say(f"{method.name} k={k} data seed {s} training seed {t}: {acc:.3f} "
                        f"({time.perf_counter() - t_run:.0f} s)")
        else:
            say(f"{method.name}: {len(sets) * protocol.train_seeds} runs ({cached_runs} cached) in "
                f"{time.perf_counter() - t0:.1f} s")
            continue
        results = [r for r in results if r["method"] != method.name]
    ran = [m for m in built if m.name not in skipped]
    table = summarise(results, baseline=NONE)
    quality = _quality(ran, results, samples, labels, pool, test, protocol, base, reference, field, say,
                       cache=cache, params=used_params)
    info = {"field": field, "classifier": getattr(base, "name", type(base).__name__), "samples": len(samples),
            "pool": len(pool), "test": len(test), "classes": sorted({repr(y) for y in labels}),
            "methods": [m.name for m in ran], "seconds": round(time.perf_counter() - started, 2)}
    res = EvalResult(results, table, quality, skipped, protocol.to_dict(), info)
    if out_dir is not None:
        res.output_dir = write_eval(out_dir, res, ran, samples, sets, protocol, gallery_inputs, report)
    return res


def _quality(methods: list[Method], results: list[dict[str, Any]], samples: list[Sample], labels: list[Any],
             pool: list[int], test: list[int], protocol: Protocol, base: Classifier, reference: Any,
             field: str, say: Callable[[str], None], cache: CellCache | None = None,
             params: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
    quality: dict[str, dict[str, Any]] = {m.name: {} for m in methods}
    # diversity: training loss with / without augmentation on the same set and seed
    loss = {(r["method"], r["k"], r["data_seed"], r["train_seed"]): r["train_loss"] for r in results}
    for m in methods:
        ratios = defaultdict(list)
        for (name, k, s, t), value in loss.items():
            if name == m.name:
                d = diversity_ratio(value, loss.get((NONE, k, s, t)))
                if not math.isnan(d):
                    ratios[k].append(d)
        quality[m.name]["diversity_by_k"] = {k: float(np.mean(v)) for k, v in sorted(ratios.items())}
        allv = [x for v in ratios.values() for x in v]
        quality[m.name]["diversity"] = float(np.mean(allv)) if allv else None
        quality[m.name]["shortfall"] = m.shortfall
    if protocol.affinity_per_class <= 0:
        return quality
    affinity_keys = ("reference_accuracy", "accuracy_augmented", "affinity", "label_preservation")
    if cache is not None:
        todo = []
        for m in methods:
            stored = cache.get_quality(m.name, (params or {}).get(m.name))
            if stored is None:
                todo.append(m)
            else:
                quality[m.name].update({k: v for k, v in stored.items() if k in affinity_keys})
        if not todo:
            return quality
        methods = todo
    # affinity: a reference model trained on clean data, scored on augmented validation data
    per_class: dict[Any, list[int]] = defaultdict(list)
    for i in test:
        per_class[labels[i]].append(i)
    val = [samples[i] for c in sorted(per_class, key=repr) for i in per_class[c][:protocol.affinity_per_class]]
    by_class: dict[Any, list[int]] = defaultdict(list)
    for i in pool:
        by_class[labels[i]].append(i)
    ref_train = [samples[i] for c in sorted(by_class, key=repr) for i in by_class[c][:protocol.reference_per_class]]
    ref = get_classifier(reference, field=field) if reference is not None else base.fresh()
    ref.fit(ref_train, protocol.train_seed(0, 0, 0))
    clean_pred = ref.predict(val)
    acc_clean = accuracy([s.label for s in val], clean_pred)
    say(f"reference model ({len(ref_train)} clean examples): {acc_clean:.3f} on {len(val)} validation examples")
    for m in methods:
        quality[m.name]["reference_accuracy"] = acc_clean
        if m.recipe is None:
            quality[m.name].update(affinity=1.0, label_preservation=1.0)
            continue
        try:
            augs = m.augment(val, 1, protocol.seed)
        except CrossaugError as exc:
            say(f"affinity of {m.name} not measured: {exc}")
            continue
        pairs = [(v, a) for v in val for a in augs.get(v.id, [])]
        if not pairs:
            continue
        pred = ref.predict([a for _, a in pairs])
        parent_pred = dict(zip([v.id for v in val], clean_pred))
        acc_aug = accuracy([v.label for v, _ in pairs], pred)
        quality[m.name]["accuracy_augmented"] = acc_aug
        quality[m.name]["affinity"] = affinity_ratio(acc_aug, acc_clean)
        quality[m.name]["label_preservation"] = label_preservation_rate([parent_pred[v.id] for v, _ in pairs], pred)
    if cache is not None:
        for m in methods:
            if "affinity" in quality[m.name]:
                cache.put_quality(m.name, {k: quality[m.name].get(k) for k in affinity_keys},
                                  (params or {}).get(m.name))
    return quality


def _run_record(cell: Mapping[str, Any]) -> dict[str, Any]:
    """The run record of a cached cell (the fields :func:`evaluate` itself records)."""
    return {key: cell.get(key) for key in ("method", "k", "data_seed", "train_seed", "accuracy", "train_loss",
                                           "originals", "augmented")}


def write_eval(out_dir: str | Path, res: EvalResult, methods: list[Method], samples: list[Sample],
               sets: Mapping[tuple[int, int], list[int]], protocol: Protocol, gallery_inputs: int,
               report: bool) -> Path:
    """Write ``eval.json``, ``results.jsonl``, a gallery manifest, ``summary.json`` and ``report.html``."""
    from crossaug.runner.records import sample_line
    from crossaug.runner.summary import summarise as summarise_manifest

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    from .plots import eval_plots

    ev = res.to_dict()
    ev["plots"] = eval_plots(ev)  # the kernel's report shows these as they are
    (out / "eval.json").write_text(json.dumps(ev, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    with (out / "results.jsonl").open("w", encoding="utf-8") as fh:
        for r in res.results:
            fh.write(json.dumps(to_jsonable(r)) + "\n")
    # gallery: what each method made of the largest training set of data seed 0
    k = max(protocol.shots)
    shown = [samples[i] for i in sets[(k, 0)]][:gallery_inputs]
    with (out / "manifest.jsonl").open("w", encoding="utf-8") as fh:
        for m in methods:
            if m.recipe is None:
                continue
            for parent in shown:
                cands = m.candidates(parent.id)
                err = m.error(parent.id)
                if err and not cands:
                    cands = [parent.reject(err).replace(id=f"{parent.id}~error")]
                gparent = parent.replace(id=f"{m.name}/{parent.id}")
                for c in cands:  # ids prefixed by the method: one gallery entry per (method, input)
                    c = c.replace(id=f"{m.name}/{c.id}", parent_id=gparent.id)
                    fh.write(sample_line(c, gparent, m.name, out) + "\n")
    summary = summarise_manifest(out)
    summary.update({"recipe": "evaluation", "seed": protocol.seed, "seconds": res.info.get("seconds")})
    (out / "summary.json").write_text(json.dumps(to_jsonable(summary), indent=2) + "\n", encoding="utf-8")
    if report:
        from crossaug.report import write_report

        write_report(out)
    return out


__all__ = ["evaluate", "EvalResult", "load_samples", "write_eval"]
