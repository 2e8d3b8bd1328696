"""Back-captioning's offline H keeps what the paper's GPT prompt keeps: nouns and the injected label.

The paper rewrites captions with gpt-3.5-turbo prompted "Maintain the nouns in the
following sentence intact and generate semantically diverse sentences." The
offline default H is ``text.eda`` with ``protect_pos=["NOUN", "PROPN"]`` and
``protect_label=True``; here 200 rewrites of label-injected captions are checked
word by word against nouns listed by hand.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from crossaug import Sample, create
from crossaug_image.recipes.back_captioning import BackCaptioning, rewriter_defaults

pytest.importorskip("crossaug_text", reason="the default H is crossaug-text's text.eda")

#: (label, caption as label-conditioned captioning gives it, its nouns by hand)
CAPTIONS = [
    ("persian cat", "a photo of a persian cat sitting on a sofa next to a window", ["photo", "cat", "sofa", "window"]),
    ("golden retriever", "a photo of a golden retriever running on the beach with a ball",
     ["photo", "retriever", "beach", "ball"]),
    ("red fox", "a photo of a red fox standing in the snow near a tree", ["photo", "fox", "snow", "tree"]),
    ("sports car", "a photo of a sports car parked on a quiet street at night", ["photo", "car", "street", "night"]),
    ("bald eagle", "a photo of a bald eagle flying over a lake under a cloudy sky",
     ["photo", "eagle", "lake", "sky"]),
    ("tabby cat", "a photo of a tabby cat sleeping on a wooden table in a kitchen",
     ["photo", "cat", "table", "kitchen"]),
    ("school bus", "a photo of a school bus driving down a road past green fields",
     ["photo", "bus", "road", "fields"]),
    ("monarch butterfly", "a photo of a monarch butterfly resting on a flower in a garden",
     ["photo", "butterfly", "flower", "garden"]),
    ("brown bear", "a photo of a brown bear catching a fish in a fast river", ["photo", "bear", "fish", "river"]),
    ("teapot", "a photo of a teapot and two cups on a tray by the window", ["photo", "teapot", "cups", "tray",
                                                                             "window"]),
]
SEEDS_PER_CAPTION = 20  # 10 captions x 20 = 200 rewrites


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z]+", text.lower())


def _survival(aug) -> tuple[int, int, int, list[str]]:
    samples, rngs, meta = [], [], []
    for i, (label, caption, nouns) in enumerate(CAPTIONS):
        for k in range(SEEDS_PER_CAPTION):
            samples.append(Sample(f"c{i}-{k}", {"text.caption": caption}, label=label))
            rngs.append(np.random.default_rng([i, k]))
            meta.append((label, nouns))
    outs = aug(samples, rngs)
    label_ok = nouns_ok = changed = 0
    broken = []
    for out, src, (label, nouns) in zip(outs, samples, meta, strict=True):
        text = out["text.caption"]
        changed += text != src["text.caption"]
        words = _words(text)
        has_label = f" {label} " in f" {' '.join(words)} "  # the label's words, contiguous and in order
        label_ok += has_label
        keeps_nouns = all(words.count(n) >= _words(src["text.caption"]).count(n) for n in nouns)
        nouns_ok += keeps_nouns
        if not (has_label and keeps_nouns):
            broken.append(text)
    return label_ok, nouns_ok, changed, broken


@pytest.mark.slow
def test_default_rewriter_keeps_the_label_and_the_nouns_over_200_rewrites():
    defaults = rewriter_defaults("text.eda")
    assert defaults == {"protect_pos": ["NOUN", "PROPN"], "protect_label": True}
    protected = create("augmentation", "text.eda", field="text.caption", **defaults)
    n = len(CAPTIONS) * SEEDS_PER_CAPTION
    label_ok, nouns_ok, changed, broken = _survival(protected)
    assert (label_ok, nouns_ok) == (n, n), broken[:5]
    assert changed >= 0.8 * n  # and it still rewrites
    # the same operations without protection break labels and nouns: the check can fail
    plain_label_ok, plain_nouns_ok, _, _ = _survival(create("augmentation", "text.eda", field="text.caption"))
    assert plain_label_ok < n and plain_nouns_ok < n


def test_back_captioning_builds_its_default_h_with_the_protection():
    r = BackCaptioning(caption_model="my/blip", image_model="my/sd")
    h = r.augment[0]
    assert h.name == "text.eda" and tuple(h.protect_pos) == ("NOUN", "PROPN") and h.protect_label is True
    lifted = BackCaptioning(caption_model="my/blip", image_model="my/sd", rewriter_params={"protect_label": False})
    assert lifted.augment[0].protect_label is False and tuple(lifted.augment[0].protect_pos) == ("NOUN", "PROPN")
    llm = BackCaptioning(caption_model="my/blip", image_model="my/sd", rewriter="text.llm-rewrite",
                         rewriter_params={"client": "unused"})
    assert llm.augment[0].prompt == ("Maintain the nouns in the following sentence intact and generate "
                                     "semantically diverse sentences.")  # the paper's GPT prompt, by default
