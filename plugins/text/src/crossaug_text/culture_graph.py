"""A WordNet concept graph for cultural concept adaptation (Culture Mixup).

Culture Mixup (Li and Zhang, EMNLP 2023, "Cultural Concept Adaptation on
Multimodal Reasoning") links a culture-specific concept to related concepts of
other cultures by walking WordNet: up to its hypernyms, across their synonyms
(lemmas), down to their hyponyms (``kimono -> robe -> {sari, caftan, ...}``).
:meth:`CultureGraph.build` performs that walk from seed concepts; nodes are
WordNet 3.0 synsets carrying their lemmas per language (English from WordNet,
other languages from an Open Multilingual Wordnet table or the Turkish KeNet, see
:mod:`crossaug_text.multilingual`); edges are ``hypernym``/``hyponym`` links.
:meth:`CultureGraph.distance` is the shortest-path length between two concepts
(or words) and :meth:`CultureGraph.related` lists concepts within a distance.
Graphs save to and load from JSON. :meth:`CultureGraph.add_conceptnet` adds ConceptNet
assertions beside WordNet (the paper links concepts through both; see
:mod:`crossaug_text.conceptnet`).

Example:
    >>> g = CultureGraph()
    >>> g.add_concept("robe.n.01", {"en": ["robe"]})
    >>> g.add_concept("kimono.n.01", {"en": ["kimono"], "ja": ["着物"]})
    >>> g.add_concept("sari.n.01", {"en": ["sari", "saree"]})
    >>> g.add_edge("kimono.n.01", "robe.n.01", "hypernym"); g.add_edge("sari.n.01", "robe.n.01", "hypernym")
    >>> g.distance("kimono", "saree"), g.related("kimono.n.01", 2)
    (2, [('robe.n.01', 1), ('sari.n.01', 2)])
"""

from __future__ import annotations

import gzip
import json
from collections import deque
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol

from crossaug import ConfigError

FORMAT = "crossaug-culture-graph/1"
INVERSE = {"hypernym": "hyponym", "hyponym": "hypernym", "related": "related"}


class LemmaSource(Protocol):
    """Lemmas of a WordNet 3.0 synset in one language (an OMW table, KeNet)."""

    language: str

    def lemmas(self, synset: str) -> list[str]: ...


