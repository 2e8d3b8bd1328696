"""Multimodal plugin throughput: vectorised implementations against straightforward loops, same run.

Sections (pick with --sections):

* ``cmda`` — CMDA Double Cross-Attention weights (eq. 11) and interpolation of new
  student images (eq. 10): the plugin's batched numpy path vs a per-sample Python
  loop over the same candidates, checked equal; prints rows/second and the ratio.
* ``stylegan2`` — StyleGAN2 generator images/second on CPU, one batched call vs one
  image at a time (the ratio), see ``bench_stylegan2``.

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
    """StyleGAN2 generator images/second on CPU: one batched call vs one image at a time.

    Randomly initialised weights (speed does not depend on training). The one-at-a-time
    path is what ``multimodal.text-to-latent-image`` does to keep every image
    independent of the batch bit for bit; the batched path is ``Generator.forward``.
    """
    try:
        import torch
    except ImportError:
        print("StyleGAN2: torch not installed (pip install 'crossaug-multimodal[torch]'); skipped")
        return None
    from crossaug_multimodal.stylegan2.networks import Generator, GeneratorConfig, count_parameters

    if args.sg_threads:
        torch.set_num_threads(args.sg_threads)
    cfg = GeneratorConfig(resolution=args.sg_resolution, img_channels=3, z_dim=args.sg_w_dim, w_dim=args.sg_w_dim,
                          mapping_layers=8, channel_base=args.sg_channel_base, channel_max=args.sg_channel_max)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        g = Generator(cfg).eval()
    n = args.sg_images
    z = torch.randn(n, cfg.z_dim, generator=torch.Generator().manual_seed(1))

    def batched() -> Any:
        with torch.no_grad():
            return g(z, noise_mode="random", generator=torch.Generator().manual_seed(2))

    def one_by_one() -> Any:
        with torch.no_grad():
            return [g(z[i:i + 1], noise_mode="random", generator=torch.Generator().manual_seed(2 + i))
                    for i in range(n)]

    batched()  # warm-up
    b_s, _ = _best_of(batched, args.repeat)
    o_s, _ = _best_of(one_by_one, 1)
    result = {"resolution": cfg.resolution, "parameters": count_parameters(g), "images": n,
              "threads": torch.get_num_threads(),
              "images_per_s": {"batched": n / b_s, "one_at_a_time": n / o_s}, "batched_ratio": o_s / b_s}
    print(f"StyleGAN2 generator {cfg.resolution}x{cfg.resolution} RGB, {count_parameters(g) / 1e6:.2f} M params, "
          f"{torch.get_num_threads()} CPU threads, {n} images:")
    print(f"  batched {n / b_s:10.1f} img/s   one at a time {n / o_s:8.1f} img/s   ratio {o_s / b_s:5.1f}x")
    return result


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
    ap.add_argument("--sg-resolution", type=int, default=32, help="StyleGAN2: output side")
    ap.add_argument("--sg-images", type=int, default=16, help="StyleGAN2: images per measurement")
    ap.add_argument("--sg-w-dim", type=int, default=128, help="StyleGAN2: z and w size")
    ap.add_argument("--sg-channel-base", type=int, default=4096, help="StyleGAN2: channel base")
    ap.add_argument("--sg-channel-max", type=int, default=128, help="StyleGAN2: channel cap")
    ap.add_argument("--sg-threads", type=int, default=0, help="StyleGAN2: torch CPU threads (0: default)")
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
