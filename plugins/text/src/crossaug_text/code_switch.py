"""Code-switching at sentence, phrase and word level (Culture Mixup).

Culture Mixup (Li and Zhang, EMNLP 2023) mixes cultural concepts into training
text by code-switching: spans of a sentence are replaced by their counterparts in
another language (or by a culturally related concept found through the culture
graph built from WordNet and ConceptNet). Three tiers, each with its own rate:

* **sentence**: each sentence is, with probability ``sentence_rate``, replaced by
  its translation, as in the paper: from the lexicon when it holds the whole
  sentence, else from the translation model ``sentence_model`` when one is given;
  a drawn sentence with neither stays for the phrase and word tiers (before, every
  lexicon span of it was switched, which is not a translation);
* **phrase**: each multi-word lexicon match is switched with probability ``phrase_rate``;
* **word**: each single-word match is switched with probability ``word_rate``.

Matching is greedy longest-first over word tokens, case-insensitive, with
WordNet lemmatisation of single words (``dogs`` matches ``dog``). Then, ours, not
in the paper:

* **part of speech and sense** (:mod:`crossaug_text.senses`): a single word is
  switched only when spaCy tags it as a content word and, for entries tied to
  WordNet concepts, in the sense chosen in context (simplified Lesk by default),
  with that sense's translations (no "erozyon" for "wearing", no "Çek" (cheque)
  for the verb "Check");
* **protected spans** (:mod:`crossaug_text.protected`): nothing inside URLs,
  e-mails, @handles, #hashtags, numbers or code is switched;
* **language**: input detected as another language than English is refused per
  sample (:mod:`crossaug_text.language`);
* **word screen**: no switch may introduce a word of the kernel's profanity/slur
  lists (English and the target language) or of the plugin's supplement
  ``data/blocked-extra.tsv`` that the input did not hold.

Parameters list every switch as ``{"start", "end", "source", "target", "concept", "level"}``
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
from collections.abc import Mapping, Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from crossaug import BadSample, ConfigError, Sample
from crossaug.augmentation import Augmentation

from .language import MIN_CONFIDENCE, refuse_other_language, spans_of
from .protected import overlaps_protected
from .senses import METHODS, choose_sense, synset_pos, wordnet_pos
from .tokens import Token, match_case, replace_spans, tokenize

LEVELS = ("word", "phrase", "sentence")
_SENTENCE = re.compile(r"[^.!?\u3002\uff01\uff1f]+[.!?\u3002\uff01\uff1f]*|[.!?\u3002\uff01\uff1f]+")

Entry = dict[str, Any]  # {"targets": [...], "concept": str | None}


@cache
def extra_blocked_words(lang: str) -> tuple[str, ...]:
    """The plugin's supplement to the kernel word lists for ``lang`` (``data/blocked-extra.tsv``).

    Example:
        >>> "kancık" in extra_blocked_words("tr"), extra_blocked_words("xx")
        (True, ())
    """
    text = (resources.files("crossaug_text") / "data" / "blocked-extra.tsv").read_text(encoding="utf-8")
    return tuple(parts[1] for line in text.splitlines()
                 if line.strip() and not line.startswith("#") and (parts := line.split("\t"))[0] == lang)


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
        pos_filter: switch single words only when spaCy tags them as content words
            (NOUN, PROPN, VERB, ADJ, ADV) of the part of speech of their concept. Ours.
        sense: how a word tied to WordNet concepts picks its sense in context:
            ``"lesk"`` (simplified Lesk), ``"mfs"`` (most frequent sense of its part of
            speech) or ``None`` (the lexicon entry's concept, whatever the context). Ours.
        sentence_model: translation model (hub id or local directory, English -> ``language``)
            used by the sentence tier for sentences the lexicon does not hold (the paper
            translates whole sentences); ``None``: lexicon sentences only.
        device: torch device of ``sentence_model``.
        input_language: refuse (per sample) text detected as another language (``None``: no check).
        min_language_confidence: langid probability from which that refusal applies.
        spacy_model: spaCy pipeline for ``pos_filter``.
        screen_langs: word-list languages screened (default ``en`` and ``language`` when
            it has a list); ``blocked_words``: more words or phrases to screen.
    """

    name: ClassVar[str] = "text.code-switch"
    modalities: ClassVar[tuple[str, ...]] = ("text",)

    def __init__(self, lexicon: Mapping[str, Any] | str | None = None, language: str | None = None,
                 word_rate: float = 0.3, phrase_rate: float = 0.3, sentence_rate: float = 0.0,
                 graph: str | None = None, max_distance: int = 0, lemmatize: bool = True,
                 field: str = "text", pos_filter: bool = True, sense: str | None = "lesk",
                 sentence_model: str | None = None, device: str = "cpu", input_language: str | None = "en",
                 min_language_confidence: float = MIN_CONFIDENCE, spacy_model: str | None = None,
                 screen_langs: Sequence[str] | None = None, blocked_words: Sequence[str] = ()) -> None:
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
        if sense is not None and sense not in METHODS:
            raise ConfigError(f"{self.name}: sense must be one of {METHODS} or None, got {sense!r}")
        self.pos_filter = bool(pos_filter)
        self.sense = sense
        self.sentence_model = sentence_model
        self.device = device
        self.input_language = input_language or None
        self.min_language_confidence = float(min_language_confidence)
        self.spacy_model = spacy_model
        from crossaug.builtin.word_screen import available_languages

        if screen_langs is None:
            screen_langs = ["en"] + ([self.language] if self.language in available_languages()
                                     and self.language != "en" else [])
        elif isinstance(screen_langs, str):
            screen_langs = [screen_langs]
        unknown = [x for x in screen_langs if x not in available_languages()]
        if unknown:
            raise ConfigError(f"{self.name}: no word list for screen_langs {unknown}; "
                              f"available: {', '.join(available_languages())}")
        self.screen_langs = [str(x) for x in screen_langs]
        self.blocked_words = [str(x) for x in blocked_words]
        self._lex: dict[str, Entry] | None = None
        self._senses: dict[str, list[str]] | None = None
        self._graph: Any = None
        self._max_len = 1  # words in the lexicon's longest key, set with _lex

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_lex"] = None
        state["_senses"] = None
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
        senses: dict[str, list[str]] = {}
        if isinstance(self.lexicon, Mapping):
            lex = normalise_lexicon(self.lexicon)
        elif isinstance(self.lexicon, str):
            if self.lexicon.startswith("omw:"):
                from .multilingual import OMWTable

                table = OMWTable.from_file(self.lexicon[4:], language=self.language)
                lex = normalise_lexicon(table.lexicon())
                senses.update(table.by_synset)
            elif self.lexicon.startswith("kenet:"):
                if self.lexicon != "kenet:tr":
                    raise ConfigError(f"{self.name}: KeNet provides Turkish only ('kenet:tr'), got {self.lexicon!r}")
                from .multilingual import kenet_lexicon, load_kenet

                lex = normalise_lexicon(kenet_lexicon())
                senses.update(load_kenet().by_synset)
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
                senses.setdefault(concept, list(targets))
        for entry in lex.values():  # a lexicon's own concepts are senses too
            if entry.get("concept"):
                have = senses.setdefault(str(entry["concept"]), [])
                have.extend(t for t in entry["targets"] if t not in have)
        self._senses = {k: list(v) for k, v in senses.items() if v}
        self._max_len = max((k.count(" ") + 1 for k in lex), default=1)
        self._lex = lex
        return lex

    def sense_table(self) -> dict[str, list[str]]:
        """Translations per WordNet sense (synset name) known to this switcher."""
        self.resolved_lexicon()
        assert self._senses is not None
        return self._senses

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

    def _options(self, entry: Entry, source: str) -> list[tuple[str, str | None]]:
        """Targets (with their concept) of ``entry``, through related graph concepts too, screened."""
        options: list[tuple[str, str | None]] = [(t, entry.get("concept")) for t in entry["targets"]]
        graph = self._culture_graph()
        if graph is not None and self.max_distance > 0 and entry.get("concept") in graph.concepts:
            for concept, _ in graph.related(entry["concept"], self.max_distance, language=self.language):
                options.extend((t, concept) for t in graph.lemmas(concept, self.language))
        return [(t, c) for t, c in options if not self._introduced(source, t)]

    def _blocked_extra(self) -> list[str]:
        return self.blocked_words + [w for lang in self.screen_langs for w in extra_blocked_words(lang)]

    def _introduced(self, parent: str, candidate: str) -> list[str]:
        from crossaug.builtin.word_screen import introduced_blocked_words

        return introduced_blocked_words(parent, candidate, langs=self.screen_langs, extra=self._blocked_extra())

    def _tags(self, text: str) -> list[tuple[int, int, str]]:
        """``(start, end, universal POS)`` of each spaCy token (tagged once per text)."""
        from .resources import spacy_tokens

        return [(a, b, pos) for a, b, _, pos in spacy_tokens(text, self.spacy_model)]

    def _word_entry(self, word: str, entry: Entry, upos: str | None, context: str) -> Entry | None:
        """The entry to use for single word ``word`` tagged ``upos`` in ``context``; ``None``: don't switch."""
        if not self.pos_filter:
            return entry
        pos = wordnet_pos(upos or "")
        if pos is None:
            return None
        concept = entry.get("concept")
        if not concept or synset_pos(str(concept)) is None:
            return entry  # a plain lexicon word or a non-WordNet (ConceptNet) concept: no sense to check
        if self.sense is None:
            return entry if synset_pos(str(concept)) == pos else None
        from .resources import wordnet

        chosen = choose_sense(wordnet(), word, pos, context, self.sense)
        if chosen is None:
            return None
        targets = self.sense_table().get(chosen.name())
        return {"targets": list(targets), "concept": chosen.name()} if targets else None

    def _translate(self, sentence: str, rng: np.random.Generator) -> str | None:
        if not self.sentence_model:
            return None
        from .hf import get_generator

        gen = get_generator(self.sentence_model, None, self.device)
        out = gen.generate([sentence], [int(rng.integers(2**31 - 1))],
                           {"max_new_tokens": 256, "do_sample": False, "num_beams": 1}, batch_size=1)[0]
        return out.strip() or None

    # -- augmentation -------------------------------------------------------------
    def sample_params(self, sample: Sample, rng: np.random.Generator) -> dict[str, Any]:
        text = sample[self.field]
        refuse_other_language(self.name, sample, self.field, self.input_language, self.min_language_confidence)
        lex = self.resolved_lexicon()
        max_len = self._max_len  # the lexicon's longest key, counted once
        tokens = tokenize(text)
        guard = spans_of(text)  # computed once per text
        matches = [(a, b, ent) for a, b, ent in (find_matches(tokens, lex, max_len, self._lemma()) if lex else [])
                   if not overlaps_protected(tokens[a].start, tokens[b - 1].end, guard)]
        sentences = sentence_spans(text)
        tags = self._tags(text) if self.pos_filter and any(b - a == 1 for a, b, _ in matches) else []
        switches: list[dict[str, Any]] = []
        covered: list[tuple[int, int]] = []
        # sentence tier: one draw per sentence; the whole sentence becomes its translation
        for s, e in sentences:
            if rng.random() >= self.sentence_rate:
                continue
            src = text[s:e]
            entry = lex.get(normalise_key(src))
            options = self._options(entry, src) if entry is not None else []
            if options:
                target, concept = options[int(rng.integers(len(options)))]
            else:
                target, concept = self._translate(src, rng), None
                if target is not None and self._introduced(src, target):
                    target = None
            if target is None:
                continue
            switches.append({"start": s, "end": e, "source": src, "target": target,
                             "concept": concept, "level": "sentence"})
            covered.append((s, e))
        # phrase and word tiers: one draw per eligible match outside translated sentences
        for a, b, ent in matches:
            start, end = tokens[a].start, tokens[b - 1].end
            if any(s <= start and end <= e for s, e in covered):
                continue
            level = "phrase" if b - a > 1 else "word"
            src = text[start:end]
            if level == "word":
                upos = next((p for x, y, p in tags if x <= start < y), None)
                context = next((text[s:e] for s, e in sentences if s <= start < e), text)
                ent = self._word_entry(src, ent, upos, context)
                if ent is None:
                    continue
            if rng.random() >= (self.phrase_rate if level == "phrase" else self.word_rate):
                continue
            options = self._options(ent, src)
            if not options:
                continue
            target, concept = options[int(rng.integers(len(options)))]
            switches.append({"start": start, "end": end, "source": src,
                             "target": match_case(target, src) if level == "word" else target,
                             "concept": concept, "level": level})
        switches.sort(key=lambda sw: sw["start"])
        return {"language": self.language, "switches": self._screened(text, switches)}

    def _screened(self, text: str, switches: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Drop switches until the output introduces no blocked word (e.g. across two switches)."""
        while switches:
            bad = self._introduced(text, replace_spans(text, [(w["start"], w["end"], w["target"])
                                                              for w in switches]))
            if not bad:
                break
            hit = [w for w in switches if any(b in " ".join(words_of(w["target"])) for b in bad)]
            drop = hit[-1] if hit else switches[-1]
            switches = [w for w in switches if w is not drop]
        return switches

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


def words_of(text: str) -> list[str]:
    """Lower-cased words of ``text`` as the word screen sees them."""
    from crossaug.builtin.word_screen import words

    return words(text)


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
