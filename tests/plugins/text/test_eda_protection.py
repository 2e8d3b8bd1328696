"""EDA's protected spans, protect_pos / protect_label, kept whitespace, language refusal, thread safety."""

from __future__ import annotations

import json
import re
from pathlib import Path

import crossaug
import numpy as np
import pytest
from crossaug import BadSample, ConfigError, Sample
from crossaug_text.eda import (
    EDA,
    RandomDeletion,
    RandomInsertion,
    RandomSwap,
    SynonymReplacement,
    apply_to_text,
    wordnet_synonyms,
)
from crossaug_text.recipes import EDARecipe

SOCIAL = "Hey @john_doe check https://example.com/deals and example.com now for $999 #BigSale today friend"
PROTECTED = ["@john_doe", "https://example.com/deals", "example.com", "$999", "#BigSale"]


def _all_ops():
    return [SynonymReplacement(alpha=0.5), RandomInsertion(alpha=0.5), RandomSwap(alpha=0.5),
            RandomDeletion(p=0.5), EDA(alpha_sr=0.5, alpha_ri=0.5, alpha_rs=0.5, p_rd=0.5)]


@pytest.mark.parametrize("seed", range(12))
def test_handles_urls_hashtags_prices_survive_every_operation(seed):
    for aug in _all_ops():
        out = aug.augment(Sample("s", {"text": SOCIAL}), np.random.default_rng(seed)).fields["text"]
        units = out.split()
        for p in PROTECTED:
            assert p in units, (aug.name, seed, out)


def test_reported_examples_john_doe_and_999_are_kept():
    # before: "@john_doe" -> "@john doe", "$999" -> "$for"
    text = "@john_doe says the price is $999 for this great phone"
    seen = set()
    for seed in range(30):
        out = EDA(alpha_sr=0.3, alpha_ri=0.3, alpha_rs=0.3, p_rd=0.3).augment(
            Sample("s", {"text": text}), np.random.default_rng(seed)).fields["text"]
        seen.add(out)
        assert "@john_doe" in out.split() and "$999" in out.split(), out
    assert len(seen) > 10


@pytest.mark.parametrize("seed", range(10))
def test_newlines_and_tabs_are_kept(seed):
    text = "first line words here\n\tsecond line with a tab\n\nthird paragraph ends here\n"
    for aug in (SynonymReplacement(alpha=0.3), RandomSwap(alpha=0.3), RandomInsertion(alpha=0.2)):
        out = aug.augment(Sample("s", {"text": text}), np.random.default_rng(seed)).fields["text"]
        assert out.count("\n") == 4 and out.count("\t") == 1 and out.endswith("\n"), (aug.name, out)
    out = RandomDeletion(p=0.3).augment(Sample("s", {"text": text}), np.random.default_rng(seed))
    dropped = out.lineage[-1].params["edits"]
    # each deleted word removes exactly one adjacent whitespace run
    runs_before = re.findall(r"\s+", text)
    runs_after = re.findall(r"\s+", out.fields["text"])
    assert len(runs_after) == len(runs_before) - len(dropped)


def test_apply_to_text_whitespace_rules():
    assert apply_to_text("a\tb\nc", "sr", [[1, "b", "bee"]]) == "a\tbee\nc"
    assert apply_to_text("a\tb\nc", "rs", [[0, 2]]) == "c\tb\na"
    assert apply_to_text("a\tb\nc", "rd", [1]) == "a\tc"          # b and the run after it
    assert apply_to_text("a\tb\nc\n", "rd", [2]) == "a\tb\n"      # last word: the run before it
    assert apply_to_text("  a b", "rd", [0]) == "  b"             # leading whitespace kept
    assert apply_to_text("a\nb", "ri", [[1, "x"]]) == "a\nx b"
    assert apply_to_text("a\nb\n", "ri", [[2, "x"]]) == "a\nb x\n"
    with pytest.raises(ValueError):  # never emptied
        apply_to_text("a b", "rd", [0, 1])


@pytest.mark.parametrize("text", ["Der Hund läuft schnell durch den großen Park.",
                                  "Die Katze sitzt auf der Matte und schläft."])
