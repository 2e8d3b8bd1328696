"""LaCLIP in-context caption rewriting (crossaug_text/laclip.py) and the per-epoch pick of its outputs
(crossaug_integrations.torch_dataset.GroupedOutputsDataset)."""

from __future__ import annotations

import json
import shutil
from collections import Counter

import crossaug
import numpy as np
import pytest
from crossaug import ConfigError, MissingResource, Sample, Seeder
from crossaug_testing import AugmentationContract, RecipeContract
from crossaug_text.laclip import DEFAULT_INSTRUCTION, LaCLIPRecipe, LaCLIPRewrite, build_prompt, load_demonstrations
from crossaug_text.llm_clients import register_client, unregister_client

CAPTIONS = ["the cat sits on the mat", "a dog runs in the park", "a red car drives down the street"]


def samples():
    return [Sample(f"c{i}", {"text": t}) for i, t in enumerate(CAPTIONS)]


def write_demos(path, pairs):
    path.write_text("\n".join(json.dumps({"caption": c, "rewrite": r}) for c, r in pairs) + "\n", encoding="utf-8")
    return str(path)


def test_prompt_is_caption_arrow_rewrite_lines_ending_with_the_query():
    demos = [("a dog", "A puppy."), ("a red car", "A crimson automobile.")]
    assert build_prompt("a  cat\ton a mat", demos) == \
        "a dog => A puppy.\na red car => A crimson automobile.\na cat on a mat =>"
    assert build_prompt("x", demos[:1], "Rewrite.") == "Rewrite.\na dog => A puppy.\nx =>"


def test_bundled_demonstrations_and_paper_defaults():
    pairs = load_demonstrations("builtin:laclip_demonstrations.jsonl")
    assert len(pairs) == 16 and all(c and r and c != r for c, r in pairs)
    recipe = LaCLIPRecipe()
    assert (recipe.k, recipe.n) == (3, 4)  # LaCLIP: 3 demonstrations per prompt, 4 rewrites per caption


