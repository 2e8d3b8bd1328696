"""Culture graph (crossaug_text/culture_graph.py) over the real WordNet."""

from __future__ import annotations

import pytest
from crossaug import ConfigError, MissingResource
from crossaug_text.culture_graph import CultureGraph
from crossaug_text.multilingual import SynsetLemmas
from crossaug_text.resources import wordnet


def test_walk_hypernym_synonym_hyponym_from_real_wordnet():
    g = CultureGraph.build(["kimono"], up=1, down=1)
    wn = wordnet()
    kimono = wn.synsets("kimono", pos="n")[0]
    parents = kimono.hypernyms()
    assert parents and all(p.name() in g.concepts for p in parents)
    siblings = {h.name() for p in parents for h in p.hyponyms()}
    assert siblings <= set(g.concepts)  # hypernym -> hyponym walk reaches every sibling
    assert g.lemmas(kimono.name()) == [w.replace("_", " ") for w in kimono.lemma_names()]
    for sib in siblings - {kimono.name()}:
        assert g.distance(kimono.name(), sib) == 2
        assert g.edges[kimono.name()][parents[0].name()] == "hypernym"
    related = g.related(kimono.name(), 2)
    assert {c for c, _ in related} == set(g.concepts) - {kimono.name()}
    assert related[0][1] == 1


def test_distance_by_word_and_unknown():
    g = CultureGraph.build(["dog.n.01"], up=2, down=1)
    assert g.distance("dog", "dog") == 0
    assert g.distance("dog", "canine") == 1  # canine.n.02 is dog.n.01's hypernym
    assert g.distance("dog", "no-such-word") is None


def test_multilingual_lemmas_attached():
    tr = SynsetLemmas("tr", {"dog.n.01": ["köpek"], "canine.n.02": ["köpekgil"]})
    g = CultureGraph.build(["dog"], up=1, down=0, multilingual=[tr])
    assert g.lemmas("dog.n.01", "tr") == ["köpek"]
    assert g.distance("köpek", "köpekgil", language="tr") == 1
    assert g.related("canine.n.02", 1, language="tr") == [("dog.n.01", 1)]


def test_save_load_round_trip(tmp_path):
    g = CultureGraph.build(["tea"], up=1, down=1)
    for name in ("g.json", "g.json.gz"):
        path = g.save(tmp_path / name)
        again = CultureGraph.load(path)
        assert again == g and len(again) == len(g)
        assert again.distance("tea", "tea") == 0
    assert (tmp_path / "g.json.gz").read_bytes()[:2] == b"\x1f\x8b"


def test_errors(tmp_path):
    with pytest.raises(MissingResource, match="build one"):
        CultureGraph.load(tmp_path / "missing.json")
    (tmp_path / "x.json").write_text('{"format": "other"}')
    with pytest.raises(ConfigError, match="not a culture graph"):
        CultureGraph.load(tmp_path / "x.json")
    with pytest.raises(ConfigError, match="unknown WordNet synset"):
        CultureGraph.build(["nosuchthing.n.99"])
    with pytest.raises(ConfigError):
        CultureGraph().add_edge("a", "b", "cousin")
