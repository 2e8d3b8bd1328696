"""Device check: every model-backed step on a CUDA GPU in float32 and float16, against the CPU run.

Builds the tiny random models the tests use (nothing is downloaded), runs each model-backed
recipe and transform on the CPU in float32 (the reference) and on the GPU in float32 and
float16, and checks that every output is finite and within tolerance of the reference:

* images: mean absolute pixel difference <= 2/255 in float32 (the reproducibility contract's
  tolerance) and <= 16/255 in float16 (half precision on random weights; ours);
* text: every output a string; the share identical to the CPU's is printed (tiny random
  models turn any rounding difference into another token, so it is reported, not enforced);
* lineage records the dtype the step ran in.

Then it prints batched vs one-at-a-time throughput ratios on the GPU for captioning,
text-to-image, LLM rewrite, translation and ASR. Steps whose plugin or tiny-model builder is
missing are listed as skipped. Without a CUDA GPU it says so and exits 0 (nothing to check);
``--device cpu`` runs the same comparisons CPU against CPU (bfloat16 for the half run), which
checks the script itself.

    scripts/device-check.sh                 # on a CUDA machine
    scripts/device-check.sh --device cpu    # the same checks on the CPU (bfloat16 as the half dtype)
    scripts/device-check.sh --json out.json # also write the figures as JSON
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
IMAGE_TOL = {"float32": 2 / 255, "half": 16 / 255}


def _load(name: str, rel: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, ROOT / rel)
    mod = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


class _Tmp:
    """Stands in for pytest's ``tmp_path_factory`` when calling the tests' model fixtures."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def mktemp(self, name: str) -> Path:
        d = self.root / name
        d.mkdir(parents=True, exist_ok=True)
        return d


def _fixture(module: Any, name: str, tmp: _Tmp) -> Any:
    fn = getattr(module, name)
    fn = fn._get_wrapped_function() if hasattr(fn, "_get_wrapped_function") else getattr(fn, "__wrapped__", fn)
    return fn(tmp)


def build_models(root: Path) -> dict[str, Any]:
    """Tiny random models of every backend that has a builder (missing ones are left out)."""
    tmp = _Tmp(root)
    models: dict[str, Any] = {}
    tiny = _load("device_check_tiny_image", "tests/plugins/image/tiny_models.py")
    models["tiny"] = tiny
    models["sd"] = str(tiny.build_stable_diffusion(root / "sd", sample_size=32))
    models["blip"] = str(tiny.build_blip(root / "blip"))
    for key, rel, names in (("text", "tests/plugins/text/conftest.py", ("tiny_gpt2", "tiny_marian")),
                            ("audio", "tests/plugins/audio/conftest.py", ("tiny_wav2vec2", "tiny_whisper"))):
        try:
            conf = _load(f"device_check_{key}_conftest", rel)
        except Exception as exc:  # noqa: BLE001 - a plugin not installed
            print(f"  {key} models: skipped ({type(exc).__name__}: {exc})")
            continue
        for name in names:
            try:
                models[name] = _fixture(conf, name, tmp)
            except BaseException as exc:  # noqa: BLE001 - pytest.skip raises a BaseException
                print(f"  {name}: skipped ({type(exc).__name__}: {exc})")
    return models


def _image_samples(tiny: Any, n: int) -> list[Any]:
    from crossaug import Sample

    labels = ["cat", "dog", "car", "house"]
    return [Sample(f"i{i}", {"image": tiny.make_image(i, (32, 32))}, label=labels[i % 4]) for i in range(n)]


def _texts(n: int) -> list[Any]:
    from crossaug import Sample

    words = ["a photo of a cat on the grass", "a dog in the snow", "a small red car",
             "the big house with a tree and a beach", "a bright blue car on the beach"]
    return [Sample(f"t{i}", {"text": words[i % len(words)]}, label="cat") for i in range(n)]


def _clips(n: int) -> list[Any]:
    import numpy as np
    from crossaug import Audio, Sample

    out = []
    for i in range(n):  # clips of different lengths, so batching needs padding
        t = np.arange(int(16000 * (0.3 + 0.1 * (i % 4)))) / 16000
        wave = (0.3 * np.sin(2 * np.pi * (220 + 40 * i) * t)).astype(np.float32)
        out.append(Sample(f"a{i}", {"audio": Audio(wave, 16000)}))
    return out


