"""Captioning transforms on tiny random BLIP and ViT-GPT2 models loaded from a local directory."""

from __future__ import annotations

import pickle

import pytest
import torch
from crossaug import ConfigError, MissingResource, Sample, create
from crossaug_image.captioning.base import clean_caption, fill_prompt
from crossaug_image.captioning.sampling import filter_logits
from crossaug_testing import TransformContract
from PIL import Image

pytestmark = pytest.mark.model


def _samples(tiny):
    return [Sample("p0", {"image": tiny.make_image(0)}, label="persian cat"),
            Sample("p1", {"image": tiny.make_image(1, (40, 56))}, label="dog"),
            Sample("p2", {"image": tiny.make_image(2, mode="L")})]


BAD = [(Sample("tiny", {"image": Image.new("RGB", (1, 1))}), "smallest side"),
       (Sample("notext", {"text": "a cat"}), "needs field 'image'")]


class _CaptionContract(TransformContract):
    fixture = ""

    @pytest.fixture(autouse=True)
    def _model(self, request, tiny):
        type(self).params = {"model": request.getfixturevalue(self.fixture), "max_new_tokens": 5,
                             "device": "cpu"}
        self._tiny = tiny

    def good_samples(self):
        return _samples(self._tiny)

    def bad_samples(self):
        return BAD


class TestBlipContract(_CaptionContract):
    name = "image.caption.blip"
    fixture = "blip_dir"


class TestVisionEncoderDecoderContract(_CaptionContract):
    name = "image.caption.vision-encoder-decoder"
    fixture = "ved_dir"


def test_git_model_loads_through_the_vision_encoder_decoder_captioner(git_dir, tiny):
    t = create("transform", "image.caption.vision-encoder-decoder", model=git_dir, max_new_tokens=4,
               min_new_tokens=2, device="cpu")
    samples = _samples(tiny)
    out = t(samples, [1, 2, 3])
    assert t._is_git and out[0]["text"].startswith("a photo of a persian cat")
    assert [t([s], [x])[0]["text"] for s, x in zip(samples, [1, 2, 3])] == [o["text"] for o in out]


def test_filter_logits_top_p_hand_computed():
    # softmax([2, 1, 0, -1]) = [0.644, 0.237, 0.087, 0.032]: mass 0.8 needs the first two
    out = filter_logits(torch.tensor([[2.0, 1.0, 0.0, -1.0]]), top_k=0, top_p=0.8)
    assert torch.isfinite(out).tolist() == [[True, True, False, False]]
    # the most likely token always survives
    out = filter_logits(torch.tensor([[0.0, 5.0, 1.0]]), top_p=0.01)
    assert torch.isfinite(out).tolist() == [[False, True, False]]


def test_prompt_helpers():
    assert fill_prompt("a photo of a {label}", "golden_retriever") == "a photo of a golden retriever"
    assert fill_prompt(None, "cat") is None
    assert clean_caption(" a cat , sitting  . ") == "a cat, sitting."


@pytest.mark.parametrize("fixture,name", [("blip_dir", "image.caption.blip"),
                                          ("ved_dir", "image.caption.vision-encoder-decoder")])
def test_label_is_injected_into_the_caption(request, tiny, fixture, name):
    t = create("transform", name, model=request.getfixturevalue(fixture), max_new_tokens=4, device="cpu")
    out = t(_samples(tiny), [1, 2, 3])
    assert out[0]["text"].startswith("a photo of a persian cat")
    assert out[1]["text"].startswith("a photo of a dog")
    assert not out[2]["text"].startswith("a photo of a")  # no label: unconditional
    assert out[0].lineage[-1].params["prompt"] == "a photo of a persian cat"
    assert out[0].lineage[-1].model == request.getfixturevalue(fixture)


def test_seeds_give_different_captions_and_same_seed_same_caption(blip_dir, tiny):
    t = create("transform", "image.caption.blip", model=blip_dir, max_new_tokens=8, device="cpu", prompt=None)
    s = Sample("s", {"image": tiny.make_image(4)})
    caps = [t([s], [seed])[0]["text"] for seed in range(6)]
    assert len(set(caps)) >= 3
    assert t([s], [3])[0]["text"] == caps[3]


def test_num_captions_sample_and_beam_modes(blip_dir, tiny):
    s = _samples(tiny)[:1]
    t = create("transform", "image.caption.blip", model=blip_dir, max_new_tokens=6, num_captions=3, device="cpu")
    info = t(s, [7])[0].lineage[-1].params
    assert len(info["captions"]) == 3 and info["index"] == 0
    beam = create("transform", "image.caption.blip", model=blip_dir, max_new_tokens=6, num_captions=2,
                  mode="beam", num_beams=3, device="cpu")
    a, b = beam(s, [0])[0], beam(s, [1])[0]
    caps = a.lineage[-1].params["captions"]
    assert len(caps) == 2 and a["text"] == caps[0] and b["text"] == caps[1]  # the seed picks the beam
    greedy = create("transform", "image.caption.blip", model=blip_dir, max_new_tokens=6, mode="greedy",
                    device="cpu")
    assert greedy(s, [0])[0]["text"] == greedy(s, [99])[0]["text"]


def test_pickling_drops_the_model(blip_dir, tiny):
    t = create("transform", "image.caption.blip", model=blip_dir, max_new_tokens=3, device="cpu")
    first = t(_samples(tiny)[:1], [0])[0]["text"]
    again = pickle.loads(pickle.dumps(t))
    assert again._model is None
    assert again(_samples(tiny)[:1], [0])[0]["text"] == first


def test_missing_model_is_missing_resource(tmp_path, tiny):
    t = create("transform", "image.caption.blip", model="nobody/no-such-captioner", device="cpu")
    with pytest.raises(MissingResource) as info:
        t(_samples(tiny)[:1], [0])
    assert "huggingface-cli download nobody/no-such-captioner" in str(info.value)


@pytest.mark.parametrize("params", [{"mode": "nucleus"}, {"num_captions": 0}, {"mode": "greedy", "num_captions": 2},
                                    {"top_p": 0.0}, {"device": "tpu"}, {"dtype": "int8"},
                                    {"mode": "beam", "num_captions": 4, "num_beams": 2}])
def test_bad_parameters(params):
    with pytest.raises(ConfigError):
        create("transform", "image.caption.blip", **params)