class CultureGraph:
    """Concepts (WordNet synset names) with lemmas per language, linked by hypernym/hyponym edges."""

    def __init__(self) -> None:
        self.concepts: dict[str, dict[str, list[str]]] = {}
        self.edges: dict[str, dict[str, str]] = {}
        self._index: dict[tuple[str, str], list[str]] | None = None

    # -- construction ---------------------------------------------------------
    def add_concept(self, concept: str, lemmas: Mapping[str, Iterable[str]]) -> None:
        """Add ``concept`` (or merge lemmas into it); ``lemmas`` maps language -> words."""
        entry = self.concepts.setdefault(concept, {})
        for lang, words in lemmas.items():
            have = entry.setdefault(lang, [])
            for w in words:
                if w not in have:
                    have.append(w)
        self.edges.setdefault(concept, {})
        self._index = None

    def add_edge(self, child: str, parent: str, relation: str = "hypernym") -> None:
        """Link ``child`` to ``parent`` with ``relation`` (its inverse is stored on the other side)."""
        if relation not in INVERSE:
            raise ConfigError(f"relation must be one of {sorted(INVERSE)}, got {relation!r}")
        for c in (child, parent):
            if c not in self.concepts:
                self.add_concept(c, {})
        self.edges[child][parent] = relation
        self.edges[parent][child] = INVERSE[relation]

    @classmethod
    def build(cls, seeds: Iterable[str], *, up: int = 1, down: int = 1, pos: str = "n",
              senses: int = 1, multilingual: Iterable[LemmaSource] = (), wordnet: Any = None) -> CultureGraph:
        """Walk WordNet from ``seeds``: hypernyms (``up`` levels) -> synonyms -> hyponyms (``down`` levels).

        Args:
            seeds: words (``"kimono"``) or synset names (``"kimono.n.01"``).
            up: hypernym levels climbed from each seed.
            down: hyponym levels descended from each hypernym reached.
            pos: part of speech of word seeds (``n``, ``v``, ``a``, ``r``).
            senses: senses used per word seed (most frequent first).
            multilingual: lemma sources adding other languages' lemmas to each concept.
            wordnet: an NLTK WordNet reader (default: :func:`crossaug_text.resources.wordnet`).
        """
        if up < 0 or down < 0 or senses < 1:
            raise ConfigError(f"need up >= 0, down >= 0, senses >= 1; got {up}, {down}, {senses}")
        if wordnet is None:
            from .resources import wordnet as _wordnet

            wordnet = _wordnet()
        sources = list(multilingual)
        graph = cls()

        def add(syn: Any) -> str:
            name = syn.name()
            if name not in graph.concepts:
                lemmas = {"en": [lemma.replace("_", " ") for lemma in syn.lemma_names()]}
                for src in sources:
                    words = src.lemmas(name)
                    if words:
                        lemmas[src.language] = list(words)
                graph.add_concept(name, lemmas)
            return name

        def hypernyms(syn: Any) -> list[Any]:
            return list(syn.hypernyms()) + list(syn.instance_hypernyms())

        def hyponyms(syn: Any) -> list[Any]:
            return list(syn.hyponyms()) + list(syn.instance_hyponyms())

        for seed in seeds:
            if "." in seed and seed.count(".") >= 2:
                try:
                    starts = [wordnet.synset(seed)]
                except Exception as exc:  # nltk raises WordNetError / ValueError
                    raise ConfigError(f"unknown WordNet synset {seed!r}: {exc}") from None
            else:
                starts = wordnet.synsets(seed.replace(" ", "_"), pos=pos)[:senses]
            for start in starts:
                add(start)
                frontier = [start]
                tops = []
                for _ in range(up):
                    nxt = []
                    for syn in frontier:
                        for h in hypernyms(syn):
                            add(h)
                            graph.add_edge(syn.name(), h.name(), "hypernym")
                            nxt.append(h)
                    tops.extend(nxt)
                    frontier = nxt
                for top in tops or [start]:
                    level = [top]
                    for _ in range(down):
                        nxt = []
                        for syn in level:
                            for h in hyponyms(syn):
                                add(h)
                                graph.add_edge(h.name(), syn.name(), "hypernym")
                                nxt.append(h)
                        level = nxt
        return graph

    # -- queries ----------------------------------------------------------------
    def _lemma_index(self) -> dict[tuple[str, str], list[str]]:
        if self._index is None:
            index: dict[tuple[str, str], list[str]] = {}
            for concept, langs in self.concepts.items():
                for lang, words in langs.items():
                    for w in words:
                        index.setdefault((lang, w.lower()), []).append(concept)
            self._index = index
        return self._index

    def concepts_of(self, word_or_concept: str, language: str = "en") -> list[str]:
        """Concepts a word names in ``language`` (or ``[concept]`` for a concept id in the graph)."""
        if word_or_concept in self.concepts:
            return [word_or_concept]
        return list(self._lemma_index().get((language, word_or_concept.lower().replace("_", " ")), []))

    def lemmas(self, concept: str, language: str = "en") -> list[str]:
        """Words for ``concept`` in ``language`` (empty when unknown)."""
        return list(self.concepts.get(concept, {}).get(language, []))

    def languages(self) -> list[str]:
        return sorted({lang for langs in self.concepts.values() for lang in langs})

    def _bfs(self, start: str, limit: int | None = None) -> dict[str, int]:
        dist = {start: 0}
        queue = deque([start])
        while queue:
            node = queue.popleft()
            if limit is not None and dist[node] >= limit:
                continue
            for nb in self.edges.get(node, {}):
                if nb not in dist:
                    dist[nb] = dist[node] + 1
                    queue.append(nb)
        return dist

    def distance(self, a: str, b: str, language: str = "en") -> int | None:
        """Shortest path length between two concepts or words (``None`` when unconnected/unknown)."""
        sa, sb = self.concepts_of(a, language), set(self.concepts_of(b, language))
        best: int | None = None
        for s in sa:
            d = self._bfs(s)
            for t in sb:
                if t in d and (best is None or d[t] < best):
                    best = d[t]
        return best

    def related(self, concept: str, max_distance: int = 2, language: str | None = None) -> list[tuple[str, int]]:
        """Concepts within ``max_distance`` of ``concept`` (itself excluded), nearest first.

        With ``language``, only concepts having lemmas in that language.
        """
        if concept not in self.concepts:
            return []
        found = self._bfs(concept, max_distance)
        items = [(c, d) for c, d in found.items() if c != concept
                 and (language is None or self.concepts[c].get(language))]
        return sorted(items, key=lambda cd: (cd[1], cd[0]))

    # -- persistence --------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        edges = sorted([c, p] for c, nbs in self.edges.items() for p, r in nbs.items() if r == "hypernym")
        related = sorted([a, b] for a, nbs in self.edges.items() for b, r in nbs.items() if r == "related" and a < b)
        return {"format": FORMAT, "concepts": {k: self.concepts[k] for k in sorted(self.concepts)},
                "hypernym_edges": edges, "related_edges": related}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CultureGraph:
        if data.get("format") != FORMAT:
            raise ConfigError(f"not a culture graph (format {data.get('format')!r}, expected {FORMAT!r})")
        g = cls()
        for concept, lemmas in data["concepts"].items():
            g.add_concept(concept, lemmas)
        for child, parent in data.get("hypernym_edges", []):
            g.add_edge(child, parent, "hypernym")
        for a, b in data.get("related_edges", []):
            g.add_edge(a, b, "related")
        return g

    def save(self, path: str | Path) -> Path:
        """Write the graph as JSON (gzip-compressed when the name ends in ``.gz``)."""
        path = Path(path)
        text = json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)
        if path.suffix == ".gz":
            path.write_bytes(gzip.compress(text.encode("utf-8"), mtime=0))
        else:
            path.write_text(text, encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | Path) -> CultureGraph:
        """Read a graph written by :meth:`save`."""
        path = Path(path)
        if not path.is_file():
            from crossaug import MissingResource

            raise MissingResource(f"culture graph {str(path)!r}", "build one with CultureGraph.build(...).save(path)")
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        return cls.from_dict(json.loads(raw.decode("utf-8")))

    def add_conceptnet(self, source: Any, languages: Iterable[str] | None = None, min_weight: float = 1.0,
                       wordnet: Any = "default") -> CultureGraph:
        """Add ConceptNet assertions (a dump path, open file or parsed rows) beside the WordNet concepts.

        See :mod:`crossaug_text.conceptnet` for the format and the mapping.
        """
        from .conceptnet import add_conceptnet

        return add_conceptnet(self, source, languages=languages, min_weight=min_weight, wordnet=wordnet)

    def __len__(self) -> int:
        return len(self.concepts)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CultureGraph) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        n_edges = sum(len(v) for v in self.edges.values()) // 2
        return f"CultureGraph({len(self.concepts)} concepts, {n_edges} edges, languages={self.languages()})"


__all__ = ["CultureGraph", "LemmaSource"]
