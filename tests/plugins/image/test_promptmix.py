"""promptmix end to end on tiny random models: caption, edit, generate, pseudo-label (CPU, seconds).

The annotator is a tiny random ViT classifier built from a config and loaded through
``image.classify``'s public path; its confidence is pinned against a plain softmax loop
over the model's own logits. The LLM edit goes through ``text.llm-rewrite`` with a
registered client and once through a real tiny GPT-2.
"""

from __future__ import annotations

import json
import math

import crossaug
import numpy as np
import pytest
from crossaug import BadSample, ConfigError, Sample, Seeder, create
from crossaug_testing import AugmentationContract, FilterContract, RecipeContract, TransformContract

pytestmark = pytest.mark.model

CLASSES = ["cat", "dog", "car"]
CAP = {"max_new_tokens": 5, "min_new_tokens": 3}
T2I = {"num_inference_steps": 2, "guidance_scale": 1.0, "height": 32, "width": 32}


@pytest.fixture(scope="module")
def vit_dir(tmp_path_factory):
    """A tiny random ViT image classifier (2 layers, 32 px, 3 classes) saved with its image processor."""
    pytest.importorskip("transformers", reason="image.classify needs crossaug-image[transformers]")
    import torch
    from transformers import ViTConfig, ViTForImageClassification, ViTImageProcessorPil

    d = tmp_path_factory.mktemp("vit")
    torch.manual_seed(0)
    cfg = ViTConfig(image_size=32, patch_size=8, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                    intermediate_size=37, num_labels=3, id2label=dict(enumerate(CLASSES)),
                    label2id={c: i for i, c in enumerate(CLASSES)})
    ViTForImageClassification(cfg).eval().save_pretrained(d)
    ViTImageProcessorPil(size={"height": 32, "width": 32}).save_pretrained(d)
    return str(d)


def _images(tiny):
    return [Sample("i0", {"image": tiny.make_image(0)}, label="cat", meta={"place": "a beach"}),
            Sample("i1", {"image": tiny.make_image(1)}, label="dog", meta={"place": "the snow"})]


def _params(blip_dir, sd_dir, vit_dir, **over):
    params = dict(caption_model=blip_dir, caption_params=CAP, image_model=sd_dir, image_params=T2I,
                  labeler_model=vit_dir, device="cpu")
    params.update(over)
    return params


EDIT = {"templates": ["{caption} on {place}", "a {class} like this: {caption}"], "classes": CLASSES,
        "swap_class": True}


# -- image.classify ---------------------------------------------------------------------------------
class TestImageClassifyContract(TransformContract):
    name = "image.classify"

    @pytest.fixture(autouse=True)
    def _models(self, vit_dir, tiny):
        type(self).params = {"model": vit_dir, "top_k": 3, "device": "cpu"}
        self._tiny = tiny

    def good_samples(self):
        return [Sample(f"c{i}", {"image": self._tiny.make_image(i)}) for i in range(3)]

    def bad_samples(self):
        return [(Sample("nope", {"text": "no image"}), "image")]


def test_classify_confidence_is_the_softmax_of_the_models_logits(vit_dir, tiny):
    """Top class and confidence equal a plain softmax loop over the logits the model gives the image."""
    import torch
    from transformers import AutoImageProcessor, AutoModelForImageClassification

    images = [tiny.make_image(i) for i in range(4)]
    out = create("transform", "image.classify", model=vit_dir, top_k=3, device="cpu")(
        [Sample(f"s{i}", {"image": im}) for i, im in enumerate(images)], [0, 1, 2, 3])
    model = AutoModelForImageClassification.from_pretrained(vit_dir).eval()
    proc = AutoImageProcessor.from_pretrained(vit_dir)
    for im, o in zip(images, out):
        with torch.no_grad():
            logits = model(**proc(images=im, return_tensors="pt")).logits[0].tolist()
        top = max(logits)
        exps = [math.exp(x - top) for x in logits]
        probs = {model.config.id2label[i]: e / sum(exps) for i, e in enumerate(exps)}
        best = max(probs, key=probs.get)
        step = o.lineage[-1]
        assert o["text.label"] == best
        assert step.params["confidence"] == pytest.approx(probs[best], abs=1e-5)
        assert step.params["scores"] == pytest.approx(probs, abs=1e-5)
        assert step.model == vit_dir and step.params["snapshot"].startswith("blake2b:")


def test_classify_function_hook_and_its_trust_gate():
    from PIL import Image

    t = create("transform", "image.classify", function="crossaug_image.labeling.classify:brightness_classes")
    out = t([Sample("b", {"image": Image.new("L", (8, 8), 200)})], [0])[0]
    assert out["text.label"] == "bright" and out.lineage[-1].params["confidence"] == pytest.approx(200 / 255, abs=1e-6)
    assert out.lineage[-1].model == "function:crossaug_image.labeling.classify:brightness_classes"
    with pytest.raises(ConfigError, match="trust-code"):
        create("transform", "image.classify", function="os.path:join")


