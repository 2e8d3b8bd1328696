"""Recipe ``biaug`` on tiny models: an LLM client (and a tiny GPT-2), a tiny OWL-ViT and a tiny inpainting SD.

The caption construction and the box selection are pinned against plain loops written
here from the procedure (BiAug, Wu et al. 2023, as our docs state it), not from the code.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from crossaug import BadSample, ConfigError, Sample, Seeder, create
from crossaug_image.recipes.biaug_boxes import select_boxes
from crossaug_image.recipes.biaug_caption import attribute_caption
from crossaug_image.recipes.biaug_parse import parse_attribute, parse_objects
from crossaug_testing import RecipeContract

pytestmark = pytest.mark.model

INPAINT = {"num_inference_steps": 2, "guidance_scale": 1.0}
ANSWERS = {  # one answer shape per attribute: what a loosely prompted model writes
    "color": "red\nnegative: green",
    "shape": '{"value": "round", "negative": "square"}',
    "material": "wooden | metal",
    "other": "value: sliced\nnegative: sliced",  # the negative repeats the value: malformed
}


def fake_gpt(prompts, seeds, **options):
    """A deterministic stand-in for the paper's gpt-3.5-turbo, answering from the request."""
    out = []
    for p in prompts:
        if p.rstrip().endswith("Objects:"):
            out.append("???" if "gibberish" in p else "cat, a tree, wooden table")
        else:
            out.append(ANSWERS[p.split("Attribute: ", 1)[1].split(" ", 1)[0]])
    return out


@pytest.fixture(scope="module", autouse=True)
def _client():
    pytest.importorskip("crossaug_text", reason="biaug's LLM steps go through crossaug-text's text.llm-rewrite")
    from crossaug_text.llm_clients import register_client, unregister_client

    register_client("biaug-fake-gpt", fake_gpt)
    yield
    unregister_client("biaug-fake-gpt")


@pytest.fixture(scope="module")
def owl_dir(tmp_path_factory, tiny):
    pytest.importorskip("transformers", reason="detection needs crossaug-image[transformers]")
    return str(tiny.build_owlvit(tmp_path_factory.mktemp("owlvit")))


@pytest.fixture(scope="module")
def inpaint_dir(tmp_path_factory, tiny):
    pytest.importorskip("diffusers", reason="inpainting needs crossaug-image[diffusers]")
    return str(tiny.build_stable_diffusion(tmp_path_factory.mktemp("inpaint"), in_channels=9,
                                           pipeline="StableDiffusionInpaintPipeline"))


def _params(owl_dir, inpaint_dir, **extra):
    return {"llm_params": {"client": "biaug-fake-gpt"}, "detect_model": owl_dir, "box_threshold": 0.0,
            "inpaint_model": inpaint_dir, "inpaint_params": INPAINT, "min_box_area": 0.0, "max_box_area": 1.0,
            "device": "cpu", **extra}


def _samples(tiny):
    return [Sample("b0", {"image": tiny.make_image(0, (48, 40)), "text": "a cat sitting under a tree"}),
            Sample("b1", {"image": tiny.make_image(1, (32, 32)), "text": "a dog on the grass"}, label="dog")]


# -- plain implementations, from the procedure -----------------------------------------


def plain_caption(caption, obj, value):
    """Token loop: the value before the first mention (last word may be plural), a/an fixed; else a sentence."""
    toks = caption.split()
    ow = obj.lower().split()

    def is_word(tok, word, last):
        t = tok.lower()
        for form in ([word, word + "s", word + "es"] if last else [word]):
            if t.startswith(form) and (len(t) == len(form) or not (t[len(form)].isalnum() or t[len(form)] in "-_")):
                return True
        return False

    for i in range(len(toks) - len(ow) + 1):
        if all(is_word(toks[i + k], ow[k], k == len(ow) - 1) for k in range(len(ow))):
            break
    else:
        base = " ".join(toks)
        if base[-1] not in ".!?":
            base += "."
        return f"{base} The {obj} is {value}."
    prefix, rest = toks[:i], toks[i:]
    vw = value.lower().split()
    if len(prefix) >= len(vw) and [t.lower() for t in prefix[len(prefix) - len(vw):]] == vw:
        return " ".join(toks)
    if prefix and prefix[-1].lower() in ("a", "an"):
        art = "an" if value[0].lower() in "aeiou" else "a"
        prefix[-1] = art.capitalize() if prefix[-1][0].isupper() else art
    if i == 0 and rest[0][0].isupper():
        value = value[0].upper() + value[1:]
        rest[0] = rest[0][0].lower() + rest[0][1:]
    return " ".join(prefix + [value] + rest)


