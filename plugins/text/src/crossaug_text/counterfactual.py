"""CFT-CLIP counterfactual captions: swap named entities to make hard negatives (Nam et al., ACL 2024 Findings,
"Assessing News Thumbnail Representativeness: Counterfactual text can enhance the cross-modal matching ability").

CFT-CLIP contrasts a news text with its counterfactual: the named entities found by a NER
model are masked and a masked language model predicts new tokens until they differ from
the original entity. The counterfactual caption is a hard negative for its image.

Here:

* **NER**: spaCy (the offline ``en_core_web_sm`` copy by default; any pipeline by name), or
  a transformers token-classification model (``ner_model=``);
* **replacement**: with ``mlm_model=`` (the paper's way), the entity's tokens are masked and
  a fill-mask model fills them one by one, drawing among its top predictions and skipping
  the original tokens; otherwise (the offline default, since no fill-mask model ships
  offline) a same-type entity is drawn from the dataset's own entities (collected by
  ``fit``) and a small bundled list per type (``data/counterfactual_entities.json``);
* **type check** (ours): a replacement is kept only if the same NER finds an entity of
  the same type exactly at the replaced span; up to ``max_tries`` candidates are tried per
  entity, and MLM candidates that fail fall back to the pool;
* outputs carry ``label = "negative"`` and the swapped spans in their parameters.

Example:
    >>> swap_spans("Obama visited Paris", [(0, 5, "Merkel"), (14, 19, "Rome")])
    'Merkel visited Rome'
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from crossaug import BadSample, ConfigError, MissingDependency, MissingResource, Sample, Seeder
from crossaug.augmentation import Augmentation
from crossaug.recipe import Recipe

log = logging.getLogger(__name__)

#: spaCy (OntoNotes) entity types swapped by default: the named ones and dates/times,
#: not the numeric ones (CARDINAL, ORDINAL, QUANTITY, PERCENT, MONEY)
DEFAULT_TYPES = ("PERSON", "NORP", "FAC", "ORG", "GPE", "LOC", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW",
                 "LANGUAGE", "DATE", "TIME")
BUILTIN_POOL = "builtin:counterfactual_entities.json"
INSTALL = "pip install 'crossaug-text[spacy]'"


def swap_spans(text: str, swaps: Sequence[tuple[int, int, str]]) -> str:
    """``text`` with each ``(start, end, replacement)`` span (original offsets, non-overlapping) replaced."""
    out, last = [], 0
    for start, end, rep in sorted(swaps):
        if start < last:
            raise ConfigError(f"overlapping spans at {start}")
        out += [text[last:start], rep]
        last = end
    return "".join(out) + text[last:]


def load_pool(path: str) -> dict[str, list[str]]:
    """Replacement entities per type from a JSON object ``{"PERSON": [...], ...}`` (``builtin:`` bundled)."""
    if path.startswith("builtin:"):
        raw = (resources.files("crossaug_text") / "data" / path.removeprefix("builtin:")).read_text(encoding="utf-8")
    else:
        p = Path(path).expanduser()
        if not p.is_file():
            raise MissingResource(f"entity list {path!r}", 'write a JSON object {"PERSON": ["..."], ...}')
        raw = p.read_text(encoding="utf-8")
    data = json.loads(raw)
    if not isinstance(data, dict) or not all(isinstance(v, list) for v in data.values()):
        raise ConfigError(f"entity list {path}: expected a JSON object of type -> list of names")
    return {str(k): [str(x) for x in v if str(x).strip()] for k, v in data.items()}


@functools.lru_cache(maxsize=4)
def spacy_ner(name: str | None = None) -> Any:
    """A spaCy pipeline with its NER (the project's offline pipeline when ``name`` is ``None``)."""
    try:
        import spacy
    except ImportError as exc:
        raise MissingDependency(INSTALL, what="spacy") from exc
    from .resources import SPACY_HINT, spacy_candidates, spacy_pipeline_name

    found = spacy_pipeline_name(name)
    if found is None:
        raise MissingResource(f"spaCy pipeline ({' or '.join(spacy_candidates(name))})", SPACY_HINT)
    nlp = spacy.load(found, exclude=["parser", "lemmatizer"])
    if "ner" not in nlp.pipe_names:
        raise MissingResource(f"spaCy pipeline {found!r} has no 'ner' component", SPACY_HINT)
    unused = unused_by_ner(nlp)
    if unused:
        nlp.select_pipes(disable=unused)
    return nlp


#: components a plain NER pipeline may hold besides ``ner``, whose output the NER does not read
#: (it reads its own embedding of the words, or a ``tok2vec`` it listens to)
_BESIDE_NER = frozenset({"tok2vec", "tagger", "attribute_ruler", "morphologizer", "senter"})


def unused_by_ner(nlp: Any) -> list[str]:
    """Components of ``nlp`` that its ``ner`` does not need (skipping them gives the same entities,
    about twice as fast for ``en_core_web_sm``): in a pipeline of ``ner`` and the usual tagging
    components only, every one but ``ner`` and the embedding layers it listens to. A pipeline with
    anything else (an entity ruler whose patterns read parts of speech, say) keeps everything.
    """
    names = list(nlp.pipe_names)
    if not set(names) <= _BESIDE_NER | {"ner"}:
        return []
    heard = {n for n in names if "ner" in (getattr(nlp.get_pipe(n), "listening_components", None) or ())}
    return [n for n in names if n != "ner" and n not in heard]


@functools.lru_cache(maxsize=256)
def _entities(text: str, spacy_model: str | None, ner_model: str | None,
              device: str) -> tuple[tuple[int, int, str, str], ...]:
    """:meth:`Counterfactual.find_entities`, once per text and NER: an input is parsed once for all
    its outputs, and a trial caption that recurs (the same swap tried again) is not parsed again."""
    if ner_model:
        ents = _hf_ner(ner_model, device)(text)
        return tuple((int(e["start"]), int(e["end"]), text[int(e["start"]):int(e["end"])],
                      str(e.get("entity_group") or e.get("entity"))) for e in ents)
    return tuple((e.start_char, e.end_char, e.text, e.label_) for e in spacy_ner(spacy_model)(text).ents)


@functools.lru_cache(maxsize=4)
def _hf_ner(model: str, device: str) -> Any:
    try:
        import transformers
    except ImportError as exc:
        raise MissingDependency("pip install 'crossaug-text[llm]'", what="transformers") from exc
    from crossaug import resolve_model
    from crossaug.models import pick_device

    path = resolve_model("transformers", model, None)
    return transformers.pipeline("token-classification", model=path, tokenizer=path,
                                 aggregation_strategy="simple", device=pick_device(device))


@functools.lru_cache(maxsize=4)
def _fill_mask(model: str, device: str) -> tuple[Any, Any, str]:
    try:
        import torch  # noqa: F401
        import transformers
    except ImportError as exc:
        raise MissingDependency("pip install 'crossaug-text[llm]'", what="transformers") from exc
    from crossaug import resolve_model
    from crossaug.models import pick_device

    path = resolve_model("transformers", model, None)
    dev = pick_device(device)
    tok = transformers.AutoTokenizer.from_pretrained(path)
    net = transformers.AutoModelForMaskedLM.from_pretrained(path).to(dev).eval()
    if tok.mask_token is None:
        raise ConfigError(f"fill-mask model {model!r} has no mask token")
    return tok, net, dev


class Counterfactual(Augmentation):
    """Replace the named entities of a caption with other entities of the same type (a hard negative).

    Args:
        entity_types: NER labels that are swapped.
        spacy_model: spaCy pipeline with NER (``None``: the offline default).
        ner_model: transformers token-classification model instead of spaCy (labels as it names them).
        mlm_model: fill-mask model predicting replacements (the paper's way); ``None``: the pool only.
        pool: JSON file of replacement entities per type (``builtin:...`` bundled); ``None``: dataset only.
        top_k: the fill-mask model draws among its ``top_k`` tokens per mask.
        max_tries: candidates tried per entity until one keeps the type.
        verify_type: keep a replacement only when the NER finds the same type at its span.
        max_swaps: at most this many entities swapped per caption (``None``: all).
        device: torch device of the transformers models.
        field: the text field.
    """

    name: ClassVar[str] = "text.counterfactual"
    modalities: ClassVar[tuple[str, ...]] = ("text",)

    def __init__(self, entity_types: Sequence[str] = DEFAULT_TYPES, spacy_model: str | None = None,
                 ner_model: str | None = None, mlm_model: str | None = None, pool: str | None = BUILTIN_POOL,
                 top_k: int = 20, max_tries: int = 8, verify_type: bool = True, max_swaps: int | None = None,
                 device: str = "cpu", field: str = "text") -> None:
        if isinstance(entity_types, str) or not entity_types:
            raise ConfigError(f"{self.name}: entity_types must be a non-empty list, got {entity_types!r}")
        for n, v in (("top_k", top_k), ("max_tries", max_tries)):
            if not isinstance(v, int) or v < 1:
                raise ConfigError(f"{self.name}: {n} must be a positive int, got {v!r}")
        if max_swaps is not None and (not isinstance(max_swaps, int) or max_swaps < 1):
            raise ConfigError(f"{self.name}: max_swaps must be a positive int or None, got {max_swaps!r}")
        self.entity_types = [str(t) for t in entity_types]
        self.spacy_model, self.ner_model, self.mlm_model, self.pool = spacy_model, ner_model, mlm_model, pool
        self.top_k, self.max_tries, self.verify_type, self.max_swaps = top_k, max_tries, bool(verify_type), max_swaps
        self.device, self.field = device, field
        self.entities: dict[str, list[str]] = {t: list(v) for t, v in
                                               (load_pool(pool).items() if pool else ()) if t in self.entity_types}

    @property
    def model_id(self) -> str | None:
        return self.mlm_model or self.ner_model

    # -- NER ---------------------------------------------------------------------------
    def find_entities(self, text: str) -> list[tuple[int, int, str, str]]:
        """``(start, end, text, label)`` of every entity the NER finds (all types)."""
        return list(_entities(text, self.spacy_model, self.ner_model, self.device))

    def keeps_type(self, text: str, start: int, end: int, label: str) -> bool:
        """Whether the NER finds an entity of type ``label`` exactly at ``text[start:end]``."""
        return any(s == start and e == end and lab == label for s, e, _, lab in self.find_entities(text))

    def fit(self, samples: Iterable[Sample]) -> None:
        """Add the dataset's own entities to the replacement pool (per type)."""
        known = {label: set(names) for label, names in self.entities.items()}  # a look-up, not a scan
        for s in samples:
            if isinstance(s, Sample) and isinstance(s.fields.get(self.field), str):
                for _, _, ent, label in self.find_entities(s[self.field]):
                    if label in self.entity_types and ent not in known.setdefault(label, set()):
                        known[label].add(ent)
                        self.entities.setdefault(label, []).append(ent)

    # -- candidates --------------------------------------------------------------------
    def _mlm_candidates(self, text: str, start: int, end: int, rng: np.random.Generator) -> list[str]:
        import torch

        tok, net, dev = _fill_mask(self.mlm_model, self.device)  # type: ignore[arg-type]
        original = text[start:end]
        orig_ids = tok(original, add_special_tokens=False)["input_ids"] or [tok.unk_token_id]
        banned = set(orig_ids) | set(tok.all_special_ids)
        out = []
        for _ in range(self.max_tries):
            masked = text[:start] + " ".join([tok.mask_token] * len(orig_ids)) + text[end:]
            ids = tok(masked, return_tensors="pt")["input_ids"].to(dev)
            for _ in range(len(orig_ids)):
                pos = (ids[0] == tok.mask_token_id).nonzero().flatten()
                if len(pos) == 0:
                    break
                with torch.inference_mode():
                    logits = net(input_ids=ids).logits[0, pos[0]].float().cpu()
                logits = logits.clone()  # an inference tensor cannot be edited outside inference mode
                for b in banned:
                    if 0 <= b < logits.shape[0]:
                        logits[b] = -float("inf")
                allowed = int(torch.isfinite(logits).sum())
                if allowed == 0:  # the vocabulary holds only the original and special tokens
                    return out
                top = torch.topk(logits, min(self.top_k, allowed)).indices.tolist()
                ids[0, pos[0]] = int(top[int(rng.integers(len(top)))])
            word_ids = ids[0].tolist()
            first = text[:start]
            n_before = len(tok(first, add_special_tokens=False)["input_ids"]) if first else 0
            offset = 1 if tok.cls_token_id is not None and word_ids[0] == tok.cls_token_id else 0
            filled = tok.decode(word_ids[offset + n_before: offset + n_before + len(orig_ids)],
                                skip_special_tokens=True).strip()
            if filled and filled.lower() != original.lower() and filled not in out:
                out.append(filled)
        return out

    def _pool_candidates(self, label: str, exclude: set[str], rng: np.random.Generator) -> list[str]:
        cands = [c for c in self.entities.get(label, []) if c.lower() not in exclude]
        order = rng.permutation(len(cands)) if cands else []
        return [cands[int(i)] for i in order[: self.max_tries]]

    # -- augmentation ------------------------------------------------------------------
    def sample_params(self, sample: Sample, rng: np.random.Generator) -> dict[str, Any]:
        text = sample[self.field]
        if not isinstance(text, str) or not text.strip():
            raise BadSample(f"{self.name}: empty text", sample_id=sample.id, field=self.field)
        found = self.find_entities(text)
        ents = [e for e in found if e[3] in self.entity_types]
        exclude = {e[2].lower() for e in found}
        if self.max_swaps is not None and len(ents) > self.max_swaps:
            pick = sorted(int(i) for i in rng.choice(len(ents), size=self.max_swaps, replace=False))
            ents = [ents[i] for i in pick]
        swaps: list[dict[str, Any]] = []
        failed: list[str] = []
        current, shift = text, 0
        for start, end, ent, label in ents:
            s, e = start + shift, end + shift
            sources = ([("mlm", c) for c in self._mlm_candidates(current, s, e, rng)] if self.mlm_model else []) + \
                [("pool", c) for c in self._pool_candidates(label, exclude, rng)]
            for source, cand in sources:
                if start == 0 and cand[:1].islower():  # "the Red Cross" opening the sentence
                    cand = cand[0].upper() + cand[1:]
                trial = current[:s] + cand + current[e:]
                if not self.verify_type or self.keeps_type(trial, s, s + len(cand), label):
                    swaps.append({"start": start, "end": end, "text": ent, "label": label, "replacement": cand,
                                  "source": source})
                    exclude.add(cand.lower())
                    current, shift = trial, shift + len(cand) - (end - start)
                    break
            else:
                failed.append(f"{ent} ({label})")
        return {"swaps": swaps, "unswapped": failed, "original_label": sample.label}

    def apply(self, sample: Sample, params: Mapping[str, Any]) -> Sample:
        swaps = [(int(w["start"]), int(w["end"]), str(w["replacement"])) for w in params.get("swaps", [])]
        return sample.derive(None, **{self.field: swap_spans(sample[self.field], swaps)}).replace(
            label="negative" if swaps else sample.label)


class CounterfactualTextRecipe(Recipe):
    """``n`` counterfactual captions per input, kept as hard negatives (``label = "negative"``).

    ``fit`` (run by ``crossaug run``) collects the dataset's entities per type for the
    replacement pool. A caption with no entity of ``entity_types``, or whose entities no
    candidate could replace with the type kept, gives a rejected output saying so.

    Args:
        n: counterfactuals per input.
        entity_types, spacy_model, ner_model, mlm_model, pool, top_k, max_tries, verify_type,
        max_swaps, device, field: see :class:`Counterfactual`.
    """

    name: ClassVar[str] = "counterfactual-text"

    def __init__(self, n: int = 1, entity_types: Sequence[str] = DEFAULT_TYPES, spacy_model: str | None = None,
                 ner_model: str | None = None, mlm_model: str | None = None, pool: str | None = BUILTIN_POOL,
                 top_k: int = 20, max_tries: int = 8, verify_type: bool = True, max_swaps: int | None = None,
                 device: str = "cpu", field: str = "text") -> None:
        if not isinstance(n, int) or n < 1:
            raise ConfigError(f"{self.name}: n must be a positive integer, got {n!r}")
        self.augmentation = Counterfactual(entity_types, spacy_model, ner_model, mlm_model, pool, top_k, max_tries,
                                           verify_type, max_swaps, device, field)
        self.n, self.entity_types, self.spacy_model, self.ner_model = n, list(entity_types), spacy_model, ner_model
        self.mlm_model, self.pool, self.top_k, self.max_tries = mlm_model, pool, top_k, max_tries
        self.verify_type, self.max_swaps, self.device, self.field = verify_type, max_swaps, device, field
        self._fitted = False

    @property  # type: ignore[override]
    def requires_fit(self) -> bool:
        return not self._fitted

    def required_fields(self) -> tuple[str, ...]:
        return (self.field,)

    def fit(self, samples: Iterable[Sample]) -> None:
        self.augmentation.fit(samples)
        self._fitted = True

    def process(self, samples: Sequence[Sample], seeder: Seeder) -> list[list[Sample]]:
        self.check(samples)
        out = []
        for s in samples:
            group = []
            for i in range(self.n):
                o = self.augmentation.augment(s, seeder.rng("augment", s.id, i)).replace(id=f"{s.id}~{i}")
                params = o.lineage[-1].params
                if not params["swaps"]:
                    why = (f"no entity of the swapped types could be replaced with its type kept "
                           f"({', '.join(params['unswapped'])})" if params["unswapped"]
                           else "no named entity of the swapped types found")
                    o = o.reject(why)
                group.append(o)
            out.append(group)
        return out


__all__ = ["Counterfactual", "CounterfactualTextRecipe", "swap_spans", "load_pool", "spacy_ner", "unused_by_ner",
           "DEFAULT_TYPES", "BUILTIN_POOL"]
