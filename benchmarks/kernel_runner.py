"""Kernel runner overhead and scaling, side by side in one run.

For each recipe (``typo`` and ``eda`` by default) it measures inputs/second of
  (a) a bare Python loop over the recipe's augmentation (``augment`` with the same
      per-sample streams the runner uses) -- the baseline,
  (b) ``crossaug.run`` with 1 worker (manifest, group-committed journal, summary),
  (c) ``crossaug.run`` with 2 process workers,
and prints (b)/(a), the cost of durability and lineage, and (c)/(b), the scaling.
It then prints where a run's time went, from the run's own ``summary.json``
timings: making random streams (``runner:rng``), the augmentation itself (the
recipe minus its streams), serialisation (decoding inputs, manifest lines, media
files: ``runner:serialise``) and the parent's I/O (reading inputs, appending,
group commits: ``runner:io``); "other" is the rest of the wall time (hooks,
batching, the summary). Ratios are what to compare: absolute rates depend on the
machine and its load (printed first).

    python benchmarks/kernel_runner.py [--inputs 20000] [--n 2] [--recipes typo,eda] [--repeats 2] [--batch-size auto]
    python benchmarks/kernel_runner.py --quick      # 3,000 inputs, one round: a check, not a figure
    python benchmarks/kernel_runner.py --stages     # also the runner's own stages, each timed alone

Each configuration runs ``--repeats`` times, interleaved, and the best rate of each is kept,
so that a load spike from other processes does not land on one configuration only; the spread of
each (slowest over fastest round) is printed last, since the runs, which write and fsync their
manifests, vary more from round to round than the bare loop does. Beside
the wall-clock ratio, (b)/(a) is also given in CPU time of the process (the bare loop and
the 1-worker run are single-threaded apart from the group-commit thread), which a loaded
machine disturbs less; and for (c) the parent's CPU time per input, what the parent takes
from the cores the workers need (scaling is bounded by about 1 + its idle share).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import crossaug
from crossaug import Sample, Seeder

BASE = ["The birch canoe slid on the smooth planks.", "Glue the sheet to the dark blue background.",
        "It's easy to tell the depth of a well.", "These days a chicken leg is a rare dish."]
PARAMS = {"typo": {"rate": 0.05}, "eda": {}}


def bare_loop(name: str, texts: list[str], n: int) -> tuple[float, float]:
    """Inputs/second (wall, CPU) of the recipe's augmentation alone, with the runner's per-sample streams."""
    aug = crossaug.create("recipe", name, n=n, **PARAMS.get(name, {})).augmentation
    seeder = Seeder(0)
    start, cpu = time.perf_counter(), time.process_time()
    for i, text in enumerate(texts):
        s = Sample(f"in-{i + 1}", {"text": text})  # the ids the runner gives the lines of in.txt
        for k in range(n):
            aug.augment(s, seeder.rng("augment", s.id, k))
    return len(texts) / (time.perf_counter() - start), len(texts) / (time.process_time() - cpu)


def shares(summary: dict, name: str) -> str:
    t = {k: v["seconds"] for k, v in summary["timings"].items()}
    rng = t.get("runner:rng", 0.0)
    stages = {"rng": rng, "augmentation": t.get(f"recipe:{name}", 0.0) - rng,
              "serialisation": t.get("runner:serialise", 0.0), "I/O": t.get("runner:io", 0.0)}
    wall = summary["seconds"] * summary["workers"] if summary["workers"] == 1 else sum(stages.values())
    stages["other"] = max(0.0, wall - sum(stages.values()))
    total = sum(stages.values()) or 1.0
    return ", ".join(f"{k} {100 * v / total:.1f}%" for k, v in stages.items())


def _spin(n: int) -> int:
    total = 0
    for i in range(n):
        total += i
    return total


def machine_ceiling(n: int = 3_000_000) -> float:
    """Speed-up of 2 processes over 1 on a pure-Python loop, now: what 2 workers can reach at best
    here (2.0 on 2 idle cores; less when other processes or a shared physical core take cycles)."""
    from concurrent.futures import ProcessPoolExecutor

    start = time.perf_counter()
    _spin(n)
    _spin(n)
    one = time.perf_counter() - start
    with ProcessPoolExecutor(2) as ex:
        list(ex.map(_spin, [10, 10]))
        start = time.perf_counter()
        list(ex.map(_spin, [n, n]))
        two = time.perf_counter() - start
    return one / two


def clear_text_caches() -> None:
    """Per-text caches (EDA's language check, protected spans and words): no configuration inherits another's."""
    try:
        from crossaug_text.eda import clear_per_text_caches
    except ImportError:
        return
    clear_per_text_caches()


def measure(name: str, texts: list[str], data: Path, tmp: Path, n: int, repeats: int,
            batch_size: int | None) -> dict:
    """Best rate of each of (a), (b), (c) over ``repeats`` interleaved rounds (load spikes hit all three)."""
    best: dict = {"bare": 0.0, "bare_cpu": 0.0, 1: 0.0, "1_cpu": 0.0, 2: 0.0, "parent_us": 0.0,
                  "rounds": {"bare": [], 1: [], 2: []}}
    bare_loop(name, texts[:50], n)  # warm up: lazy resources (WordNet, language id) load here, not in (a)
    for _ in range(repeats):
        clear_text_caches()
        wall, cpu = bare_loop(name, texts, n)
        best["bare"], best["bare_cpu"] = max(best["bare"], wall), max(best["bare_cpu"], cpu)
        best["rounds"]["bare"].append(wall)
        for workers in (1, 2):
            clear_text_caches()
            start, cpu = time.perf_counter(), time.process_time()
            res = crossaug.run(name, data, tmp / f"{name}-w{workers}-{time.time_ns()}",
                               params={"n": n, **PARAMS[name]}, workers=workers, batch_size=batch_size,
                               report=False)
            rate = len(texts) / (time.perf_counter() - start)
            cpu = time.process_time() - cpu
            best["rounds"][workers].append(rate)
            if workers == 1:
                best["1_cpu"] = max(best["1_cpu"], len(texts) / cpu)
            if rate > best[workers]:
                best[workers], best[f"summary{workers}"] = rate, res.summary
                if workers == 2:
                    best["parent_us"] = 1e6 * cpu / len(texts)
    return best


def stages(name: str, data: Path, tmp: Path, n: int, rounds: int = 5, batch: int = 256) -> dict[str, float]:
    """The runner's own work per input, stage by stage, each timed alone (best of ``rounds``), as a
    run over a ``.txt`` file does it: finding each batch's lines (the parent), reading and decoding
    them into samples, the recipe itself (streams included), the manifest lines with their counts
    and id checks, and appending and committing a batch's lines (``commit_interval=0``: one write
    and fsync per batch). CPU work timed alone varies far less between runs than a whole run does,
    so these show what a change to one stage saved."""
    from crossaug.io.text_lines import line_batches
    from crossaug.runner.blocks import input_block
    from crossaug.runner.manifest import Manifest
    from crossaug.runner.summary import Tally

    recipe = crossaug.create("recipe", name, n=n, **PARAMS.get(name, {}))
    required = recipe.required_fields()
    box: dict[str, Any] = {}

    def find() -> None:
        box["ranges"] = list(line_batches(data, lambda: batch))

    def decode() -> None:
        box["samples"] = [s for r in box["ranges"] for s in r.decoded(required)[1]]

    def process() -> None:  # input by input, each input's outputs dropped at once, as in a run
        samples, one = box["samples"], recipe._one_input()
        for k in range(0, len(samples), batch):
            seeder = Seeder(0)
            for sample in samples[k:k + batch]:
                one(sample, seeder)

    def encode() -> None:
        t = Tally()
        box["blocks"] = [input_block(g, s, name, tmp, t) for g, s in zip(box["groups"], box["samples"])]

    def commit() -> None:
        out = tmp / f"stages-{time.time_ns()}"
        out.mkdir()
        manifest = Manifest(out, 0)
        manifest.open(resume=False)
        ids, blocks = [s.id for s in box["samples"]], box["blocks"]
        for k in range(0, len(ids), batch):
            manifest.append(ids[k:k + batch], b"".join(blocks[k:k + batch]))
        manifest.close()

    find()
    decode()
    assert all(s is not None for s in box["samples"]), "the benchmark's lines all decode the short way"
    box["groups"] = recipe.process(box["samples"], Seeder(0), checked=True)  # kept for the later stages
    timings: dict[str, float] = {}
    for label, fn in (("find lines", find), ("read+decode", decode), ("recipe", process),
                      ("lines+tally", encode), ("append+commit", commit)):
        best = float("inf")
        for _ in range(rounds):
            clear_text_caches()
            start = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - start)
        timings[label] = 1e6 * best / len(box["samples"])
    return timings


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--inputs", type=int, default=20000)
    ap.add_argument("--n", type=int, default=2, help="outputs per input")
    ap.add_argument("--recipes", default="typo,eda")
    ap.add_argument("--repeats", type=int, default=2, help="interleaved rounds; the best of each is kept")
    ap.add_argument("--quick", action="store_true", help="3,000 inputs, one round")
    ap.add_argument("--stages", action="store_true",
                    help="also time the runner's own stages alone (us per input; steadier than whole runs)")
    ap.add_argument("--batch-size", default="auto",
                    help="inputs per batch, or 'auto' (the runner's default: sized from the time per input)")
    args = ap.parse_args()
    if args.quick:
        args.inputs, args.repeats = 3000, 1
    os.environ["CROSSAUG_NO_PROGRESS"] = "1"
    load = open("/proc/loadavg").read().split()[:3] if os.path.exists("/proc/loadavg") else ["?"]
    batch_size = None if args.batch_size == "auto" else int(args.batch_size)
    print(f"inputs: {args.inputs}, outputs per input: {args.n}, batch size: {args.batch_size}, "
          f"cores: {os.cpu_count()}, load average: {' '.join(load)}")
    texts = [f"{BASE[i % len(BASE)]} {i}" for i in range(args.inputs)]
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "in.txt"
        data.write_text("\n".join(texts) + "\n")
        for name in args.recipes.split(","):
            r = measure(name, texts, data, Path(tmp), args.n, args.repeats, batch_size)
            print(f"\n## {name} (best of {args.repeats} interleaved rounds)")
            print(f"bare loop              {r['bare']:9.0f} inputs/s")
            print(f"crossaug.run 1 worker  {r[1]:9.0f} inputs/s   ratio to bare loop: {r[1] / r['bare']:.2f} "
                  f"(in CPU time: {r['1_cpu'] / r['bare_cpu']:.2f})")
            print(f"crossaug.run 2 workers {r[2]:9.0f} inputs/s   ratio 2/1 workers:  {r[2] / r[1]:.2f} "
                  f"(parent CPU {r['parent_us']:.1f} us per input; 1 worker took {1e6 / r[1]:.1f} us per input)")
            print(f"machine ceiling now:    2 processes on a pure-Python loop run {machine_ceiling():.2f}x one "
                  "(compare the 2/1 ratio with it)")
            print(f"time shares, 1 worker:  {shares(r['summary1'], name)}")
            print(f"time shares, 2 workers: {shares(r['summary2'], name)} (worker time summed)")
            print(f"batch size: 1 worker {r['summary1']['batch_size']}, 2 workers {r['summary2']['batch_size']}")
            if args.stages:
                st = stages(name, data, Path(tmp), args.n)
                own = sum(v for k, v in st.items() if k != "recipe")
                print("stages alone, us per input: " + ", ".join(f"{k} {v:.1f}" for k, v in st.items())
                      + f"; the runner's own {own:.1f}, so a 1-worker run reaches at most "
                      f"{1e6 / (r['bare'] * (st['recipe'] + own)):.2f} of the bare loop's rate")
            print("spread over rounds (slowest / fastest rate): " + ", ".join(
                f"{k if k == 'bare' else f'{k} worker' + ('s' if k == 2 else '')} {min(v) / max(v):.2f}"
                for k, v in r["rounds"].items()) + " (ratios within this much of a target are not settled by one run)")


if __name__ == "__main__":
    main()
