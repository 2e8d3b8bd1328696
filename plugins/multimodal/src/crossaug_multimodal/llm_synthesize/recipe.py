"""Recipe ``llm-synthesize``: a teacher LLM writes training samples from an image's symbolic form.

LLaVA (Liu et al., NeurIPS 2023) shows a language-only GPT-4 each image as text (its
captions and its objects' normalised boxes) and asks for conversations, detailed
descriptions and complex-reasoning questions; GPT4Tools (Yang et al., NeurIPS 2023) asks
the same kind of teacher for instructions that need a tool, with the tool and its
arguments; T-SciQ (Wang et al., AAAI 2024) asks it for chain-of-thought rationales of
known question-answer pairs. Here, for each image:

1. **symbolic form**: captions from ``caption_field`` when the sample has them (a
   dataset's own captions, as LLaVA's COCO ones), else from the registered ``captioner``
   (``image.caption.*``); boxes from ``detections_field`` (``image.detect``'s JSON) when
   present, else from the registered ``detector``; labels, questions, answers and
   options from the sample;
2. **teacher**: each template (:mod:`.templates`, data files) renders a prompt, sent
   through the text plugin's LLM interface by registry name (``text.llm-rewrite``: a
   transformers model or any registered client), ``n`` outputs per template, each with
   its own seed;
3. **checks**: an empty reply, a reply failing the template's format check
   (:mod:`.checks`), or one repeating an earlier output of the same image is kept in the
   manifest as rejected with the reason; a template whose needs the sample cannot meet
   (no caption, no detections, no question) is rejected the same way.

Outputs ``{id}~{template}-{k}`` hold the image and ``out_field``: a JSON list of LLaVA-style
turns (``{"from": "human"|"gpt", "value": ...}``); ``meta["synthesis"]`` holds the parsed
items. Lineage names the captioner and detector steps that ran, the teacher (model or
client, the full prompt, the seed and the raw output) and the template.

Example:
    >>> r = LLMSynthesize(templates=["conversation"], client="my-llm", captioner=None, detector=None)
    >>> [t.name for t in r.loaded], r.teacher_step.model_id
    (['conversation'], 'client:my-llm')
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from crossaug import BadSample, ConfigError, Filter, Sample, Seeder, registry
from crossaug.recipe import Recipe, apply_filters, check_filters
from crossaug.transform import run_each

from .checks import MalformedOutput, check_output, normalise, to_turns
from .symbolic import format_boxes, format_captions, parse_detections
from .templates import SynthesisTemplate, load_all, placeholders

#: LLaVA's three kinds of instruction-following data
DEFAULT_TEMPLATES = ("conversation", "detailed_description", "complex_reasoning")


def _choices(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return " ".join(f"({chr(65 + i)}) {c}" for i, c in enumerate(value))


class LLMSynthesize(Recipe):
    """Teacher-written conversations, descriptions, reasoning, tool calls or rationales per image.

    Args:
        templates: bundled template names (``conversation``, ``detailed_description``,
            ``complex_reasoning``, ``tool_use``, ``cot_rationale``) or YAML/JSON files
            (default: LLaVA's three).
        n: outputs per template per image (default 1).
        teacher: registered text augmentation with ``rewrite(texts, seeds)`` (default
            ``text.llm-rewrite``).
        model: the teacher's transformers model id or directory (``None``: the teacher's default).
        client: a registered LLM client name instead of a transformers model.
        teacher_params: further teacher parameters (``do_sample``, ``temperature``, ``chat``...);
            by default replies may be ``max_new_tokens=512`` long and run to the end token
            (``stop=[]``).
        captioner: registered image -> text captioner for images without captions (default
            ``image.caption.blip``; ``None``: captions must be in ``caption_field``).
        caption_model, caption_params: its model and further parameters.
        detector: registered detector (default ``image.detect``; ``None``: boxes must be in
            ``detections_field``); detect_model, detect_params: its model and parameters
            (``phrases`` ...).
        caption_field: text field with the captions (one per line); the captioner writes it.
        detections_field: text field with ``image.detect``'s JSON; the detector writes it.
        question_field, answer_field: text fields of a known question and answer (T-SciQ).
        choices_key: ``meta`` key of the answer options (a list or a string).
        out_field: field receiving the JSON conversation turns.
        image_token: put before the first human turn (LLaVA's ``<image>``; ``None``: nothing).
        dedupe: reject outputs repeating an earlier one of the same image.
        filters: further filters scoring the kept outputs against their input.
        device, dtype: of every model step (``auto``: the kernel's policy).
    """

    name: ClassVar[str] = "llm-synthesize"
    input_fields: ClassVar[tuple[str, ...]] = ("image",)

    def __init__(self, templates: Sequence[str] = DEFAULT_TEMPLATES, n: int = 1, teacher: str = "text.llm-rewrite",
                 model: str | None = None, client: str | None = None,
                 teacher_params: Mapping[str, Any] | None = None, captioner: str | None = "image.caption.blip",
                 caption_model: str | None = None, caption_params: Mapping[str, Any] | None = None,
                 detector: str | None = "image.detect", detect_model: str | None = None,
                 detect_params: Mapping[str, Any] | None = None, caption_field: str = "text",
                 detections_field: str = "text.detections", question_field: str = "text.question",
                 answer_field: str = "text.answer", choices_key: str = "choices",
                 out_field: str = "text.conversation", image_token: str | None = "<image>", dedupe: bool = True,
                 filters: Sequence[Filter] | None = None, device: str = "auto", dtype: str = "auto") -> None:
        if isinstance(templates, str):
            templates = [templates]
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise ConfigError(f"{self.name}: n must be a positive integer, got {n!r}")
        if out_field in {caption_field, detections_field, question_field, answer_field}:
            raise ConfigError(f"{self.name}: out_field {out_field!r} would overwrite an input field")
        self.templates = list(templates)
        self.loaded: list[SynthesisTemplate] = load_all(self.templates)
        self.n, self.model, self.client = n, model, client
        self.teacher_params = dict(teacher_params or {})
        self.caption_model, self.caption_params = caption_model, dict(caption_params or {})
        self.detect_model, self.detect_params = detect_model, dict(detect_params or {})
        self.caption_field, self.detections_field = caption_field, detections_field
        self.question_field, self.answer_field, self.choices_key = question_field, answer_field, choices_key
        self.out_field, self.image_token, self.dedupe = out_field, image_token, bool(dedupe)
        self.filters = check_filters(filters, self.name)
        self.device, self.dtype = device, dtype
        self.teacher = registry.resolve("augmentation", teacher, prefix="text.")
        self.captioner = (registry.resolve("transform", captioner, prefix="image.", source="image", target="text")
                          if captioner else None)
        self.detector = (registry.resolve("transform", detector, prefix="image.", source="image", target="text")
                         if detector else None)
        self.teacher_step = self._build_teacher()
        self.caption_step = self._build_image_step(self.captioner, caption_model, self.caption_params, caption_field)
        self.detect_step = self._build_image_step(self.detector, detect_model, self.detect_params, detections_field)

    # -- building ---------------------------------------------------------
    def _build_teacher(self) -> Any:
        cls = registry.load("augmentation", self.teacher)
        if not callable(getattr(cls, "rewrite", None)):
            raise ConfigError(f"{self.name}: teacher {self.teacher!r} has no rewrite(texts, seeds) method; use "
                              "text.llm-rewrite or a step like it")
        accepted = set(cls.param_names())
        params: dict[str, Any] = {"prompt": "", "template": "{text}", "max_new_tokens": 512, "stop": [],
                                  "device": self.device, "dtype": self.dtype}
        if self.model:
            params["model"] = self.model
        if self.client:
            params["client"] = self.client
        params = {k: v for k, v in params.items() if k in accepted}
        params.update(self.teacher_params)
        return registry.create("augmentation", self.teacher, **params)

    def _build_image_step(self, name: str | None, model: str | None, extra: Mapping[str, Any], out: str) -> Any:
        if not name:
            return None
        accepted = set(registry.load("transform", name).param_names())
        params: dict[str, Any] = {"out_field": out, "device": self.device, "dtype": self.dtype}
        if model:
            params["model"] = model
        if "meta_key" in accepted:
            params["meta_key"] = None
        params = {k: v for k, v in params.items() if k in accepted}
        params.update(extra)
        return registry.create("transform", name, **params)

    def _uses(self, key: str) -> bool:
        return any(key in t.needs or key in placeholders(t.prompt) for t in self.loaded)

    # -- symbolic form ----------------------------------------------------
    def _captions(self, samples: Sequence[Sample], seeder: Seeder) -> list[tuple[list[str], Any, str | None]]:
        """Per sample: (captions, captioner lineage step or None, why there are none)."""
        out: list[tuple[list[str], Any, str | None]] = []
        todo = []
        for i, s in enumerate(samples):
            have = s.fields.get(self.caption_field) if self.caption_field else None
            lines = [x for x in str(have).splitlines() if x.strip()] if isinstance(have, str) else []
            out.append((lines, None, None))
            if not lines:
                todo.append(i)
        if not todo or not self._uses("captions"):
            return out
        if self.caption_step is None:
            for i in todo:
                out[i] = ([], None, f"no caption in field {self.caption_field!r} and no captioner")
            return out
        seeds = [seeder.integer_seed(self.name, "caption", samples[i].id) for i in todo]
        got = run_each(self.caption_step, [samples[i] for i in todo], seeds)
        for i, g in zip(todo, got):
            if isinstance(g, str):
                out[i] = ([], None, g)
                continue
            step = g.lineage[-1]
            caps = step.params.get("captions") or [g.fields.get(self.caption_field, "")]
            caps = [c for c in (str(x).strip() for x in caps) if c]
            out[i] = (caps, step, None if caps else f"{step.name}: empty caption")
        return out

    def _boxes(self, samples: Sequence[Sample], seeder: Seeder) -> list[tuple[str, Any, str | None]]:
        """Per sample: (formatted boxes, detector lineage step or None, why there are none)."""
        out: list[tuple[str, Any, str | None]] = [("", None, None)] * len(samples)
        if not self._uses("boxes"):
            return out
        todo = []
        for i, s in enumerate(samples):
            w, h = s["image"].size
            have = s.fields.get(self.detections_field)
            if have is None:
                todo.append(i)
                continue
            try:
                text = format_boxes(have, w, h)
            except (ValueError, TypeError) as exc:
                raise BadSample(f"{self.name}: detections are malformed: {exc}", sample_id=s.id,
                                field=self.detections_field) from None
            out[i] = (text, None, None if text else "no detections in the sample's detections")
        if not todo:
            return out
        if self.detect_step is None:
            for i in todo:
                out[i] = ("", None, f"no detections in field {self.detections_field!r} and no detector")
            return out
        seeds = [seeder.integer_seed(self.name, "detect", samples[i].id) for i in todo]
        got = run_each(self.detect_step, [samples[i] for i in todo], seeds)
        for i, g in zip(todo, got):
            if isinstance(g, str):
                out[i] = ("", None, g)
                continue
            w, h = samples[i]["image"].size
            det = parse_detections(g.fields[self.detections_field])
            text = format_boxes(det, w, h)
            out[i] = (text, g.lineage[-1], None if text else
                      f"{g.lineage[-1].name}: no detections above its threshold")
        return out

    def context_of(self, sample: Sample, captions: list[str], boxes: str) -> dict[str, str | None]:
        """The values a template's placeholders take for ``sample`` (``None``: not available)."""
        def text(field: str) -> str | None:
            v = sample.fields.get(field)
            return " ".join(v.split()) if isinstance(v, str) and v.strip() else None

        return {"captions": format_captions(captions) or None, "boxes": boxes or None,
                "label": None if sample.label is None else str(sample.label).replace("_", " "),
                "question": text(self.question_field), "answer": text(self.answer_field),
                "choices": _choices(sample.meta.get(self.choices_key)) or None}

    # -- processing -------------------------------------------------------
    def _missing(self, t: SynthesisTemplate, ctx: Mapping[str, Any], why: Mapping[str, str | None]) -> str | None:
        for need in t.needs:
            if not ctx.get(need):
                where = {"question": f" (field {self.question_field!r})", "answer": f" (field {self.answer_field!r})",
                         "choices": f" (meta {self.choices_key!r})", "label": ""}.get(need, "")
                reason = why.get(need) or f"the sample has no {need}{where}"
                return f"template {t.name!r} needs {need}: {reason}"
        return None

    def process(self, samples: Sequence[Sample], seeder: Seeder) -> list[list[Sample]]:
        self.check(samples)
        caps = self._captions(samples, seeder)
        boxes = self._boxes(samples, seeder)
        jobs: list[dict[str, Any]] = []
        for i, s in enumerate(samples):
            ctx = self.context_of(s, caps[i][0], boxes[i][0])
            why = {"captions": caps[i][2], "boxes": boxes[i][2]}
            pre = tuple(st for st in (caps[i][1], boxes[i][1]) if st is not None)
            for t in self.loaded:
                for k in range(self.n):
                    job = {"i": i, "t": t, "k": k, "id": f"{s.id}~{t.name}-{k}", "pre": pre, "ctx": dict(ctx),
                           "missing": self._missing(t, ctx, why)}
                    if t.instructions:
                        rng = seeder.rng(self.name, "instruction", s.id, t.name, k)
                        job["ctx"]["instruction"] = t.instructions[int(rng.integers(len(t.instructions)))]
                    job["seed"] = seeder.integer_seed(self.name, "teacher", s.id, t.name, k)
                    job["prompt"] = None if job["missing"] else t.render(job["ctx"])
                    jobs.append(job)
        live = [j for j in jobs if j["prompt"] is not None]
        replies = self.teacher_step.rewrite([j["prompt"] for j in live], [j["seed"] for j in live]) if live else []
        for j, raw in zip(live, replies, strict=True):
            j["raw"] = "" if raw == j["prompt"] else str(raw)  # rewrite() returns its input when the reply is empty
        groups: list[list[Sample]] = [[] for _ in samples]
        seen: list[dict[str, str]] = [{} for _ in samples]
        for j in jobs:
            s, t = samples[j["i"]], j["t"]
            out, reason = self._output(s, j)
            if reason is None and self.dedupe:
                key = normalise(json.dumps(out.meta["synthesis"], ensure_ascii=False, sort_keys=True))
                if key in seen[j["i"]]:
                    reason = f"duplicate of {seen[j['i']][key]}"
                else:
                    seen[j["i"]][key] = out.id
            groups[j["i"]].append(out if reason is None else out.reject(reason))
        for i, s in enumerate(samples):
            kept = [o for o in groups[i] if o.kept]
            done = {o.id: o for o in apply_filters(self.filters, kept, [s] * len(kept))}
            groups[i] = [done.get(o.id, o) for o in groups[i]]
        return groups

    def _output(self, s: Sample, j: Mapping[str, Any]) -> tuple[Sample, str | None]:
        """The output sample of one job (lineage: symbolic steps, teacher, template) and why it fails, if so."""
        t: SynthesisTemplate = j["t"]
        ctx = j["ctx"]
        lineage = s.lineage + j["pre"]
        meta = {**s.meta, "template": t.name}
        base = s.replace(id=j["id"], parent_id=s.id, meta=meta, lineage=lineage)
        record = {"template": t.name, "template_source": t.origin, "teacher": self.teacher,
                  "teacher_model": self.teacher_step.model_id, "captions": ctx.get("captions"),
                  "boxes": ctx.get("boxes"), "instruction": ctx.get("instruction")}
        if j["missing"]:
            return base.replace(lineage=lineage + (self.lineage_step(record),)), j["missing"]
        raw = j["raw"]
        teacher = self.teacher_step.lineage_step({"prompt": j["prompt"], "output": raw, "seed": j["seed"]},
                                                 seed=j["seed"])
        base = base.replace(lineage=lineage + (teacher,))
        if not raw.strip():
            return base.replace(lineage=base.lineage + (self.lineage_step(record),)), "the teacher wrote nothing"
        try:
            items = check_output(t, raw, ctx)
        except MalformedOutput as exc:
            return (base.replace(lineage=base.lineage + (self.lineage_step(record),)),
                    f"malformed output for template {t.name!r}: {exc}")
        turns = to_turns(t, items, {**ctx, "tools": t.tools_text()}, self.image_token)
        out = base.derive(self.lineage_step({**record, "items": len(items)}), id=j["id"],
                          **{self.out_field: json.dumps(turns, ensure_ascii=False)})
        return out.replace(meta={**meta, "synthesis": items}), None

    def get_params(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.param_names()}


__all__ = ["LLMSynthesize", "DEFAULT_TEMPLATES", "run_each"]