def plain_select(objects, det, size, lo, hi):
    """Per object: matching detections best score first (ties: detector order), first usable box wins."""
    w, h = size
    plan, dropped = [], []
    for obj in objects:
        ow = obj.lower().split()
        idx = []
        for k, label in enumerate(det["labels"]):
            lw = label.lower().split()
            inside = any(lw[a:a + len(ow)] == ow for a in range(len(lw))) or \
                any(ow[a:a + len(lw)] == lw for a in range(len(ow)))
            if lw == ow or inside:
                idx.append(k)
        order = []
        while idx:
            best = idx[0]
            for k in idx:
                if det["scores"][k] > det["scores"][best]:
                    best = k
            order.append(best)
            idx.remove(best)
        if not order:
            dropped.append((obj, "not detected"))
            continue
        reasons = []
        for k in order:
            x0, y0, x1, y1 = det["boxes"][k]
            if x1 <= x0 or y1 <= y0:
                reasons.append("empty box")
                continue
            if x1 <= 0 or y1 <= 0 or x0 >= w or y0 >= h:
                reasons.append("box outside the image")
                continue
            c = [max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)]
            if c[2] - c[0] < 1 or c[3] - c[1] < 1:
                reasons.append("box under one pixel")
                continue
            share = (c[2] - c[0]) * (c[3] - c[1]) / (w * h)
            if share < lo:
                reasons.append("box too small")
                continue
            if share > hi:
                reasons.append("box too large")
                continue
            plan.append((obj, c, k))
            break
        else:
            dropped.append((obj, reasons[0]))
    return plan, dropped


CASES = [
    ("a man eating an apple.", "apple", "red", "a man eating a red apple."),
    ("A man eating an apple", "apple", "orange", "A man eating an orange apple"),
    ("An apple on a table", "apple", "green", "A green apple on a table"),
    ("Apples on a table", "apple", "red", "Red apples on a table"),
    ("two dogs and a cat", "dog", "brown", "two brown dogs and a cat"),
    ("a man holding a glass", "glass", "empty", "a man holding an empty glass"),
    ("a man at a table", "plate", "round", "a man at a table. The plate is round."),
    ("a red car on the road!", "car", "red", "a red car on the road!"),
    ("a tennis racket on the grass", "tennis racket", "wooden", "a wooden tennis racket on the grass"),
    ("the hotdog stand", "dog", "hot", "the hotdog stand. The dog is hot."),
    ("a dog-house in  the snow", "dog", "red", "a dog-house in the snow. The dog is red."),
]


@pytest.mark.parametrize("caption, obj, value, expected", CASES)
def test_attribute_caption_by_hand(caption, obj, value, expected):
    assert attribute_caption(caption, obj, value) == expected == plain_caption(caption, obj, value)


def test_attribute_caption_matches_the_plain_loop_on_random_captions():
    rng = np.random.default_rng(0)
    vocab = ["a", "an", "A", "the", "cat", "cats", "Cat", "dog", "dogs", "wooden", "table", "tables", "tennis",
             "racket", "red", "on", "and", "apple", "Apples", "glass", "glasses", "hotdog", "dog-house", "sits."]
    objects = ["cat", "dog", "table", "tennis racket", "apple", "glass", "red table"]
    values = ["red", "orange", "wooden", "round", "sliced", "dark blue", "empty"]
    for _ in range(400):
        caption = " ".join(rng.choice(vocab, size=int(rng.integers(1, 9))))
        obj, value = str(rng.choice(objects)), str(rng.choice(values))
        assert attribute_caption(caption, obj, value) == plain_caption(caption, obj, value), (caption, obj, value)


