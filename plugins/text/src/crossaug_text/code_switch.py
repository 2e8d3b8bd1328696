"""Code-switching at sentence, phrase and word level (Culture Mixup).

Culture Mixup (Li and Zhang, EMNLP 2023) mixes cultural concepts into training
text by code-switching: spans of a sentence are replaced by their counterparts in
another language (or by a culturally related concept found through the WordNet
culture graph). Three tiers, each with its own rate:

* **sentence**: each sentence is switched with probability ``sentence_rate``: its
  whole text when the lexicon holds the sentence, else every lexicon span in it;
* **phrase**: each multi-word lexicon match is switched with probability ``phrase_rate``;
* **word**: each single-word match is switched with probability ``word_rate``.

Matching is greedy longest-first over word tokens, case-insensitive, with
WordNet lemmatisation of single words (``dogs`` matches ``dog``). Parameters list
every switch as ``{"start", "end", "source", "target", "concept", "level"}``
with character offsets into the ORIGINAL text (the multimodal plugin reads them
to paste matching image regions); replay needs neither lexicon nor WordNet.

Example:
    >>> import numpy as np
    >>> from crossaug import Sample
    >>> aug = CodeSwitch(lexicon={"cat": "kedi", "ice cream": "dondurma"}, word_rate=1.0,
    ...                  phrase_rate=1.0, lemmatize=False)
    >>> out = aug.augment(Sample("s", {"text": "The cat likes ice cream."}), np.random.default_rng(0))
    >>> out.fields["text"]
    'The kedi likes dondurma.'
    >>> [(s["start"], s["end"], s["level"]) for s in out.lineage[-1].params["switches"]]
    [(4, 7, 'word'), (14, 23, 'phrase')]
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from crossaug import BadSample, ConfigError, Sample
from crossaug.augmentation import Augmentation

from .tokens import Token, match_case, replace_spans, tokenize

LEVELS = ("word", "phrase", "sentence")
_SENTENCE = re.compile(r"[^.!?\u3002\uff01\uff1f]+[.!?\u3002\uff01\uff1f]*|[.!?\u3002\uff01\uff1f]+")

Entry = dict[str, Any]  # {"targets": [...], "concept": str | None}


def normalise_key(text: str) -> str:
    """Lexicon key form: lower case, words joined by single spaces, ``_`` as space."""
    return " ".join(t.text.lower() for t in tokenize(text.replace("_", " ")))


def normalise_lexicon(raw: Mapping[str, Any]) -> dict[str, Entry]:
    """``{source: target | [targets] | {"targets"/"target": ..., "concept": ...}}`` -> entries.

    Example:
        >>> normalise_lexicon({"Hot dog": ["sosisli"], "cat": {"target": "kedi", "concept": "cat.n.01"}})
        {'hot dog': {'targets': ['sosisli'], 'concept': None}, 'cat': {'targets': ['kedi'], 'concept': 'cat.n.01'}}
    """
    out: dict[str, Entry] = {}
    for src, value in raw.items():
        concept = None
        if isinstance(value, Mapping):
            concept = value.get("concept")
            value = value.get("targets", value.get("target"))
        targets = [value] if isinstance(value, str) else list(value or [])
        targets = [str(t) for t in targets if str(t).strip()]
        key = normalise_key(str(src))
        if targets and key:
            entry = out.setdefault(key, {"targets": [], "concept": concept})
            entry["targets"].extend(t for t in targets if t not in entry["targets"])
    return out


def read_lexicon(path: str | Path) -> dict[str, Entry]:
    """Read a JSON lexicon or a TSV one (``source<TAB>target[<TAB>concept]``, ``#`` comments)."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".json":
        return normalise_lexicon(json.loads(text))
    raw: dict[str, Any] = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) < 2:
            raise ConfigError(f"lexicon {path} line {n}: expected source<TAB>target[<TAB>concept]")
        entry = raw.setdefault(parts[0], {"targets": [], "concept": parts[2] if len(parts) > 2 else None})
        entry["targets"].append(parts[1])
    return normalise_lexicon(raw)


def find_matches(tokens: list[Token], lexicon: Mapping[str, Entry], max_len: int,
                 lemma: Any = None) -> list[tuple[int, int, Entry]]:
    """Greedy longest-first lexicon matches as ``(first token, last token + 1, entry)``."""
    out: list[tuple[int, int, Entry]] = []
    i = 0
    while i < len(tokens):
        if not tokens[i].is_word:
            i += 1
            continue
        hit = None
        for n in range(min(max_len, len(tokens) - i), 0, -1):
            key = " ".join(t.text.lower() for t in tokens[i:i + n])
            entry = lexicon.get(key)
            if entry is None and n == 1 and lemma is not None:
                base = lemma(key)
                entry = lexicon.get(base) if base else None
            if entry is not None:
                hit = (i, i + n, entry)
                break
        if hit:
            out.append(hit)
            i = hit[1]
        else:
            i += 1
    return out


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """``[start, end)`` of each sentence (split after ``.``, ``!``, ``?`` and CJK stops), trimmed."""
    spans = []
    for m in _SENTENCE.finditer(text):
        s, e = m.start(), m.end()
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            spans.append((s, e))
    return spans