def test_german_input_is_refused_with_a_reason(text):
    # before: German went through English WordNet ("Der" -> "Five hundred")
    with pytest.raises(BadSample) as info:
        EDA().augment(Sample("de1", {"text": text}), np.random.default_rng(0))
    assert info.value.sample_id == "de1" and info.value.field == "text"
    assert "'de'" in str(info.value) and "input_language=None" in str(info.value)
    out = EDA(input_language=None).augment(Sample("de1", {"text": text}), np.random.default_rng(0))
    assert out.fields["text"]


GERMAN = "Der Hund läuft schnell durch den großen Park und bellt laut."


def test_swap_and_deletion_alone_edit_any_language_by_default():
    # they read no English resource, so "auto" checks nothing: German words are swapped and dropped
    s = Sample("de1", {"text": GERMAN})
    for aug in (RandomSwap(), RandomDeletion(), EDA(alpha_sr=0.0, alpha_ri=0.0)):
        assert aug.checked_language() is None
        out = aug.augment(s, np.random.default_rng(0))
        assert out.fields["text"] != GERMAN and set(out.fields["text"].split()) <= set(GERMAN.split())
    # English resources in use (SR, RI, the English tagger), or asked for: refused, naming the language
    for aug in (SynonymReplacement(), RandomInsertion(), EDA(), EDA(alpha_sr=0.0, alpha_ri=0.0, protect_pos=["NOUN"]),
                RandomSwap(protect_pos=["NOUN"]), RandomSwap(input_language="en"), RandomDeletion(input_language="en")):
        assert aug.checked_language() == "en"
        with pytest.raises(BadSample, match="'de'"):
            aug.augment(s, np.random.default_rng(0))
    assert EDARecipe(alpha_sr=0.0, alpha_ri=0.0).augmentation.checked_language() is None
    assert EDARecipe().augmentation.checked_language() == "en"


def test_german_rows_are_skipped_in_a_run_with_the_reason(tmp_path: Path):
    data = tmp_path / "in.jsonl"
    rows = [{"id": "en", "text": "The quick brown fox jumps over the lazy dog."},
            {"id": "de", "text": "Der schnelle braune Fuchs springt über den faulen Hund."}]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    crossaug.run(EDARecipe(num_aug=2), str(data), tmp_path / "out", seed=0, on_error="skip", report=False)
    lines = [json.loads(x) for x in (tmp_path / "out" / "manifest.jsonl").read_text().splitlines()]
    bad = [x for x in lines if x.get("parent_id") == "de" or x.get("id", "").startswith("de")]
    assert bad and all(not x["kept"] for x in bad if x["id"] != "de")
    assert any("'de'" in json.dumps(x) for x in bad)
    assert sum(1 for x in lines if x.get("parent_id") == "en" and x["kept"]) == 2


def test_short_english_is_not_judged():
    assert EDA().augment(Sample("s", {"text": "the dog"}), np.random.default_rng(0)).fields["text"]


# -- protect_pos / protect_label (parameters the image plugin codes against) ------------
@pytest.mark.parametrize("seed", range(10))
def test_protect_pos_keeps_nouns(seed, nlp):
    text = "A small fluffy cat sleeps quietly on the warm sofa near the window"
    nouns = {t.text for t in nlp(text) if t.pos_ in ("NOUN", "PROPN")}
    assert {"cat", "sofa", "window"} <= nouns
    aug = EDA(alpha_sr=0.5, alpha_ri=0.5, alpha_rs=0.5, p_rd=0.5, protect_pos=["NOUN", "PROPN"])
    out = aug.augment(Sample("s", {"text": text}), np.random.default_rng(seed))
    words = text.split()
    new = out.fields["text"].split()
    for w in words:
        if w in nouns:
            assert w in new
    # the nouns keep their relative order (never swapped)
    assert [w for w in new if w in nouns] == [w for w in words if w in nouns]


def test_protect_pos_checked_and_lazy():
    with pytest.raises(ConfigError, match="NOUNS"):
        EDA(protect_pos=["NOUNS"])
    assert EDA(protect_pos="noun").protect_pos == ("NOUN",)