# -- image.caption-edit ------------------------------------------------------------------------------
class TestCaptionEditContract(AugmentationContract):
    name = "image.caption-edit"
    params = {"templates": ["{caption} at {place}", "{class} and {caption}"], "classes": ["dog", "car", "bus"],
              "swap_class": True}

    def good_samples(self):
        return [Sample("e0", {"text.caption": "a cat sitting on the grass"}, label="cat", meta={"place": "dusk"}),
                Sample("e1", {"text.caption": "a red car in the snow"}, label="car", meta={"place": "noon"})]

    def bad_samples(self):
        return [(Sample("e2", {"text": "a cat"}, label="cat", meta={"place": "x"}), "text.caption"),
                (Sample("e3", {"text.caption": "a cat"}, meta={"place": "x"}), "label")]


def test_caption_edit_swaps_the_class_and_fills_metadata():
    e = create("augmentation", "image.caption-edit", templates=["{caption}, seen at {place}"],
               classes=["persian_cat", "sphynx", "tabby"], swap_class=True)
    s = Sample("s", {"text.caption": "A Persian cat and a persian  cat"}, label="persian_cat", meta={"place": "dusk"})
    seen = set()
    for seed in range(12):
        out = e.augment(s, np.random.default_rng(seed))
        new = out.lineage[-1].params["class"]
        assert new in ("sphynx", "tabby")  # never the sample's own class
        assert out["text.caption"] == f"A {new} and a {new}, seen at dusk"
        seen.add(new)
    assert seen == {"sphynx", "tabby"}


def test_caption_edit_templates_from_a_data_file(tmp_path):
    f = tmp_path / "edits.txt"
    f.write_text("# PromptMix edits\n{caption} at night\n\n{caption} in the rain\n")
    e = create("augmentation", "image.caption-edit", templates_file=str(f))
    s = Sample("s", {"text.caption": "a dog"})
    outs = {e.augment(s, np.random.default_rng(k))["text.caption"] for k in range(10)}
    assert outs == {"a dog at night", "a dog in the rain"}
    assert e.to_dict()["params"]["templates_file"] == str(f)


@pytest.mark.parametrize("kw, fragment", [
    ({"swap_class": True}, "classes"),
    ({"templates": ["a {class}"]}, "classes"),
    ({"templates": ["{caption.__class__}"]}, "plain name"),
    ({"templates": ["{caption!r}"]}, "plain name"),
    ({"templates_file": "/no/such/templates.txt"}, "not a file"),
])
def test_caption_edit_config_errors(kw, fragment):
    with pytest.raises(ConfigError, match=fragment):
        create("augmentation", "image.caption-edit", **kw)


# -- image.pseudo-label-confidence ------------------------------------------------------------------
class TestPseudoLabelConfidenceContract(FilterContract):
    name = "image.pseudo-label-confidence"
    params = {"min_confidence": 0.5}

    def pairs(self):
        def s(i, conf):
            return Sample(f"p{i}", {"text": "x"}, meta={"pseudo_label": {"label": "cat", "confidence": conf}})
        return [(s(0, 0.9), s(0, 0.9), True), (s(1, 0.2), s(1, 0.2), False), (s(2, 0.5), s(2, 0.5), True)]

    def bad_samples(self):
        return [(Sample("unlabelled", {"text": "x"}), "pseudo-label")]


# -- the recipe --------------------------------------------------------------------------------------
class TestPromptMixContract(RecipeContract):
    name = "promptmix"

    @pytest.fixture(autouse=True)
    def _models(self, blip_dir, sd_dir, vit_dir, tiny):
        type(self).params = _params(blip_dir, sd_dir, vit_dir, editor="image.caption-edit", editor_params=EDIT,
                                    n=1)
        self._tiny = tiny

    def good_samples(self):
        return _images(self._tiny)


