"""Lemmas of WordNet 3.0 synsets in other languages: Open Multilingual Wordnet tables and Turkish KeNet.

* :class:`OMWTable` reads an OMW ``wn-data-<lang>.tab`` file (lines
  ``<offset>-<pos><TAB><lang>:lemma<TAB><word>``, keyed by WordNet 3.0 offsets).
* :func:`load_kenet` reads the Turkish KeNet XML shipped with ``nlptoolkit-wordnet``:
  its synsets carry interlingual ``SYNONYM`` links to English WordNet 3.1 ids,
  which are mapped to WordNet 3.0 synsets by definition (identical for most
  synsets between 3.0 and 3.1), else by lemma overlap. The result is cached as
  JSON in the resource cache directory.

Example:
    >>> import io
    >>> tab = io.StringIO("# OMW test\\n02084071-n\\tdeu:lemma\\tHund\\n02084071-n\\tdeu:def\\tein Tier\\n")
    >>> t = OMWTable.from_lines(tab, language="de")
    >>> t.offsets["02084071-n"]
    ['Hund']
"""

from __future__ import annotations

import json
import logging
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from crossaug import ConfigError, MissingResource

log = logging.getLogger(__name__)
_OFFSET = re.compile(r"^(\d{8})-([nvasr])$")
_ENG31 = re.compile(r"^ENG31-(\d{8})-([nvarb])$")


class SynsetLemmas:
    """Lemmas per WordNet 3.0 synset name for one language (a :class:`~crossaug_text.culture_graph.LemmaSource`)."""

    def __init__(self, language: str, by_synset: Mapping[str, list[str]]) -> None:
        self.language = language
        self.by_synset = {k: list(v) for k, v in by_synset.items()}

    def lemmas(self, synset: str) -> list[str]:
        return list(self.by_synset.get(synset, []))

    def lexicon(self, wordnet: Any = None) -> dict[str, dict[str, Any]]:
        """An English -> this-language lexicon ``{en: {"targets": [...], "concept": synset}}``.

        An English word in several synsets takes its most frequent WordNet sense
        (nouns first, WordNet's order) that has lemmas in this language; English
        stop words are left out (``a`` is not the angstrom).
        """
        from .stopwords import is_stop_word

        if wordnet is None:
            from .resources import wordnet as _wordnet

            wordnet = _wordnet()
        out: dict[str, dict[str, Any]] = {}
        for name in self.by_synset:
            try:
                syn = wordnet.synset(name)
            except Exception:  # noqa: BLE001 - stale names in a table
                continue
            for lemma in syn.lemma_names():
                key = lemma.replace("_", " ").lower()
                if key in out or is_stop_word(key) or len(key) < 2:
                    continue
                for cand in wordnet.synsets(lemma):
                    if cand.name() in self.by_synset:
                        out[key] = {"targets": self.lemmas(cand.name()), "concept": cand.name()}
                        break
        return out

    def __len__(self) -> int:
        return len(self.by_synset)


class OMWTable(SynsetLemmas):
    """An Open Multilingual Wordnet tab file, keyed by WordNet 3.0 ``offset-pos``."""

    def __init__(self, language: str, offsets: Mapping[str, list[str]], wordnet: Any = None) -> None:
        self.offsets = {k: list(v) for k, v in offsets.items()}
        self._wordnet = wordnet
        super().__init__(language, {})
        self._resolved = False

    @classmethod
    def from_lines(cls, lines: Iterable[str], language: str, wordnet: Any = None) -> OMWTable:
        offsets: dict[str, list[str]] = {}
        for n, line in enumerate(lines, 1):
            line = line.rstrip("\n\r")
            if not line or line.startswith("#"):
                continue
            parts = line.split("\t")
            if len(parts) < 3:
                raise ConfigError(f"OMW table line {n}: expected 3 tab-separated columns, got {line!r}")
            key, kind, word = parts[0], parts[1], parts[2]
            if not _OFFSET.match(key):
                raise ConfigError(f"OMW table line {n}: bad synset key {key!r} (want 02084071-n)")
            if kind.endswith(":lemma"):
                have = offsets.setdefault(key, [])
                if word not in have:
                    have.append(word)
        return cls(language, offsets, wordnet)

    @classmethod
    def from_file(cls, path: str | Path, language: str | None = None, wordnet: Any = None) -> OMWTable:
        """Read ``wn-data-<lang>.tab``; ``language`` defaults to ``<lang>`` from the name."""
        path = Path(path)
        if not path.is_file():
            raise MissingResource(f"OMW table {str(path)!r}",
                                  "download the Open Multilingual Wordnet data (wn-data-<lang>.tab)")
        if language is None:
            m = re.match(r"wn-data-(\w+)\.tab$", path.name)
            language = m.group(1) if m else path.stem
        with path.open(encoding="utf-8") as fh:
            return cls.from_lines(fh, language, wordnet)

    def _resolve(self) -> None:
        if self._resolved:
            return
        wn = self._wordnet
        if wn is None:
            from .resources import wordnet as _wordnet

            wn = _wordnet()
        for key, words in self.offsets.items():
            offset, pos = key.split("-")
            try:
                name = wn.synset_from_pos_and_offset(pos, int(offset)).name()
            except Exception:  # noqa: BLE001 - offsets of another WordNet version
                log.debug("OMW offset %s not in WordNet 3.0", key)
                continue
            self.by_synset.setdefault(name, []).extend(w for w in words if w not in self.by_synset.get(name, []))
        self._resolved = True

    def lemmas(self, synset: str) -> list[str]:
        self._resolve()
        return super().lemmas(synset)

    def lexicon(self, wordnet: Any = None) -> dict[str, dict[str, Any]]:
        self._resolve()
        return super().lexicon(wordnet)


