"""ConceptNet assertions into the culture graph, beside WordNet (Culture Mixup links concepts through both).

Reads the public ConceptNet 5 assertions dump (``conceptnet-assertions-5.7.0.csv``,
optionally ``.gz``): one assertion per line, tab-separated, ``assertion URI,
relation, start, end, JSON info`` (lines with only the last four columns are read
too). Nodes are ``/c/<lang>/<term>[/<pos>[/...]]``. :func:`add_conceptnet` adds to a
:class:`~crossaug_text.culture_graph.CultureGraph`:

* an English term becomes its WordNet synset (same part of speech when the URI
  gives one, else the most frequent noun sense, else the first sense), so
  ConceptNet edges join the WordNet concepts already in the graph; other terms
  become nodes named by their URI without the part of speech (``/c/tr/kimono``);
* ``/r/IsA`` -> a ``hypernym`` edge (start is the child); ``/r/Synonym`` between an
  English and another language's term -> the other term becomes a lemma of the
  English concept in its language (a translation), otherwise a ``related`` edge;
  ``/r/RelatedTo``, ``/r/SimilarTo``, ``/r/FormOf`` -> ``related`` edges;
* other relations, edges below ``min_weight`` and terms outside ``languages`` are skipped.

Example:
    >>> import io
    >>> from crossaug_text.culture_graph import CultureGraph
    >>> dump = io.StringIO('/a/x\\t/r/IsA\\t/c/en/kimono/n\\t/c/en/robe\\t{"weight": 2.0}\\n'
    ...                    '/a/y\\t/r/Synonym\\t/c/tr/kimono\\t/c/en/kimono\\t{"weight": 1.0}\\n')
    >>> g = add_conceptnet(CultureGraph(), dump)
    >>> g.distance("kimono", "robe"), g.lemmas("kimono.n.01", "tr")
    (1, ['kimono'])
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any, NamedTuple

from crossaug import ConfigError

#: ConceptNet relation -> culture-graph relation (``synonym`` is handled apart).
RELATIONS = {"/r/IsA": "hypernym", "/r/Synonym": "synonym", "/r/RelatedTo": "related",
             "/r/SimilarTo": "related", "/r/FormOf": "related"}
_WN_POS = {"n": "n", "v": "v", "a": "a", "s": "a", "r": "r"}


class Assertion(NamedTuple):
    """One ConceptNet edge."""

    relation: str
    start: str
    end: str
    info: dict[str, Any]


def parse_node(uri: str) -> tuple[str, str, str | None]:
    """``/c/en/ice_cream/n`` -> ``("en", "ice cream", "n")``.

    Example:
        >>> parse_node("/c/en/ice_cream/n/wn/food"), parse_node("/c/tr/çay")
        (('en', 'ice cream', 'n'), ('tr', 'çay', None))
    """
    parts = uri.split("/")
    if len(parts) < 4 or parts[1] != "c" or not parts[2] or not parts[3]:
        raise ValueError(f"not a ConceptNet node URI: {uri!r}")
    return parts[2], parts[3].replace("_", " "), (parts[4] if len(parts) > 4 and parts[4] else None)


def read_assertions(source: str | Path | IO[str]) -> Iterator[Assertion]:
    """Assertions of a ConceptNet CSV dump (path, ``.gz`` path or open text file).

    Raises:
        ConfigError: a line that is not 4 or 5 tab-separated columns with JSON info,
            naming the file and line.
    """
    if isinstance(source, (str, Path)):
        path = Path(source)
        raw = path.read_bytes()
        text = gzip.decompress(raw).decode("utf-8") if raw[:2] == b"\x1f\x8b" else raw.decode("utf-8")
        stream: IO[str] = io.StringIO(text)
        name = str(path)
    else:
        stream, name = source, "<stream>"
    for n, line in enumerate(stream, 1):
        line = line.rstrip("\n")
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.split("\t")
        if len(cols) == 5:
            cols = cols[1:]
        if len(cols) != 4:
            raise ConfigError(f"ConceptNet {name} line {n}: expected 4 or 5 tab-separated columns, got {len(cols)}")
        try:
            info = json.loads(cols[3])
        except json.JSONDecodeError as exc:
            raise ConfigError(f"ConceptNet {name} line {n}: JSON info column unreadable: {exc}") from None
        yield Assertion(cols[0], cols[1], cols[2], info if isinstance(info, dict) else {})


def _concept(graph: Any, uri: str, wordnet: Any) -> tuple[str, str, str]:
    """(graph concept, language, term) of a node URI; adds the concept with its lemma."""
    lang, term, pos = parse_node(uri)
    name = None
    if lang == "en" and wordnet is not None:
        key = term.replace(" ", "_")
        found = wordnet.synsets(key, pos=_WN_POS.get(pos or "", None)) if pos in _WN_POS else (
            wordnet.synsets(key, pos="n") or wordnet.synsets(key))
        if found:
            name = found[0].name()
            if name not in graph.concepts:
                graph.add_concept(name, {"en": [x.replace("_", " ") for x in found[0].lemma_names()]})
    if name is None:
        name = f"/c/{lang}/{term.replace(' ', '_')}"
        graph.add_concept(name, {lang: [term]})
    return name, lang, term


def add_conceptnet(graph: Any, source: str | Path | IO[str] | Iterable[Assertion],
                   languages: Iterable[str] | None = None, min_weight: float = 1.0,
                   wordnet: Any = "default") -> Any:
    """Add ConceptNet assertions to ``graph`` (see the module docstring); returns ``graph``.

    Args:
        graph: a :class:`~crossaug_text.culture_graph.CultureGraph`.
        source: a dump path or open file, or assertions already read.
        languages: keep only nodes in these languages (``None``: all).
        min_weight: skip assertions whose ``info["weight"]`` is below this (ConceptNet's
            default weight is 1.0).
        wordnet: NLTK WordNet reader used to map English terms to synsets (``None``: no
            mapping, every term is its own node).
    """
    if wordnet == "default":
        from .resources import wordnet as _wordnet

        wordnet = _wordnet()
    keep = set(languages) if languages is not None else None
    rows = source if not isinstance(source, (str, Path, io.IOBase)) else read_assertions(source)  # type: ignore[arg-type]
    for a in rows:
        kind = RELATIONS.get(a.relation)
        if kind is None or float(a.info.get("weight", 1.0)) < min_weight:
            continue
        try:
            langs = (parse_node(a.start)[0], parse_node(a.end)[0])
        except ValueError:
            continue
        if keep is not None and not set(langs) <= keep:
            continue
        if kind == "synonym" and ("en" in langs) and langs[0] != langs[1]:
            en_uri, other = (a.start, a.end) if langs[0] == "en" else (a.end, a.start)
            concept, _, _ = _concept(graph, en_uri, wordnet)
            lang, term, _ = parse_node(other)
            graph.add_concept(concept, {lang: [term]})
            continue
        child, _, _ = _concept(graph, a.start, wordnet)
        parent, _, _ = _concept(graph, a.end, wordnet)
        if child != parent:
            graph.add_edge(child, parent, "hypernym" if kind == "hypernym" else "related")
    return graph


__all__ = ["Assertion", "RELATIONS", "parse_node", "read_assertions", "add_conceptnet"]