def test_outputs_carry_the_pseudo_label_its_confidence_and_full_lineage(blip_dir, sd_dir, vit_dir, tiny):
    r = create("recipe", "promptmix", **_params(blip_dir, sd_dir, vit_dir, editor="image.caption-edit",
                                                editor_params=EDIT, labeler_params={"top_k": 3}))
    assert r.fan_out == [1, 1, 2] and r.keep is None
    groups = r.process(_images(tiny), Seeder(0))
    assert [len(g) for g in groups] == [2, 2] and all(c.kept for g in groups for c in g)
    for parent, group in zip(_images(tiny), groups):
        for c in group:
            names = [s.name for s in c.lineage]
            assert names == ["image.caption.blip", "image.caption-edit", "image.text-to-image.diffusers",
                             "image.classify"]
            cap, edit, gen, lab = c.lineage
            assert (cap.model, gen.model, lab.model) == (blip_dir, sd_dir, vit_dir)
            assert gen.params["prompt"] == c["text.caption"] and gen.seed is not None
            assert edit.params["class"] != parent.label and edit.params["template"] in EDIT["templates"]
            assert c["text.caption.forward"] != c["text.caption"]  # the edit changed the caption
            pl = c.meta["pseudo_label"]
            assert c.label == pl["label"] == max(pl["scores"], key=pl["scores"].get)
            assert set(pl["scores"]) == set(CLASSES) and sum(pl["scores"].values()) == pytest.approx(1, abs=1e-5)
            assert pl["confidence"] == lab.params["confidence"] == pl["scores"][c.label]
            assert (pl["labeler"], pl["model"]) == ("image.classify", vit_dir)
            assert c.meta["source_label"] == parent.label and c.meta["place"] == parent.meta["place"]
            assert "text.label" not in c.fields and c["image"].size == (32, 32)
    # the label is the annotator's verdict on the generated image itself
    again = create("transform", "image.classify", model=vit_dir, device="cpu")(
        [Sample("g", {"image": groups[0][0]["image"]})], [0])[0]
    assert again["text.label"] == groups[0][0].label


def test_min_confidence_rejects_with_the_reason(blip_dir, sd_dir, vit_dir, tiny):
    r = create("recipe", "promptmix", **_params(blip_dir, sd_dir, vit_dir, min_confidence=0.99, n=1))
    group = r.process(_images(tiny)[:1], Seeder(0))[0]
    assert len(group) == 1 and not group[0].kept
    assert group[0].reason.startswith("image.pseudo-label-confidence: the annotator's confidence in its label")
    assert group[0].lineage[-1].score == group[0].meta["pseudo_label"]["confidence"] < 0.99


def test_labeler_by_alias_and_function_hook(blip_dir, sd_dir, vit_dir, tiny):
    r = create("recipe", "promptmix", **_params(
        blip_dir, sd_dir, vit_dir, labeler="classify", n=1,
        labeler_params={"function": "crossaug_image.labeling.classify:brightness_classes"}))
    c = r.process(_images(tiny)[:1], Seeder(0))[0][0]
    assert c.label in ("bright", "dark") and c.meta["pseudo_label"]["model"].startswith("function:")
    assert sum(c.meta["pseudo_label"]["scores"].values()) == pytest.approx(1)


@pytest.fixture(scope="module")
def _client():
    pytest.importorskip("crossaug_text", reason="the LLM edit is the text plugin's text.llm-rewrite")
    from crossaug_text.llm_clients import register_client, unregister_client

    register_client("promptmix-night", lambda prompts, seeds, **kw: [
        p.rsplit("Sentence:", 1)[-1].split("\n")[0].strip() + " at night" for p in prompts])
    yield "promptmix-night"
    unregister_client("promptmix-night")


def test_llm_edit_through_text_llm_rewrite(blip_dir, sd_dir, vit_dir, tiny, _client):
    r = create("recipe", "promptmix", **_params(blip_dir, sd_dir, vit_dir, editor="text.llm-rewrite", n=1,
                                                editor_params={"client": _client}))
    c = r.process(_images(tiny)[:1], Seeder(0))[0][0]
    assert c["text.caption"] == c["text.caption.forward"] + " at night"
    assert c.lineage[1].name == "text.llm-rewrite" and c.lineage[1].model == f"client:{_client}"
    assert c.lineage[2].params["prompt"] == c["text.caption"]


def test_llm_edit_through_a_real_tiny_transformers_model(blip_dir, sd_dir, vit_dir, tiny, tmp_path):
    pytest.importorskip("crossaug_text", reason="the LLM edit is the text plugin's text.llm-rewrite")
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    words = tiny.WORDS + ["Maintain", "nouns", "following", "sentence", "intact", "generate", "semantically",
                          "diverse", "sentences", "Sentence", "New", ":", "."]
    vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2, **{w: i + 3 for i, w in enumerate(dict.fromkeys(words))}}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    torch.manual_seed(0)
    GPT2LMHeadModel(GPT2Config(vocab_size=len(vocab), n_embd=16, n_layer=1, n_head=2, n_positions=128,
                               bos_token_id=1, eos_token_id=1, pad_token_id=0)).save_pretrained(tmp_path)
    PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="</s>",
                            unk_token="<unk>").save_pretrained(tmp_path)
    llm = {"model": str(tmp_path), "max_new_tokens": 6, "do_sample": False, "device": "cpu"}
    r = create("recipe", "promptmix", **_params(blip_dir, sd_dir, vit_dir, editor="text.llm-rewrite", n=1,
                                                editor_params=llm))
    c = r.process(_images(tiny)[:1], Seeder(0))[0][0]
    step = c.lineage[1]
    assert step.name == "text.llm-rewrite" and step.model == str(tmp_path)
    direct = create("augmentation", "text.llm-rewrite", field="text.caption", **llm).rewrite(
        [c["text.caption.forward"]], [step.params["seed"]])[0]
    assert c["text.caption"] == direct and c.lineage[2].params["prompt"] == direct