def test_box_selection_matches_the_plain_loop():
    rng = np.random.default_rng(1)
    labels = ["cat", "tree", "wooden table", "table", "red car", "car", "dog", "a cat"]
    objects = ["cat", "table", "wooden table", "car", "bird", "tree"]
    size = (48, 40)
    seen = set()
    for _ in range(300):
        n = int(rng.integers(0, 8))
        boxes = []
        for _ in range(n):
            x0, y0 = int(rng.integers(-20, 60)), int(rng.integers(-20, 50))
            boxes.append([x0, y0, x0 + int(rng.integers(-5, 50)), y0 + int(rng.integers(-5, 45))])
        det = {"boxes": boxes, "labels": [str(x) for x in rng.choice(labels, size=n)],
               "scores": [float(x) for x in rng.integers(0, 5, size=n) / 4]}  # ties on purpose
        lo, hi = float(rng.choice([0.0, 0.05])), float(rng.choice([0.5, 1.0]))
        plan, dropped = select_boxes(objects, det, size, lo, hi)
        want_plan, want_dropped = plain_select(objects, det, size, lo, hi)
        assert [(p["object"], p["box"], p["label"], p["score"]) for p in plan] == \
            [(o, [float(v) for v in c], det["labels"][k], det["scores"][k]) for o, c, k in want_plan]
        assert [d["object"] for d in dropped] == [o for o, _ in want_dropped]
        for d, (_, why) in zip(dropped, want_dropped):
            assert d["reason"].startswith(why), (d, why)
            seen.add(why)
    assert seen >= {"not detected", "empty box", "box outside the image", "box too small", "box too large"}


@pytest.mark.parametrize("answer, objects, problem", [
    ('["Cat", "the tree", 3]', [], "no object names"),  # a JSON list with a number: nothing trusted
    ('Objects: ["cat", "a tree"]', ["cat", "tree"], None),
    ("- a cat\n- wooden table.\n- some plates", ["cat", "wooden table", "plates"], None),
    ("cat, tree and dog; cat", ["cat", "tree", "dog"], None),
    ("the cat is sitting on a mat under the old tree today", [], "no object names"),
    ("", [], "empty answer"),
    ("42, ???", [], "no object names"),
])
def test_object_lists_are_read_robustly(answer, objects, problem):
    got = parse_objects(answer)
    assert got.objects == objects
    assert (got.problem or "").startswith(problem or "") and (got.problem is None) == (problem is None)


@pytest.mark.parametrize("answer, value, negative, problem", [
    ("red\nnegative: green", "red", "green", None),
    ("Value: Red apple\nNegative: a green apple.", "red", "green", None),
    ('{"value": "round", "negative": "square"}', "round", "square", None),
    ("wooden | metal", "wooden", "metal", None),
    ("value: sliced\nnegative: sliced", "sliced", "sliced", "the negative equals the value"),
    ("red", "red", None, "no negative"),
    ("", None, None, "empty answer"),
    ("value: 12\nnegative: green", None, "green", "no value"),
])
def test_attribute_answers_are_read_robustly(answer, value, negative, problem):
    got = parse_attribute(answer, "apple")
    assert (got.value, got.negative) == (value, negative)
    assert (got.problem or "").startswith(problem or "") and (got.problem is None) == (problem is None)


# -- the recipe ---------------------------------------------------------------------------


class TestBiAugContract(RecipeContract):
    name = "biaug"

    @pytest.fixture(autouse=True)
    def _models(self, owl_dir, inpaint_dir, tiny):
        type(self).params = _params(owl_dir, inpaint_dir, attributes=["color", "other"])
        self._tiny = tiny

    def good_samples(self):
        return _samples(self._tiny)

    def bad_samples(self):
        img = self._tiny.make_image(3, (32, 32))
        return [(Sample("nocap", {"image": img, "text": "  "}), "whitespace"),
                (Sample("emptycap", {"image": img, "text": ""}), "empty text"),
                (Sample("noimage", {"text": "a cat"}), "needs field 'image'")]


