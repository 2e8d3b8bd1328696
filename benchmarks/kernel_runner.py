"""Kernel runner overhead and scaling.

Measures, in one run, sentences/second of the `typo` recipe
  (a) as a bare Python loop over `Typo.augment` (the baseline),
  (b) through `crossaug.run` with 1 worker (manifest, fsync'd journal, summary),
  (c) through `crossaug.run` with 2 process workers,
and prints (b)/(a) -- the cost of durability and lineage -- and (c)/(b).

    python benchmarks/kernel_runner.py [--inputs 20000] [--n 2]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import crossaug
from crossaug import Sample, Seeder
from crossaug.builtin.typo import Typo

BASE = ["The birch canoe slid on the smooth planks.", "Glue the sheet to the dark blue background.",
        "It's easy to tell the depth of a well.", "These days a chicken leg is a rare dish."]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--inputs", type=int, default=20000)
    ap.add_argument("--n", type=int, default=2)
    args = ap.parse_args()
    os.environ["CROSSAUG_NO_PROGRESS"] = "1"
    texts = [f"{BASE[i % len(BASE)]} {i}" for i in range(args.inputs)]
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "in.txt"
        data.write_text("\n".join(texts) + "\n")

        typo = Typo(rate=0.05)
        seeder = Seeder(0)
        t = time.perf_counter()
        for i, text in enumerate(texts):
            s = Sample(str(i), {"text": text})
            for k in range(args.n):
                typo.augment(s, seeder.rng("augment", s.id, k))
        bare = args.inputs / (time.perf_counter() - t)

        rates = {}
        for workers in (1, 2):
            t = time.perf_counter()
            crossaug.run("typo", data, Path(tmp) / f"w{workers}", params={"n": args.n, "rate": 0.05},
                         workers=workers, batch_size=64, report=False)
            rates[workers] = args.inputs / (time.perf_counter() - t)
    print(f"inputs: {args.inputs}, outputs per input: {args.n}, cores: {os.cpu_count()}")
    print(f"bare loop            {bare:10.0f} inputs/s")
    print(f"crossaug.run 1 worker {rates[1]:9.0f} inputs/s   ratio to bare loop: {rates[1] / bare:.2f}")
    print(f"crossaug.run 2 workers{rates[2]:9.0f} inputs/s   ratio 2/1 workers: {rates[2] / rates[1]:.2f}")


if __name__ == "__main__":
    main()
