"""Throughput of the image plugin's model-backed transforms: batched vs one at a time.

Measures images per second of text-to-image (``image.text-to-image.diffusers``)
and captioning (``image.caption.blip`` or ``image.caption.vision-encoder-decoder``)
when the transform receives the whole list (batched, ``batch_size`` items per
forward pass) and when it is called once per item, on the same models in the same
run, and prints the ratio; then counts the text-to-image generations back-captioning makes
per input (l = m = n = 2, k = 5, no filter after G: 5, where it used to make all 8) and its
seconds per input with and without that pre-selection. By default tiny random models are built in a temporary
directory (CPU, seconds); pass real models to measure them (e.g. on a GPU):

    python benchmarks/image_pipeline.py
    python benchmarks/image_pipeline.py --image-model stable-diffusion-v1-5/stable-diffusion-v1-5 \\
        --caption-model Salesforce/blip-image-captioning-base --device cuda --n 16 --batch-size 8 --steps 25
    python benchmarks/image_pipeline.py --model /path/to/sd --caption-model /path/to/blip  # --model = image model
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _tiny_models() -> Any:
    spec = importlib.util.spec_from_file_location("tiny_models", ROOT / "tests/plugins/image/tiny_models.py")
    mod = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


def _rate(fn: Callable[[], Any], n: int, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return n / best


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", "--image-model", dest="image_model", help="text-to-image model id or path "
                    "(default: a tiny random Stable Diffusion)")
    ap.add_argument("--caption-model", help="captioning model id or path (default: a tiny random BLIP)")
    ap.add_argument("--captioner", default="image.caption.blip", help="captioning transform name")
    ap.add_argument("--n", type=int, default=8, help="items per measurement")
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--steps", type=int, default=4, help="denoising steps")
    ap.add_argument("--size", type=int, default=None, help="image side in pixels (default: 64 tiny, model's own)")
    ap.add_argument("--max-new-tokens", type=int, default=20)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--dtype", default="auto")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: leave as is)")
    ap.add_argument("--repeat", type=int, default=2, help="timed repetitions (best kept)")
    ap.add_argument("--json", action="store_true", help="print the result as JSON")
    args = ap.parse_args(argv)

    import torch
    from crossaug import Sample, create

    if args.threads:
        torch.set_num_threads(args.threads)
    tmp = tempfile.TemporaryDirectory()
    tiny = None
    image_model, caption_model, size = args.image_model, args.caption_model, args.size
    if image_model is None or caption_model is None:
        tiny = _tiny_models()
    if image_model is None:
        image_model = str(tiny.build_stable_diffusion(Path(tmp.name) / "sd", sample_size=64))
        size = size or 64
    if caption_model is None:
        builder = tiny.build_blip if args.captioner == "image.caption.blip" else tiny.build_vit_gpt2
        caption_model = str(builder(Path(tmp.name) / "cap"))

    t2i = create("transform", "image.text-to-image.diffusers", model=image_model, num_inference_steps=args.steps,
                 height=size, width=size, batch_size=args.batch_size, device=args.device, dtype=args.dtype)
    cap = create("transform", args.captioner, model=caption_model, max_new_tokens=args.max_new_tokens,
                 min_new_tokens=min(5, args.max_new_tokens), batch_size=args.batch_size, device=args.device,
                 dtype=args.dtype)
    prompts = [Sample(f"t{i}", {"text": f"a photo of a {w} on the grass"}, label=w)
               for i, w in zip(range(args.n), ["cat", "dog", "car", "house"] * args.n)]
    seeds = list(range(args.n))
    images = t2i(prompts[:1], seeds[:1])  # warm-up: loads the pipeline
    images = t2i(prompts, seeds)
    samples = [Sample(f"i{i}", {"image": s["image"]}, label=s.label) for i, s in enumerate(images)]
    cap(samples[:1], seeds[:1])  # warm-up

    result: dict[str, Any] = {"device": str(t2i.pipeline.device), "n": args.n, "batch_size": args.batch_size,
                              "image_model": image_model if args.image_model else "tiny-random-sd",
                              "caption_model": caption_model if args.caption_model else "tiny-random"}
    for name, step, items in (("text-to-image", t2i, prompts), ("captioning", cap, samples)):
        batched = _rate(lambda step=step, items=items: step(items, seeds), args.n, args.repeat)
        single = _rate(lambda step=step, items=items: [step([x], [s]) for x, s in zip(items, seeds)], args.n,
                       args.repeat)
        result[name] = {"batched_per_s": round(batched, 3), "single_per_s": round(single, 3),
                        "ratio": round(batched / single, 3)}
    result["back-captioning"] = _back_captioning(caption_model, image_model, size, args)
    tmp.cleanup()
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"device {result['device']}, n={args.n}, batch_size={args.batch_size}")
        for name in ("text-to-image", "captioning"):
            r = result[name]
            print(f"{name:14s} batched {r['batched_per_s']:8.2f} img/s   one-at-a-time {r['single_per_s']:8.2f} "
                  f"img/s   ratio {r['ratio']:.2f}x")
        b = result["back-captioning"]
        print(f"back-captioning l=m=n=2 k=5: {b['generated_per_input']} images generated per input "
              f"(all candidates: {b['generated_per_input_all']}); {b['s_per_input']:.2f} s/input vs "
              f"{b['s_per_input_all']:.2f} s/input generating all, ratio {b['ratio']:.2f}x")
    return result


def _back_captioning(caption_model: str, image_model: str, size: int | None, args: Any) -> dict[str, Any]:
    """Images generated per input and seconds per input, with and without pre-selecting the k kept."""
    from crossaug import BackModality, Sample, Seeder, create
    from crossaug_image.text_to_image.stable_diffusion import StableDiffusionTextToImage

    recipe = create("recipe", "back-captioning", caption_model=caption_model, image_model=image_model,
                    rewriter="text.typo", caption_params={"max_new_tokens": args.max_new_tokens},
                    image_params={"num_inference_steps": args.steps, "height": size, "width": size,
                                  "batch_size": args.batch_size, "dtype": args.dtype},
                    device=args.device, l=2, m=2, n=2, keep=5)
    inputs = [Sample(f"b{i}", {"image": img}, label=lab) for i, (img, lab) in
              enumerate(zip(_colour_images(4), ["cat", "dog", "car", "house"]))]
    made: list[int] = []
    real = StableDiffusionTextToImage.generate

    def counting(self: Any, prompts: Any, seeds: Any) -> Any:
        made.append(len(prompts))
        return real(self, prompts, seeds)

    StableDiffusionTextToImage.generate = counting  # type: ignore[method-assign]
    try:
        recipe.process(inputs[:1], Seeder(0))  # warm-up: loads both models
        made.clear()
        t0 = time.perf_counter()
        recipe.process(inputs, Seeder(0))
        pre, pre_s = sum(made), time.perf_counter() - t0
        made.clear()
        keep_all = BackModality._preselect
        BackModality._preselect = lambda self, *a: ({}, {})  # type: ignore[method-assign]
        try:
            t0 = time.perf_counter()
            recipe.process(inputs, Seeder(0))
            full, full_s = sum(made), time.perf_counter() - t0
        finally:
            BackModality._preselect = keep_all  # type: ignore[method-assign]
    finally:
        StableDiffusionTextToImage.generate = real  # type: ignore[method-assign]
    n = len(inputs)
    return {"generated_per_input": pre / n, "generated_per_input_all": full / n, "s_per_input": pre_s / n,
            "s_per_input_all": full_s / n, "ratio": round(full_s / pre_s, 3)}


def _colour_images(n: int) -> list[Any]:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    return [Image.fromarray(rng.integers(0, 256, (48, 48, 3), dtype=np.uint8), mode="RGB") for _ in range(n)]


if __name__ == "__main__":
    main()