def test_outputs_pair_an_inpainted_object_with_its_caption_and_hard_negative(owl_dir, inpaint_dir, tiny):
    r = create("recipe", "biaug", **_params(owl_dir, inpaint_dir))
    src = _samples(tiny)[0]
    group = r.process([src], Seeder(0))[0]
    k = group[0].id.split("~")[1].split(".")[0]  # the chosen object's place in the plan
    assert [o.id for o in group] == [f"b0~{k}.{a}" for a in ("color", "shape", "material", "other")]
    by_attr = {o.lineage[-1].params["attribute"]: o for o in group}
    assert {a: o.kept for a, o in by_attr.items()} == {"color": True, "shape": True, "material": True, "other": False}
    assert by_attr["other"].reason == "malformed attribute answer: the negative equals the value"
    for attribute, (value, negative) in {"color": ("red", "green"), "shape": ("round", "square"),
                                         "material": ("wooden", "metal")}.items():
        o = by_attr[attribute]
        step = o.lineage[-1]
        assert [s.name for s in o.lineage] == ["text.llm-rewrite", "image.detect", "text.llm-rewrite",
                                               "image.inpaint", "biaug"]
        p = step.params
        assert (p["value"], p["negative"], p["attribute"]) == (value, negative, attribute)
        assert p["llm_model"] == "client:biaug-fake-gpt" and p["detect_model"] == owl_dir
        assert p["inpaint_model"] == inpaint_dir and p["objects"] == ["cat", "tree", "wooden table"]
        assert p["object"] in p["objects"] and len(p["box"]) == 4
        assert o["text"] == attribute_caption(src["text"], p["object"], value)
        assert o["text.negative"] == attribute_caption(src["text"], p["object"], negative)
        assert o.lineage[3].params["prompt"] == o["text"]  # inpainted under the augmented caption
        assert o.lineage[2].params["request"].count(f"Attribute: {attribute}") == 1
        # pixels outside the object's box are the input's, inside they are repainted
        x0, y0, x1, y1 = (round(v) for v in p["box"])
        before, after = np.asarray(src["image"]).astype(int), np.asarray(o["image"]).astype(int)
        inside = np.zeros(before.shape[:2], bool)
        inside[y0:y1, x0:x1] = True
        assert np.array_equal(after[~inside], before[~inside])
        assert np.abs(after[inside] - before[inside]).mean() > 1
    json.dumps([s.to_dict() for o in group for s in o.lineage])
    # every attribute edits the same chosen object, each with its own seeds
    assert len({o.lineage[-1].params["object"] for o in group}) == 1
    assert len({o.lineage[2].seed for o in group}) == 4


def test_every_usable_object_when_objects_per_image_is_none(owl_dir, inpaint_dir, tiny):
    r = create("recipe", "biaug", **_params(owl_dir, inpaint_dir, objects_per_image=None, attributes=["color"]))
    group = r.process(_samples(tiny)[:1], Seeder(0))[0]
    p = group[0].lineage[-1].params
    planned = [o for o in p["objects"] if o not in {d["object"] for d in p["dropped"]}]
    assert [o.lineage[-1].params["object"] for o in group] == planned
    assert [o.id for o in group] == [f"b0~{k}.color" for k in range(len(planned))]


def test_no_detections_reject_the_input_with_the_objects_recorded(owl_dir, inpaint_dir, tiny):
    r = create("recipe", "biaug", **_params(owl_dir, inpaint_dir, box_threshold=1.0))
    groups = r.process(_samples(tiny), Seeder(0))
    for s, group in zip(_samples(tiny), groups):
        assert len(group) == 1 and not group[0].kept and group[0].reason == "no detected objects"
        assert group[0].id == f"{s.id}~none" and group[0].parent_id == s.id
        step = group[0].lineage[-1]
        assert step.name == "biaug" and step.kept is False
        assert [d["reason"] for d in step.params["dropped"]] == ["not detected"] * 3
        assert group[0].lineage[1].params["detections"] == 0


