"""Recipe ``gmda``: image + entity list -> entity-annotated sentences -> new images with the old boxes.

GMDA (Generative Multimodal Data Augmentation for low-resource multimodal NER, ACM MM
2024) augments image-text NER data in two stages. Multimodal text generation: a
multimodal LLM (the paper fine-tunes InstructBLIP with LoRA on the linearised labelled
sentences) is given an image and its entity list with a label-aware prompt and writes new
entity-annotated sentences, several per image by top-k then top-p sampling. Multimodal
image generation: Stable Diffusion (v1.5 in the paper) draws an image of each sentence;
since the generated images resemble the originals, the original boxes are reused for
them. Generated samples are filtered: sentences of fewer than 5 words, samples whose
annotations an NER model trained on the real data does not reproduce, and duplicates.

Here: F is the MLLM (``image.vqa`` by name, any registered image -> text transform taking
its parameters; sampled with ``top_k`` then ``top_p``, one seed per output, ``l`` outputs
per image), H parses the annotated sentence into plain text and entity spans
(:class:`~.gmda_text.ParseAnnotations`), G is the text-to-image model followed by the box
reuse (:class:`ReuseBoxes`: boxes scaled to the new image's size), and the filters are
``image.min-words`` (5), ``image.entity-consistency`` (spaCy offline by default) and the
recipe's duplicate check. Inputs carry ``image``, ``text`` and ``meta["entities"]``
(``{"text", "type", "box"?}`` objects or ``[text, type]`` pairs; without it the
``[TYPE surface]`` markup of ``text``), optionally ``meta["boxes"]``.

Example:
    >>> r = GMDA(mllm_model="my/instructblip", image_model="my/sd")
    >>> r.fan_out, r.forward[0].name, [f.name for f in r.filters], r.dedupe
    ([4, 1, 1], 'image.vqa', ['image.min-words', 'image.entity-consistency'], True)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from crossaug import BackModality, BadSample, ConfigError, Filter, LineageStep, Sample, Seeder, Transform
from crossaug.registry import resolve

from .._wrapped import WrapsTransform
from ..filters.entity_consistency import EntityConsistency
from ..filters.min_words import MinWords
from ._build import build, or_auto, or_unset
from .gmda_text import (
    DEFAULT_INSTRUCTION,
    MNER_TYPES,
    ParseAnnotations,
    entities_from_markup,
    instruction,
    parse_entities,
)

#: the field holding each input's label-aware instruction while the recipe runs (not in the outputs)
INSTRUCTION_FIELD = "text.gmda-instruction"


def scale_box(box: Sequence[float], sx: float, sy: float) -> list[float]:
    """``[x0, y0, x1, y1]`` scaled by ``(sx, sy)``, rounded to 0.01 pixel.

    Example:
        >>> scale_box([4, 2, 24, 20], 32 / 48, 32 / 40)
        [2.67, 1.6, 16.0, 16.0]
    """
    x0, y0, x1, y1 = (float(v) for v in box)
    return [round(x0 * sx, 2), round(y0 * sy, 2), round(x1 * sx, 2), round(y1 * sy, 2)]


def check_box(box: Any, width: int, height: int, sample_id: str, where: str) -> list[float]:
    """``box`` as four floats inside a ``width`` x ``height`` image, else :class:`BadSample` naming it."""
    ok = isinstance(box, (list, tuple)) and len(box) == 4 and all(isinstance(v, (int, float)) for v in box)
    if not ok:
        raise BadSample(f"gmda: box {box!r} is not [x0, y0, x1, y1]", sample_id=sample_id, field=where)
    x0, y0, x1, y1 = (float(v) for v in box)
    if not (0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height):
        raise BadSample(f"gmda: box {list(box)!r} lies outside the {width}x{height} image or is empty",
                        sample_id=sample_id, field=where)
    return [x0, y0, x1, y1]


class ReuseBoxes(WrapsTransform, Transform):
    """GMDA's G: generate with ``transform``, then give the new image the original boxes, scaled to its size.

    Reads the original image's size from ``image_field`` of each input (before it is replaced),
    rescales ``meta[entities_key][*]["box"]`` and ``meta[boxes_key]``, and records both sizes.

    Args:
        transform: the text -> image transform.
        entities_key, boxes_key: ``sample.meta`` keys of the entity spans and of the box list.
        image_field: the original image's field.
    """

    name: ClassVar[str] = "gmda.reuse-boxes"
    source: ClassVar[str] = "text"
    target: ClassVar[str] = "image"

    def __init__(self, transform: Transform, entities_key: str = "entities", boxes_key: str = "boxes",
                 image_field: str = "image") -> None:
        if not isinstance(transform, Transform) or (transform.source, transform.target) != ("text", "image"):
            raise ConfigError(f"{self.name}: transform must be a text -> image Transform, got {transform!r}")
        self.transform = transform
        self.entities_key, self.boxes_key, self.image_field = entities_key, boxes_key, image_field

    def __call__(self, samples: Sequence[Sample], seeds: Sequence[int]) -> list[Sample]:
        sizes = [getattr(s.get(self.image_field), "size", None) for s in samples]
        out = self.transform(samples, seeds)
        for i, (o, size) in enumerate(zip(out, sizes)):
            new = getattr(o.get(self.output_field), "size", None)
            if not o.kept or size is None or new is None:
                continue
            sx, sy = new[0] / size[0], new[1] / size[1]
            meta = dict(o.meta)
            ents = meta.get(self.entities_key)
            if isinstance(ents, list):
                meta[self.entities_key] = [{**e, "box": scale_box(e["box"], sx, sy)} if e.get("box") else e
                                           for e in ents]
            if isinstance(meta.get(self.boxes_key), list):
                meta[self.boxes_key] = [scale_box(b, sx, sy) for b in meta[self.boxes_key]]
            n = sum(1 for e in meta.get(self.entities_key) or [] if e.get("box"))
            step = LineageStep(name=self.name, kind="transform", params={
                "from_size": list(size), "to_size": list(new), "entity_boxes": n,
                "boxes": len(meta.get(self.boxes_key) or [])})
            out[i] = o.replace(meta=meta, lineage=o.lineage + (step,))
        return out


class GMDA(BackModality):
    """GMDA: MLLM-written entity-annotated sentences, their images, the original boxes, three filters.

    Args:
        mllm: entry-point name (or alias) of the multimodal LLM transform (F; default ``image.vqa``:
            BLIP-2 / InstructBLIP; the paper fine-tunes InstructBLIP FlanT5-XL).
        mllm_model: its model id or local path (``None``: the transform's default; pass your fine-tuned one).
        instruction: the label-aware instruction, ``{entities}`` filled with ``"surface (TYPE), ..."``
            (ours; see :data:`~.gmda_text.DEFAULT_INSTRUCTION`).
        prompt_template: the model's prompt around ``{question}`` (default ``{question}``, InstructBLIP's
            instruction form).
        top_k, top_p, temperature: sampling, top-k then top-p (ours: 50, 0.9, 1.0; the paper names the
            order, the survey notes no values).
        max_new_tokens: sentence length limit (default 40).
        mllm_params: further parameters of the MLLM transform.
        text_to_image: entry-point name of the text-to-image transform (G; the paper: Stable Diffusion v1.5).
        image_model: its model id or local path (``None``: the transform's default).
        image_params: further parameters (``num_inference_steps``, ``height``, ...).
        min_words: reject sentences with fewer words (paper: 5; ``None``: no length filter).
        entity_check: run ``image.entity-consistency`` (paper: yes).
        ner_params: its parameters (``spacy_model``, ``ner_model``, ``function``, ``type_map``,
            ``min_agreement``).
        dedupe: reject a sentence equal (case and punctuation aside) to one already kept for the input.
        types: entity types accepted in the markup besides the input's own (default PER/ORG/LOC/MISC).
        l, n: sentences per image (paper: several; ours 4), images per sentence (1).
        keep: outputs kept per input, sampled uniformly (``None``: all that pass).
        filters: further filters.
        device, dtype: for every model (the kernel's policy).
        entities_key, boxes_key: ``sample.meta`` keys of the entity list and of the boxes.
        keep_intermediate: keep the MLLM's annotated sentence (``text.annotated``, and its raw form
            ``text.annotated.forward``) in the outputs.
        top_up: extra rounds for inputs left with fewer than ``keep`` passing outputs.
    """

    name: ClassVar[str] = "gmda"
    input_fields: ClassVar[tuple[str, ...]] = ("image", "text")

    def __init__(self, mllm: str = "image.vqa", mllm_model: str | None = None,
                 instruction: str = DEFAULT_INSTRUCTION, prompt_template: str = "{question}", top_k: int = 50,
                 top_p: float = 0.9, temperature: float = 1.0, max_new_tokens: int = 40,
                 mllm_params: Mapping[str, Any] | None = None,
                 text_to_image: str = "image.text-to-image.diffusers", image_model: str | None = None,
                 image_params: Mapping[str, Any] | None = None, min_words: int | None = 5,
                 entity_check: bool = True, ner_params: Mapping[str, Any] | None = None, dedupe: bool = True,
                 types: Sequence[str] = MNER_TYPES, l: int = 4, n: int = 1, keep: int | None = None,
                 filters: Sequence[Filter] | None = None, device: str = "auto", dtype: str = "auto",
                 entities_key: str = "entities", boxes_key: str = "boxes", keep_intermediate: bool = True,
                 top_up: int = 0) -> None:
        if not isinstance(instruction, str) or "{entities}" not in instruction:
            raise ConfigError(f"gmda: instruction must contain {{entities}}, got {instruction!r}")
        forward = build("transform", resolve("transform", mllm, prefix="image.", source="image", target="text"),
                        mllm_params, model=or_unset(mllm_model), question_field=INSTRUCTION_FIELD,
                        prompt_template=prompt_template, do_sample=True, top_k=top_k, top_p=top_p,
                        temperature=temperature, max_new_tokens=max_new_tokens, out_field="text.annotated",
                        device=device, dtype=or_auto(dtype))
        parse = ParseAnnotations(field="text.annotated", out_field="text", meta_key=entities_key, types=types)
        t2i = build("transform", resolve("transform", text_to_image, prefix="image.text-to-image.", source="text",
                                         target="image"),
                    image_params, model=or_unset(image_model), in_field="text", out_field="image", device=device,
                    dtype=or_auto(dtype))
        own: list[Filter] = [MinWords(min_words, field="text")] if min_words is not None else []
        if entity_check:
            own.append(EntityConsistency(**{"field": "text", "meta_key": entities_key, "device": device,
                                            **dict(ner_params or {})}))
        super().__init__(forward=forward, augment=parse, backward=ReuseBoxes(t2i, entities_key, boxes_key),
                         filters=[*own, *(filters or [])], fan_out=(l, 1, n), keep=keep,
                         keep_intermediate=keep_intermediate, dedupe=dedupe, top_up=top_up)
        self.filters_extra = list(filters or [])
        self.mllm, self.mllm_model, self.instruction = mllm, mllm_model, instruction
        self.prompt_template = prompt_template
        self.top_k, self.top_p, self.temperature = top_k, top_p, temperature
        self.max_new_tokens = max_new_tokens
        self.mllm_params = dict(mllm_params or {})
        self.text_to_image, self.image_model = text_to_image, image_model
        self.image_params = dict(image_params or {})
        self.min_words, self.entity_check = min_words, bool(entity_check)
        self.ner_params = dict(ner_params or {})
        self.types = list(types)
        self.l, self.n = l, n
        self.device, self.dtype = device, dtype
        self.entities_key, self.boxes_key = entities_key, boxes_key

    def get_params(self) -> dict[str, Any]:
        params = {name: getattr(self, name) for name in self.param_names()}
        params["filters"] = self.filters_extra
        return params

    def entities_of(self, sample: Sample) -> list[dict[str, Any]]:
        """The input's entity list (``meta[entities_key]``, else the markup of its text), boxes checked."""
        raw = sample.meta.get(self.entities_key)
        if raw is None and isinstance(sample.get("text"), str):
            raw = entities_from_markup(sample["text"]) or None
        ents = parse_entities(raw, sample.id, self.entities_key)
        w, h = sample["image"].size
        for e in ents:
            if e["box"] is not None:
                e["box"] = check_box(e["box"], w, h, sample.id, self.entities_key)
        boxes = sample.meta.get(self.boxes_key)
        if boxes is not None:
            if not isinstance(boxes, (list, tuple)):
                raise BadSample(f"gmda: meta[{self.boxes_key!r}] must be a list of boxes, got {boxes!r}",
                                sample_id=sample.id, field=self.boxes_key)
            for b in boxes:
                check_box(b, w, h, sample.id, self.boxes_key)
        return ents

    def candidate_key(self, candidate: Sample) -> Any:
        """Duplicates are equal plain sentences (lower-cased, punctuation aside)."""
        from crossaug.builtin.edit_distance import normalise_text

        return normalise_text(candidate.get("text") or "")

    def process(self, samples: Sequence[Sample], seeder: Seeder) -> list[list[Sample]]:
        self.check(samples)
        prepared = []
        for s in samples:
            ents = self.entities_of(s)
            prepared.append(s.replace(fields={**s.fields, INSTRUCTION_FIELD: instruction(self.instruction, ents)},
                                      meta={**s.meta, self.entities_key: ents}))
        groups = super().process(prepared, seeder)
        return [[c.replace(fields={k: v for k, v in c.fields.items() if k != INSTRUCTION_FIELD}) for c in g]
                for g in groups]


__all__ = ["GMDA", "ReuseBoxes", "scale_box", "check_box", "INSTRUCTION_FIELD"]
