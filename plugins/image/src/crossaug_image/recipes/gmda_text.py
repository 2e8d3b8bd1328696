"""GMDA's text side: the entity list, the label-aware instruction, and parsing entity-annotated text.

GMDA (Generative Multimodal Data Augmentation for low-resource multimodal NER, ACM MM
2024) asks a multimodal LLM, given an image and its entity list, for a sentence with its
entities annotated in place (a linearised labelled sequence). We write entities as
``[TYPE surface]`` (our reading; the survey notes do not give the paper's markup):
``"[PER Kevin Durant] arrives in [LOC Oklahoma]"``. A model that was not fine-tuned for
the markup may still name the entities in plain words, so when the output holds no
markup the given entities' surfaces are found in it instead (``annotation: "matched"``).

Example:
    >>> ents = parse_entities([{"text": "Kevin Durant", "type": "PER"}, ["Oklahoma", "LOC"]], "s")
    >>> instruction("List {entities}.", ents)
    'List Kevin Durant (PER), Oklahoma (LOC).'
    >>> plain, spans, how = parse_annotated("[PER Kevin Durant] lands in oklahoma", ents)
    >>> plain, [(s["text"], s["type"], s["start"], s["end"]) for s in spans], how
    ('Kevin Durant lands in oklahoma', [('Kevin Durant', 'PER', 0, 12)], 'markup')
    >>> parse_annotated("Kevin Durant lands in oklahoma", ents)[1][1]["text"], linearize(plain, spans)
    ('oklahoma', '[PER Kevin Durant] lands in oklahoma')
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from crossaug import BadSample, ConfigError, Sample
from crossaug.augmentation import Augmentation

#: the entity types of the MNER benchmarks GMDA uses (Twitter-2015/2017): person, organisation, location, other
MNER_TYPES = ("PER", "ORG", "LOC", "MISC")
#: the label-aware instruction (ours; the paper's exact prompt is not in the survey notes)
DEFAULT_INSTRUCTION = ("Write one sentence about this image that mentions {entities}. "
                       "Mark each entity as [TYPE entity].")
_MARKUP = re.compile(r"\[\s*([A-Za-z][\w-]*)\s+([^\[\]]+?)\s*\]")


def parse_entities(raw: Any, sample_id: str, field: str = "entities") -> list[dict[str, Any]]:
    """The entity list of an input: ``{"text", "type", "box"?}`` objects or ``[text, type]`` pairs.

    Raises :class:`BadSample` naming the sample for anything else, or for an empty list.
    """
    if not isinstance(raw, (list, tuple)) or not raw:
        raise BadSample(f"gmda needs a non-empty entity list in meta[{field!r}] (objects with 'text' and 'type', "
                        f"or [text, type] pairs), got {raw!r}", sample_id=sample_id, field=field)
    out = []
    for i, e in enumerate(raw):
        if isinstance(e, Mapping):
            text, typ, box = e.get("text"), e.get("type"), e.get("box")
        elif isinstance(e, (list, tuple)) and len(e) in (2, 3):
            text, typ, box = e[0], e[1], e[2] if len(e) == 3 else None
        else:
            raise BadSample(f"gmda: entity {i} must be an object with 'text' and 'type' or a [text, type] pair, "
                            f"got {e!r}", sample_id=sample_id, field=field)
        if not isinstance(text, str) or not text.strip() or not isinstance(typ, str) or not typ.strip():
            raise BadSample(f"gmda: entity {i} needs a non-empty text and type, got {e!r}", sample_id=sample_id,
                            field=field)
        out.append({"text": " ".join(text.split()), "type": typ.strip(), "box": box})
    return out


def entities_from_markup(text: str) -> list[dict[str, Any]]:
    """The ``[TYPE surface]`` entities written in ``text`` (no boxes)."""
    return [{"text": " ".join(m.group(2).split()), "type": m.group(1), "box": None} for m in _MARKUP.finditer(text)]


def instruction(template: str, entities: Sequence[Mapping[str, Any]]) -> str:
    """``template`` with ``{entities}`` filled as ``"surface (TYPE), ..."`` (each entity once)."""
    listed = list(dict.fromkeys(f"{e['text']} ({e['type']})" for e in entities))
    return template.replace("{entities}", ", ".join(listed))


def _clean(text: str) -> str:
    return " ".join(text.split())


def _squash(raw: str, spans: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """``raw`` with whitespace runs made one space and the ends stripped; ``spans`` moved along."""
    out: list[str] = []
    where = []
    for ch in raw:
        where.append(len(out))
        if not ch.isspace():
            out.append(ch)
        elif out and out[-1] != " ":
            out.append(" ")
    text = "".join(out).rstrip()
    return text, [{**s, "start": where[s["start"]], "end": where[s["start"]] + len(s["text"])} for s in spans]


def parse_annotated(text: str, entities: Sequence[Mapping[str, Any]],
                    types: Sequence[str] = MNER_TYPES) -> tuple[str, list[dict[str, Any]], str]:
    """``(plain text, entity spans, how)`` of a generated, entity-annotated sentence.

    ``[TYPE surface]`` markup whose type is one of the given entities' types or ``types``
    (case-insensitive, written as the entity list spells it) becomes a span of the plain
    text (``how="markup"``); other brackets stay text. Without any such markup, whole-word,
    case-insensitive occurrences of the given entities' surfaces, longest first and not
    overlapping, become the spans (``how="matched"``; ``"none"`` when nothing is found).
    Each span is ``{"text", "type", "start", "end", "box"}``, ``box`` the box of the
    given entity with the same surface and type (``None`` if none).
    """
    canon = {t.upper(): t for t in types}
    canon.update({str(e["type"]).upper(): str(e["type"]) for e in entities})
    boxes = {(e["text"].lower(), str(e["type"])): e.get("box") for e in entities}
    plain, spans, pos = [], [], 0
    for m in _MARKUP.finditer(text):
        typ = canon.get(m.group(1).upper())
        if typ is None:
            continue
        plain.append(text[pos:m.start()])
        surface = _clean(m.group(2))
        start = len("".join(plain))
        spans.append({"text": surface, "type": typ, "start": start, "end": start + len(surface)})
        plain.append(surface)
        pos = m.end()
    if spans:
        plain.append(text[pos:])
        raw = "".join(plain)
        how = "markup"
    else:
        raw, how = text, "none"
    plain_text, moved = _squash(raw, spans)
    if not moved:
        taken: list[tuple[int, int]] = []
        for e in sorted(entities, key=lambda e: -len(e["text"])):
            pattern = r"(?<!\w)" + r"\s+".join(re.escape(w) for w in e["text"].split()) + r"(?!\w)"
            for m in re.finditer(pattern, plain_text, re.IGNORECASE):
                if any(m.start() < b and a < m.end() for a, b in taken):
                    continue
                taken.append((m.start(), m.end()))
                moved.append({"text": m.group(0), "type": str(e["type"]), "start": m.start(), "end": m.end()})
        moved.sort(key=lambda s: s["start"])
        how = "matched" if moved else "none"
    for s in moved:
        s["box"] = boxes.get((s["text"].lower(), s["type"]))
    return plain_text, moved, how


def linearize(text: str, spans: Sequence[Mapping[str, Any]]) -> str:
    """``text`` with each span written as ``[TYPE surface]`` (the inverse of :func:`parse_annotated`)."""
    out, pos = [], 0
    for s in sorted(spans, key=lambda s: s["start"]):
        out += [text[pos:s["start"]], f"[{s['type']} {text[s['start']:s['end']]}]"]
        pos = s["end"]
    return "".join(out + [text[pos:]])


class ParseAnnotations(Augmentation):
    """GMDA's H: turn the MLLM's annotated sentence into the plain text and its entity spans.

    Deterministic (no parameters are drawn). Writes the plain sentence to ``out_field``
    (what the text-to-image model draws), the canonical annotated form back to ``field``, and the
    spans to ``meta[meta_key]``; lineage records the spans and whether they came from markup.

    Args:
        field: the MLLM's output field.
        out_field: the plain-text field.
        meta_key: ``sample.meta`` key of the input's entity list and of the output's spans.
        types: entity types accepted in markup besides the input's own.
    """

    name = "gmda.parse-annotations"
    modalities = ("text",)

    def __init__(self, field: str = "text.annotated", out_field: str = "text", meta_key: str = "entities",
                 types: Sequence[str] = MNER_TYPES) -> None:
        if not field or not out_field or field == out_field:
            raise ConfigError(f"{self.name}: field and out_field must be two different fields")
        self.field, self.out_field, self.meta_key, self.types = field, out_field, meta_key, list(types)

    def check(self, sample: Sample) -> None:
        """The MLLM's output must be a string; control characters in it are cleaned, not an error."""
        if not isinstance(sample, Sample) or not isinstance(sample.get(self.field), str):
            raise BadSample(f"{self.name}: needs the generated text in field {self.field!r}",
                            sample_id=getattr(sample, "id", None), field=self.field)

    def sample_params(self, sample: Sample, rng: np.random.Generator) -> dict[str, Any]:
        given = parse_entities(sample.meta.get(self.meta_key), sample.id, self.meta_key)
        text = "".join(" " if unicodedata.category(ch).startswith("C") else ch for ch in sample[self.field])
        plain, spans, how = parse_annotated(text, given, self.types)
        return {"text": plain, "entities": spans, "annotation": how}

    def apply(self, sample: Sample, params: Mapping[str, Any]) -> Sample:
        spans = [dict(s) for s in params["entities"]]
        out = sample.derive(None, **{self.out_field: params["text"],
                                     self.field: linearize(params["text"], spans)})
        return out.replace(meta={**sample.meta, self.meta_key: spans})


__all__ = ["parse_entities", "entities_from_markup", "instruction", "parse_annotated", "linearize",
           "ParseAnnotations", "MNER_TYPES", "DEFAULT_INSTRUCTION"]
