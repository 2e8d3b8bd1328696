"""The direct-slot copies on the augmentation hot path give what the keyword constructors give."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from crossaug import BadSample, LineageStep, Sample
from crossaug.builtin.typo import Typo
from crossaug.sample import input_sample, plain_step, restamp


def _as_tuple(s: Sample) -> tuple:
    return tuple(getattr(s, f.name) for f in dataclasses.fields(Sample))


SAMPLE = Sample("s1", {"text": "a cat", "text.de": "eine Katze"}, label=3, lineage=(LineageStep("x"),),
                parent_id="root", kept=False, reason="why", meta={"k": [1]})


def test_derive_is_the_keyword_replace_it_stands_for() -> None:
    step = LineageStep("text.upper", params={"a": 1})
    for kwargs in ({}, {"id": "new"}, {"drop": ("text.de",)}):
        got = SAMPLE.derive(step, text="A CAT", **kwargs)
        fields = {k: v for k, v in SAMPLE.fields.items() if k not in kwargs.get("drop", ())}
        fields["text"] = "A CAT"
        want = dataclasses.replace(SAMPLE, id=kwargs.get("id", "s1"), fields=fields, parent_id="root",
                                   lineage=SAMPLE.lineage + (step,))
        assert _as_tuple(got) == _as_tuple(want)
    assert SAMPLE.derive(None).lineage is SAMPLE.lineage
    assert Sample("a", {"text": "x"}).derive(None).parent_id == "a"  # an input's root is itself


def test_restamp_and_input_sample_keep_the_constructor_checks() -> None:
    steps = (LineageStep("t"),)
    want = dataclasses.replace(SAMPLE, lineage=steps, parent_id="p")
    assert _as_tuple(restamp(SAMPLE, steps, "p")) == _as_tuple(want)
    assert restamp(SAMPLE, steps, "p", "s1~0").id == "s1~0"
    with pytest.raises(BadSample, match="non-empty string"):
        restamp(SAMPLE, steps, "p", "")
    assert _as_tuple(input_sample("a", {"text": "x"}, "l", {"m": 1})) == \
        _as_tuple(Sample("a", {"text": "x"}, label="l", meta={"m": 1}))
    with pytest.raises(BadSample, match="non-empty string"):
        input_sample("", {"text": "x"}, None, {})
    with pytest.raises(BadSample, match="fields must be a mapping"):
        input_sample("a", ["x"], None, {})  # type: ignore[arg-type]


def test_plain_step_is_the_dataclass_with_defaults() -> None:
    got = plain_step("text.typo", "augmentation", "crossaug", "0.1", {"edits": [[1, "swap", ""]]}, "m", "r")
    want = LineageStep(name="text.typo", kind="augmentation", plugin="crossaug", version="0.1",
                       params={"edits": [[1, "swap", ""]]}, model="m", revision="r")
    assert got == want and got.to_dict() == want.to_dict()


def test_augment_output_equals_the_copy_it_replaced() -> None:
    aug = Typo(rate=0.5)
    s = Sample("s", {"text": "hello there world"}, label="x", meta={"m": 1})
    out = aug.augment(s, np.random.default_rng(0))
    params = out.lineage[-1].params
    applied = aug.apply(s, params)
    want = dataclasses.replace(applied, lineage=(aug.lineage_step(params),), parent_id="s")
    assert _as_tuple(out) == _as_tuple(want)
    assert out.fields["text"] != "hello there world" and out.label == "x" and out.meta == {"m": 1}