def test_bad_inputs_and_config_errors(blip_dir, sd_dir, vit_dir, tiny):
    with pytest.raises(ConfigError, match="did you mean"):
        create("recipe", "promptmix", **_params(blip_dir, sd_dir, vit_dir, labeler="image.clasify"))
    with pytest.raises(ConfigError, match="expected image -> text"):
        create("recipe", "promptmix", **_params(blip_dir, sd_dir, vit_dir, labeler="image.text-to-image.diffusers"))
    with pytest.raises(ConfigError, match="no parameter"):
        create("recipe", "promptmix", **_params(blip_dir, sd_dir, vit_dir, labeler_params={"topk": 2}))
    r = create("recipe", "promptmix", **_params(blip_dir, sd_dir, vit_dir, editor="image.caption-edit",
                                                editor_params={"templates": ["{caption} in {season}"]}, n=1))
    with pytest.raises(BadSample, match="season") as info:
        r.process(_images(tiny)[:1], Seeder(0))
    assert "i0" in str(info.value)
    with pytest.raises(BadSample, match="image"):
        r.process([Sample("t", {"text": "no image here"})], Seeder(0))


def test_round_trips_through_to_dict(blip_dir, sd_dir, vit_dir):
    r = create("recipe", "promptmix", **_params(blip_dir, sd_dir, vit_dir, editor="image.caption-edit",
                                                editor_params=EDIT, min_confidence=0.2))
    again = crossaug.from_dict(json.loads(json.dumps(r.to_dict())))
    assert again.to_dict() == r.to_dict() and [f.name for f in again.filters] == ["image.pseudo-label-confidence"]


def test_cli_end_to_end(tmp_path, blip_dir, sd_dir, vit_dir, tiny):
    from crossaug.cli import app
    from typer.testing import CliRunner

    rows = []
    for i, (label, place) in enumerate([("cat", "a beach"), ("dog", "the snow"), ("car", "a road")]):
        tiny.make_image(i, (40, 32)).save(tmp_path / f"{i}.png")
        rows.append(json.dumps({"id": f"im{i}", "image": f"{i}.png", "label": label, "place": place}))
    rows.append(json.dumps({"id": "noplace", "image": "0.png", "label": "cat"}))  # the template needs {place}
    (tmp_path / "images.jsonl").write_text("\n".join(rows) + "\n")
    (tmp_path / "edits.txt").write_text("{caption} on {place}\n")
    res = CliRunner().invoke(app, [
        "run", "promptmix", "-i", str(tmp_path / "images.jsonl"), "-o", str(tmp_path / "o"), "--no-progress",
        "-p", f"caption_model={blip_dir}", "-p", f"image_model={sd_dir}", "-p", f"labeler_model={vit_dir}",
        "-p", "caption_params={max_new_tokens: 5, min_new_tokens: 3}",
        "-p", "image_params={num_inference_steps: 2, guidance_scale: 1.0, height: 32, width: 32}",
        "-p", "editor=image.caption-edit", "-p", f"editor_params={{templates_file: {tmp_path / 'edits.txt'}}}",
        "-p", "min_confidence=0.36", "-p", "device=cpu"])
    assert res.exit_code == 0, res.output
    recs = [json.loads(x) for x in (tmp_path / "o" / "manifest.jsonl").read_text().splitlines()]
    bad = [r for r in recs if r["parent_id"] == "noplace"]
    assert len(bad) == 1 and not bad[0]["kept"] and "place" in bad[0]["reason"] and "noplace" in bad[0]["reason"]
    out = [r for r in recs if r["parent_id"] != r["id"]]
    assert len(out) == 6 and {r["parent_id"] for r in out} == {"im0", "im1", "im2"}
    for r in out:
        steps = [s["name"] for s in r["lineage"]]
        assert steps[:4] == ["image.caption.blip", "image.caption-edit", "image.text-to-image.diffusers",
                             "image.classify"] and steps[-1] == "image.pseudo-label-confidence"
        pl = r["meta"]["pseudo_label"]
        assert r["label"] == pl["label"] in CLASSES and r["text.caption"].endswith(" on " + r["meta"]["place"])
        assert r["kept"] == (pl["confidence"] >= 0.36)
        assert r["kept"] or r["reason"].startswith("image.pseudo-label-confidence")
    assert any(r["kept"] for r in out)
