"""The kernel's own steps pass the contract suite every plugin step passes."""

from __future__ import annotations

from crossaug import Sample
from crossaug_testing import AugmentationContract, FilterContract, RecipeContract, TransformContract

GOOD = [Sample("g1", {"text": "The birch canoe slid on the smooth planks."}),
        Sample("g2", {"text": "Glue the sheet to the dark blue background."})]


class TestTypoContract(AugmentationContract):
    name = "text.typo"
    params = {"rate": 0.3}

    def good_samples(self):
        return GOOD

    def bad_samples(self):
        return [(Sample("empty", {"text": ""}), "empty text"),
                (Sample("blank", {"text": "   \n"}), "whitespace"),
                (Sample("notext", {"image.x": "a"}), "needs field 'text'"),
                (Sample("num", {"text": 42}), "expected text")]


class TestComposeContract(AugmentationContract):
    name = "compose"

    @property
    def params(self):  # nested steps are built the same way users build them
        from crossaug.builtin.typo import Typo

        return {"steps": [Typo(rate=0.2, ops=["swap"]), Typo(rate=0.2, ops=["delete"])], "p": 0.8}

    def good_samples(self):
        return GOOD

    def bad_samples(self):
        return [(Sample("empty", {"text": ""}), "empty text")]


class TestOneOfContract(TestComposeContract):
    name = "one-of"

    @property
    def params(self):
        from crossaug.builtin.typo import Typo

        return {"steps": [Typo(rate=0.3, ops=["swap"]), Typo(rate=0.3, ops=["insert"])], "weights": [1, 2]}


class TestSomeOfContract(TestComposeContract):
    name = "some-of"

    @property
    def params(self):
        from crossaug.builtin.typo import Typo

        return {"steps": [Typo(rate=0.3, ops=["swap"]), Typo(rate=0.3, ops=["insert"]),
                          Typo(rate=0.3, ops=["substitute"])], "n": [1, 2]}


class TestReverseWordsContract(TransformContract):
    name = "text.reverse-words"

    def good_samples(self):
        return GOOD

    def bad_samples(self):
        return [(Sample("empty", {"text": ""}), "empty text"),
                (Sample("other", {"text.fr": "bonjour"}), "needs field 'text'")]


class TestEditDistanceContract(FilterContract):
    name = "text.edit-distance"
    params = {"threshold": 0.2}

    def pairs(self):
        p = Sample("p", {"text": "one two three four five"})
        return [(Sample("same", {"text": "One two, three four five."}), p, True),
                (Sample("one-off", {"text": "one two three four six"}), p, True),
                (Sample("two-off", {"text": "one two tree for five"}), p, False),
                (Sample("empty-out", {"text": ""}), p, False)]


class TestLengthRatioContract(FilterContract):
    name = "text.length-ratio"
    params = {"min_ratio": 0.5, "max_ratio": 1.5}

    def pairs(self):
        p = Sample("p", {"text": "one two three four"})
        return [(Sample("short", {"text": "one"}), p, False),
                (Sample("ok", {"text": "one two three"}), p, True),
                (Sample("long", {"text": "one two three four five six seven"}), p, False)]


class TestTypoRecipeContract(RecipeContract):
    name = "typo"
    params = {"rate": 0.2, "n": 3}

    def good_samples(self):
        return GOOD

    def bad_samples(self):
        return [(Sample("empty", {"text": ""}), "empty text")]


class TestBackModalityContract(RecipeContract):
    name = "back-modality"

    @property
    def params(self):
        from crossaug.builtin.edit_distance import EditDistance
        from crossaug.builtin.reverse import ReverseWords
        from crossaug.builtin.typo import Typo

        return {"forward": ReverseWords(), "augment": Typo(rate=0.1, field="text.reversed"),
                "backward": ReverseWords(in_field="text.reversed", out_field="text"),
                "filters": [EditDistance(threshold=0.5)], "fan_out": [1, 3, 1], "keep": 2}

    def good_samples(self):
        return GOOD

    def bad_samples(self):
        return [(Sample("empty", {"text": ""}), "empty text")]
