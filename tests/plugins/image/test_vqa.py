"""Visual question answering on a tiny random BLIP-2 loaded from a local directory."""

from __future__ import annotations

import pytest
from crossaug import BadSample, ConfigError, Sample, create
from crossaug_testing import TransformContract
from PIL import Image

pytestmark = pytest.mark.model

RUN = {"max_new_tokens": 5, "device": "cpu"}


@pytest.fixture(scope="module")
def blip2_dir(tmp_path_factory, tiny):
    pytest.importorskip("transformers", reason="VQA needs crossaug-image[transformers]")
    return str(tiny.build_blip2(tmp_path_factory.mktemp("blip2")))


def _images(tiny):
    return [Sample("q0", {"image": tiny.make_image(0, (48, 40)), "text.question": "what is on the grass?"},
                   label="cat"),
            Sample("q1", {"image": tiny.make_image(1, (32, 32)), "text.question": "is the dog small?"}, label="dog"),
            Sample("q2", {"image": tiny.make_image(2, (40, 48)), "text.question": "what colour is the car?"},
                   label="car")]


class TestVqaContract(TransformContract):
    name = "image.vqa"

    @pytest.fixture(autouse=True)
    def _model(self, blip2_dir, tiny):
        type(self).params = {"model": blip2_dir, "question_field": "text.question", **RUN}
        self._tiny = tiny

    def good_samples(self):
        return _images(self._tiny)

    def bad_samples(self):
        img = Image.new("RGB", (16, 16))
        return [(Sample("blank", {"image": img, "text.question": "   "}), "question is empty"),
                (Sample("missing", {"image": img}), "question is empty")]


class TestVqaSampleContract(TestVqaContract):
    @pytest.fixture(autouse=True)
    def _model(self, blip2_dir, tiny):
        type(self).params = {"model": blip2_dir, "question_field": "text.question", "mode": "sample", **RUN}
        self._tiny = tiny


def _plain_greedy(blip2_dir, image, prompt, max_new_tokens):
    """Greedy decoding written as a loop of full forward passes; confidence = mean chosen-token probability."""
    import torch
    from transformers import AutoModelForImageTextToText, AutoProcessor

    proc = AutoProcessor.from_pretrained(blip2_dir)
    model = AutoModelForImageTextToText.from_pretrained(blip2_dir).eval()
    inputs = proc(images=[image], text=[prompt], return_tensors="pt")
    ids = inputs.pop("input_ids")
    inputs.pop("attention_mask")  # the rest: pixel values (and InstructBLIP's Q-Former instruction)
    eos = model.generation_config.eos_token_id
    chosen, probs = [], []
    with torch.no_grad():
        for _ in range(max_new_tokens):
            logits = model(**inputs, input_ids=ids, attention_mask=torch.ones_like(ids)).logits[0, -1]
            p = torch.softmax(logits.float(), -1)
            tok = int(torch.argmax(p))
            chosen.append(tok)
            probs.append(float(p[tok]))
            ids = torch.cat([ids, torch.tensor([[tok]])], dim=1)
            if tok == eos:
                break
    text = " ".join(proc.tokenizer.decode(chosen, skip_special_tokens=True).split())
    return text, sum(probs) / len(probs)


def test_answer_and_confidence_match_a_plain_greedy_loop(blip2_dir, tiny):
    s = _images(tiny)[0]
    t = create("transform", "image.vqa", model=blip2_dir, question="what is the {label} on?", **RUN)
    out = t([s], [0])[0]
    p = out.lineage[-1].params
    assert p["question"] == "what is the cat on?" and p["prompt"] == "Question: what is the cat on? Answer:"
    text, conf = _plain_greedy(blip2_dir, s["image"].convert("RGB"), p["prompt"], RUN["max_new_tokens"])
    assert out["text"] == text
    assert p["confidence"] == pytest.approx(conf, abs=1e-5)
    assert 0.0 < p["confidence"] <= 1.0 and p["mode"] == "greedy"


@pytest.fixture(scope="module")
def instructblip_dir(tmp_path_factory, tiny):
    pytest.importorskip("transformers", reason="VQA needs crossaug-image[transformers]")
    return str(tiny.build_instructblip(tmp_path_factory.mktemp("instructblip")))


class TestInstructBlipContract(TestVqaContract):
    @pytest.fixture(autouse=True)
    def _model(self, instructblip_dir, tiny):
        type(self).params = {"model": instructblip_dir, "question_field": "text.question",
                             "prompt_template": "{question}", **RUN}
        self._tiny = tiny


def test_instructblip_answer_and_confidence_match_a_plain_greedy_loop(instructblip_dir, tiny):
    s = _images(tiny)[2]
    t = create("transform", "image.vqa", model=instructblip_dir, question_field="text.question",
               prompt_template="{question}", **RUN)
    out = t([s], [0])[0]
    assert out.lineage[-1].params["prompt"] == "what colour is the car?"
    text, conf = _plain_greedy(instructblip_dir, s["image"].convert("RGB"), "what colour is the car?",
                               RUN["max_new_tokens"])
    assert out["text"] == text and out.lineage[-1].params["confidence"] == pytest.approx(conf, abs=1e-5)


