"""How long ``import crossaug`` (and listing the recipes) takes, against the interpreter's own start.

Each round starts fresh interpreters side by side: (a) ``python -c pass``, (b) ``import json``
(a small standard-library baseline), (c) ``import crossaug`` plus ``registry.names("recipe")``
(entry-point metadata only, no plugin imported), (d) (c) plus loading every plugin's hooks
(what the ``crossaug`` command does before anything else). It prints the best of ``--repeats``
wall times per variant, the differences against (a) -- the time crossaug itself adds -- and
(c)/(b) as a ratio. The design target is that (c) - (a) stays well under a second; the tests
check what can be checked without a clock (no torch, scikit-learn or transformers imported).

    .venv/bin/python benchmarks/import_time.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

VARIANTS = {
    "python -c pass": "pass",
    "import json": "import json",
    "import crossaug + recipe names": "import crossaug\nfrom crossaug import registry\nregistry.names('recipe')",
    "... + every plugin's hooks": "import crossaug\nfrom crossaug import registry\nregistry.names('recipe')\n"
                                  "crossaug.get_plugin_manager()",
}


def wall(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} (1 min); best of {args.repeats} interleaved rounds")
    best = {name: float("inf") for name in VARIANTS}
    for _ in range(args.repeats):
        for name, code in VARIANTS.items():
            best[name] = min(best[name], wall(code))
    base = best["python -c pass"]
    for name, seconds in best.items():
        print(f"  {name:32s} {seconds * 1000:7.0f} ms   (+{(seconds - base) * 1000:5.0f} ms over the interpreter)")
    ratio = (best["import crossaug + recipe names"] - base) / max(best["import json"] - base, 1e-3)
    print(f"import crossaug + names, over the interpreter: {(best['import crossaug + recipe names'] - base):.3f} s"
          f" ({ratio:.0f}x the cost of import json)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
