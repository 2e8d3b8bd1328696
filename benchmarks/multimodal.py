"""Multimodal plugin throughput: vectorised implementations against straightforward loops, same run.

Sections (pick with --sections):

* ``cmda`` — CMDA Double Cross-Attention weights (eq. 11) and interpolation of new
  student images (eq. 10): the plugin's batched numpy path vs a per-sample Python
  loop over the same candidates, checked equal; prints rows/second and the ratio.
* ``stylegan2`` — StyleGAN2 generator images/second on CPU (section owned by the
  paired-StyleGAN2 implementation; see ``bench_stylegan2``).

    .venv/bin/python benchmarks/multimodal.py                    # quick (< 1 min)
    .venv/bin/python benchmarks/multimodal.py --sections cmda --anchors 2000 --n-mix 16
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any

import numpy as np


def _best_of(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


# -- CMDA ------------------------------------------------------------------------
def bench_cmda(args: argparse.Namespace) -> dict[str, Any]:
    """CMDA weights and interpolation: batched numpy vs per-sample loops."""
    from crossaug_multimodal.cmda.interpolation import draw_candidates, generate, generate_loop
    from crossaug_multimodal.cmda.weights import double_cross_attention, double_cross_attention_loop

    rng = np.random.default_rng(0)
    n, d = args.pool, args.dim
    teacher = rng.normal(size=(n, d))
    teacher /= np.linalg.norm(teacher, axis=1, keepdims=True)
    student = teacher + 0.3 * rng.normal(size=(n, d))
    student /= np.linalg.norm(student, axis=1, keepdims=True)
    clusters = rng.integers(0, args.clusters, size=n)
    images = rng.integers(0, 256, size=(n, args.image, args.image, 3)).astype(np.uint8)
    anchors = np.arange(args.anchors) % n
    idx = draw_candidates(clusters[anchors], clusters, 1, args.n_mix, np.random.default_rng(1), exclude=anchors)
    mask = idx >= 0
    safe = np.where(mask, idx, 0)
    t = np.concatenate([teacher[anchors][:, None, :], teacher[safe]], axis=1)
    t_mask = np.concatenate([np.ones((len(anchors), 1), bool), mask], axis=1)
    s = student[safe]
    rows = len(anchors)

    # weights: one (1 + m) x m double cross-attention per anchor
    vec_s, w_vec = _best_of(lambda: double_cross_attention(t, s, args.tau, teacher_mask=t_mask, student_mask=mask),
                            args.repeat)

    def loop_weights() -> list[list[float]]:
        out = []
        for r in range(rows):
            keep = mask[r]
            out.append(double_cross_attention_loop(t[r][np.concatenate([[True], keep])], s[r][keep], args.tau)[0])
        return out

    loop_s, w_loop = _best_of(loop_weights, 1)
    max_diff = max(float(np.abs(np.array(w_loop[r]) - w_vec[r, 0, :len(w_loop[r])]).max()) for r in range(rows))

    # interpolation: weights + combination of raw images, end to end
    gen_s, gen = _best_of(lambda: generate(teacher[anchors], teacher, student, images, clusters, 1,
                                           np.random.default_rng(1), n_mix=args.n_mix, tau=args.tau,
                                           anchor_clusters=clusters[anchors], exclude=anchors), args.repeat)
    gen_loop_s, gen_loop = _best_of(lambda: generate_loop(teacher[anchors], teacher, student, images,
                                                          gen.contributors, tau=args.tau), 1)
    equal = all(np.array_equal(a, b) for a, b in zip(gen.values, gen_loop, strict=True))
    result = {
        "rows": rows, "n_mix": args.n_mix, "dim": d, "image": f"{args.image}x{args.image}x3",
        "weights_rows_per_s": {"batched": rows / vec_s, "loop": rows / loop_s},
        "weights_ratio": loop_s / vec_s, "weights_max_abs_diff": max_diff,
        "interpolation_samples_per_s": {"batched": rows / gen_s, "loop": rows / gen_loop_s},
        "interpolation_ratio": gen_loop_s / gen_s, "interpolation_equal": equal,
    }
    print(f"CMDA weights (eq. 11), {rows} anchors x {args.n_mix} candidates, d={d}:")
    print(f"  batched {rows / vec_s:12.0f} rows/s   loop {rows / loop_s:10.0f} rows/s   "
          f"ratio {loop_s / vec_s:7.1f}x   max |diff| {max_diff:.1e}")
    print(f"CMDA interpolation (eq. 10) of {args.image}x{args.image} RGB images:")
    print(f"  batched {rows / gen_s:12.0f} img/s    loop {rows / gen_loop_s:10.0f} img/s    "
          f"ratio {gen_loop_s / gen_s:7.1f}x   identical: {equal}")
    return result


# -- StyleGAN2 -------------------------------------------------------------------
def bench_stylegan2(args: argparse.Namespace) -> dict[str, Any] | None:
    """StyleGAN2 generator images/second on CPU (filled in with the paired-StyleGAN2 implementation)."""
    print("StyleGAN2: section not implemented yet")
    return None


SECTIONS: dict[str, Callable[[argparse.Namespace], dict[str, Any] | None]] = {
    "cmda": bench_cmda,
    "stylegan2": bench_stylegan2,
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sections", default=",".join(SECTIONS), help=f"comma-separated, of {', '.join(SECTIONS)}")
    ap.add_argument("--anchors", type=int, default=300, help="CMDA: new samples (one per anchor)")
    ap.add_argument("--pool", type=int, default=1000, help="CMDA: fitted pairs")
    ap.add_argument("--clusters", type=int, default=10, help="CMDA: teacher clusters")
    ap.add_argument("--n-mix", type=int, default=8, help="CMDA: candidates combined per sample")
    ap.add_argument("--dim", type=int, default=64, help="CMDA: latent size")
    ap.add_argument("--image", type=int, default=32, help="CMDA: image side in pixels")
    ap.add_argument("--tau", type=float, default=0.1)
    ap.add_argument("--repeat", type=int, default=3, help="best of N for the batched paths")
    ap.add_argument("--json", default=None, help="also write the results to this JSON file")
    args = ap.parse_args(argv)
    results = {}
    for name in args.sections.split(","):
        if name not in SECTIONS:
            ap.error(f"unknown section {name!r}; choose from {', '.join(SECTIONS)}")
        results[name] = SECTIONS[name](args)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(results, fh, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
