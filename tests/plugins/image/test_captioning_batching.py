"""Captioning batches across prompts (label-injected batches stay whole) and refuses NaN scores."""

from __future__ import annotations

import pytest
from crossaug import BadSample, Sample, create

pytestmark = pytest.mark.model

LABELS = ["cat", "dog", "car", "tree", "house", "beach"]  # one word-piece each in the tiny vocabularies


def _samples(tiny, labels=LABELS):
    return [Sample(f"s{i}", {"image": tiny.make_image(i)}, label=lab) for i, lab in enumerate(labels)]


@pytest.mark.parametrize("fixture, name", [("blip_dir", "image.caption.blip"),
                                           ("ved_dir", "image.caption.vision-encoder-decoder")])
@pytest.mark.parametrize("mode", ["sample", "greedy"])
def test_label_injected_prompts_of_different_classes_share_one_call(request, tiny, fixture, name, mode):
    t = create("transform", name, model=request.getfixturevalue(fixture), max_new_tokens=5, min_new_tokens=2,
               device="cpu", mode=mode, batch_size=8)
    calls: list[list[str | None]] = []
    real = type(t).generate

    def counting(self, images, prompts, generators, num_return):
        calls.append(list(prompts))
        return real(self, images, prompts, generators, num_return)

    t.generate = counting.__get__(t)
    samples = _samples(tiny)
    batched = t(samples, list(range(len(samples))))
    assert len(calls) == 1 and len(set(calls[0])) == len(LABELS)  # six classes, one model call (was six)
    alone = [t([s], [i])[0] for i, s in enumerate(samples)]  # one at a time
    assert len(calls) == 1 + len(samples)
    assert [o["text"] for o in batched] == [o["text"] for o in alone]  # a caption never depends on its batch
    for o, lab in zip(batched, LABELS):
        assert o["text"].startswith(f"a photo of a {lab}")


def test_prompts_of_different_token_lengths_are_split_and_unconditional_rows_too(blip_dir, tiny):
    t = create("transform", "image.caption.blip", model=blip_dir, max_new_tokens=4, device="cpu")
    lengths = []
    real = type(t).generate
    t.generate = (lambda self, images, prompts, g, n: lengths.append(len(images)) or real(self, images, prompts, g,
                                                                                          n)).__get__(t)
    samples = _samples(tiny, ["cat", "dog", "persian cat"]) + [Sample("u", {"image": tiny.make_image(9)})]
    out = t(samples, [0, 1, 2, 3])
    assert sorted(lengths) == [1, 1, 2]  # {cat, dog} together, "persian cat" alone, no label alone
    assert out[2]["text"].startswith("a photo of a persian cat")


def test_nan_scores_are_an_error_of_that_sample(blip_dir, tiny):
    import torch

    t = create("transform", "image.caption.blip", model=blip_dir, max_new_tokens=4, device="cpu")
    samples = _samples(tiny, ["cat", "dog"])
    t(samples[:1], [0])  # load
    with torch.no_grad():
        t._model.vision_model.post_layernorm.bias.fill_(float("nan"))
    with pytest.raises(BadSample, match="NaN or infinite token scores") as info:
        t(samples, [0, 1])
    assert info.value.sample_id == "s0" and info.value.field == "image"
