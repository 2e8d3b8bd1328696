"""Recipe ``biaug``: bi-modal augmentation by decoupling object-attribute association (BiAug).

"Towards reporting bias in visual-language datasets: bimodal augmentation by decoupling
object-attribute association" (Wu et al., 2023). Captions leave out what people take for
granted: which objects a scene holds and what they look like. For each (image, caption):

1. a language model lists the objects the caption implies (named or not);
   an answer with no object names is rejected (reason ``malformed object list``);
2. an open-vocabulary detector (the paper: Grounding DINO) looks for them; objects it
   does not find, or finds only with an unusable box, leave the plan and are recorded;
   no detection at all rejects the input (reason ``no detected objects``);
3. for a chosen object and each preset attribute (colour, shape, material, other) the
   language model proposes a value and a hard negative (reason ``malformed attribute
   answer`` when it does not);
4. an inpainting model repaints the object's box under the attribute-augmented caption.

Each output is a new (image, caption) pair with the hard-negative caption beside it
(field ``text.negative``). Every model is a registered step chosen by name (``llm``,
``detector``, ``inpainter``); each language-model request, detection, object choice and
inpainting draws its own seed from the input's id. Lineage holds the LLM requests and
answers, the detector's and the inpainter's steps, and a ``biaug`` step naming the models,
the object, its box, the attribute, the value and the negative.

Example:
    >>> r = BiAug(llm_params={"client": "my-gpt"}, detect_model="my/owlv2", inpaint_model="my/sd-inpaint")
    >>> r.attributes, r.objects_per_image, r.detector_step.name, r.inpainter_step.name
    (['color', 'shape', 'material', 'other'], 1, 'image.detect', 'image.inpaint')
    >>> r.llm_step.model_id
    'client:my-gpt'
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from crossaug import BadSample, ConfigError, Filter, LineageStep, Recipe, Sample, Seeder
from crossaug.recipe import apply_filters, check_filters
from crossaug.registry import create, load, resolve

from .._backend import check_device, check_dtype
from .biaug_boxes import choose_objects, select_boxes
from .biaug_caption import APPEND_TEMPLATE, attribute_caption
from .biaug_parse import parse_attribute, parse_objects
from .biaug_prompts import (
    ATTRIBUTE_PROMPT,
    ATTRIBUTES,
    OBJECTS_PROMPT,
    attribute_request,
    check_template,
    objects_request,
)

#: ``sample.meta`` key the detector reads its phrases from, and the inpainter its box.
PHRASES_KEY = "biaug.objects"
BOX_KEY = "biaug.box"
#: Field of the inpainter's prompt on the samples handed to it.
PROMPT_FIELD = "text.inpaint_prompt"
#: Placeholders of ``inpaint_prompt``.
INPAINT_KEYS = ("caption", "object", "attribute", "value", "negative", "description")


def _mapping(value: Any, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"biaug: {what} must be a mapping of parameters, got {type(value).__name__}")
    return dict(value)


def _build(kind: str, name: str, prefix: str, params: dict[str, Any], defaults: dict[str, Any]) -> Any:
    """Build the step ``name`` (full name or alias) with the ``defaults`` it accepts, then ``params`` over them.

    A default of ``None`` for ``model`` or ``dtype`` is left out (the step's own default applies).
    """
    full = resolve(kind, name, prefix=prefix)
    accepted = set(getattr(load(kind, full), "param_names", lambda: list(defaults))())
    merged = {k: v for k, v in defaults.items()
              if k in accepted and not (v is None and k in ("model", "dtype"))}
    merged.update(params)
    return create(kind, full, **merged)


class BiAug(Recipe):
    """BiAug: attribute-edited (image, caption) pairs with hard-negative captions.

    Args:
        llm: registered language-model augmentation with ``.rewrite(texts, seeds)``
            (default ``text.llm-rewrite``; the paper's gpt-3.5-turbo is a plugged-in client).
        llm_params: its parameters: ``model`` (transformers id or directory) or ``client``,
            generation settings (ours: ``max_new_tokens=48``, ``stop=[]``); its ``template``
            and ``prompt`` are set by the recipe.
        detector: registered open-vocabulary detector (default ``image.detect``) reading its
            phrases from ``sample.meta[phrases_field]`` and writing ``{"boxes", "labels", "scores"}``.
        detect_model: its model (default ``IDEA-Research/grounding-dino-tiny``: the paper's
            Grounding DINO, Swin-T; OWL-ViT/OWLv2 load the same way, with ``box_threshold`` ~0.1).
        box_threshold, text_threshold: detection thresholds (0.35 and 0.25, Grounding DINO's own
            defaults; ours, the paper gives none).
        detect_params: further detector parameters (over the above).
        inpainter: registered inpainting transform (default ``image.inpaint``).
        inpaint_model: its model (``None``: the transform's default, Stable Diffusion inpainting
            v1.5, the paper's "Stable-diffusion-inpainting").
        inpaint_params: further inpainting parameters (``num_inference_steps``, ``guidance_scale``...).
        inpaint_prompt: the inpainting prompt, with ``{caption}`` (the attribute-augmented caption,
            default), ``{description}`` ("red apple"), ``{object}``, ``{attribute}``, ``{value}``, ``{negative}``.
        attributes: preset attributes, one output per chosen object and attribute (paper: color,
            shape, material, other).
        objects_per_image: detected objects edited per input, drawn uniformly (ours: 1; ``None``:
            every usable one, as the paper).
        max_objects: most object names read from the LLM's list (ours: 8).
        min_box_area, max_box_area: share of the image an object's box must cover (ours: 0.01 and
            0.8; a box over nearly the whole image would repaint the scene).
        objects_prompt, attribute_prompt: the two requests (see
            :mod:`~crossaug_image.recipes.biaug_prompts`; ours, after the paper's figure).
        append_template: sentence added when the caption does not name the object
            (``{caption} The {object} is {value}.``, ours).
        caption_field: the input caption, replaced by the augmented caption in the outputs.
        negative_field: the hard-negative caption in the outputs.
        filters: filters scoring each output against its input (e.g. ``image.clip-score``).
        device, dtype: for the three models (the kernel's policy).
    """

    name: ClassVar[str] = "biaug"
    neural: ClassVar[bool | None] = True
    input_fields: ClassVar[tuple[str, ...]] = ("image",)

    def __init__(self, llm: str = "text.llm-rewrite", llm_params: Mapping[str, Any] | None = None,
                 detector: str = "image.detect", detect_model: str | None = "IDEA-Research/grounding-dino-tiny",
                 box_threshold: float = 0.35, text_threshold: float = 0.25,
                 detect_params: Mapping[str, Any] | None = None, inpainter: str = "image.inpaint",
                 inpaint_model: str | None = None, inpaint_params: Mapping[str, Any] | None = None,
                 inpaint_prompt: str = "{caption}", attributes: Sequence[str] = ATTRIBUTES,
                 objects_per_image: int | None = 1, max_objects: int = 8, min_box_area: float = 0.01,
                 max_box_area: float = 0.8, objects_prompt: str = OBJECTS_PROMPT,
                 attribute_prompt: str = ATTRIBUTE_PROMPT, append_template: str = APPEND_TEMPLATE,
                 caption_field: str = "text", negative_field: str = "text.negative",
                 filters: Sequence[Filter] | None = None, device: str = "auto", dtype: str = "auto") -> None:
        if isinstance(attributes, str) or not attributes or not all(isinstance(a, str) and a.strip()
                                                                       for a in attributes):
            raise ConfigError(f"biaug: attributes must be a non-empty list of names, got {attributes!r}")
        if len({a.strip() for a in attributes}) != len(attributes):
            raise ConfigError(f"biaug: attributes must not repeat (each names its outputs), got {attributes!r}")
        if objects_per_image is not None and (not isinstance(objects_per_image, int) or objects_per_image < 1):
            raise ConfigError(f"biaug: objects_per_image must be a positive integer or None, got {objects_per_image!r}")
        if not isinstance(max_objects, int) or max_objects < 1:
            raise ConfigError(f"biaug: max_objects must be a positive integer, got {max_objects!r}")
        if not (isinstance(min_box_area, (int, float)) and isinstance(max_box_area, (int, float))
                and 0.0 <= min_box_area < max_box_area <= 1.0):
            raise ConfigError(f"biaug: need 0 <= min_box_area < max_box_area <= 1, got {min_box_area!r} and "
                              f"{max_box_area!r}")
        try:
            inpaint_prompt.format(**{k: "" for k in INPAINT_KEYS})
            append_template.format(caption="", object="", value="")
        except (AttributeError, KeyError, IndexError, ValueError) as exc:
            raise ConfigError(f"biaug: inpaint_prompt may use {{{'}, {'.join(INPAINT_KEYS)}}} and append_template "
                              f"{{caption}}, {{object}}, {{value}}: {exc!r}") from None
        for what, field in (("caption_field", caption_field), ("negative_field", negative_field)):
            if not isinstance(field, str) or not field.startswith("text"):
                raise ConfigError(f"biaug: {what} must be a text field (text or text.<name>), got {field!r}")
        if caption_field == negative_field:
            raise ConfigError("biaug: caption_field and negative_field must differ")
        self.llm = llm
        self.llm_params = _mapping(llm_params, "llm_params")
        self.detector = detector
        self.detect_model = detect_model
        self.box_threshold = float(box_threshold)
        self.text_threshold = float(text_threshold)
        self.detect_params = _mapping(detect_params, "detect_params")
        self.inpainter = inpainter
        self.inpaint_model = inpaint_model
        self.inpaint_params = _mapping(inpaint_params, "inpaint_params")
        self.inpaint_prompt = inpaint_prompt
        self.attributes = [a.strip() for a in attributes]
        self.objects_per_image = objects_per_image
        self.max_objects = max_objects
        self.min_box_area = float(min_box_area)
        self.max_box_area = float(max_box_area)
        self.objects_prompt = check_template(objects_prompt, ("caption",), "objects_prompt")
        self.attribute_prompt = check_template(attribute_prompt, ("caption", "object", "attribute"),
                                               "attribute_prompt")
        self.append_template = append_template
        self.caption_field = caption_field
        self.negative_field = negative_field
        self.filters = check_filters(filters, "biaug")
        self.device = check_device(device)
        self.dtype = check_dtype(dtype)
        run = {"device": self.device, "dtype": None if self.dtype == "auto" else self.dtype}
        try:
            self.llm_step = _build("augmentation", llm, "text.",
                                   {**self.llm_params, "template": "{text}", "prompt": ""},
                                   {"max_new_tokens": 48, "stop": [], **run})
        except ConfigError as exc:
            if "unknown augmentation" not in str(exc):
                raise
            raise ConfigError(f"biaug: no language-model step {llm!r} is registered ({exc}); the default, "
                              "text.llm-rewrite, comes with crossaug-text: pip install crossaug-text") from None
        if not callable(getattr(self.llm_step, "rewrite", None)):
            raise ConfigError(f"biaug: llm {llm!r} has no rewrite(texts, seeds) method; use text.llm-rewrite or an "
                              "augmentation with that interface")
        self.detector_step = _build("transform", detector, "image.", self.detect_params,
                                    {"model": detect_model, "threshold": self.box_threshold,
                                     "text_threshold": self.text_threshold, "phrases_field": PHRASES_KEY,
                                     "meta_key": None, **run})
        self.inpainter_step = _build("transform", inpainter, "image.", self.inpaint_params,
                                     {"model": inpaint_model, "boxes_field": BOX_KEY, "box_units": "pixels",
                                      "prompt_field": PROMPT_FIELD, "prompt_template": "{text}",
                                      "in_field": "image", "out_field": "image", **run})

    def required_fields(self) -> tuple[str, ...]:
        return ("image", self.caption_field)

    def close(self) -> None:
        for step in (self.llm_step, self.detector_step, self.inpainter_step):
            step.close()

    # -- the language model --------------------------------------------------
    def _ask(self, requests: list[str], seeds: list[int]) -> list[str]:
        """One answer per request; ``""`` where the model said nothing (the rewriter then echoes its input)."""
        if not requests:
            return []
        answers = self.llm_step.rewrite(requests, seeds)
        return ["" if str(a).strip() == r.strip() else str(a) for a, r in zip(answers, requests, strict=True)]

    def _llm_lineage(self, stage: str, request: str, answer: str, seed: int) -> LineageStep:
        return self.llm_step.lineage_step({"stage": stage, "request": request, "answer": answer}, seed=seed)

    def _models(self) -> dict[str, Any]:
        return {"llm": self.llm_step.name, "llm_model": self.llm_step.model_id,
                "detector": self.detector_step.name, "detect_model": self.detector_step.model_id,
                "inpainter": self.inpainter_step.name, "inpaint_model": self.inpainter_step.model_id}

    def _reject_input(self, parent: Sample, reason: str, steps: list[LineageStep], info: dict[str, Any]) -> Sample:
        step = self.lineage_step({**self._models(), **info}, reason=reason, kept=False)
        return parent.replace(id=f"{parent.id}~none", parent_id=parent.id,
                              lineage=parent.lineage + tuple(steps)).reject(reason, step)

    # -- the recipe ------------------------------------------------------------
    def process(self, samples: Sequence[Sample], seeder: Seeder) -> list[list[Sample]]:
        self.check(samples)
        samples = list(samples)
        groups: list[list[Sample]] = [[] for _ in samples]
        captions = [" ".join(s[self.caption_field].split()) for s in samples]
        # 1. the objects each caption implies
        requests = [objects_request(c, self.objects_prompt) for c in captions]
        seeds = [seeder.integer_seed("biaug-objects", s.id) for s in samples]
        answers = self._ask(requests, seeds)
        listed = [parse_objects(a, self.max_objects) for a in answers]
        obj_steps = [self._llm_lineage("objects", r, a, sd) for r, a, sd in zip(requests, answers, seeds)]
        alive: list[int] = []
        for i, parsed in enumerate(listed):
            if parsed.problem is None:
                alive.append(i)
            else:
                groups[i] = [self._reject_input(samples[i], f"malformed object list: {parsed.problem}",
                                                [obj_steps[i]], {"answer": answers[i]})]
        # 2. detect them
        det_in = [samples[i].replace(fields={"image": samples[i]["image"]},
                                     meta={**samples[i].meta, PHRASES_KEY: listed[i].objects}) for i in alive]
        det_out = self.detector_step(det_in, [seeder.integer_seed("biaug-detect", samples[i].id) for i in alive]) \
            if det_in else []
        jobs: list[dict[str, Any]] = []
        for i, out in zip(alive, det_out):
            parent, det_step = samples[i], out.lineage[-1]
            det = self._detections(parent, out)
            objects = listed[i].objects
            plan, dropped = select_boxes(objects, det, parent["image"].size, self.min_box_area, self.max_box_area)
            info = {"objects": objects, "skipped_items": listed[i].skipped, "dropped": dropped}
            steps = [obj_steps[i], det_step]
            if not det["boxes"]:
                groups[i] = [self._reject_input(parent, "no detected objects", steps, info)]
                continue
            if not plan:
                why = "; ".join(f"{d['object']}: {d['reason']}" for d in dropped)
                groups[i] = [self._reject_input(parent, f"no usable object box: {why}", steps, info)]
                continue
            for o in choose_objects(len(plan), self.objects_per_image, seeder.rng("biaug-choose", parent.id)):
                for attribute in self.attributes:
                    jobs.append({"i": i, "o": o, "attribute": attribute, "plan": plan[o], "steps": steps,
                                 "info": info, "id": f"{parent.id}~{o}.{attribute}"})
        # 3. an attribute value and its hard negative per (object, attribute)
        requests = [attribute_request(captions[j["i"]], j["plan"]["object"], j["attribute"], self.attribute_prompt)
                    for j in jobs]
        seeds = [seeder.integer_seed("biaug-attribute", samples[j["i"]].id, j["o"], j["attribute"]) for j in jobs]
        answers = self._ask(requests, seeds)
        todo: list[dict[str, Any]] = []
        for j, request, answer, seed in zip(jobs, requests, answers, seeds):
            parent, obj = samples[j["i"]], j["plan"]["object"]
            j["steps"] = [*j["steps"], self._llm_lineage("attribute", request, answer, seed)]
            parsed = parse_attribute(answer, obj)
            record = {**self._models(), "object": obj, "box": j["plan"]["box"], "score": j["plan"]["score"],
                      "label": j["plan"]["label"],
                      "attribute": j["attribute"], "value": parsed.value, "negative": parsed.negative, **j["info"]}
            if parsed.problem is not None:
                reason = f"malformed attribute answer: {parsed.problem}"
                step = self.lineage_step({**record, "answer": answer}, reason=reason, kept=False)
                groups[j["i"]].append(parent.replace(id=j["id"], parent_id=parent.id,
                                                     lineage=parent.lineage + tuple(j["steps"])).reject(reason, step))
                continue
            caption = attribute_caption(captions[j["i"]], obj, parsed.value, self.append_template)
            negative = attribute_caption(captions[j["i"]], obj, parsed.negative, self.append_template)
            prompt = self.inpaint_prompt.format(caption=caption, object=obj, attribute=j["attribute"],
                                                value=parsed.value, negative=parsed.negative,
                                                description=f"{parsed.value} {obj}")
            record.update(caption=caption, negative_caption=negative, inpaint_prompt=prompt)
            todo.append({**j, "record": record, "caption": caption, "negative": negative, "prompt": prompt})
        # 4. repaint the object's box under the augmented caption
        inp_in = [samples[t["i"]].replace(id=t["id"], fields={"image": samples[t["i"]]["image"], PROMPT_FIELD:
                                                              t["prompt"]},
                                          meta={**samples[t["i"]].meta, BOX_KEY: [t["plan"]["box"]]}) for t in todo]
        inp_seeds = [seeder.integer_seed("biaug-inpaint", samples[t["i"]].id, t["o"], t["attribute"]) for t in todo]
        inp_out = self.inpainter_step(inp_in, inp_seeds) if inp_in else []
        for t, out in zip(todo, inp_out):
            parent = samples[t["i"]]
            steps = (*t["steps"], out.lineage[-1])
            new = parent.derive(None, id=t["id"], **{"image": out["image"], self.caption_field: t["caption"],
                                                   self.negative_field: t["negative"]})
            new = new.replace(lineage=parent.lineage + steps)
            if out.kept:
                new = new.replace(lineage=new.lineage + (self.lineage_step(t["record"]),))
            else:  # the inpainter rejected it (a safety checker): never training data
                new = new.reject(str(out.reason), self.lineage_step(t["record"], reason=out.reason, kept=False))
            groups[t["i"]].append(new)
        out_groups = []
        for parent, group in zip(samples, groups):
            order = {f"{parent.id}~{o}.{a}": (o, k) for o in range(self.max_objects) for k, a in
                     enumerate(self.attributes)}
            group.sort(key=lambda s: order.get(s.id, (-1, -1)))
            out_groups.append(apply_filters(self.filters, group, [parent] * len(group)) if group else group)
        return out_groups

    def _detections(self, parent: Sample, out: Sample) -> dict[str, list[Any]]:
        """The detector's JSON result, checked."""
        raw = out.fields.get(self.detector_step.output_field)
        try:
            det = json.loads(raw) if isinstance(raw, str) else raw
            boxes, labels, scores = det["boxes"], det["labels"], det["scores"]
            assert isinstance(boxes, list) and isinstance(labels, list) and isinstance(scores, list)
        except (TypeError, ValueError, KeyError, AssertionError):
            raise BadSample(f"biaug: detector {self.detector!r} wrote {raw!r} to "
                            f"{self.detector_step.output_field!r}; expected a JSON object with boxes, labels and "
                            "scores", sample_id=parent.id, field=self.detector_step.output_field) from None
        return {"boxes": boxes, "labels": labels, "scores": scores}


__all__ = ["BiAug", "PHRASES_KEY", "BOX_KEY", "PROMPT_FIELD"]
