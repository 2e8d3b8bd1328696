"""Scaling out: 1 vs 2 local workers vs Ray, and peak memory as the dataset grows.

In one run, for the `eda` recipe (text plugin; falls back to the kernel's `typo`
if `eda` is not installed) and the `back-speech` recipe (audio plugin; skipped
with a message if absent or if its offline backends are missing), measures
inputs/second through `crossaug.run` with
  (a) 1 worker (serial), (b) 2 process workers, (c) 2 Ray actors on a local Ray,
and prints (b)/(a) and (c)/(a). A warm-up run first loads imports and models in
this process (forked local workers inherit them). Ray's own start-up (once per
session) is timed apart; fresh Ray actors import and load models on every run, so
that fixed cost is measured with a small run and a steady-state rate is shown too.

Then runs the `typo` recipe over S and L text inputs in fresh subprocesses and
prints each one's peak RSS and the ratio L/S (streaming: should stay near 1).

    python benchmarks/scale.py [--inputs 2000] [--speech-inputs 4] [--rss-sizes 10000 100000]
                               [--no-ray] [--no-rss] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import crossaug
from crossaug import registry
from crossaug.errors import CrossaugError

SENTENCES = ["The birch canoe slid on the smooth planks.", "Glue the sheet to the dark blue background.",
             "It's easy to tell the depth of a well.", "These days a chicken leg is a rare dish.",
             "Rice is often served in round bowls.", "The juice of lemons makes fine punch.",
             "The box was thrown beside the parked truck.", "Four hours of steady work faced us."]

RSS_CHILD = """
import json, resource, sys
import crossaug
res = crossaug.run("typo", sys.argv[1], sys.argv[2], batch_size=64, report=False)
print(json.dumps({"inputs": res.summary["inputs"], "seconds": res.summary["seconds"],
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def write_inputs(path: Path, n: int) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            fh.write(json.dumps({"id": f"r{i}", "text": f"{SENTENCES[i % len(SENTENCES)]} ({i})"}) + "\n")
    return path


def build(name: str, params: dict[str, Any]) -> Any:
    try:
        return registry.create("recipe", name, **params)
    except CrossaugError as exc:
        print(f"  {name}: not available ({exc}); skipped")
        return None


def timed_run(recipe_name: str, params: dict[str, Any], data: Path, out: Path, executor: str, workers: int,
              batch_size: int, limit: int | None = None) -> tuple[float, Any]:
    t = time.perf_counter()
    res = crossaug.run(recipe_name, data, out, params=params, executor=executor, workers=workers,
                       batch_size=batch_size, report=False, on_error="skip", limit=limit)
    return time.perf_counter() - t, res


def throughput(recipe_name: str, params: dict[str, Any], data: Path, n: int, tmp: Path, workers: int,
               use_ray: bool, batch_size: int) -> None:
    print(f"\n== {recipe_name} ({n} inputs, batch size {batch_size})")
    if build(recipe_name, params) is None:
        return
    try:  # warm-up in this process: imports and models; forked local workers inherit them
        timed_run(recipe_name, params, data, tmp / f"{recipe_name}-warm", "serial", 1, batch_size, batch_size)
    except CrossaugError as exc:
        print(f"  not runnable here ({exc}); skipped")
        return
    setups = [("1 worker", "serial", 1), (f"{workers} processes", "process", workers)]
    if use_ray:
        setups.append((f"{workers} Ray actors", "ray", workers))
    rates: dict[str, float] = {}
    manifests: dict[str, bytes] = {}
    for label, executor, w in setups:
        seconds, res = timed_run(recipe_name, params, data, tmp / f"{recipe_name}-{executor}", executor, w,
                                 batch_size)
        rates[label] = n / seconds
        manifests[label] = res.manifest_path.read_bytes()
        reasons = res.summary["rejection_reasons"]
        print(f"  {label:16s} {rates[label]:9.2f} inputs/s   kept {res.summary['kept']}, "
              f"rejected {res.summary['rejected']}{' ' + str(reasons) if reasons else ''}")
        if executor == "ray":  # fresh actors import and load models: measure that fixed cost apart
            small = min(n - 1, w * batch_size)
            if small > 0:
                fixed, _ = timed_run(recipe_name, params, data, tmp / f"{recipe_name}-ray-small", executor, w,
                                     batch_size, small)
                if seconds > fixed * 1.1:
                    steady = (n - small) / (seconds - fixed)
                    rates[f"{label}, steady"] = steady
                    print(f"  {'':16s} {steady:9.2f} inputs/s   after actor start-up + model load "
                          f"(~{fixed:.1f} s per run, from a {small}-input run)")
                else:
                    print(f"  {'':16s} actor start-up + model load (~{fixed:.1f} s, from a {small}-input run) "
                          "is most of this run: raise --inputs to see the steady rate")
    base = rates["1 worker"]
    for label, rate in rates.items():
        if label != "1 worker":
            key = label.split(",")[0]
            same = "identical" if manifests[key] == manifests["1 worker"] else "DIFFERENT"
            print(f"  ratio {label} / 1 worker: {rate / base:.2f}   (manifest {same})")


def peak_rss(sizes: list[int], tmp: Path) -> None:
    print(f"\n== peak RSS, typo recipe, serial executor, {' vs '.join(map(str, sizes))} inputs")
    peaks = []
    for n in sizes:
        data = write_inputs(tmp / f"rss-{n}.jsonl", n)
        out = subprocess.run([sys.executable, "-c", RSS_CHILD, str(data), str(tmp / f"rss-out-{n}")],
                             capture_output=True, text=True, check=True)
        info = json.loads(out.stdout.strip().splitlines()[-1])
        peaks.append(info["peak_mib"])
        print(f"  {n:8d} inputs: peak RSS {info['peak_mib']:7.1f} MiB  ({info['seconds']:.1f} s)")
    print(f"  ratio {sizes[-1]} / {sizes[0]} inputs: {peaks[-1] / peaks[0]:.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--inputs", type=int, default=2000, help="text inputs for the EDA throughput runs")
    ap.add_argument("--speech-inputs", type=int, default=4, help="inputs for the back-speech runs")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rss-sizes", type=int, nargs=2, default=[5000, 50000], metavar=("S", "L"))
    ap.add_argument("--no-ray", action="store_true")
    ap.add_argument("--no-rss", action="store_true")
    args = ap.parse_args()
    os.environ["CROSSAUG_NO_PROGRESS"] = "1"
    print(f"cores: {os.cpu_count()}, workers: {args.workers}")

    use_ray = not args.no_ray
    if use_ray:
        try:
            import ray
        except ImportError:
            print("ray is not installed (pip install 'crossaug[ray]'): Ray runs skipped")
            use_ray = False
        else:
            t = time.perf_counter()
            ray.init(num_cpus=args.workers, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
            print(f"local Ray started in {time.perf_counter() - t:.1f} s (once; not in the rates below)")

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        text_data = write_inputs(tmp / "text.jsonl", max(1, args.inputs))
        eda = "eda" if "eda" in registry.names("recipe") else "typo"
        if eda != "eda":
            print("eda is not registered (crossaug-text missing): using the kernel's typo recipe")
        throughput(eda, {"num_aug": 4} if eda == "eda" else {"n": 4, "rate": 0.05}, text_data, args.inputs, tmp,
                   args.workers, use_ray, 64)
        if args.speech_inputs < 1:
            pass
        elif "back-speech" in registry.names("recipe"):
            speech_data = write_inputs(tmp / "speech.jsonl", args.speech_inputs)
            throughput("back-speech", {}, speech_data, args.speech_inputs, tmp, args.workers, use_ray, 1)
        else:
            print("\nback-speech is not registered (crossaug-audio missing): skipped")
        if not args.no_rss:
            peak_rss(args.rss_sizes, tmp)
    if use_ray:
        ray.shutdown()


if __name__ == "__main__":
    main()
