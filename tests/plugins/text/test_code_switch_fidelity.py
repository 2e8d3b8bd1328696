"""Code-switching: POS and sense, protected spans, language refusal, word screen, sentence tier, ConceptNet."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from crossaug import BadSample, ConfigError, Sample
from crossaug.builtin.word_screen import introduced_blocked_words
from crossaug_text.code_switch import CodeSwitch, extra_blocked_words
from crossaug_text.conceptnet import parse_node, read_assertions
from crossaug_text.culture_graph import CultureGraph
from crossaug_text.senses import choose_sense

FIXTURE = Path(__file__).parent / "data" / "conceptnet_assertions_sample.csv"


def _switches(aug, text, seed=0):
    out = aug.augment(Sample("s", {"text": text}), np.random.default_rng(seed))
    return out.fields["text"], out.lineage[-1].params["switches"]


@pytest.fixture(scope="module")
def kenet():
    pytest.importorskip("WordNet", reason="the [kenet] extra (nlptoolkit-wordnet) is not installed")
    return CodeSwitch(lexicon="kenet:tr", word_rate=1.0, phrase_rate=1.0)


# -- part of speech and sense (real spaCy, real WordNet) -------------------------------
def test_pos_blocks_a_verb_switched_as_a_noun(nlp):
    lex = {"check": {"target": "çek", "concept": "check.n.01"}, "wear": {"target": "erozyon", "concept": "wear.n.04"}}
    aug = CodeSwitch(lexicon=lex, language="tr", word_rate=1.0)
    out, sw = _switches(aug, "Check the coat she is wearing before you leave the house.")
    assert sw == [] and out.startswith("Check")                   # imperative verb, not the cheque
    out, sw = _switches(aug, "I paid the bill with a check from my bank account.")
    assert [(s["source"], s["target"]) for s in sw] == [("check", "çek")]  # the noun, in the cheque sense


def test_sense_in_context_is_used_not_the_entrys_first_sense(nlp):
    lex = {"bank": {"targets": ["kıyı"], "concept": "bank.n.01"}}
    aug = CodeSwitch(lexicon=lex, language="tr", word_rate=1.0)
    _, river = _switches(aug, "We sat on the grassy bank of the river and watched the water.")
    assert [s["target"] for s in river] == ["kıyı"]
    _, money = _switches(aug, "She deposited the money at the bank, a financial institution.")
    assert money == []  # the financial sense has no translation here: nothing is switched
    mfs = CodeSwitch(lexicon=lex, language="tr", word_rate=1.0, sense="mfs")
    assert [s["target"] for s in _switches(mfs, "She deposited the money at the bank, a financial "
                                                "institution.")[1]] == ["kıyı"]


def test_sense_method_checked():
    with pytest.raises(ConfigError, match="sense"):
        CodeSwitch(lexicon={"a": "b"}, sense="best")


def test_lesk_falls_back_to_most_frequent_sense_on_one_shared_word():
    from crossaug_text.resources import wordnet

    assert choose_sense(wordnet(), "cats", "n", "The dog chases two cats.").name() == "cat.n.01"


def test_kenet_wearing_and_check_examples(kenet, nlp):
    # before: "wearing" -> "erozyon" (erosion), "Check" -> "Çek" (cheque)
    for seed in range(5):
        out, sw = _switches(kenet, "Check the woman wearing a red coat near the door.", seed)
        by_src = {s["source"]: s for s in sw}
        assert "Check" not in by_src and not out.startswith("Çek")
        assert by_src.get("wearing", {}).get("target") != "erozyon"
        if "wearing" in by_src:
            assert by_src["wearing"]["concept"].split(".")[1] == "v"


def test_kenet_woman_never_becomes_a_slur(kenet, nlp):
    # before: "woman" -> a slur among KeNet's woman.n.01 lemmas
    targets = set()
    for seed in range(60):
        _, sw = _switches(kenet, "The woman and the girl walk home.", seed)
        targets |= {s["target"].lower() for s in sw if s["source"] in ("woman", "girl")}
    assert targets and not targets & set(extra_blocked_words("tr"))
    assert "kadın" in targets


# -- protected spans -----------------------------------------------------------------------
@pytest.mark.parametrize("text", ["Visit example.com for cheap tea", "Read https://example.com/tea/cat today",
                                  "Ask @tea_cat or mail cat@example.com about #cat and $5 tea"])
def test_nothing_inside_urls_handles_hashtags_numbers(text, nlp):
    lex = {"example": "misal", "tea": "çay", "cat": "kedi", "com": "kom", "5": "beş"}
    aug = CodeSwitch(lexicon=lex, language="tr", word_rate=1.0, input_language=None)
    out, sw = _switches(aug, text)
    for protected in ("example.com", "https://example.com/tea/cat", "@tea_cat", "cat@example.com", "#cat", "$5"):
        if protected in text:
            assert protected in out, out
    assert "misal" not in out and "kom" not in out and "beş" not in out


# -- language --------------------------------------------------------------------------------
def test_german_input_is_refused_with_a_reason():
    aug = CodeSwitch(lexicon={"hund": "köpek", "der": "the"}, language="tr", word_rate=1.0)
    with pytest.raises(BadSample) as info:
        aug.augment(Sample("g1", {"text": "Der Hund läuft schnell durch den großen Park."}),
                    np.random.default_rng(0))
    assert info.value.sample_id == "g1" and info.value.field == "text" and "'de'" in str(info.value)


# -- word screen -------------------------------------------------------------------------------
def test_screen_drops_blocked_targets_but_keeps_words_already_in_the_input(nlp):
    lex = {"woman": ["kancık", "kadın"], "dog": ["shit"]}
    aug = CodeSwitch(lexicon=lex, language="tr", word_rate=1.0)
    for seed in range(20):
        out, sw = _switches(aug, "The woman walks her dog in the park.", seed)
        assert "kancık" not in out and "shit" not in out.split()
        assert [s["target"] for s in sw] == ["kadın"]
    with pytest.raises(ConfigError, match="xx"):
        CodeSwitch(lexicon=lex, screen_langs=["xx"])


@pytest.mark.slow
def test_no_blocked_word_emitted_over_hundreds_of_sentences(kenet, nlp):
    nouns = ["woman", "girl", "man", "boy", "dog", "cat", "mother", "wife", "friend", "teacher", "child",
             "worker", "neighbour", "cook", "singer"]
    verbs = ["sees", "meets", "calls", "helps", "follows", "visits"]
    rng = np.random.default_rng(0)
    langs = ["en", "tr"]
    emitted = 0
    for k in range(300):
        text = f"The {rng.choice(nouns)} {rng.choice(verbs)} the {rng.choice(nouns)} near the old house."
        out, sw = _switches(kenet, text, k)
        emitted += len(sw)
        assert introduced_blocked_words(text, out, langs=langs, extra=extra_blocked_words("tr")) == [], out
    assert emitted > 300


# -- sentence tier: whole-sentence translation -------------------------------------------------
def test_sentence_tier_translates_with_a_model(tiny_marian):
    en_de, _ = tiny_marian
    aug = CodeSwitch(lexicon={"cat": "katze"}, language="de", word_rate=1.0, sentence_rate=1.0,
                     sentence_model=en_de, pos_filter=False)
    text = "the cat sits on the mat. a dog runs in the park."
    out, sw = _switches(aug, text)
    assert [s["level"] for s in sw] == ["sentence", "sentence"]
    assert [s["source"] for s in sw] == ["the cat sits on the mat.", "a dog runs in the park."]
    assert out == f"{sw[0]['target']} {sw[1]['target']}"
    again, _ = _switches(aug, text)
    assert again == out


# -- ConceptNet ---------------------------------------------------------------------------------
def test_conceptnet_fixture_loads_beside_wordnet():
    rows = list(read_assertions(FIXTURE))
    assert len(rows) == 11 and rows[0].relation == "/r/IsA" and rows[0].info["weight"] == 2.0
    g = CultureGraph.build(["kimono"], up=1, down=0)
    before = set(g.concepts)
    g.add_conceptnet(FIXTURE, languages=["en", "tr", "zh"])
    assert "kimono.n.01" in before and "/c/en/hanbok" in g.concepts
    assert g.distance("hanbok", "kimono") == 2                       # hanbok IsA robe <- kimono
    assert g.lemmas("kimono.n.01", "tr") == ["kimono"] and g.lemmas("robe.n.01", "tr") == ["cüppe"]
    assert g.lemmas("/c/en/jiaozi", "zh") == ["饺子"]
    assert g.distance("jiaozi", "manti") == 2                         # related / IsA through dumpling
    assert "/c/fr/robe" not in g.concepts                              # language filter
    assert all("japan" not in c for c in g.concepts)                  # AtLocation is not a culture link
    assert "gown.n.01" not in g.concepts                               # weight 0.1 < min_weight


def test_conceptnet_graph_drives_code_switching(tmp_path, nlp):
    g = CultureGraph().add_conceptnet(FIXTURE, languages=["en", "tr"])
    path = g.save(tmp_path / "g.json")
    aug = CodeSwitch(lexicon=None, graph=str(path), language="tr", word_rate=1.0, max_distance=2)
    targets = {s["target"] for k in range(30) for s in _switches(aug, "We ate manti for dinner.", k)[1]}
    assert targets == {"mantı"}
    targets = {s["target"] for k in range(30) for s in _switches(aug, "She wore a kimono at dinner.", k)[1]}
    assert targets <= {"kimono", "cüppe"} and "cüppe" in targets     # related concept, distance 1


def test_conceptnet_bad_lines_name_the_line(tmp_path):
    bad = tmp_path / "cn.csv"
    bad.write_text("/r/IsA\t/c/en/a\t/c/en/b\t{\"weight\": 1}\n/r/IsA\t/c/en/a\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="line 2"):
        list(read_assertions(bad))
    bad.write_text("/r/IsA\t/c/en/a\t/c/en/b\tnot json\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="line 1"):
        list(read_assertions(bad))
    with pytest.raises(ValueError):
        parse_node("/r/IsA")


def test_conceptnet_gzip(tmp_path):
    import gzip

    gz = tmp_path / "cn.csv.gz"
    gz.write_bytes(gzip.compress(FIXTURE.read_bytes()))
    assert len(list(read_assertions(gz))) == 11
    assert json.loads(json.dumps(CultureGraph().add_conceptnet(gz, wordnet=None).to_dict()))["concepts"]
