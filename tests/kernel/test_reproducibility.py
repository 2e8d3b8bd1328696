"""The reproducibility contract: tolerances, strict mode, runtime lineage of model steps, run.json."""

from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from crossaug import Audio, LineageStep, Sample
from crossaug.models import deterministic, strict_mode
from crossaug_testing.contract import outputs_mismatch
from crossaug_testing.tolerance import (
    AUDIO_REL_L2,
    EMBEDDING_MIN_COSINE,
    audio_mismatch,
    embedding_mismatch,
    image_mismatch,
    payload_mismatch,
    record_mismatch,
)
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]


# -- tolerances, each checked against a plain loop and just outside its bound ----------
def _loop_rel_l2(a: list[float], b: list[float]) -> float:
    num = math.sqrt(sum((x - y) ** 2 for x, y in zip(a, b)))
    return num / math.sqrt(sum(x * x for x in a))


def _loop_cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


def test_image_tolerance_is_two_grey_levels_per_channel() -> None:
    base = np.full((4, 5, 3), 100, np.uint8)
    near, far = base.copy(), base.copy()
    near[1, 2, 0] += 2
    far[1, 2, 0] += 3
    assert image_mismatch(Image.fromarray(base), Image.fromarray(near)) is None
    assert "3/255" in image_mismatch(Image.fromarray(base), Image.fromarray(far))
    unit = base.astype(np.float64) / 255
    assert image_mismatch(unit, unit + 2 / 255) is None and image_mismatch(unit, unit + 2 / 255 + 1e-6)
    assert image_mismatch(Image.fromarray(base), Image.fromarray(base).convert("L"))  # modes differ
    assert image_mismatch(base, base[:, :4])  # shapes differ


def test_audio_tolerance_is_relative_l2() -> None:
    rng = np.random.default_rng(0)
    wave = rng.standard_normal(400).astype(np.float64)
    direction = rng.standard_normal(400)
    direction /= np.linalg.norm(direction)
    inside = wave + direction * np.linalg.norm(wave) * AUDIO_REL_L2 * 0.99
    outside = wave + direction * np.linalg.norm(wave) * AUDIO_REL_L2 * 1.01
    assert _loop_rel_l2(list(wave), list(inside)) < AUDIO_REL_L2 < _loop_rel_l2(list(wave), list(outside))
    assert audio_mismatch(Audio(wave.astype(np.float32), 16000), Audio(inside.astype(np.float32), 16000)) is None
    assert "relative L2" in audio_mismatch(Audio(wave, 16000), Audio(outside, 16000))
    assert "sample rates" in audio_mismatch(Audio(wave, 16000), Audio(wave, 22050))


def test_embedding_tolerance_is_cosine() -> None:
    a = np.array([1.0, 0.0, 0.0])
    for angle, ok in ((math.acos(EMBEDDING_MIN_COSINE) * 0.99, True), (math.acos(EMBEDDING_MIN_COSINE) * 1.01, False)):
        b = np.array([math.cos(angle), math.sin(angle), 0.0]) * 3.0  # length does not matter
        assert bool(_loop_cosine(list(a), list(b)) >= EMBEDDING_MIN_COSINE) is ok
        assert (embedding_mismatch(a, b) is None) is ok
        assert (embedding_mismatch(np.stack([a, a]), np.stack([a, b])) is None) is ok  # per row


def test_recorded_numbers_and_dispatch() -> None:
    assert record_mismatch({"score": 0.190616, "n": 2}, {"score": 0.190614, "n": 2}) is None
    assert record_mismatch({"score": 10.0}, {"score": 10.0 + 10.0 * 1.01e-3})
    assert record_mismatch({"grayscale": False}, {"grayscale": 0})  # verdicts stay exact
    assert record_mismatch({"seed": 3}, {"seed": 4}) and record_mismatch(["a"], ["b"])
    assert payload_mismatch("a cat", "a cat") is None and payload_mismatch("a cat", "a dog")
    assert payload_mismatch(np.array([1, 2]), np.array([1, 3]))  # integer arrays: exact
    assert payload_mismatch(np.zeros(3, np.uint8), np.full(3, 2, np.uint8)) is None  # uint8: image


def _out(value: Any, neural: bool, seed: int = 1) -> Sample:
    step = LineageStep("demo.step", kind="transform", seed=seed,
                       runtime={"device": "cpu", "batch_size": 2} if neural else None)
    return Sample("s~0", {"image": Image.fromarray(np.full((2, 2, 3), value, np.uint8))}, lineage=(step,),
                  parent_id="s")


