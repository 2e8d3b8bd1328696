"""Recipe ``promptmix``: image -> caption -> edited caption -> new image -> pseudo-label.

PromptMix (Bakhtiarnia, Zhang and Iosifidis, IJCNN 2023) grows a small dataset for a
lightweight network: caption each real image (F), edit the caption by hand or from the
dataset's metadata (H), generate images from the captions with a text-to-image diffusion
model (G), then annotate each generated image with a heavyweight network that does the
target task well, and train on the mix of real and annotated synthetic images.

Here every step is a registered name: the captioner, the editor (``image.caption-edit``
for template and class-swap edits from metadata and data files, ``text.llm-rewrite`` for a
language model, or none, the paper's plain captions), the text-to-image model and the
annotator (``image.classify``: any Hugging Face image-classification checkpoint, or a
user's function; or any registered image -> text transform). Each output's ``label`` is
the annotator's top class; ``meta["pseudo_label"]`` holds it with its confidence, the
annotator's ``top_k`` scores (the soft label) and the annotator's name and model, and
``meta["source_label"]`` the real image's label. ``min_confidence`` (ours) rejects
images the annotator is unsure of.

Example:
    >>> r = PromptMix(caption_model="my/blip", image_model="my/sd", labeler_model="my/vit")
    >>> r.fan_out, [t.name for t in r.forward], r.backward[0].labeler.name
    ([1, 1, 2], ['image.caption.blip'], 'image.classify')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from crossaug import BackModality, ConfigError, Filter, Sample, Transform
from crossaug.registry import resolve

from .._wrapped import WrapsTransform
from ..filters.pseudo_label import PseudoLabelConfidence
from ._build import build, or_auto, or_unset


def pseudo_label(sample: Sample, labeler: Transform) -> Sample:
    """``sample`` labelled by what ``labeler`` wrote: ``label``, ``meta["pseudo_label"]``, ``meta["source_label"]``.

    The labeler's output field is removed; its lineage step (last) gives the confidence
    (``confidence``, else ``None``) and the soft label (``scores``, else the top class alone).
    """
    field = labeler.output_field
    label = sample.fields.get(field)
    info = dict(sample.lineage[-1].params) if sample.lineage else {}
    if not isinstance(label, str) or not label.strip():
        return sample.reject(f"{labeler.name}: the annotator returned no label")
    conf = info.get("confidence")
    conf = float(conf) if isinstance(conf, (int, float)) else None
    scores = info.get("scores")
    soft = ({str(k): float(v) for k, v in scores.items()} if isinstance(scores, Mapping) and scores
            else {label: conf if conf is not None else 1.0})
    meta = {**sample.meta, "pseudo_label": {"label": label, "confidence": conf, "scores": soft,
                                            "labeler": labeler.name, "model": labeler.model_id},
            "source_label": sample.label}
    fields = {k: v for k, v in sample.fields.items() if k != field}
    return sample.replace(fields=fields, label=label, meta=meta)


class LabelGenerated(WrapsTransform, Transform):
    """G of PromptMix: generate with ``transform``, then label each kept image with ``labeler``.

    Args:
        transform: the text -> image transform.
        labeler: an image -> text transform whose output is the class (see :func:`pseudo_label`).
    """

    name: ClassVar[str] = "promptmix.generate-and-label"
    source: ClassVar[str] = "text"
    target: ClassVar[str] = "image"

    def __init__(self, transform: Transform, labeler: Transform) -> None:
        for what, t, src, tgt in (("transform", transform, "text", "image"), ("labeler", labeler, "image", "text")):
            if not isinstance(t, Transform) or (t.source, t.target) != (src, tgt):
                raise ConfigError(f"{self.name}: {what} must be a {src} -> {tgt} Transform, got {t!r}")
        if labeler.input_field != transform.output_field:
            raise ConfigError(f"{self.name}: the labeler reads {labeler.input_field!r} but images are written to "
                              f"{transform.output_field!r}")
        self.transform = transform
        self.labeler = labeler

    def close(self) -> None:
        super().close()
        self.labeler.close()

    def __call__(self, samples: Sequence[Sample], seeds: Sequence[int]) -> list[Sample]:
        out = self.transform(samples, seeds)
        live = [i for i, o in enumerate(out) if o.kept]
        if live:
            for i, o in zip(live, self.labeler([out[i] for i in live], [seeds[i] for i in live])):
                out[i] = pseudo_label(o, self.labeler)
        return out


class PromptMix(BackModality):
    """PromptMix: caption, edit, generate, and pseudo-label with a heavyweight annotator.

    Args:
        captioner: entry-point name (or short alias) of the captioning transform (F; ours: BLIP, the
            paper's captioner is not named in the survey notes).
        caption_model: its model id or local path (``None``: the captioner's default).
        prompt: caption prefix with ``{label}``; ``None`` (default) for plain captions, as PromptMix
            extracts prompts from the images alone.
        caption_params: further parameters of the captioner.
        editor: entry-point name of the caption edit (H): ``image.caption-edit`` (templates,
            class swaps, metadata), ``text.llm-rewrite`` (a language model) or any text
            augmentation; ``None`` (default) for the unedited caption.
        editor_params: its parameters (``templates``, ``templates_file``, ``classes``, ``swap_class``;
            or ``prompt``, ``model``, ``client`` for ``text.llm-rewrite``).
        text_to_image: entry-point name of the text-to-image transform (G; the paper: Stable Diffusion).
        image_model: its model id or local path (``None``: the transform's default).
        image_params: further parameters (``num_inference_steps``, ``height``, ...).
        labeler: entry-point name (or alias) of the annotator, an image -> text transform
            (default ``image.classify``).
        labeler_model: its model id or local path (``None``: its default).
        labeler_params: further parameters (``function``, ``top_k``, ...).
        min_confidence: reject images whose pseudo-label confidence is below this
            (``image.pseudo-label-confidence``; ``None``, the default: keep all, as the paper).
        l, m, n: captions per image, edits per caption, images per edit (ours: 1, 1, 2).
        keep: outputs kept per input, sampled uniformly (``None``: all).
        filters: further filters scoring each output against its input.
        device, dtype: for every model (the kernel's policy).
        caption_field: field of the (edited) caption in the outputs.
        keep_intermediate: keep ``caption_field`` (and the unedited caption) in the outputs.
        top_up: extra rounds for inputs left with fewer than ``keep`` passing outputs.
    """

    name: ClassVar[str] = "promptmix"
    input_fields: ClassVar[tuple[str, ...]] = ("image",)

    def __init__(self, captioner: str = "image.caption.blip", caption_model: str | None = None,
                 prompt: str | None = None, caption_params: Mapping[str, Any] | None = None,
                 editor: str | None = None, editor_params: Mapping[str, Any] | None = None,
                 text_to_image: str = "image.text-to-image.diffusers", image_model: str | None = None,
                 image_params: Mapping[str, Any] | None = None, labeler: str = "image.classify",
                 labeler_model: str | None = None, labeler_params: Mapping[str, Any] | None = None,
                 min_confidence: float | None = None, l: int = 1, m: int = 1, n: int = 2,
                 keep: int | None = None, filters: Sequence[Filter] | None = None, device: str = "auto",
                 dtype: str = "auto", caption_field: str = "text.caption", keep_intermediate: bool = True,
                 top_up: int = 0) -> None:
        forward = build("transform", resolve("transform", captioner, prefix="image.caption.", source="image",
                                             target="text"),
                        caption_params, model=or_unset(caption_model), prompt=prompt, out_field=caption_field,
                        device=device, dtype=or_auto(dtype))
        augment = (build("augmentation", resolve("augmentation", editor), editor_params, field=caption_field)
                   if editor else None)
        t2i = build("transform", resolve("transform", text_to_image, prefix="image.text-to-image.", source="text",
                                         target="image"),
                    image_params, model=or_unset(image_model), in_field=caption_field, out_field="image",
                    device=device, dtype=or_auto(dtype))
        annotator = build("transform", resolve("transform", labeler, prefix="image.", source="image", target="text"),
                          labeler_params, model=or_unset(labeler_model), in_field="image", device=device,
                          dtype=or_auto(dtype))
        extra = [PseudoLabelConfidence(min_confidence)] if min_confidence is not None else []
        super().__init__(forward=forward, backward=LabelGenerated(t2i, annotator), augment=augment,
                         filters=[*extra, *(filters or [])], fan_out=(l, m, n), keep=keep,
                         keep_intermediate=keep_intermediate, top_up=top_up)
        self.filters_extra = list(filters or [])
        self.captioner, self.caption_model, self.prompt = captioner, caption_model, prompt
        self.caption_params = dict(caption_params or {})
        self.editor, self.editor_params = editor, dict(editor_params or {})
        self.text_to_image, self.image_model = text_to_image, image_model
        self.image_params = dict(image_params or {})
        self.labeler, self.labeler_model = labeler, labeler_model
        self.labeler_params = dict(labeler_params or {})
        self.min_confidence = min_confidence
        self.l, self.m, self.n = l, m, n
        self.device, self.dtype = device, dtype
        self.caption_field = caption_field

    def get_params(self) -> dict[str, Any]:
        params = {name: getattr(self, name) for name in self.param_names()}
        params["filters"] = self.filters_extra
        return params


__all__ = ["PromptMix", "LabelGenerated", "pseudo_label"]