# -- what runs ------------------------------------------------------------------------------
def cases(models: dict[str, Any]) -> list[tuple[str, str, Callable[[str, str], Any], Callable[[], list[Any]]]]:
    """(name, output field, build(device, dtype) -> callable(samples), samples) per model-backed step."""
    from crossaug import Seeder, create

    tiny = models["tiny"]
    t2i = {"num_inference_steps": 4, "guidance_scale": 2.0, "height": 32, "width": 32}
    cap = {"max_new_tokens": 6, "min_new_tokens": 3}
    out: list[tuple[str, str, Callable[[str, str], Any], Callable[[], list[Any]]]] = []

    def transform(name: str, **params: Any) -> Callable[[str, str], Any]:
        def build(device: str, dtype: str) -> Any:
            step = create("transform", name, device=device, dtype=dtype, **params)
            return lambda samples: step(samples, list(range(len(samples))))
        return build

    def recipe(name: str, **params: Any) -> Callable[[str, str], Any]:
        def build(device: str, dtype: str) -> Any:
            r = create("recipe", name, device=device, dtype=dtype, **params)

            def call(samples: list[Any]) -> list[Any]:
                if r.requires_fit:
                    r.fit(samples)
                return [c for group in r.process(samples, Seeder(0)) for c in group if c.kept]
            return call
        return build

    out.append(("text-to-image", "image", transform("image.text-to-image.diffusers", model=models["sd"], **t2i),
                lambda: _texts(4)))
    out.append(("captioning", "text", transform("image.caption.blip", model=models["blip"], **cap),
                lambda: _image_samples(tiny, 4)))
    out.append(("back-captioning", "image", recipe("back-captioning", caption_model=models["blip"],
                                                   caption_params=cap, rewriter="text.typo",
                                                   image_model=models["sd"], image_params=t2i, l=2, m=1, n=2,
                                                   keep=3), lambda: _image_samples(tiny, 2)))
    out.append(("back-imagination", "text", recipe("back-imagination", image_model=models["sd"], image_params=t2i,
                                                   caption_model=models["blip"], caption_params=cap, n=2, l=1,
                                                   keep=2, max_retries=0), lambda: _texts(2)))
    out.append(("diff-ii", "image", recipe("diff-ii", model=models["sd"], expansion=1, steps=4, inversion_steps=4,
                                           guidance_scale=2.0, resolution=32, concept_steps=2,
                                           concept_batch_size=2, suffixes=["on the grass"], use_cache=False),
                lambda: _image_samples(tiny, 3)))
    if "tiny_gpt2" in models:
        def rewrite(device: str, dtype: str) -> Any:
            import numpy as np

            aug = create("augmentation", "text.llm-rewrite", model=models["tiny_gpt2"], max_new_tokens=6,
                         device=device, dtype=dtype)
            return lambda samples: aug(samples, [np.random.default_rng(i) for i in range(len(samples))])
        out.append(("llm-rewrite", "text", rewrite, lambda: _texts(8)))
    if "tiny_marian" in models:
        out.append(("translation", "text.de", transform("text.translate", model=models["tiny_marian"][0],
                                                        out_field="text.de", max_new_tokens=8),
                    lambda: _texts(8)))
    for key, name, params in (("tiny_wav2vec2", "audio.asr.wav2vec2", {}),
                              ("tiny_whisper", "audio.asr.whisper", {"language": None, "task": None,
                                                                     "max_new_tokens": 5})):
        if key in models:
            out.append((f"asr ({name.rsplit('.', 1)[1]})", "text", transform(name, model=models[key], **params),
                        lambda: _clips(8)))
    return out


# -- checks ---------------------------------------------------------------------------------
def _payload_check(field: str, value: Any) -> tuple[bool, Any]:
    import numpy as np

    if isinstance(value, str):  # a tiny random model may well decode to nothing: a string is enough
        return True, value
    arr = np.asarray(value, dtype=np.float64)
    return bool(np.isfinite(arr).all() and arr.std() > 0), arr