def test_contract_is_exact_without_a_neural_step_and_tolerant_with_one() -> None:
    assert outputs_mismatch(_out(100, False), _out(100, False)) == (None, 0)
    assert outputs_mismatch(_out(100, False), _out(101, False))[0]  # a grey level is a failure here
    assert outputs_mismatch(_out(100, True), _out(101, True)) == (None, 0)
    assert "3/255" in outputs_mismatch(_out(100, True), _out(103, True))[0]
    assert "seed" in outputs_mismatch(_out(100, True, seed=1), _out(100, True, seed=2))[0]


# -- a tiny model step: runtime lineage and strict mode ---------------------------------
@pytest.fixture(scope="module")
def sd_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    pytest.importorskip("diffusers", reason="the tiny text-to-image model needs crossaug-image[diffusers]")
    pytest.importorskip("crossaug_image", reason="the text-to-image transform is in crossaug-image")
    spec = importlib.util.spec_from_file_location("crossaug_repro_tiny_models",
                                                  ROOT / "tests" / "plugins" / "image" / "tiny_models.py")
    tiny = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(tiny)  # type: ignore[union-attr]
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny models run far faster on one thread than on contended ones
    yield str(tiny.build_stable_diffusion(tmp_path_factory.mktemp("sd")))
    torch.set_num_threads(threads)


def _t2i(sd_dir: str, batch_size: int) -> Any:
    from crossaug import create

    return create("transform", "image.text-to-image.diffusers", model=sd_dir, num_inference_steps=2,
                  guidance_scale=1.0, height=32, width=32, device="cpu", batch_size=batch_size)


PROMPTS = [Sample(f"p{i}", {"text": t}) for i, t in enumerate(["a red car", "a small house", "a dog"])]
SEEDS = [1, 2, 3]


@pytest.mark.model
def test_lineage_of_a_model_step_records_device_dtype_batch_and_versions(sd_dir: str) -> None:
    import diffusers
    import torch
    import transformers

    out = _t2i(sd_dir, 2)(PROMPTS, [1, 2, 3])
    runtimes = [o.lineage[-1].runtime for o in out]
    assert [r["batch_size"] for r in runtimes] == [2, 2, 1]  # the batch each output was computed in
    assert all(r["device"] == "cpu" and r["dtype"] == "float32" for r in runtimes)
    assert runtimes[0]["versions"] == {"torch": torch.__version__, "transformers": transformers.__version__,
                                       "diffusers": diffusers.__version__}
    assert json.loads(json.dumps(out[0].lineage[-1].to_dict()))["runtime"]["batch_size"] == 2


@pytest.mark.model
def test_strict_mode_gives_exact_equality_whatever_the_batch_size(sd_dir: str) -> None:
    import torch

    before = torch.are_deterministic_algorithms_enabled()
    with strict_mode():
        assert deterministic() and torch.are_deterministic_algorithms_enabled()
        assert not torch.backends.cuda.matmul.allow_tf32 and not torch.backends.cudnn.allow_tf32
        big = _t2i(sd_dir, 3)(PROMPTS, [1, 2, 3])
        again = _t2i(sd_dir, 3)(PROMPTS, [1, 2, 3])
        one = [_t2i(sd_dir, 1)([p], [s])[0] for p, s in zip(PROMPTS, [1, 2, 3])]
    assert not deterministic() and torch.are_deterministic_algorithms_enabled() == before
    assert [o.lineage[-1].runtime["batch_size"] for o in big] == [1, 1, 1]  # strict: one sample per call
    for x, y, z in zip(big, again, one):
        assert x["image"].tobytes() == y["image"].tobytes() == z["image"].tobytes()
        assert x.lineage[-1].to_dict() == y.lineage[-1].to_dict() == z.lineage[-1].to_dict()


def test_run_json_records_strict_mode_and_device_without_importing_torch(tmp_path: Path) -> None:
    code = ("import sys, json, crossaug\n"
            "from crossaug.builtin.typo import Typo\nfrom crossaug.recipe import Augment\n"
            f"crossaug.run(Augment(Typo(rate=0.1), n=1), ['a b c'], {str(tmp_path / 'o')!r}, report=False,"
            " deterministic=True)\n"
            "assert 'torch' not in sys.modules, 'a text recipe imported torch'\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp_path)
    saved = json.loads((tmp_path / "o" / "run.json").read_text())
    assert saved["deterministic"] is True and saved["device"] == "cpu"


def test_cli_deterministic_flag_reaches_run_json(tmp_path: Path) -> None:
    from crossaug.cli import app
    from typer.testing import CliRunner

    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps({"id": "a", "text": "the quick brown fox"}) + "\n")
    for flag, expected in (("--deterministic", True), (None, False)):
        out = tmp_path / f"o{expected}"
        args = ["run", "typo", "-i", str(data), "-o", str(out), "--no-progress", "--no-report"]
        result = CliRunner().invoke(app, args + ([flag] if flag else []))
        assert result.exit_code == 0, result.output
        assert json.loads((out / "run.json").read_text())["deterministic"] is expected