def test_malformed_object_lists_are_rejections_not_errors(owl_dir, inpaint_dir, tiny):
    r = create("recipe", "biaug", **_params(owl_dir, inpaint_dir, attributes=["color"]))
    bad = Sample("g", {"image": tiny.make_image(5, (32, 32)), "text": "gibberish"})
    groups = r.process([bad, _samples(tiny)[1]], Seeder(0))
    assert groups[0][0].reason == "malformed object list: no object names in the answer '???'"
    assert [s.name for s in groups[0][0].lineage] == ["text.llm-rewrite", "biaug"]
    assert groups[0][0].lineage[0].params["answer"] == "???"
    assert groups[1][0].kept  # its batch mate is unaffected


def test_boxes_outside_the_image_leave_the_plan(owl_dir, inpaint_dir, tiny, monkeypatch):
    """A detector whose boxes lie outside the image (a third-party one, or a bug): no usable box, said why."""
    r = create("recipe", "biaug", **_params(owl_dir, inpaint_dir, attributes=["color"]))
    monkeypatch.setattr(r.detector_step, "detect", lambda images, phrases: [
        {"boxes": [[60, 0, 80, 10], [10, 10, 10, 30]], "labels": ["cat", "tree"], "scores": [0.9, 0.8]}
        for _ in images])
    group = r.process(_samples(tiny)[:1], Seeder(0))[0]
    assert group[0].reason == ("no usable object box: cat: box outside the image; tree: empty box; "
                               "wooden table: not detected")
    # partly outside: clipped to the image and used
    monkeypatch.setattr(r.detector_step, "detect", lambda images, phrases: [
        {"boxes": [[-10, 20, 30, 70]], "labels": ["wooden table"], "scores": [0.5]} for _ in images])
    out = r.process(_samples(tiny)[:1], Seeder(0))[0][0]
    assert out.kept and out.lineage[-1].params["box"] == [0.0, 20.0, 30.0, 40.0]
    assert out["text"] == "a cat sitting under a tree. The wooden table is red."


def test_same_seed_same_outputs_and_seeds_follow_the_input_id(owl_dir, inpaint_dir, tiny):
    r = create("recipe", "biaug", **_params(owl_dir, inpaint_dir, attributes=["color"]))
    a = r.process(_samples(tiny), Seeder(4))
    b = r.process(_samples(tiny)[::-1], Seeder(4))[::-1]
    for ga, gb in zip(a, b):
        assert [o.id for o in ga] == [o.id for o in gb]
        assert [[s.seed for s in o.lineage] for o in ga] == [[s.seed for s in o.lineage] for o in gb]
        assert [o["text"] for o in ga] == [o["text"] for o in gb]


def test_bad_configurations_are_config_errors(owl_dir, inpaint_dir):
    for bad in ({"attributes": []}, {"attributes": "color"}, {"attributes": ["color", "color "]},
                {"objects_per_image": 0},
                {"min_box_area": 0.9, "max_box_area": 0.5}, {"objects_prompt": "no caption here"},
                {"attribute_prompt": "{caption} {object}"}, {"inpaint_prompt": "{colour}"},
                {"negative_field": "text"}, {"llm_params": "gpt"}, {"detector": "image.detct"},
                {"llm": "text.eda"}):
        with pytest.raises(ConfigError):
            create("recipe", "biaug", **_params(owl_dir, inpaint_dir, **bad))
    with pytest.raises(ConfigError, match="did you mean image.detect"):
        create("recipe", "biaug", **_params(owl_dir, inpaint_dir, detector="detct"))


def test_without_the_text_plugin_the_error_says_what_to_install(owl_dir, inpaint_dir, monkeypatch):
    monkeypatch.setenv("CROSSAUG_PLUGINS", "crossaug-image")  # discovery limited to the image plugin
    with pytest.raises(ConfigError, match="pip install crossaug-text"):
        create("recipe", "biaug", **_params(owl_dir, inpaint_dir))


