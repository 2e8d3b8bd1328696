"""XmDA: cross-modality mixup pinned by hand; K tiny random seq2seq models write several references
through the text plugin's registered translator (found by entry-point name); the recipe end to end."""

from __future__ import annotations

import json

import crossaug
import numpy as np
import pytest
from crossaug import BadSample, ConfigError, Sample, Seeder
from crossaug_multimodal.xmda.mixup import cross_modality_mixup
from crossaug_multimodal.xmda.recipe import XmDARecipe
from crossaug_testing import RecipeContract

GLOSSES = ["MORGEN REGEN NORD", "HEUTE SONNE SUED", "WIND STARK KUESTE"]


@pytest.fixture(autouse=True)
def _one_thread():
    try:
        import torch
    except ImportError:  # the mixup tests need numpy only
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


WORDS = ["tomorrow", "rain", "in", "the", "north", "today", "sun", "south", "strong", "wind", "coast"]


def test_cross_modality_mixup_by_hand():
    visual = np.array([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0], [4.0, 4.0]])
    gloss = np.array([[-1.0, 0.0], [-2.0, 0.0], [-3.0, 0.0], [-4.0, 0.0]])
    # lam 0.4: u < 0.4 takes the gloss embedding, else the visual feature
    mixed, from_gloss = cross_modality_mixup(visual, gloss, 0.4, u=np.array([0.39, 0.4, 0.0, 0.9]))
    assert from_gloss.tolist() == [True, False, True, False]
    assert mixed.tolist() == [[-1.0, 0.0], [2.0, 2.0], [-3.0, 0.0], [4.0, 4.0]]
    assert cross_modality_mixup(visual, gloss, 0.0, u=np.zeros(4))[0].tolist() == visual.tolist()
    assert cross_modality_mixup(visual, gloss, 1.0, u=np.full(4, 0.999))[0].tolist() == gloss.tolist()
    with pytest.raises(ConfigError):
        cross_modality_mixup(visual, gloss[:3], 0.5, u=np.zeros(4))
    with pytest.raises(ConfigError):
        cross_modality_mixup(visual, gloss, 1.5, u=np.zeros(4))


def test_mixup_share_follows_lam():
    rng = np.random.default_rng(0)
    v, g = np.zeros((4000, 1)), np.ones((4000, 1))
    mixed, from_gloss = cross_modality_mixup(v, g, 0.3, rng=rng)
    assert abs(from_gloss.mean() - 0.3) < 0.03 and mixed.mean() == from_gloss.mean()


def embeddings(i, t=4, d=3):
    g = np.random.default_rng(i)
    return {"visual": g.normal(size=(t, d)).tolist(), "gloss_embedding": g.normal(size=(t, d)).tolist()}


def samples():
    return [Sample(f"s{i}", {"text.gloss": gl, "text": "reference"}, meta=embeddings(i))
            for i, gl in enumerate(GLOSSES)]


@pytest.fixture(scope="module")
def tiny_t5s(tmp_path_factory):
    """Two tiny random T5 models (different weights) with a word-level tokenizer."""
    torch = pytest.importorskip("torch", reason="the text plugin's [llm] extra is not installed")
    pytest.importorskip("transformers", reason="the text plugin's [llm] extra is not installed")
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast, T5Config, T5ForConditionalGeneration

    vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2}
    for w in sorted({w for g in GLOSSES for w in g.split()} | set(WORDS)):
        vocab.setdefault(w, len(vocab))
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>")
    paths: list[str] = []
    batch = fast(GLOSSES, return_tensors="pt", padding=True)
    for seed in range(40):  # a random model may say EOS or pad first: take two that write words
        torch.manual_seed(seed)
        cfg = T5Config(vocab_size=len(vocab), d_model=16, d_ff=32, d_kv=8, num_layers=1, num_decoder_layers=1,
                       num_heads=2, decoder_start_token_id=0, pad_token_id=0, eos_token_id=1)
        model = T5ForConditionalGeneration(cfg).eval()
        with torch.no_grad():
            out = model.generate(**batch, max_new_tokens=4)
        if not all(t.strip() for t in fast.batch_decode(out, skip_special_tokens=True)):
            continue
        d = tmp_path_factory.mktemp(f"t5-{seed}")
        model.save_pretrained(d)
        fast.save_pretrained(d)
        paths.append(str(d))
        if len(paths) == 2:
            break
    assert len(paths) == 2, "no two of 40 random tiny T5 models write words"
    return paths


