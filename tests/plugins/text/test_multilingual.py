"""Multilingual lemmas (crossaug_text/multilingual.py): OMW table and KeNet, on hand-made fixtures."""

# ruff: noqa: E501  (the XML fixtures keep KeNet's one-synset-per-line layout)
from __future__ import annotations

import io

import pytest
from crossaug import ConfigError, MissingResource
from crossaug_text.multilingual import (
    OMWTable,
    SynsetLemmas,
    kenet_lexicon,
    load_kenet,
    map_to_wordnet30,
    parse_english31,
    parse_kenet,
)
from crossaug_text.resources import wordnet

OMW = """# wn-data-fra.tab (tiny hand-made fixture)
02084071-n\tfra:lemma\tchien
02084071-n\tfra:lemma\tchien domestique
02084071-n\tfra:def\tun animal
02121620-n\tfra:lemma\tchat
99999999-n\tfra:lemma\tfantôme
"""

TR_XML = """<SYNSETS>
<SYNSET><ID>TUR10-1</ID><SYNONYM><LITERAL>köpek<SENSE>1</SENSE></LITERAL><LITERAL>it<SENSE>1</SENSE></LITERAL></SYNONYM><POS>n</POS><ILR>ENG31-02086723-n<TYPE>SYNONYM</TYPE></ILR></SYNSET>
<SYNSET><ID>TUR10-2</ID><SYNONYM><LITERAL>(özel)<SENSE>1</SENSE></LITERAL></SYNONYM><POS>n</POS></SYNSET>
<SYNSET><ID>TUR10-3</ID><SYNONYM><LITERAL>çay<SENSE>1</SENSE></LITERAL></SYNONYM><POS>n</POS><ILR>ENG31-07933274-n<TYPE>SYNONYM</TYPE></ILR></SYNSET>
</SYNSETS>"""

EN_XML = """<SYNSETS>
<SYNSET><ID>ENG31-02086723-n</ID><SYNONYM><LITERAL>dog<SENSE>0</SENSE></LITERAL><LITERAL>domestic dog<SENSE>0</SENSE></LITERAL><LITERAL>Canis familiaris<SENSE>0</SENSE></LITERAL></SYNONYM><POS>n</POS><DEF>a member of the genus Canis (probably descended from the common wolf) that has been domesticated by man since prehistoric times; occurs in many breeds</DEF></SYNSET>
<SYNSET><ID>ENG31-07933274-n</ID><SYNONYM><LITERAL>tea<SENSE>0</SENSE></LITERAL></SYNONYM><POS>n</POS><DEF>a beverage made by steeping tea leaves in water</DEF></SYNSET>
</SYNSETS>"""


def test_omw_table_resolves_offsets_to_synsets():
    t = OMWTable.from_lines(io.StringIO(OMW), language="fr")
    assert t.lemmas("dog.n.01") == ["chien", "chien domestique"]
    assert t.lemmas("cat.n.01") == ["chat"]
    lex = t.lexicon()
    assert lex["dog"] == {"targets": ["chien", "chien domestique"], "concept": "dog.n.01"}
    assert lex["domestic dog"]["concept"] == "dog.n.01"


def test_omw_file_and_errors(tmp_path):
    p = tmp_path / "wn-data-fra.tab"
    p.write_text(OMW, encoding="utf-8")
    assert OMWTable.from_file(p).language == "fra"
    with pytest.raises(MissingResource):
        OMWTable.from_file(tmp_path / "nope.tab")
    with pytest.raises(ConfigError, match="line 1"):
        OMWTable.from_lines(["dog\tfra:lemma\tchien"], "fr")


def test_kenet_parsing_and_mapping_to_wordnet30(tmp_path):
    (tmp_path / "tr.xml").write_text(TR_XML, encoding="utf-8")
    (tmp_path / "en.xml").write_text(EN_XML, encoding="utf-8")
    tr = parse_kenet(tmp_path / "tr.xml")
    assert tr == {"ENG31-02086723-n": ["köpek", "it"], "ENG31-07933274-n": ["çay"]}
    en = parse_english31(tmp_path / "en.xml", set(tr))
    wn = wordnet()
    assert map_to_wordnet30("ENG31-02086723-n", *en["ENG31-02086723-n"], wn) == "dog.n.01"
    assert map_to_wordnet30("ENG31-07933274-n", *en["ENG31-07933274-n"], wn) == "tea.n.01"
    assert map_to_wordnet30("ENG31-07933274-n", ["zzzz"], "", wn) is None


@pytest.mark.slow
def test_real_kenet_from_pypi_package():
    try:
        kenet = load_kenet()
    except MissingResource as exc:
        pytest.skip(f"KeNet not installed: {exc}")
    assert isinstance(kenet, SynsetLemmas) and len(kenet) > 10000
    assert "köpek" in kenet.lemmas("dog.n.01")
    assert "su" in kenet.lemmas("water.n.01")
    lex = kenet.lexicon()
    assert lex["dog"]["concept"] == "dog.n.01" and "a" not in lex
    assert kenet_lexicon() == lex  # the cached copy (written by the first call) is the same