def test_sampling_depends_on_the_seed_only(blip2_dir, tiny):
    t = create("transform", "image.vqa", model=blip2_dir, question_field="text.question", mode="sample",
               **{**RUN, "max_new_tokens": 8})
    s = _images(tiny)[1]
    outs = [t([s], [seed])[0]["text"] for seed in range(6)]
    assert outs[0] == t([s], [0])[0]["text"]
    assert len(set(outs)) > 1, "different seeds must give different sampled answers"


def test_question_needing_text_names_the_sample(blip2_dir):
    t = create("transform", "image.vqa", model=blip2_dir, question="is this {text}?", **RUN)
    with pytest.raises(BadSample, match="text field 'text'") as info:
        t([Sample("notext", {"image": Image.new("RGB", (16, 16))})], [0])
    assert "notext" in str(info.value)


def test_bad_parameters():
    for params in ({"question": " "}, {"prompt_template": "Answer:"}, {"mode": "beam"}, {"max_new_tokens": 0},
                   {"top_p": 0.0}):
        with pytest.raises(ConfigError):
            create("transform", "image.vqa", **params)


def _plain_sampled(model_dir, image, prompt, max_new_tokens, generator):
    """Ancestral sampling (temperature 1, no top-k/top-p) as a loop of full forward passes with one generator."""
    import torch
    from transformers import AutoModelForImageTextToText, AutoProcessor

    proc = AutoProcessor.from_pretrained(model_dir)
    model = AutoModelForImageTextToText.from_pretrained(model_dir).eval()
    inputs = proc(images=[image], text=[prompt], return_tensors="pt")
    ids = inputs.pop("input_ids")
    inputs.pop("attention_mask")
    eos = model.generation_config.eos_token_id
    chosen, probs = [], []
    with torch.no_grad():
        for _ in range(max_new_tokens):
            logits = model(**inputs, input_ids=ids, attention_mask=torch.ones_like(ids)).logits[0, -1]
            p = torch.softmax(logits.float(), -1)
            tok = int(torch.multinomial(p, 1, generator=generator))
            chosen.append(tok)
            probs.append(float(p[tok]))
            ids = torch.cat([ids, torch.tensor([[tok]])], dim=1)
            if tok == eos:
                break
    text = " ".join(proc.tokenizer.decode(chosen, skip_special_tokens=True).split())
    return text, sum(probs) / len(probs)


SAMPLE3 = {**RUN, "max_new_tokens": 6, "do_sample": True, "num_return_sequences": 3, "top_p": 1.0}


def test_several_sampled_answers_each_match_a_plain_sampling_loop(blip2_dir, tiny):
    import numpy as np
    from crossaug import torch_generator

    s = _images(tiny)[1]
    t = create("transform", "image.vqa", model=blip2_dir, question_field="text.question", **SAMPLE3)
    out = t([s], [11])[0]
    p = out.lineage[-1].params
    assert p["mode"] == "sample" and len(p["answers"]) == len(p["confidences"]) == 3
    children = np.random.SeedSequence(11).spawn(3)
    for j, child in enumerate(children):
        gen = torch_generator(int(child.generate_state(2, np.uint32).view(np.uint64)[0] >> 1))
        text, conf = _plain_sampled(blip2_dir, s["image"].convert("RGB"), p["prompt"], 6, gen)
        assert p["answers"][j] == text
        assert p["confidences"][j] == pytest.approx(conf, abs=1e-5)
    best = max(range(3), key=lambda j: (p["confidences"][j], -j))
    assert p["index"] == best and out["text"] == p["answers"][best] and p["confidence"] == p["confidences"][best]
    assert len(set(p["answers"])) > 1, "three seeded draws from a random model should not all agree"


def test_several_answers_do_not_depend_on_batch_mates(blip2_dir, tiny):
    t = create("transform", "image.vqa", model=blip2_dir, question_field="text.question", **SAMPLE3)
    samples = _images(tiny)
    together = [o.lineage[-1].params["answers"] for o in t(samples, [3, 4, 5])]
    alone = [t([s], [seed])[0].lineage[-1].params["answers"] for s, seed in zip(samples, [3, 4, 5])]
    assert together == alone


def test_do_sample_is_sample_mode_and_top_k_one_is_greedy(blip2_dir, tiny):
    s = _images(tiny)[0]
    base = {"model": blip2_dir, "question_field": "text.question", **RUN}
    by_flag = create("transform", "image.vqa", do_sample=True, **base)
    by_mode = create("transform", "image.vqa", mode="sample", **base)
    assert by_flag.mode == "sample" and by_flag([s], [7])[0]["text"] == by_mode([s], [7])[0]["text"]
    greedy = create("transform", "image.vqa", **base)([s], [0])[0]
    assert create("transform", "image.vqa", do_sample=False, **base)([s], [0])[0]["text"] == greedy["text"]
    top1 = create("transform", "image.vqa", do_sample=True, top_k=1, num_return_sequences=2, **base)([s], [9])[0]
    p = top1.lineage[-1].params
    assert p["answers"] == [greedy["text"]] * 2 and p["top_k"] == 1
    assert p["confidences"][0] == pytest.approx(greedy.lineage[-1].params["confidence"], abs=1e-5)


def test_sampling_parameters_are_checked():
    for params in ({"num_return_sequences": 2}, {"num_return_sequences": 0}, {"do_sample": "yes"},
                   {"do_sample": False, "mode": "sample"}, {"do_sample": True, "top_k": -1},
                   {"do_sample": True, "temperature": 0.0}):
        with pytest.raises(ConfigError):
            create("transform", "image.vqa", **params)
