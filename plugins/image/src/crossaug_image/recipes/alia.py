"""Recipe ``alia``: ALIA, Automated Language-guided Image Augmentation (Dunlap et al., NeurIPS 2023).

``fit`` runs the dataset-level steps once per run, under ``fit_seed``: a generic captioner
describes every training image (unconditional captions: the setting, not the species),
a language model summarises the captions into at most ten class-agnostic *domains* of the
form "a photo of a bird perched on a fence" (the reference code's prompt, see
:mod:`~crossaug_image.recipes.alia_domains`; or the user passes ``domains`` and skips
both), and a classifier is trained on the original images for the confidence filter.
``process`` edits each image once per domain ``n`` times (img2img or InstructPix2Pix, by
registry name, prompts built from the domains and the class), then filters: the semantic
filter (CLIP: the task prompt must beat generic negatives) and the confidence filter
(edits the classifier finds too easy or corrupted are dropped; see
:mod:`~crossaug_image.recipes.alia_filters`). Every output's lineage names the captioner,
the language model, the request's digest and the domains (step ``alia``), the editor's
prompt, strength and seed, and both filter scores.

Example:
    >>> r = Alia(domains=["on a branch", "a photo of a bird in the snow"], subject="bird")
    >>> r.prefix, r.domain_list(), r.template()
    ('a photo of a bird', ['on a branch', 'in the snow'], 'a photo of a {label} {domain}')
    >>> r.editor_settings()["strength"], r.editor_settings()["guidance_scale"]
    (0.6, 7.5)
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
from crossaug import BadSample, ConfigError, Filter, Recipe, Sample, Seeder
from crossaug.recipe import apply_filters, check_filters
from crossaug.registry import create_named, load, resolve
from crossaug.sample import LineageStep

from .alia_domains import (
    DOMAIN_PROMPT,
    MAX_CAPTIONS,
    MAX_DOMAINS,
    check_template,
    clean_captions,
    domain_request,
    edit_prompt,
    normalise_domain,
    parse_domains,
)
from .alia_filters import NEGATIVE_PROMPTS, ConfidenceFilter, LinearProbe, SemanticFilter, confident_thresholds

log = logging.getLogger(__name__)

#: Editing defaults per editor: the reference code's experiment configs (CUB img2img: strength 0.6,
#: guidance 7.5; iWildCam InstructPix2Pix: image guidance 1.3, text guidance 5.0).
EDITOR_DEFAULTS: dict[str, dict[str, Any]] = {
    "image.img2img": {"guidance_scale": 7.5},
    "image.instruct-edit": {"image_guidance_scale": 1.3, "guidance_scale": 5.0},
}
#: Prompt templates per editor (reference code: "a photo of a {} bird on rocks." for img2img,
#: "put the {} in a grassy field ..." for InstructPix2Pix); other editors get the img2img one.
EDIT_TEMPLATES: dict[str, str] = {
    "image.img2img": "a photo of a {label} {domain}",
    "image.instruct-edit": "put the {label} {domain}",
}
PROMPT_FIELD = "text.alia_prompt"


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()


class Alia(Recipe):
    """ALIA: edit each training image toward domains an LLM found in the dataset's captions, then filter.

    Args:
        domains: the domain descriptions to use (``"perched on a fence"`` or the full
            ``"a photo of a bird perched on a fence"``): skips captioning and the language model.
            ``None`` (default): summarised from the captions; an empty list is an error.
        subject: what every image shows, class-agnostic (paper: "bird" for CUB, "animal" for iWildCam).
        prefix: the form of a domain description (``None``: "a photo of a/an {subject}", the
            reference code's ``summarize.prefix``).
        captioner: captioning transform (registry name or alias; BLIP as the paper).
        caption_model: its model (``None``: the captioner's default; the paper used BLIP large).
        caption_params: further captioner parameters (default greedy decoding, as the reference code).
        llm: the language-model step (registry name; ``text.llm-rewrite``: transformers models or clients).
        llm_model: its transformers model id or directory (paper: GPT-4; reference code: Vicuna-13B).
        llm_client: a plugged-in LLM client name instead of a model.
        llm_params: further LLM parameters (generation settings; default 512 new tokens, as the reference code).
        max_captions: captions shown to the LLM, sampled under ``fit_seed`` (reference code: 20).
        max_domains: domains kept from the answer (the prompt asks for at most 10).
        editor: editing transform: ``image.img2img`` (default) or ``image.instruct-edit``, or any other.
        editor_model: its model (``None``: the editor's default).
        editor_params: further editor parameters over :data:`EDITOR_DEFAULTS`.
        strength: img2img strength, a number or a ``[low, high]`` range drawn per candidate
            (reference code: 0.6); ignored by editors without ``strength``.
        edit_template: edit prompt from ``{domain}``, ``{label}``, ``{subject}`` (``None``: per
            editor, :data:`EDIT_TEMPLATES`).
        n: edits per image and domain (reference code: 2).
        domains_per_image: domains drawn (without replacement, seeded) per image; ``None``: all (paper).
        semantic_filter: apply the CLIP semantic filter (paper: on).
        clip_filter: CLIP similarity step (registry name; ``image.clip-score``).
        clip_model: its model (``None``: its default; the paper: ViT-L/14).
        task_prompt: the filter's task prompt (``None``: the prefix, as the reference configs).
        negative_prompts: the filter's negatives (reference code's defaults).
        semantic_min_prob: also require this task-prompt probability (``None``: argmax only, the paper's).
        confidence_filter: apply the confidence filter (paper: on; needs two or more classes).
        classifier: ``"clip-probe"`` (a linear probe on CLIP image embeddings of the originals,
            ours) or an importable ``"module:function"`` mapping a list of images to an
            ``(n, n_classes)`` probability array over ``classes``.
        classes: the class order of a named classifier's columns (``None``: sorted labels).
        confidence_threshold: one threshold for every class (``None``: per-class mean confidence
            on the originals, the reference code's cleanlab thresholds).
        probe_steps, probe_lr, probe_l2: linear-probe training (ours: 300, 1.0, 1e-3).
        filters: further filters after ALIA's two.
        fit_seed: seed of the dataset-level steps (captions, caption sample, LLM).
        device, dtype: for every model (``auto``: the kernel's policy).
        keep_prompt: keep the edit prompt as field ``text.alia_prompt`` in the outputs (it is
            always in lineage).
    """

    name: ClassVar[str] = "alia"
    requires_fit: ClassVar[bool] = True
    input_fields: ClassVar[tuple[str, ...]] = ("image",)

    def __init__(self, domains: Sequence[str] | None = None, subject: str = "object", prefix: str | None = None,
                 captioner: str = "image.caption.blip", caption_model: str | None = None,
                 caption_params: Mapping[str, Any] | None = None, llm: str = "text.llm-rewrite",
                 llm_model: str | None = None, llm_client: str | None = None,
                 llm_params: Mapping[str, Any] | None = None, max_captions: int = MAX_CAPTIONS,
                 max_domains: int = MAX_DOMAINS, editor: str = "image.img2img", editor_model: str | None = None,
                 editor_params: Mapping[str, Any] | None = None, strength: float | Sequence[float] = 0.6,
                 edit_template: str | None = None, n: int = 2, domains_per_image: int | None = None,
                 semantic_filter: bool = True, clip_filter: str = "image.clip-score", clip_model: str | None = None,
                 task_prompt: str | None = None, negative_prompts: Sequence[str] = NEGATIVE_PROMPTS,
                 semantic_min_prob: float | None = None, confidence_filter: bool = True,
                 classifier: str = "clip-probe", classes: Sequence[str] | None = None,
                 confidence_threshold: float | None = None, probe_steps: int = 300, probe_lr: float = 1.0,
                 probe_l2: float = 1e-3, filters: Sequence[Filter] | None = None, fit_seed: int = 0,
                 device: str = "auto", dtype: str = "auto", keep_prompt: bool = False) -> None:
        if domains is not None:
            if isinstance(domains, str) or not isinstance(domains, Sequence):
                raise ConfigError(f"alia: domains must be a list of descriptions, got {domains!r}")
            if not domains:
                raise ConfigError("alia: the domain list is empty; give at least one domain description "
                                  "(e.g. domains=['perched on a fence']) or leave domains unset to summarise captions")
        if not isinstance(subject, str) or not subject.strip():
            raise ConfigError(f"alia: subject must be a non-empty word, got {subject!r}")
        for what, v, lo in (("n", n, 1), ("max_captions", max_captions, 1), ("max_domains", max_domains, 1),
                            ("probe_steps", probe_steps, 1)):
            if not isinstance(v, int) or isinstance(v, bool) or v < lo:
                raise ConfigError(f"alia: {what} must be a positive integer, got {v!r}")
        if domains_per_image is not None and (not isinstance(domains_per_image, int) or domains_per_image < 1):
            raise ConfigError(f"alia: domains_per_image must be None or a positive integer, got {domains_per_image!r}")
        for what, v in (("semantic_min_prob", semantic_min_prob), ("confidence_threshold", confidence_threshold)):
            if v is not None and (not isinstance(v, (int, float)) or not 0.0 <= v <= 1.0):
                raise ConfigError(f"alia: {what} must be None or lie in [0, 1], got {v!r}")
        if llm_params is not None and not isinstance(llm_params, Mapping):
            raise ConfigError(f"alia: llm_params must be a mapping, got {type(llm_params).__name__}")
        self.domains = None if domains is None else [str(d) for d in domains]
        self.subject = subject.strip()
        self.prefix = prefix if prefix is not None else f"a photo of {_article(self.subject)} {self.subject}"
        self.captioner = captioner
        self.caption_model = caption_model
        self.caption_params = dict(caption_params or {})
        self.llm = llm
        self.llm_model = llm_model
        self.llm_client = llm_client
        self.llm_params = dict(llm_params or {})
        self.max_captions = max_captions
        self.max_domains = max_domains
        self.editor = resolve("transform", editor, prefix="image.", source="image", target="image")
        self.editor_model = editor_model
        self.editor_params = dict(editor_params or {})
        self.strength = list(strength) if isinstance(strength, (list, tuple)) else strength
        self.edit_template = None if edit_template is None else check_template("edit_template", edit_template)
        self.n = n
        self.domains_per_image = domains_per_image
        self.semantic_filter = bool(semantic_filter)
        self.clip_filter = clip_filter
        self.clip_model = clip_model
        self.task_prompt = task_prompt
        self.negative_prompts = [str(p) for p in negative_prompts]
        self.semantic_min_prob = None if semantic_min_prob is None else float(semantic_min_prob)
        self.confidence_filter = bool(confidence_filter)
        self.classifier = classifier
        self.classes = None if classes is None else [str(c) for c in classes]
        self.confidence_threshold = None if confidence_threshold is None else float(confidence_threshold)
        self.probe_steps = probe_steps
        self.probe_lr = float(probe_lr)
        self.probe_l2 = float(probe_l2)
        self.filters = check_filters(filters, "alia")
        self.fit_seed = int(fit_seed)
        self.device = device
        self.dtype = dtype
        self.keep_prompt = bool(keep_prompt)
        self.edit = create_named("transform", self.editor, **self.editor_settings())
        self.clip = (create_named("filter", clip_filter, prefix="image.", **self._clip_settings())
                     if self.semantic_filter or (self.confidence_filter and classifier == "clip-probe") else None)
        if self.clip is not None and not callable(getattr(self.clip, "similarity", None)):
            raise ConfigError(f"alia: filter {clip_filter!r} has no similarity(images, texts) method; "
                              "name a CLIP similarity filter such as image.clip-score")
        self._reset()

    # -- settings ---------------------------------------------------------------------
    def _reset(self) -> None:
        self._summary: dict[str, Any] | None = None
        self._domains: list[str] = []
        self._classes: list[str] = []
        self._thresholds: list[float] = []
        self._probe: LinearProbe | None = None
        self._predict_fn: Any = None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_predict_fn": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if self.classifier != "clip-probe" and self._classes:
            from crossaug.importing import import_callable

            self._predict_fn = import_callable(self.classifier, param="classifier")

    def get_params(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.param_names()}

    def template(self) -> str:
        """The edit-prompt template in use."""
        return self.edit_template or EDIT_TEMPLATES.get(self.editor, EDIT_TEMPLATES["image.img2img"])

    def domain_list(self) -> list[str]:
        """The domains: fitted, or the given ``domains`` normalised (prefix and bullets stripped)."""
        if self._domains:
            return list(self._domains)
        return self._given_domains() if self.domains is not None else []

    def _given_domains(self) -> list[str]:
        out: list[str] = []
        for d in self.domains or []:
            ctx = normalise_domain(d, self.prefix)
            if not ctx:
                raise ConfigError(f"alia: domain {d!r} is empty once the prefix {self.prefix!r} is removed")
            if ctx not in out:
                out.append(ctx)
        return out

    def editor_settings(self) -> dict[str, Any]:
        """Parameters the editor is built with: :data:`EDITOR_DEFAULTS`, the model, ``strength``, ``editor_params``."""
        accepted = set(load("transform", self.editor).param_names())
        params: dict[str, Any] = dict(EDITOR_DEFAULTS.get(self.editor, {}))
        if "strength" in accepted:
            params["strength"] = self.strength
        if self.editor_model is not None:
            params["model"] = self.editor_model
        params.update(prompt_field=PROMPT_FIELD, prompt_template="{text}", in_field="image", out_field="image",
                      device=self.device)
        if self.dtype != "auto":
            params["dtype"] = self.dtype
        params.update(self.editor_params)
        return {k: v for k, v in params.items() if k in accepted}

    def _clip_settings(self) -> dict[str, Any]:
        params: dict[str, Any] = {"device": self.device}
        if self.clip_model is not None:
            params["model"] = self.clip_model
        if self.dtype != "auto":
            params["dtype"] = self.dtype
        return params

    def task_prompts(self) -> list[str]:
        return [self.task_prompt or self.prefix]

    # -- fit: the dataset-level steps, once per run ----------------------------------------
    def fit(self, samples: Iterable[Sample]) -> None:
        """Caption the originals, summarise their domains (or take ``domains``), train the classifier."""
        from crossaug import get_modality

        data: list[Sample] = []
        seen: set[str] = set()
        for s in samples:
            if not isinstance(s, Sample) or s.id in seen or "image" not in s.fields:
                continue
            try:
                get_modality("image").validate(s.fields["image"], sample_id=s.id, field="image")
            except BadSample:
                continue  # rejected with its reason when processed
            if s.label is None or not str(s.label).strip():
                continue
            seen.add(s.id)
            data.append(s)
        if not data:
            raise ConfigError("alia: fit found no labelled image among the inputs; every input needs an "
                              "'image' and a 'label'")
        data.sort(key=lambda s: s.id)  # the summary and the classifier never depend on input order
        self._reset()
        self._summary = self._summarise(data)
        self._domains = list(self._summary["domains"])
        if self.confidence_filter:
            self._fit_classifier(data)

    def _summarise(self, data: list[Sample]) -> dict[str, Any]:
        if self.domains is not None:
            return {"source": "given", "domains": self._given_domains()}
        seeder = Seeder(self.fit_seed)
        name = resolve("transform", self.captioner, prefix="image.caption.", source="image", target="text")
        wanted = {"prompt": None, "mode": "greedy", "in_field": "image", "out_field": "text.caption",
                  "device": self.device, **({"model": self.caption_model} if self.caption_model else {}),
                  **({"dtype": self.dtype} if self.dtype != "auto" else {})}
        accepted = set(load("transform", name).param_names())
        cap = create_named("transform", name, **{**{k: v for k, v in wanted.items() if k in accepted},
                                                 **self.caption_params})
        outs = cap([Sample(s.id, {"image": s.fields["image"]}) for s in data],
                   [seeder.integer_seed("alia-caption", s.id) for s in data])
        captions = [o.fields.get(cap.output_field, "") for o in outs]
        usable = clean_captions(captions)
        if not usable:
            raise ConfigError(f"alia: the captioner {self.captioner!r} gave no usable caption for the "
                              f"{len(data)} training images (all empty or degenerate); check caption_model, "
                              "or pass domains=[...]")
        request = domain_request(usable, self.prefix, seed=self.fit_seed, limit=self.max_captions)
        llm_seed = seeder.integer_seed("alia-llm")
        params = {"max_new_tokens": 512, "stop": [], **self.llm_params, "template": "{text}", "prompt": ""}
        if self.llm_model is not None:
            params["model"] = self.llm_model
        if self.llm_client is not None:
            params["client"] = self.llm_client
        try:
            lm = create_named("augmentation", self.llm, prefix="text.", **params)
        except ConfigError as exc:
            if "unknown augmentation" not in str(exc):
                raise
            raise ConfigError(f"alia: no language-model step {self.llm!r} is registered ({exc}); the default, "
                              "text.llm-rewrite, comes with crossaug-text: pip install crossaug-text "
                              "(or pass domains=[...])") from None
        if not callable(getattr(lm, "rewrite", None)):
            raise ConfigError(f"alia: the language-model step {self.llm!r} has no rewrite(texts, seeds) method; "
                              "name text.llm-rewrite or a step with that interface")
        answer = str(lm.rewrite([request], [llm_seed])[0])
        found = [] if answer.strip() == request.strip() else parse_domains(answer, self.prefix, self.max_domains)
        if not found:
            raise ConfigError(f"alia: the language model's answer held no domain description of the form "
                              f"{self.prefix!r} ...; answer began {answer.strip()[:200]!r}. Try another llm_model, "
                              "or pass domains=[...]")
        model = getattr(lm, "model_id", None) or self.llm_model
        log.info("alia: %d domains from %d captions: %s", len(found), len(usable), found)
        return {"source": "llm", "domains": found, "captioner": cap.name, "caption_model": cap.model_id,
                "captions": len(usable), "llm": lm.name, "llm_model": model, "llm_seed": llm_seed,
                "request_blake2b": _digest(request), "answer_blake2b": _digest(answer),
                "request": request, "answer": answer}

    def _fit_classifier(self, data: list[Sample]) -> None:
        labels = [str(s.label) for s in data]
        classes = list(self.classes) if self.classes is not None else sorted(set(labels))
        unknown = sorted(set(labels) - set(classes))
        if unknown:
            raise ConfigError(f"alia: labels {unknown} are not among classes {classes}")
        if len(classes) < 2:
            raise ConfigError(f"alia: the confidence filter needs two or more classes, the inputs have {classes}; "
                              "pass confidence_filter=False")
        y = [classes.index(lab) for lab in labels]
        images = [s.fields["image"] for s in data]
        if self.classifier == "clip-probe":
            feats = self.clip.image_features(images)  # type: ignore[union-attr]
            self._probe = LinearProbe(self.probe_steps, self.probe_lr, self.probe_l2).fit(feats, y, len(classes))
            probs = self._probe.predict_proba(feats)
        else:
            from crossaug.importing import import_callable

            self._predict_fn = import_callable(self.classifier, param="classifier")
            probs = np.asarray(self._predict_fn(images), dtype=np.float64)
        self._classes = classes
        self._thresholds = ([self.confidence_threshold] * len(classes) if self.confidence_threshold is not None
                            else [float(t) for t in confident_thresholds(probs, y)])

    def predict_proba(self, images: Sequence[Any]) -> np.ndarray:
        """Class probabilities of the classifier trained on the originals (columns: :attr:`fitted_classes`)."""
        if self._probe is not None:
            return self._probe.predict_proba(self.clip.image_features(images))  # type: ignore[union-attr]
        if self._predict_fn is None:
            raise ConfigError("alia: call fit(samples) first (the runner does it for you)")
        return np.asarray(self._predict_fn(images), dtype=np.float64)

    @property
    def fitted_classes(self) -> list[str]:
        return list(self._classes)

    @property
    def thresholds(self) -> dict[str, float]:
        """The confidence filter's per-class thresholds."""
        return dict(zip(self._classes, self._thresholds))

    @property
    def summary(self) -> dict[str, Any] | None:
        """What ``fit`` did: domains, captioner, LLM, seed, the full request and answer."""
        return None if self._summary is None else dict(self._summary)

    # -- process ---------------------------------------------------------------------------
    def _check_sample(self, sample: Sample) -> None:
        self.check([sample])
        if sample.label is None or not str(sample.label).strip():
            raise BadSample("alia needs a class label on every image (label is empty)", sample_id=sample.id,
                            field="label")
        if self.confidence_filter and str(sample.label) not in self._classes:
            raise BadSample(f"alia: class {str(sample.label)!r} was not seen by fit (known: {self._classes})",
                            sample_id=sample.id, field="label")

    def _domain_step(self, domain_index: int, domain: str, prompt: str) -> LineageStep:
        info = {k: v for k, v in (self._summary or {}).items() if k not in ("request", "answer")}
        params = {"domain": domain, "domain_index": domain_index, "prompt": prompt, "domains": info.pop("domains"),
                  "prefix": self.prefix, "prompt_template": self.template(), **info}
        return self.lineage_step(params, seed=self.fit_seed if info.get("source") == "llm" else None)

    def lineage_step(self, params: Mapping[str, Any] | None = None, **extra: Any) -> LineageStep:
        extra.setdefault("runtime", None)
        return super().lineage_step(params, **extra)

    def process(self, samples: Sequence[Sample], seeder: Seeder) -> list[list[Sample]]:
        if self._summary is None:
            raise ConfigError("alia: call fit(samples) first (the runner does it for you)")
        for s in samples:
            if not isinstance(s, Sample):
                raise BadSample(f"alia: expected a Sample, got {type(s).__name__}")
            self._check_sample(s)
        domains = self._domains
        template = self.template()
        cands: list[Sample] = []
        seeds: list[int] = []
        owners: list[int] = []
        for k, s in enumerate(samples):
            picks = list(range(len(domains)))
            if self.domains_per_image is not None and self.domains_per_image < len(domains):
                rng = seeder.rng("alia-domains", s.id)
                picks = sorted(int(i) for i in rng.choice(len(domains), size=self.domains_per_image, replace=False))
            j = 0
            for d in picks:
                prompt = edit_prompt(template, domains[d], s.label, self.subject)
                for _ in range(self.n):
                    step = self._domain_step(d, domains[d], prompt)
                    cands.append(s.derive(step, id=f"{s.id}~{j}", **{PROMPT_FIELD: prompt}))
                    seeds.append(seeder.integer_seed("alia-edit", s.id, j))
                    owners.append(k)
                    j += 1
        edited = self.edit(cands, seeds) if cands else []
        if not self.keep_prompt:
            edited = [e.replace(fields={k: v for k, v in e.fields.items() if k != PROMPT_FIELD}) for e in edited]
        parents = [samples[k] for k in owners]
        if self.semantic_filter and edited:
            edited = SemanticFilter(self.clip, self.task_prompts(), self.negative_prompts,
                                    self.semantic_min_prob)(edited, parents)
        if self.confidence_filter and edited:
            model = (f"clip-probe:{getattr(self.clip, 'model', None)}" if self._probe is not None
                     else self.classifier)
            edited = ConfidenceFilter(self.predict_proba, self._classes, self._thresholds, model=model)(edited, parents)
        edited = apply_filters(self.filters, edited, parents)
        groups: list[list[Sample]] = [[] for _ in samples]
        for k, e in zip(owners, edited):
            groups[k].append(e)
        return groups

    def close(self) -> None:
        for step in (self.edit, self.clip):
            if step is not None:
                step.close()


__all__ = ["Alia", "EDITOR_DEFAULTS", "EDIT_TEMPLATES", "DOMAIN_PROMPT"]