def test_models_swap_by_short_name(owl_dir, inpaint_dir):
    r = create("recipe", "biaug", **_params(owl_dir, inpaint_dir, llm="llm-rewrite", detector="detect",
                                            inpainter="inpaint"))
    assert (r.llm_step.name, r.detector_step.name, r.inpainter_step.name) == \
        ("text.llm-rewrite", "image.detect", "image.inpaint")


def test_a_detector_writing_no_detections_json_is_an_error_naming_the_sample(owl_dir, inpaint_dir, tiny,
                                                                             monkeypatch):
    r = create("recipe", "biaug", **_params(owl_dir, inpaint_dir))
    monkeypatch.setattr(r.detector_step, "transform_batch", lambda samples, seeds: ['{"found": 1}' for _ in samples])
    with pytest.raises(BadSample, match="expected a JSON object with boxes") as info:
        r.process(_samples(tiny)[:1], Seeder(0))
    assert "b0" in str(info.value)


def test_the_papers_detector_grounding_dino(inpaint_dir, tiny, tmp_path_factory):
    """Grounding DINO labels a box with the span of the phrases that fired; objects take the spans holding them."""
    from crossaug_image.recipes.biaug_boxes import label_matches

    gd = str(tiny.build_grounding_dino(tmp_path_factory.mktemp("grounding-dino")))
    r = create("recipe", "biaug", **_params(gd, inpaint_dir, attributes=["color"], objects_per_image=None))
    assert (r.detector_step.threshold, r.detector_step.text_threshold) == (0.0, 0.25)  # Grounding DINO's 0.25
    src = Sample("gd", {"image": tiny.make_image(7, (48, 40)), "text": "a cat sitting under a tree"})
    group = r.process([src], Seeder(0))[0]
    assert group and group[0].lineage[1].model == gd
    for o in group:
        p = o.lineage[-1].params
        assert o.kept or o.reason, o
        if o.kept:
            assert label_matches(p["label"], p["object"]), p
            assert o["text"] == attribute_caption(src["text"], p["object"], "red")
    assert any(o.kept for o in group)


# -- through a real tiny transformers language model ------------------------------------


@pytest.fixture(scope="module")
def tiny_lm(tmp_path_factory):
    """A random 1-layer GPT-2 over a word-level vocabulary of object, attribute and format words."""
    pytest.importorskip("transformers", reason="the tiny language model needs transformers")
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    words = ["<pad>", "</s>", "<unk>", "cat", "tree", "table", "dog", "grass", "red", "green", "round", "square",
             "wooden", "metal", "value", "negative", ":", ",", "|", "a", "the", "on", "under", "sitting", "objects",
             "caption", "attribute", "colour", "shape", "material", "other", "."]
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>")
    torch.manual_seed(0)
    d = tmp_path_factory.mktemp("tiny-gpt2")
    GPT2LMHeadModel(GPT2Config(vocab_size=len(words), n_embd=16, n_layer=1, n_head=2, n_positions=512,
                               bos_token_id=1, eos_token_id=1, pad_token_id=0)).save_pretrained(d)
    fast.save_pretrained(d)
    return str(d)


def test_through_a_real_tiny_language_model(owl_dir, inpaint_dir, tiny_lm, tiny):
    params = _params(owl_dir, inpaint_dir, attributes=["color", "material"])
    params["llm_params"] = {"model": tiny_lm, "max_new_tokens": 12, "max_input_tokens": 512}
    r = create("recipe", "biaug", **params)
    groups = r.process(_samples(tiny), Seeder(0))
    again = create("recipe", "biaug", **params).process(_samples(tiny), Seeder(0))
    known = ("malformed object list", "malformed attribute answer", "no detected objects", "no usable object box")
    outs = [o for g in groups for o in g]
    assert outs and all(g for g in groups)
    for o in outs:
        assert o.kept or o.reason.startswith(known), o.reason
        llm = o.lineage[0]
        assert llm.name == "text.llm-rewrite" and llm.model == tiny_lm and llm.params["stage"] == "objects"
        assert o.lineage[-1].params["llm_model"] == tiny_lm
    assert [(o.id, o.kept, o.reason, o.get("text")) for o in outs] == \
        [(o.id, o.kept, o.reason, o.get("text")) for g in again for o in g]