def compare(name: str, field: str, build: Callable[[str, str], Any], samples: Callable[[], list[Any]],
            device: str, half: str) -> dict[str, Any]:
    """Run on CPU float32 (reference), then on ``device`` in float32 and ``half``."""
    import numpy as np

    try:
        ref = build("cpu", "float32")(samples())
    except Exception as exc:  # noqa: BLE001 - reported per step
        traceback.print_exc()
        return {"name": name, "n": 0, "runs": {"cpu float32": {"ok": False, "error": f"{type(exc).__name__}: {exc}"}}}
    result: dict[str, Any] = {"name": name, "n": len(ref), "runs": {}}
    for dtype in ("float32", half):
        try:
            outs = build(device, dtype)(samples())
        except Exception as exc:  # noqa: BLE001 - reported per step
            result["runs"][dtype] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
            traceback.print_exc()
            continue
        run: dict[str, Any] = {"ok": True, "n": len(outs)}
        diffs, same = [], 0
        for a, b in zip(ref, outs):
            ok, pb = _payload_check(field, b[field])
            if not ok:
                run.update(ok=False, error=f"output {b.id} is not finite/non-constant (or empty)")
            _, pa = _payload_check(field, a[field])
            if isinstance(pa, str):
                same += pa == pb
            elif pa.shape == pb.shape:
                diffs.append(float(np.abs(pa - pb).mean()) / 255)
        recorded = {str(next((st.runtime or {}).get("dtype") for st in reversed(c.lineage) if st.runtime))
                    for c in outs if any(st.runtime for st in c.lineage)}
        run["lineage_dtypes"] = sorted(recorded)
        if diffs:
            run["mean_abs_diff"] = round(max(diffs), 5)
            tol = IMAGE_TOL["float32" if dtype == "float32" else "half"]
            if max(diffs) > tol:
                run.update(ok=False, error=f"mean |pixel diff| {max(diffs):.4f} > {tol:.4f} vs CPU float32")
        elif ref and isinstance(_payload_check(field, ref[0][field])[1], str):
            run["same_as_cpu"] = f"{same}/{min(len(ref), len(outs))}"
        result["runs"][dtype] = run
    return result


def throughput(name: str, build: Callable[[str, str], Any], samples: Callable[[], list[Any]], device: str,
               dtype: str, repeat: int = 2) -> dict[str, float]:
    """Items per second batched vs one at a time (best of ``repeat``)."""
    import torch

    step = build(device, dtype)
    items = samples()
    step(items[:1])  # warm-up: loads the model

    def rate(fn: Callable[[], Any]) -> float:
        best = float("inf")
        for _ in range(repeat):
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            fn()
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            best = min(best, time.perf_counter() - t0)
        return len(items) / best

    batched = rate(lambda: step(items))
    single = rate(lambda: [step([x]) for x in items])
    return {"batched_per_s": round(batched, 2), "single_per_s": round(single, 2), "ratio": round(batched / single, 2)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda", help="device to check against the CPU (default cuda)")
    ap.add_argument("--json", help="write the figures to this JSON file")
    ap.add_argument("--only", nargs="*", help="names of the steps to run (default: all)")
    args = ap.parse_args(argv)
    try:
        import torch
    except ImportError:
        print("device check skipped: torch is not installed (pip install 'crossaug[image]')")
        return 0
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print(f"device check skipped: no CUDA GPU on this machine (torch {torch.__version__}, "
              f"torch.cuda.is_available() is False). Run it where a GPU is, or pass --device cpu to check "
              f"the script itself.")
        return 0
    for lib in ("diffusers", "transformers"):  # no progress bars between the figures
        try:
            importlib.import_module(f"{lib}.utils.logging").disable_progress_bar()
            importlib.import_module(f"{lib}.utils.logging").set_verbosity_error()
        except (ImportError, AttributeError):
            pass
    half = "float16" if args.device.startswith("cuda") else "bfloat16"
    where = torch.cuda.get_device_name(0) if args.device.startswith("cuda") else "cpu"
    print(f"device check on {args.device} ({where}), half dtype {half}; reference: cpu float32")
    failures = 0
    report: dict[str, Any] = {"device": where, "half": half, "steps": [], "throughput": {}}
    with tempfile.TemporaryDirectory() as tmp:
        models = build_models(Path(tmp))
        todo = [c for c in cases(models) if not args.only or c[0] in args.only]
        for name, field, build, samples in todo:
            res = compare(name, field, build, samples, args.device, half)
            report["steps"].append(res)
            for dtype, run in res["runs"].items():
                failures += not run["ok"]
                extra = (f"mean |diff| {run['mean_abs_diff']:.4f}" if "mean_abs_diff" in run
                         else f"same as cpu {run.get('same_as_cpu', '-')}")
                status = "ok  " if run["ok"] else "FAIL"
                print(f"  {status} {name:22s} {dtype:9s} {extra:24s} lineage dtype {run.get('lineage_dtypes')}"
                      + ("" if run["ok"] else f"  <- {run['error']}"))
        print("batched vs one at a time on", args.device, f"({half})")
        for name, _, build, samples in todo:
            if name.startswith(("captioning", "text-to-image", "llm-rewrite", "translation", "asr")):
                try:
                    r = throughput(name, build, samples, args.device, half)
                except Exception as exc:  # noqa: BLE001 - reported per step
                    print(f"  {name:22s} FAIL {type(exc).__name__}: {exc}")
                    failures += 1
                    continue
                report["throughput"][name] = r
                print(f"  {name:22s} batched {r['batched_per_s']:9.2f}/s  one at a time {r['single_per_s']:9.2f}/s  "
                      f"ratio {r['ratio']:.2f}x")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print("device check:", "all finite and within tolerance" if not failures else f"{failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
