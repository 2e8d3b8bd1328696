"""Translation transform and back-translation recipe with tiny random Marian models."""

from __future__ import annotations

import json

import crossaug
import pytest
from crossaug import ConfigError, Sample
from crossaug_testing import RecipeContract, TransformContract
from crossaug_text.translate import Translate

pytestmark = pytest.mark.model
BAD = [(Sample("empty", {"text": ""}), "empty"), (Sample("nofield", {"text.fr": "x"}), "needs field")]


def good():
    return [Sample("t1", {"text": "the cat sits on the mat"}), Sample("t2", {"text": "a red car drives"}),
            Sample("t3", {"text": "a dog runs in the park"})]


class TestTranslateContract(TransformContract):
    name = "text.translate"

    @pytest.fixture(autouse=True)
    def _model(self, tiny_marian):
        self.params = {"model": tiny_marian[0], "max_new_tokens": 8}

    def good_samples(self):
        return good()

    def bad_samples(self):
        return BAD


class TestTranslateSampledContract(TestTranslateContract):
    @pytest.fixture(autouse=True)
    def _model(self, tiny_marian):
        self.params = {"model": tiny_marian[0], "max_new_tokens": 8, "do_sample": True, "top_k": 10}


class TestBackTranslationContract(RecipeContract):
    name = "back-translation"

    @pytest.fixture(autouse=True)
    def _model(self, tiny_marian):
        self.params = {"forward_model": tiny_marian[0], "backward_model": tiny_marian[1],
                       "fan_out": [1, 1, 1], "max_new_tokens": 6, "num_beams": 1}

    def good_samples(self):
        return good()[:2]


def test_fields_follow_languages():
    t = Translate(model="m", source_lang="de", target_lang="en")
    assert (t.input_field, t.output_field) == ("text.de", "text")
    assert Translate(model="m", target_lang="fr").output_field == "text.fr"
    with pytest.raises(ConfigError):
        Translate(model="m", source_lang="en", target_lang="en")
    with pytest.raises(ConfigError):
        Translate(model="m", in_field="text", out_field="text")


@pytest.mark.slow
def test_back_translation_round_trip_through_the_runner(tiny_marian, tmp_path):
    data = tmp_path / "in.jsonl"
    data.write_text("\n".join(json.dumps({"id": s.id, "text": s.fields["text"]}) for s in good()), encoding="utf-8")
    recipe = crossaug.create("recipe", "back-translation", forward_model=tiny_marian[0],
                             backward_model=tiny_marian[1], fan_out=[2, 1, 1], max_new_tokens=8)
    result = crossaug.run(recipe, str(data), tmp_path / "out", seed=0)
    rows = [json.loads(line) for line in (tmp_path / "out" / "manifest.jsonl").read_text().splitlines()]
    outs = [r for r in rows if r["parent_id"] != r["id"]]
    assert len(outs) == 6, result
    for r in outs:
        names = [step["name"] for step in r["lineage"]]
        assert names.count("text.translate") == 2
        models = [step.get("model") for step in r["lineage"] if step["name"] == "text.translate"]
        assert models == [tiny_marian[0], tiny_marian[1]]
        assert r["fields"]["text"].strip() if "fields" in r else r["text"].strip()


def test_long_and_unusual_inputs(tiny_marian):
    t = Translate(model=tiny_marian[0], max_new_tokens=4, max_input_tokens=100)
    with pytest.raises(crossaug.BadSample) as info:
        t([Sample("big", {"text": "the cat sits on the mat. " * 4000})], [0])  # 100 kB
    assert "big" in str(info.value) and "tokens" in str(info.value)
    outs = t([Sample(f"u{i}", {"text": x}) for i, x in enumerate(["東京は首都です。", "a cat 🐱 and Москва", "🎉"])],
             [0, 1, 2])
    assert all(o.fields["text.de"].strip() for o in outs)  # unknown characters map to <unk>; never empty


def test_back_translation_dedupe_rejects_repeated_outputs(tiny_marian):
    """Greedy legs make every candidate of an input the same: dedupe keeps one, the rest are 'duplicate'."""
    params = dict(forward_model=tiny_marian[0], backward_model=tiny_marian[1], fan_out=[3, 1, 1],
                  forward_sampling=False, num_beams=1, max_new_tokens=6)
    plain = crossaug.create("recipe", "back-translation", **params)
    deduped = crossaug.create("recipe", "back-translation", dedupe=True, **params)
    a = plain([good()[0]], 0, kept_only=False)
    b = deduped([good()[0]], 0, kept_only=False)
    assert sum(c.kept for c in a) == 3 and len({c.fields["text"] for c in a}) == 1
    assert sum(c.kept for c in b) == 1
    assert all("duplicate" in (c.reason or "") for c in b if not c.kept)
    assert deduped.to_dict()["params"]["dedupe"] is True and deduped.to_dict()["params"]["top_up"] == 0