class CodeSwitch(Augmentation):
    """Replace words, phrases or sentences by their translation from a bilingual lexicon / culture graph.

    Args:
        lexicon: ``{source: target | [targets] | {"targets": [...], "concept": id}}``, a
            path to a TSV/JSON lexicon, ``"kenet:tr"`` (English -> Turkish from KeNet), or
            ``"omw:<path to wn-data-xxx.tab>"`` (English -> xxx from an Open Multilingual Wordnet table).
        language: target language code recorded with the switches (and used with ``graph``).
        word_rate: probability of switching each single-word match.
        phrase_rate: probability of switching each multi-word match.
        sentence_rate: probability of switching each sentence.
        graph: path to a saved :class:`~crossaug_text.culture_graph.CultureGraph`; its
            concepts' ``language`` lemmas extend the lexicon.
        max_distance: with ``graph``, a switch may also pick a related concept up to this
            many hypernym/hyponym steps away (0: same concept only; Culture Mixup's
            concept adaptation uses the hypernym -> hyponym walk, distance 2).
        lemmatize: match WordNet base forms of single words (``dogs`` -> ``dog``).
        field: the text field.
    """

    name: ClassVar[str] = "text.code-switch"
    modalities: ClassVar[tuple[str, ...]] = ("text",)

    def __init__(self, lexicon: Mapping[str, Any] | str | None = None, language: str | None = None,
                 word_rate: float = 0.3, phrase_rate: float = 0.3, sentence_rate: float = 0.0,
                 graph: str | None = None, max_distance: int = 0, lemmatize: bool = True,
                 field: str = "text") -> None:
        if lexicon is None and graph is None:
            raise ConfigError(f"{self.name} needs a lexicon (dict, path or 'kenet:tr') and/or a culture graph")
        if graph is not None and not language:
            raise ConfigError(f"{self.name}: with a graph, say which language to switch to (language='tr')")
        for n, v in (("word_rate", word_rate), ("phrase_rate", phrase_rate), ("sentence_rate", sentence_rate)):
            if not isinstance(v, (int, float)) or not 0.0 <= float(v) <= 1.0:
                raise ConfigError(f"{self.name}: {n} must lie in [0, 1], got {v!r}")
        if not isinstance(max_distance, int) or max_distance < 0:
            raise ConfigError(f"{self.name}: max_distance must be a non-negative int, got {max_distance!r}")
        if isinstance(lexicon, Mapping):
            lexicon = {str(k): v for k, v in lexicon.items()}
        self.lexicon = lexicon
        self.language = language or (lexicon.split(":", 1)[1] if isinstance(lexicon, str)
                                     and lexicon.startswith("kenet:") else None)
        self.word_rate = float(word_rate)
        self.phrase_rate = float(phrase_rate)
        self.sentence_rate = float(sentence_rate)
        self.graph = graph
        self.max_distance = max_distance
        self.lemmatize = lemmatize
        self.field = field
        self._lex: dict[str, Entry] | None = None
        self._graph: Any = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_lex"] = None
        state["_graph"] = None
        return state

    # -- resources ---------------------------------------------------------------
    def _culture_graph(self) -> Any:
        if self._graph is None and self.graph is not None:
            from .culture_graph import CultureGraph

            self._graph = CultureGraph.load(self.graph)
        return self._graph

    def resolved_lexicon(self) -> dict[str, Entry]:
        """The normalised lexicon (loaded once), extended by the culture graph's lemmas."""
        if self._lex is not None:
            return self._lex
        lex: dict[str, Entry] = {}
        if isinstance(self.lexicon, Mapping):
            lex = normalise_lexicon(self.lexicon)
        elif isinstance(self.lexicon, str):
            if self.lexicon.startswith("omw:"):
                from .multilingual import OMWTable

                lex = normalise_lexicon(OMWTable.from_file(self.lexicon[4:], language=self.language).lexicon())
            elif self.lexicon.startswith("kenet:"):
                if self.lexicon != "kenet:tr":
                    raise ConfigError(f"{self.name}: KeNet provides Turkish only ('kenet:tr'), got {self.lexicon!r}")
                from .multilingual import kenet_lexicon

                lex = normalise_lexicon(kenet_lexicon())
            else:
                from .resources import lexicon_path

                lex = read_lexicon(lexicon_path(self.lexicon))
        graph = self._culture_graph()
        if graph is not None:
            for concept, langs in graph.concepts.items():
                targets = langs.get(self.language or "", [])
                if not targets:
                    continue
                for word in langs.get("en", []):
                    lex.setdefault(normalise_key(word), {"targets": list(targets), "concept": concept})
        self._lex = lex
        return lex

    def _lemma(self) -> Any:
        if not self.lemmatize:
            return None
        from .resources import wordnet

        wn = wordnet()

        def base(word: str) -> str | None:
            if not word.isalpha():
                return None
            return wn.morphy(word, "n") or wn.morphy(word, "v")

        return base

    def _choices(self, entry: Entry, rng: np.random.Generator) -> tuple[str, str | None]:
        """Pick a target (and its concept), possibly through a related concept of the graph."""
        options: list[tuple[str, str | None]] = [(t, entry.get("concept")) for t in entry["targets"]]
        graph = self._culture_graph()
        if graph is not None and self.max_distance > 0 and entry.get("concept") in graph.concepts:
            for concept, _ in graph.related(entry["concept"], self.max_distance, language=self.language):
                options.extend((t, concept) for t in graph.lemmas(concept, self.language))
        return options[int(rng.integers(len(options)))]

    # -- augmentation -------------------------------------------------------------
    def sample_params(self, sample: Sample, rng: np.random.Generator) -> dict[str, Any]:
        text = sample[self.field]
        lex = self.resolved_lexicon()
        max_len = max((k.count(" ") + 1 for k in lex), default=1)
        tokens = tokenize(text)
        matches = find_matches(tokens, lex, max_len, self._lemma()) if lex else []
        switches: list[dict[str, Any]] = []
        covered: list[tuple[int, int]] = []
        # sentence tier: one draw per sentence
        for s, e in sentence_spans(text):
            if rng.random() >= self.sentence_rate:
                continue
            entry = lex.get(normalise_key(text[s:e]))
            if entry is not None:
                target, concept = self._choices(entry, rng)
                switches.append({"start": s, "end": e, "source": text[s:e], "target": target,
                                 "concept": concept, "level": "sentence"})
            else:
                for a, b, ent in matches:
                    start, end = tokens[a].start, tokens[b - 1].end
                    if s <= start and end <= e:
                        target, concept = self._choices(ent, rng)
                        switches.append({"start": start, "end": end, "source": text[start:end],
                                         "target": match_case(target, text[start:end]) if b - a == 1 else target,
                                         "concept": concept, "level": "sentence"})
            covered.append((s, e))
        # phrase and word tiers: one draw per match outside switched sentences
        for a, b, ent in matches:
            start, end = tokens[a].start, tokens[b - 1].end
            level = "phrase" if b - a > 1 else "word"
            u = rng.random()
            if any(s <= start and end <= e for s, e in covered):
                continue
            if u < (self.phrase_rate if level == "phrase" else self.word_rate):
                target, concept = self._choices(ent, rng)
                src = text[start:end]
                switches.append({"start": start, "end": end, "source": src,
                                 "target": match_case(target, src) if level == "word" else target,
                                 "concept": concept, "level": level})
        switches.sort(key=lambda sw: sw["start"])
        return {"language": self.language, "switches": switches}

    def apply(self, sample: Sample, params: Mapping[str, Any]) -> Sample:
        text = sample[self.field]
        try:
            edits = []
            for sw in params["switches"]:
                start, end = int(sw["start"]), int(sw["end"])
                if text[start:end] != sw["source"]:
                    raise ValueError(f"recorded source {sw['source']!r} not found at [{start}, {end})")
                edits.append((start, end, str(sw["target"])))
            new = replace_spans(text, edits)
        except (KeyError, TypeError, ValueError) as exc:
            raise BadSample(f"{self.name}: cannot replay switches: {exc}", sample_id=sample.id,
                            field=self.field) from None
        return sample.derive(None, **{self.field: new})


def switched_spans(switches: list[Mapping[str, Any]]) -> list[tuple[int, int]]:
    """Where each switch's target lies in the OUTPUT text, in the order of ``switches`` sorted by start.

    Example:
        >>> switched_spans([{"start": 4, "end": 7, "source": "cat", "target": "kedi"}])
        [(4, 8)]
    """
    out, shift = [], 0
    for sw in sorted(switches, key=lambda s: int(s["start"])):
        start = int(sw["start"]) + shift
        out.append((start, start + len(sw["target"])))
        shift += len(sw["target"]) - (int(sw["end"]) - int(sw["start"]))
    return out


__all__ = ["CodeSwitch", "normalise_lexicon", "read_lexicon", "find_matches", "sentence_spans",
           "switched_spans", "LEVELS"]
