"""Spoken form (crossaug_audio/spoken_form.py) and the spoken edit-distance filter (spoken_edit_distance.py)."""

from __future__ import annotations

import pytest
from crossaug import Sample, create
from crossaug_audio.spoken_edit_distance import SpokenEditDistance, spoken_word_distance
from crossaug_audio.spoken_form import number_words, ordinal_words, spoken_form, year_words
from crossaug_testing import FilterContract

#: the seven back-speech examples of the Back-Modality paper, Fig. 4 (input, output)
FIG4 = [
    ("That's far too tragic to merit such superficial treatment .",
     "That is far too tragic to merit such superficial treatment ."),
    ("Remains utterly satisfied to remain the same throughout .",
     "Remain sutterly satisfied to remain the same throughout ."),
    ("He hoped there would be stew for dinner, turnips and carrots .",
     "He hoped there would be stew for dinner, turnips ."),
    ("This is a shot of cannery row in 1932 .", "This is a shot of cannery row in nineteen thirty-two ."),
    ("Lend some dignity to a dumb story .", "Lend some dignity to a dome story ."),
    ("The year's best and most unpredictable comedy .", "The nears best and most unpredictable comedy ."),
    ("So, we have this ability as well .", "So we have this ability as well"),
]


@pytest.mark.parametrize("source,output", FIG4)
def test_paper_fig4_examples_pass_the_default_filter(source, output):
    f = create("filter", "audio.spoken-edit-distance")
    p = Sample("p", {"text": source})
    got = f([Sample("c", {"text": output})], [p])[0]
    assert got.kept, (source, output, got.reason)
    assert got.lineage[-1].score <= 0.2


def test_plain_word_filter_rejects_three_of_them():
    """Why the spoken form is needed: the kernel's written-form filter rejects 1932, That's and the re-split."""
    f = create("filter", "text.edit-distance")
    rejected = [src for src, out in FIG4 if not f([Sample("c", {"text": out})], [Sample("p", {"text": src})])[0].kept]
    assert len(rejected) == 3


def test_spoken_word_distance_hand_computed():
    # plain Levenshtein cases
    assert spoken_word_distance("a b c".split(), "a b c".split()) == 0
    assert spoken_word_distance("a b c".split(), "a x c".split()) == 1
    assert spoken_word_distance("a b c".split(), "a c".split()) == 1
    assert spoken_word_distance([], "a b".split()) == 2
    # a merge, a split and a moved boundary each cost one edit
    assert spoken_word_distance("any one here".split(), "anyone here".split()) == 1
    assert spoken_word_distance("anyone here".split(), "any one here".split()) == 1
    assert spoken_word_distance("remains utterly x".split(), "remain sutterly x".split()) == 1
    # but unrelated pairs still cost two
    assert spoken_word_distance("red cat".split(), "big dog".split()) == 2


@pytest.mark.parametrize("written,spoken", [
    ("In 1932.", "in nineteen thirty two"),
    ("In 2005 and 2021", "in two thousand five and twenty twenty one"),
    ("the 1990s", "the nineteen nineties"),
    ("May 3rd, the 21st", "may third the twenty first"),
    ("It costs $3.50", "it costs three dollars fifty cents"),
    ("£20 or €1", "twenty pounds or one euro"),
    ("a $5m deal", "a five million dollars deal"),
    ("up 4.5% today", "up four point five percent today"),
    ("3.14 and 1,200", "three point one four and one thousand two hundred"),
    ("at 10:30pm or 7 a.m.", "at ten thirty p m or seven a m"),
    ("at 9:00", "at nine oclock"),
    ("Mr. Smith vs. Dr. Jones & co", "mister smith versus doctor jones and co"),
    ("e.g. this", "for example this"),
    ("I'm sure we can't, won't, they're", "i am sure we can not will not they are"),
    ("It's the year's best", "it is the years best"),
    ("#DeepLearning with @jane_doe", "deep learning with jane doe"),
    ("see https://t.co/abc now", "see now"),
    ("thirty-two", "thirty two"),
    ("Agent 007", "agent zero zero seven"),
])
def test_spoken_form_rules(written, spoken):
    assert spoken_form(written) == spoken


def test_number_words_against_a_plain_table():
    # written out by hand, independent of the recursive implementation
    table = {0: "zero", 7: "seven", 13: "thirteen", 40: "forty", 99: "ninety nine", 100: "one hundred",
             101: "one hundred one", 999: "nine hundred ninety nine", 1000: "one thousand",
             1234: "one thousand two hundred thirty four", 2000000: "two million",
             1000001: "one million one"}
    assert {n: number_words(n) for n in table} == table
    assert [ordinal_words(n) for n in (1, 2, 3, 5, 12, 20, 21, 100)] == [
        "first", "second", "third", "fifth", "twelfth", "twentieth", "twenty first", "one hundredth"]
    assert [year_words(y) for y in (1900, 1905, 1932, 2000, 2009, 2010)] == [
        "nineteen hundred", "nineteen oh five", "nineteen thirty two", "two thousand", "two thousand nine",
        "twenty ten"]


def test_copies_rejected_with_min_distance():
    f = SpokenEditDistance(min_distance=0.01)
    p = Sample("p", {"text": "It's 5 p.m."})
    same, differs = f([Sample("a", {"text": "it is five p m"}), Sample("b", {"text": "it is nine p m"})], [p, p])
    assert not same.kept and "copy" in same.reason and differs.kept


class TestSpokenEditDistanceContract(FilterContract):
    name = "audio.spoken-edit-distance"
    params = {"threshold": 0.2}

    def pairs(self):
        p = Sample("p", {"text": "The 3 cats sat."})
        return [(Sample("c1", {"text": "the three cats sat"}), p, True),
                (Sample("c2", {"text": "dogs ran off"}), p, False)]