# -- KeNet ----------------------------------------------------------------------
def parse_kenet(turkish_xml: str | Path) -> dict[str, list[str]]:
    """``{ENG31 id: [Turkish literals]}`` from KeNet synsets with an interlingual SYNONYM link."""
    out: dict[str, list[str]] = {}
    for _, el in ET.iterparse(str(turkish_xml), events=("end",)):
        if el.tag != "SYNSET":
            continue
        literals = [lit.text.strip() for lit in el.iter("LITERAL") if lit.text and lit.text.strip()]
        for ilr in el.findall("ILR"):
            typ = ilr.find("TYPE")
            target = (ilr.text or "").strip()
            if typ is not None and typ.text == "SYNONYM" and _ENG31.match(target):
                have = out.setdefault(target, [])
                have.extend(w for w in literals if w not in have and not w.startswith("("))
        el.clear()
    return {k: v for k, v in out.items() if v}


def parse_english31(english_xml: str | Path, wanted: set[str]) -> dict[str, tuple[list[str], str]]:
    """``{ENG31 id: ([English literals], definition)}`` for the ids in ``wanted``."""
    out: dict[str, tuple[list[str], str]] = {}
    for _, el in ET.iterparse(str(english_xml), events=("end",)):
        if el.tag != "SYNSET":
            continue
        sid = (el.findtext("ID") or "").strip()
        if sid in wanted:
            lits = [lit.text.strip() for lit in el.iter("LITERAL") if lit.text and lit.text.strip()]
            out[sid] = (lits, (el.findtext("DEF") or "").strip())
        el.clear()
    return out


def map_to_wordnet30(eng31: str, literals: list[str], definition: str, wordnet: Any) -> str | None:
    """The WordNet 3.0 synset name for an English WordNet 3.1 synset, or ``None``."""
    m = _ENG31.match(eng31)
    if not m:
        return None
    pos = {"b": "r"}.get(m.group(2), m.group(2))
    poses = ("a", "s") if pos == "a" else (pos,)
    cands: dict[str, Any] = {}
    for lit in literals:
        for p in poses:
            for syn in wordnet.synsets(lit.replace(" ", "_"), pos=p):
                cands.setdefault(syn.name(), syn)
    if not cands:
        return None
    want = {w.lower().replace(" ", "_") for w in literals}
    for name, syn in cands.items():
        if syn.definition().strip() == definition:
            return name

    def overlap(syn: Any) -> float:
        have = {w.lower() for w in syn.lemma_names()}
        return len(have & want) / len(have | want)

    return max(cands.values(), key=overlap).name()


def load_kenet(cache: bool = True, wordnet: Any = None) -> SynsetLemmas:
    """Turkish lemmas per WordNet 3.0 synset from KeNet (parsed once, then cached as JSON).

    Raises:
        MissingResource: ``nlptoolkit-wordnet`` (which ships the XML) is not installed.
    """
    from .resources import cache_dir, kenet_paths

    tr_xml, en_xml = kenet_paths()
    cached = cache_dir() / "kenet-tr-wn30.json"
    if cache and cached.is_file() and cached.stat().st_mtime >= tr_xml.stat().st_mtime:
        return SynsetLemmas("tr", json.loads(cached.read_text(encoding="utf-8")))
    if wordnet is None:
        from .resources import wordnet as _wordnet

        wordnet = _wordnet()
    log.info("parsing KeNet %s (first use; cached afterwards)", tr_xml)
    tr = parse_kenet(tr_xml)
    en = parse_english31(en_xml, set(tr))
    by_synset: dict[str, list[str]] = {}
    for eid, words in tr.items():
        if eid not in en:
            continue
        name = map_to_wordnet30(eid, en[eid][0], en[eid][1], wordnet)
        if name:
            have = by_synset.setdefault(name, [])
            have.extend(w for w in words if w not in have)
    if cache:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(f".{id(by_synset)}.tmp")
        tmp.write_text(json.dumps(by_synset, ensure_ascii=False, sort_keys=True), encoding="utf-8")
        tmp.replace(cached)
    return SynsetLemmas("tr", by_synset)


def kenet_lexicon(cache: bool = True) -> dict[str, dict[str, Any]]:
    """English -> Turkish lexicon from KeNet (:meth:`SynsetLemmas.lexicon`), cached as JSON.

    The lexicon ``"kenet:tr"`` of ``text.code-switch``.
    """
    from .resources import cache_dir, kenet_paths

    tr_xml, _ = kenet_paths()
    cached = cache_dir() / "kenet-tr-lexicon.json"
    if cache and cached.is_file() and cached.stat().st_mtime >= tr_xml.stat().st_mtime:
        return json.loads(cached.read_text(encoding="utf-8"))
    lex = load_kenet(cache=cache).lexicon()
    if cache:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(f".{id(lex)}.tmp")
        tmp.write_text(json.dumps(lex, ensure_ascii=False, sort_keys=True), encoding="utf-8")
        tmp.replace(cached)
    return lex


__all__ = ["SynsetLemmas", "OMWTable", "load_kenet", "kenet_lexicon", "parse_kenet", "parse_english31",
           "map_to_wordnet30"]
