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


def test_a_steps_model_and_revision_are_found_wherever_they_live() -> None:
    """``model_id``/``model_revision`` read an instance's own value, a class attribute, a property
    or ``__getattr__`` (what the lineage records as the step's model and revision)."""
    from crossaug import Augmentation

    class Plain(Augmentation):
        name = "t.plain"

    class Own(Augmentation):
        name = "t.own"

        def __init__(self, model: object = None) -> None:
            if model is not None:
                self.model = model

    class ClassLevel(Augmentation):
        name = "t.class"
        model = "org/class-model"

    class Computed(Augmentation):
        name = "t.prop"

        @property
        def model(self) -> str:
            return "org/computed"

        @property
        def revision(self) -> str:
            return "r1"

    class Dynamic(Augmentation):
        name = "t.dyn"

        def __getattr__(self, name: str) -> str:
            if name in ("model", "revision"):
                return f"dyn-{name}"
            raise AttributeError(name)

    for _ in range(2):
        assert (Plain().model_id, Plain().model_revision) == (None, None)
        assert Own().model_id is None and Own("org/m").model_id == "org/m" and Own(3).model_id is None
        assert ClassLevel().model_id == "org/class-model"
        assert (Computed().model_id, Computed().model_revision) == ("org/computed", "r1")
        assert (Dynamic().model_id, Dynamic().model_revision) == ("dyn-model", "dyn-revision")
    late = Plain()
    late.model = "org/set-later"  # an attribute set after the class was looked at
    assert late.model_id == "org/set-later" and late.lineage_step({}).model == "org/set-later"
