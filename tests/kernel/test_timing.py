"""Every augmentation call is timed under the augmentation's name, failed calls included."""

from __future__ import annotations

import numpy as np
import pytest
from crossaug import BadSample, Sample
from crossaug.builtin.typo import Typo
from crossaug.timing import add_timing, take_timings, timed


def test_augment_adds_its_time_and_one_item_per_call_even_when_the_call_fails() -> None:
    take_timings()
    aug = Typo(rate=0.2)
    for seed in range(3):
        aug.augment(Sample("s", {"text": "hello world"}), np.random.default_rng(seed))
    bad = Sample("b", {"text": "hello"})
    object.__setattr__(bad, "fields", {"text": 5})  # past the input check: sample_params meets a non-text
    with pytest.raises((BadSample, TypeError, AttributeError)):
        aug._augment_checked(bad, np.random.default_rng(0))
    seconds, items = take_timings()["text.typo"]
    assert items == 4 and seconds > 0
    assert take_timings() == {}  # taken and reset


def test_add_timing_is_what_timed_adds() -> None:
    take_timings()
    with timed("a", count=3):
        pass
    add_timing("b", 0.5, 3)
    add_timing("b", 0.25)
    table = take_timings()
    assert table["a"][1] == 3 and table["a"][0] >= 0 and table["b"] == [0.75, 4]
