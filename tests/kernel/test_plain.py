"""``crossaug.augment`` on plain values, Augmentations called on raw payloads, and the runner's id check."""

from __future__ import annotations

import sys
from pathlib import Path

import crossaug
import numpy as np
import pytest
from crossaug import ConfigError, Sample
from crossaug.builtin.typo import Typo
from crossaug.recipe import Recipe

TEXTS = ["the cat sat on the mat", "a dog barked at the moon"]


def test_augment_texts_matches_the_runner(tmp_path: Path) -> None:
    outs = crossaug.augment(TEXTS, "typo", n=3, seed=5)
    assert [len(o) for o in outs] == [3, 3] and all(isinstance(t, str) for o in outs for t in o)
    res = crossaug.run("typo", TEXTS, tmp_path / "run", seed=5, params={"n": 3}, report=False)
    lines = list(crossaug.read_manifest(res.output_dir))
    assert [[ln["text"] for ln in lines if ln["parent_id"] == str(i)] for i in range(2)] == outs
    assert crossaug.augment(TEXTS, "typo", n=3, seed=5) == outs  # same seed, same outputs
    assert crossaug.augment(TEXTS[0], "typo", n=3, seed=5) == outs[0]  # one input: one list


def test_augment_by_augmentation_name_or_object_and_samples() -> None:
    by_name = crossaug.augment(TEXTS, "text.typo", n=2, seed=1, params={"rate": 0.3})
    by_obj = crossaug.augment(TEXTS, Typo(rate=0.3), n=2, seed=1)
    assert by_name == by_obj and [len(o) for o in by_obj] == [2, 2]
    samples = crossaug.augment(TEXTS, Typo(rate=0.3), n=2, seed=1, return_samples=True)
    assert [s.fields["text"] for s in samples[0]] == by_obj[0]
    assert samples[0][0].parent_id == "0" and samples[0][0].lineage[-1].name == "text.typo"


def test_augment_images_and_audio_arrays_keep_their_form() -> None:
    img = (np.arange(8 * 10 * 3) % 251).astype(np.uint8).reshape(8, 10, 3)
    [flipped] = crossaug.augment(img, "image.flip", seed=0, params={"horizontal": 1.0, "vertical": 0.0})
    assert isinstance(flipped, np.ndarray) and np.array_equal(flipped, img[:, ::-1])
    wave = np.sin(np.arange(8000) / 7.0).astype(np.float32)
    outs = crossaug.augment([wave, wave], "audio.gain", n=2, seed=0, sample_rate=8000)
    assert [len(o) for o in outs] == [2, 2]
    for o in outs[0]:
        assert isinstance(o, np.ndarray) and o.dtype == np.float32 and o.shape == wave.shape
        assert not np.array_equal(o, wave)
    samples = crossaug.augment(wave, "audio.gain", seed=0, sample_rate=8000, return_samples=True)
    assert samples[0].fields["audio"].sample_rate == 8000
    pair = crossaug.augment((wave, 8000), "audio.gain", seed=0)[0]  # (array, rate) in, (array, rate) out
    assert pair[1] == 8000 and np.array_equal(pair[0], samples[0].fields["audio"].samples)
    with pytest.raises(crossaug.BadSample, match="sample_rate"):  # a bare array has no rate
        crossaug.augment([wave], "audio.gain")


def test_augment_errors_name_the_problem() -> None:
    with pytest.raises(ConfigError, match="no parameter 'n'"):
        crossaug.augment(TEXTS, _Echo(), n=2)
    with pytest.raises(ConfigError, match="params= applies"):
        crossaug.augment(TEXTS, Typo(), params={"rate": 0.1})
    with pytest.raises(ConfigError):
        crossaug.augment(TEXTS, 42)


def test_augmentation_called_on_a_payload_with_int_seed_or_generator() -> None:
    aug = Typo(rate=0.4)
    assert aug("hello world", 3) == aug("hello world", np.random.default_rng(3))
    assert isinstance(aug("hello world", 3), str)
    sample = aug("hello world", 3, return_sample=True)
    assert sample.fields["text"] == aug("hello world", 3)
    assert aug.replay(Sample("0", {"text": "hello world"}), sample.lineage[-1].params).fields == sample.fields
    assert aug.augment(Sample("s", {"text": "hello world"}), 3).fields["text"] == aug("hello world", 3)
    batch = aug([Sample("a", {"text": "one two"}), Sample("b", {"text": "three four"})],
                [np.random.default_rng(0), np.random.default_rng(1)])
    assert [s.id for s in batch] == ["a", "b"]
    with pytest.raises(ConfigError, match="Generator"):
        aug("hello", "seed")


def test_import_crossaug_stays_light() -> None:
    import subprocess

    code = ("import sys, crossaug; crossaug.augment(['a b c'], 'text.typo', seed=0); "
            "print(sorted(m for m in ('torch', 'datasets', 'sklearn', 'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


class _Echo(Recipe):
    """A broken recipe: returns its inputs (same ids) or repeats an id."""

    name = "test-echo"

    def __init__(self, repeat: bool = False) -> None:
        self.repeat = repeat

    def process(self, samples, seeder):
        if self.repeat:
            return [[s.replace(id="x"), s.replace(id="x")] for s in samples]
        return [[s] for s in samples]


@pytest.mark.parametrize("repeat, match", [(False, "its parent's id 'r0'"), (True, "output id 'x' twice")])
def test_runner_refuses_outputs_that_reuse_ids(tmp_path: Path, repeat: bool, match: str) -> None:
    rows = [{"id": "r0", "text": "a b"}, {"id": "r1", "text": "c d"}]
    with pytest.raises(ConfigError, match=f"recipe 'test-echo'.*{match}"):
        crossaug.run(_Echo(repeat), rows, tmp_path / "o", on_error="skip", report=False)


def test_existing_output_message_speaks_to_python_callers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "crossaug.cli", raising=False)
    crossaug.run("typo", TEXTS, tmp_path, report=False)
    with pytest.raises(ConfigError, match=r"pass resume=True to continue") as err:
        crossaug.run("typo", TEXTS, tmp_path, report=False)
    assert "--resume" not in str(err.value)
    crossaug.run("typo", TEXTS, tmp_path, report=False, resume=True)  # and resume still works


def test_existing_output_message_speaks_to_cli_users(tmp_path: Path) -> None:
    import subprocess

    exe = Path(sys.executable).parent / "crossaug"
    if not exe.is_file():
        pytest.skip("the crossaug console script is not installed next to this interpreter")
    (tmp_path / "in.txt").write_text("a b c\nd e f\n", encoding="utf-8")
    cmd = [str(exe), "run", "typo", "-i", str(tmp_path / "in.txt"), "-o", str(tmp_path / "o"), "--no-progress"]
    subprocess.run(cmd, capture_output=True, check=True)
    again = subprocess.run(cmd, capture_output=True, text=True)
    assert again.returncode != 0 and "--resume" in again.stderr + again.stdout
    assert "resume=True" not in again.stderr + again.stdout