@pytest.mark.model
def test_k_models_write_k_references_through_the_registered_translator(tiny_t5s):
    recipe = crossaug.create("recipe", "xmda", models=tiny_t5s, translator="translate",
                             translator_params={"max_new_tokens": 5}, n_mixup=1, device="cpu")
    assert recipe.translator == "text.translate"
    groups = recipe.process(samples(), Seeder(0))
    for s, group in zip(samples(), groups):
        assert [o.id for o in group] == [f"{s.id}~ref0", f"{s.id}~ref1", f"{s.id}~mix0"]
        refs = group[:2]
        for k, o in enumerate(refs):
            assert o.lineage[-1].name == "text.translate" and o.lineage[-1].model == tiny_t5s[k]
            assert o.meta["reference_model"] == tiny_t5s[k] and o["text.gloss"] == s["text.gloss"]
            assert o.kept and o["text"] not in ("reference", s["text.gloss"])
        assert refs[0]["text"] != refs[1]["text"]  # two models, two references
        mix = group[2]
        mixed, from_gloss = np.asarray(mix.meta["mixed"]), np.asarray(mix.meta["from_gloss"])
        expect = np.where(from_gloss[:, None], np.asarray(s.meta["gloss_embedding"]), np.asarray(s.meta["visual"]))
        assert np.array_equal(mixed, expect)


def test_mixup_only_and_bad_embeddings_name_the_sample():
    recipe = XmDARecipe(models=[], n_mixup=2, lam=0.5)
    [group] = recipe.process(samples()[:1], Seeder(0))
    assert [o.id for o in group] == ["s0~mix0", "s0~mix1"]
    assert group[0].lineage[-1].params["lam"] == 0.5
    bad = Sample("b", {"text.gloss": "X"}, meta={"visual": [[1.0, 2.0]], "gloss_embedding": [[1.0]]})
    with pytest.raises(BadSample, match="not aligned") as info:
        recipe.process([bad], Seeder(0))
    assert "'b'" in str(info.value)
    assert XmDARecipe(models=[]).process([samples()[0]], Seeder(0))[0][0].id == "s0~mix0"
    [[none]] = recipe.process([Sample("c", {"text.gloss": "X"})], Seeder(0))
    assert not none.kept and "no models" in none.reason


@pytest.mark.model
class TestXmDARecipeContract(RecipeContract):
    name = "xmda"

    @pytest.fixture(autouse=True)
    def _models(self, tiny_t5s):
        self.params = {"models": tiny_t5s, "translator_params": {"max_new_tokens": 4}, "device": "cpu"}

    def good_samples(self):
        return samples()[:2]


@pytest.mark.model
def test_run_end_to_end(tiny_t5s, tmp_path):
    data = tmp_path / "glosses.jsonl"
    data.write_text("\n".join(json.dumps({"id": s.id, "text.gloss": s["text.gloss"], **s.meta})
                              for s in samples()) + "\n")
    result = crossaug.run("xmda", str(data), tmp_path / "out", seed=0, report=False,
                          params={"models": tiny_t5s, "translator_params": {"max_new_tokens": 4}, "device": "cpu"})
    lines = list(crossaug.read_manifest(result.output_dir))
    assert len(lines) == 9
    refs = [ln for ln in lines if "~ref" in ln["id"]]
    assert len(refs) == 6 and {ln["lineage"][-1]["model"] for ln in refs} == set(tiny_t5s)
