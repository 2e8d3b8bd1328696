"""The ``TextToImage`` interface: text -> image transforms, one image per (prompt, seed).

Several images per prompt (multi-imagination) come from asking with several
seeds: each image gets its own ``torch.Generator`` seeded from its seed, so an
image depends only on its prompt and seed, never on its batch mates.

Example:
    >>> fill_template("{text}, high quality", "a cat", None)
    'a cat, high quality'
    >>> fill_template("a photo of a {label}: {text}", "on grass", "dog")
    'a photo of a dog: on grass'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from crossaug import BadSample, Produced, Sample, Transform

#: the rejection reason of an image the pipeline's safety checker flagged (it comes back black)
NSFW_REASON = "nsfw: the pipeline's safety checker flagged the image (it is black, not kept)"


def fill_template(template: str, text: str, label: Any) -> str:
    """Fill ``{text}`` and ``{label}`` (an absent label leaves ``{label}`` out cleanly)."""
    lab = "" if label is None else str(label).replace("_", " ")
    out = template.replace("{text}", text).replace("{label}", lab)
    return " ".join(out.split())


def nonfinite_pixels(step: Any, sample: Sample) -> BadSample:
    """The error of ``sample`` when ``step`` generated NaN or infinite pixels for it (never an image kept)."""
    dtype = getattr(step, "runtime_dtype", None) or getattr(step, "dtype", "?")
    return BadSample(f"{step.name}: the model produced NaN or infinite pixels (dtype {dtype}); try dtype='float32' "
                     "or another scheduler", sample_id=sample.id, field=step.output_field)


class TextToImage(Transform):
    """Base class of text-to-image transforms (``source="text"``, ``target="image"``).

    Backends implement :meth:`load` and :meth:`generate`.
    """

    source: ClassVar[str] = "text"
    target: ClassVar[str] = "image"
    prompt_template: str = "{text}"

    def load(self) -> None:
        raise NotImplementedError

    def generate(self, prompts: Sequence[str], seeds: Sequence[int]) -> list[tuple[Any, dict[str, Any]]]:
        """One ``(PIL image, info)`` per prompt, image ``i`` drawn with ``seeds[i]``."""
        raise NotImplementedError

    def transform_batch(self, samples: Sequence[Sample], seeds: Sequence[int]) -> list[Any]:
        prompts = [fill_template(self.prompt_template, s[self.input_field], s.label) for s in samples]
        outs = self.generate(prompts, seeds)
        for sample, (_, info) in zip(samples, outs):
            if info.get("nonfinite"):
                raise nonfinite_pixels(self, sample)
        return [Produced(img, {"prompt": p, **info}) for p, (img, info) in zip(prompts, outs)]

    def __call__(self, samples: Sequence[Sample], seeds: Sequence[int]) -> list[Sample]:
        """Generate, then reject (reason ``nsfw``) the images a safety checker flagged: never training data."""
        out = super().__call__(samples, seeds)
        return [o.reject(NSFW_REASON) if o.lineage and o.lineage[-1].params.get("nsfw") else o for o in out]


__all__ = ["TextToImage", "fill_template", "nonfinite_pixels", "NSFW_REASON"]
