"""Recipes (crossaug_text/recipes.py): eda contract and behaviour (others are tested with their steps)."""

from __future__ import annotations

import crossaug
import pytest
from crossaug import Sample
from crossaug_testing import RecipeContract


def good():
    return [Sample("r1", {"text": "The quick brown fox jumps over the lazy dog."}, label=1),
            Sample("r2", {"text": "A happy child reads a good book at home."}, label=0)]


class TestEDARecipeContract(RecipeContract):
    name = "eda"
    params = {"num_aug": 3}

    def good_samples(self):
        return good()


def test_eda_recipe_defaults_follow_paper():
    r = crossaug.create("recipe", "eda")
    assert r.num_aug == 4 and (r.alpha_sr, r.alpha_ri, r.alpha_rs, r.p_rd) == (0.1, 0.1, 0.1, 0.1)
    outs = r(good(), seed=0)
    parents = [g for g in good() for _ in range(4)]
    assert len(outs) == 8 and all(o.label == s.label for o, s in zip(outs, parents, strict=True))
    assert [o.id for o in outs[:4]] == ["r1~0", "r1~1", "r1~2", "r1~3"]
    assert all(o.lineage[-1].name == "text.eda" for o in outs)


def test_eda_recipe_with_edit_distance_filter():
    r = crossaug.create("recipe", "eda", num_aug=6,
                        filters=[crossaug.create("filter", "text.edit-distance", threshold=0.2)])
    outs = r(good(), seed=1, kept_only=False)
    assert len(outs) == 12
    assert all(o.kept or "edit distance" in o.reason for o in outs)


def test_recipe_round_trips_through_dict():
    from crossaug import from_dict

    for name, params in [("eda", {"num_aug": 2}), ("code-switch", {"lexicon": {"cat": "kedi"}}),
                         ("token-replacement", {"mode": "pos"}), ("caption-rewrite", {"client": "x"}),
                         ("back-translation", {"pivot_lang": "fr"})]:
        r = crossaug.create("recipe", name, **params)
        assert from_dict(r.to_dict()).to_dict() == r.to_dict()


@pytest.mark.slow
def test_eda_through_the_runner(tmp_path):
    import json

    data = tmp_path / "in.jsonl"
    data.write_text("\n".join(json.dumps({"id": s.id, "text": s.fields["text"]}) for s in good()), encoding="utf-8")
    crossaug.run("eda", str(data), tmp_path / "a", seed=3)
    crossaug.run("eda", str(data), tmp_path / "b", seed=3, batch_size=1)
    a = (tmp_path / "a" / "manifest.jsonl").read_text()
    assert a == (tmp_path / "b" / "manifest.jsonl").read_text()
    assert sum(1 for _ in a.splitlines()) >= 8
