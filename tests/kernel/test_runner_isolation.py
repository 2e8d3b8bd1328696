"""A batch with failing inputs under on_error=skip: the same lines as one input at a time, less work."""

from __future__ import annotations

from typing import Any, ClassVar

import crossaug
import pytest
from crossaug import BadSample, Sample
from crossaug.augmentation import Augmentation
from crossaug.recipe import Augment
from crossaug.runner.manifest import read_manifest


class Picky(Augmentation):
    """Upper-cases a text; refuses texts holding "bad" (naming the sample) or "worse" (naming none)."""

    name: ClassVar[str] = "test.picky"
    calls: ClassVar[list[str]] = []

    def sample_params(self, sample: Sample, rng: Any) -> dict[str, Any]:
        Picky.calls.append(sample.id)
        text = sample["text"]
        if "worse" in text:
            raise BadSample("refused, sample not named")
        if "bad" in text:
            raise BadSample("refused", sample_id=sample.id, field="text")
        return {"shift": int(rng.integers(3))}

    def apply(self, sample: Sample, params: dict[str, Any]) -> Sample:
        return sample.derive(None, text=sample["text"].upper() + "!" * params["shift"])


def _lines(out) -> list[dict]:
    return [{k: v for k, v in line.items()} for line in read_manifest(out)]


@pytest.mark.parametrize("bad", [[3], [0], [7], [2, 5], [1, 2, 3], [4, "worse"]])
def test_failing_inputs_give_the_lines_of_one_at_a_time(tmp_path, bad):
    texts = [f"text {i}" for i in range(8)]
    for k in bad:
        if k == "worse":
            texts[6] = "worse 6"
        else:
            texts[k] = f"bad {k}"
    recipe = Augment(Picky(), n=2)
    Picky.calls.clear()
    crossaug.run(recipe, texts, tmp_path / "batch", batch_size=8, on_error="skip", report=False)
    batched_calls = len(Picky.calls)
    Picky.calls.clear()
    crossaug.run(recipe, texts, tmp_path / "single", batch_size=1, on_error="skip", report=False)
    assert _lines(tmp_path / "batch") == _lines(tmp_path / "single")
    rejected = [line["id"] for line in _lines(tmp_path / "batch") if not line["kept"]]
    assert rejected == [str(i) for i, t in enumerate(texts) if "bad" in t or "worse" in t]
    # no work redone: each good input draws twice, each refused one once, as one input at a time
    assert batched_calls == len(Picky.calls) == 2 * (8 - len(bad)) + len(bad)


class OwnProcess(Augment):
    """An Augment with its own process: the runner cannot set a refused input aside in place."""

    def process(self, samples, seeder):
        return super().process(samples, seeder)


def test_a_recipe_with_its_own_process_is_isolated_the_old_way(tmp_path):
    texts = [f"text {i}" for i in range(6)]
    texts[2] = "bad 2"
    crossaug.run(OwnProcess(Picky(), n=2), texts, tmp_path / "own", batch_size=6, on_error="skip", report=False)
    crossaug.run(Augment(Picky(), n=2), texts, tmp_path / "each", batch_size=6, on_error="skip", report=False)
    assert _lines(tmp_path / "own") == _lines(tmp_path / "each")


def test_raise_policy_still_stops_at_the_refused_input(tmp_path):
    with pytest.raises(BadSample, match="refused"):
        crossaug.run(Augment(Picky(), n=2), ["a", "bad", "c"], tmp_path / "r", on_error="raise", report=False)