def test_demonstrations_errors_name_the_line(tmp_path):
    bad = tmp_path / "d.jsonl"
    bad.write_text('{"caption": "a", "rewrite": "b"}\n{"caption": "c"}\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="line 2"):
        load_demonstrations(str(bad))
    with pytest.raises(MissingResource):
        load_demonstrations(str(tmp_path / "missing.jsonl"))
    with pytest.raises(ConfigError, match="holds only 1"):
        LaCLIPRewrite(write_demos(tmp_path / "one.jsonl", [("a", "b")]), k=3, client="x")


def test_k_distinct_demonstrations_and_sets_rotate_per_output(tmp_path):
    a = write_demos(tmp_path / "a.jsonl", [(f"a{i}", f"A{i}") for i in range(6)])
    b = write_demos(tmp_path / "b.jsonl", [(f"b{i}", f"B{i}") for i in range(6)])
    seen = []
    register_client("laclip-echo", lambda prompts, seeds, **kw: seen.extend(prompts) or
                    [f"rewritten {p.splitlines()[-1]}\nsecond line" for p in prompts])
    try:
        recipe = LaCLIPRecipe(demonstrations=[a, b], k=3, n=4, client="laclip-echo")
        groups = recipe.process(samples(), Seeder(0))
    finally:
        unregister_client("laclip-echo")
    for group in groups:
        assert [o.lineage[-1].params["demo_set"] for o in group] == [0, 1, 0, 1]
        for o in group:
            p = o.lineage[-1].params
            assert len(set(p["demos"])) == 3 and all(0 <= i < 6 for i in p["demos"])
            lines = p["prompt"].splitlines()
            assert lines[0] == DEFAULT_INSTRUCTION  # clients are chat models: the instruction comes first
            prefix = "a" if p["demo_set"] == 0 else "b"
            assert lines[1:4] == [f"{prefix}{i} => {prefix.upper()}{i}" for i in p["demos"]]
            assert "\n" not in o["text"] and o["text"].startswith("rewritten ")  # cut at the newline
    # the draws differ across outputs of one caption
    assert len({tuple(o.lineage[-1].params["demos"]) for g in groups for o in g}) > 3
    assert len(seen) == 12  # one batched client call of 3 captions x 4 rewrites


def test_empty_and_copied_rewrites_are_rejected_with_reason():
    outs = iter(["", "THE CAT sits on the mat", "a feline rests on a rug", "x"])
    register_client("laclip-fixed", lambda prompts, seeds, **kw: [next(outs) for _ in prompts])
    try:
        group = LaCLIPRecipe(client="laclip-fixed", n=4).process(samples()[:1], Seeder(0))[0]
    finally:
        unregister_client("laclip-fixed")
    reasons = {o.id: o.reason for o in group}
    assert reasons["c0~0"] == "the model wrote an empty rewrite"
    assert reasons["c0~1"] == "the rewrite repeats the caption"
    assert [o.id for o in group if o.kept] == ["c0~2", "c0~3"]


@pytest.mark.model
def test_base_causal_lm_continues_the_plain_prompt(tiny_gpt2):
    aug = crossaug.create("augmentation", "text.laclip-rewrite", model=tiny_gpt2, max_new_tokens=6)
    outs = aug.rewrite_batch(samples(), [np.random.default_rng(i) for i in range(3)])
    for s, o in zip(samples(), outs):
        p = o.lineage[-1].params
        assert not p["prompt"].startswith(DEFAULT_INSTRUCTION)  # a base LM gets no instruction
        assert p["prompt"].endswith(f"\n{s['text']} =>") and p["prompt"].count(" => ") == 3
        assert o["text"] == p["output"] and "\n" not in o["text"]
    again = aug.rewrite_batch(samples(), [np.random.default_rng(i) for i in range(3)])
    assert [o["text"] for o in again] == [o["text"] for o in outs]
    assert aug.replay(samples()[0], outs[0].lineage[-1].params)["text"] == outs[0]["text"]


@pytest.mark.model
def test_chat_model_gets_the_instruction(tiny_gpt2, tmp_path):
    from transformers import AutoTokenizer

    chat_dir = tmp_path / "chat"
    shutil.copytree(tiny_gpt2, chat_dir)
    tok = AutoTokenizer.from_pretrained(chat_dir)
    tok.chat_template = "{% for m in messages %}{{ m['content'] }}{% endfor %}"
    tok.save_pretrained(chat_dir)
    aug = LaCLIPRewrite(model=str(chat_dir), max_new_tokens=4)
    out = aug.augment(samples()[0], 0)
    assert out.lineage[-1].params["prompt"].startswith(DEFAULT_INSTRUCTION + "\n")


@pytest.mark.model
class TestLaCLIPRewriteContract(AugmentationContract):
    name = "text.laclip-rewrite"

    @pytest.fixture(autouse=True)
    def _model(self, tiny_gpt2):
        self.params = {"model": tiny_gpt2, "max_new_tokens": 5}

    def good_samples(self):
        return samples()[:2]

    def bad_samples(self):
        return [(Sample("empty", {"text": ""}), "empty")]


@pytest.mark.model
class TestLaCLIPRecipeContract(RecipeContract):
    name = "laclip"

    @pytest.fixture(autouse=True)
    def _model(self, tiny_gpt2):
        self.params = {"model": tiny_gpt2, "n": 2, "max_new_tokens": 5}

    def good_samples(self):
        return samples()[:2]


@pytest.mark.model
def test_run_end_to_end_then_one_rewrite_per_epoch(tiny_gpt2, tmp_path):
    pytest.importorskip("torch")
    from crossaug_integrations.torch_dataset import GroupedOutputsDataset

    data = tmp_path / "captions.jsonl"
    data.write_text("\n".join(json.dumps({"id": s.id, "text": s["text"]}) for s in samples()) + "\n")
    result = crossaug.run("laclip", str(data), tmp_path / "out", seed=1, report=False,
                          params={"model": tiny_gpt2, "max_new_tokens": 6})
    lines = list(crossaug.read_manifest(result.output_dir))
    assert {ln["parent_id"] for ln in lines} == {"c0", "c1", "c2"} and len(lines) == 12
    for ln in lines:
        step = ln["lineage"][-1]
        assert step["name"] == "text.laclip-rewrite" and step["model"] == tiny_gpt2
        assert step["params"]["prompt"].count(" => ") == 3
    ds = GroupedOutputsDataset(lines, seed=5, originals=[{"id": s.id, "text": s["text"]} for s in samples()])
    assert len(ds) == 3
    picks = []
    for epoch in range(30):
        ds.set_epoch(epoch)
        picks.append([ds[i]["id"] for i in range(3)])
    kept = {ln["id"] for ln in lines if ln["kept"]}
    assert all(p in kept | {"c0", "c1", "c2"} for row in picks for p in row)
    assert len({row[0] for row in picks}) >= 3  # different texts over epochs
    same = GroupedOutputsDataset(lines, seed=5, originals=[{"id": s.id, "text": s["text"]} for s in samples()])
    same.set_epoch(7)
    assert [same[i]["id"] for i in reversed(range(3))][::-1] == picks[7]  # keyed by (seed, epoch, index)


def test_grouped_outputs_dataset_draws_uniformly_among_kept_outputs():
    pytest.importorskip("torch")
    from crossaug_integrations.torch_dataset import GroupedOutputsDataset

    rows = [Sample("a~0", {"text": "x"}, parent_id="a"), Sample("a~1", {"text": "y"}, parent_id="a"),
            Sample("a~2", {"text": "z"}, parent_id="a"),
            Sample("a~3", {"text": "q"}, parent_id="a", kept=False, reason="filtered"),
            Sample("b~0", {"text": "w"}, parent_id="b", kept=False, reason="filtered")]
    ds = GroupedOutputsDataset(rows, seed=0)
    assert len(ds) == 1  # b has no kept output and no original: left out
    counts = Counter()
    for epoch in range(600):
        ds.set_epoch(epoch)
        counts[ds[0].id] += 1
    assert set(counts) == {"a~0", "a~1", "a~2"}
    assert all(150 < c < 250 for c in counts.values()), counts
    with pytest.raises(ConfigError):
        GroupedOutputsDataset([object()])