@pytest.mark.parametrize("seed", range(20))
def test_protect_label_keeps_the_class_name_intact(seed):
    # before: "a photo of a cat persian", "a photo of a sitting on"
    s = Sample("s", {"text": "a photo of a persian cat sitting on a sofa"}, label="persian cat")
    aug = EDA(alpha_sr=0.3, alpha_ri=0.3, alpha_rs=0.3, p_rd=0.3, protect_label=True)
    out = aug.augment(s, np.random.default_rng(seed)).fields["text"]
    assert "persian cat" in out, out


def test_protect_label_off_can_break_the_label():
    s = Sample("s", {"text": "a photo of a persian cat sitting on a sofa"}, label="persian cat")
    aug = EDA(alpha_sr=0.3, alpha_ri=0.3, alpha_rs=0.3, p_rd=0.3)
    outs = [aug.augment(s, np.random.default_rng(k)).fields["text"] for k in range(20)]
    assert any("persian cat" not in o for o in outs)


def test_recipe_exposes_the_new_parameters():
    r = EDARecipe(protect_pos=["NOUN"], protect_label=True)
    params = r.get_params()
    assert params["protect_pos"] == ["NOUN"] and params["protect_label"] is True
    out = r([Sample("a", {"text": "a photo of a persian cat on a mat"}, label="persian cat")])
    assert all("persian cat" in o.fields["text"] for o in out if o.kept)


# -- issue 12: thread executor ------------------------------------------------------------
def test_thread_executor_runs_are_byte_identical(tmp_path: Path):
    from crossaug_text.resources import wordnet

    # many distinct words, so the worker threads keep reading WordNet's data files concurrently
    vocab = sorted(w for w in wordnet().all_lemma_names("n") if w.isalpha() and len(w) > 4)[::97][:600]
    rng = np.random.default_rng(0)
    rows = [{"id": f"r{i}", "text": "the " + " ".join(rng.choice(vocab, size=10)) + " here"} for i in range(60)]
    data = tmp_path / "in.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    recipe = dict(num_aug=2, alpha_sr=0.3, alpha_ri=0.3, alpha_rs=0.0, p_rd=0.0, input_language=None)
    wordnet_synonyms.cache_clear()
    crossaug.run(EDARecipe(**recipe), str(data), tmp_path / "ref", seed=3, workers=1, report=False)
    ref = (tmp_path / "ref" / "manifest.jsonl").read_bytes()
    for k in range(3):
        wordnet_synonyms.cache_clear()  # make every run hit WordNet from the worker threads
        crossaug.run(EDARecipe(**recipe), str(data), tmp_path / f"t{k}", seed=3, workers=2, batch_size=1,
                     executor="thread", report=False)
        assert (tmp_path / f"t{k}" / "manifest.jsonl").read_bytes() == ref, k


@pytest.mark.slow  # about 10 s: 900 words read by two threads
def test_each_thread_reads_wordnet_with_its_own_reader():
    # NLTK's reader seeks and reads shared open files: two threads sharing one misread synsets
    # ("No WordNet synset found ... at offset"), which made thread-executor runs differ
    import sys
    import threading

    from crossaug_text import resources

    words = sorted(w for w in resources.wordnet().all_lemma_names("n") if w.isalpha())[::41][:900]
    own = resources._wordnet_reader.__wrapped__(str(resources.wordnet_dir()))  # an unshared, uncached reader
    expected = {w: [(s.name(), s.definition()) for s in own.synsets(w)] for w in words}
    got: dict[str, list] = {}
    readers, errors = [], []

    def work(chunk):
        try:
            readers.append(resources.wordnet())
            for w in chunk:
                got[w] = [(s.name(), s.definition()) for s in resources.wordnet().synsets(w)]
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # interleave the threads as often as possible
    try:
        threads = [threading.Thread(target=work, args=(words[k::2],)) for k in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(old)
    assert not errors and got == expected
    assert readers[0] is not readers[1] and resources.wordnet() not in readers
