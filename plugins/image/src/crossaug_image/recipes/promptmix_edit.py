"""PromptMix's caption edits without a language model: templates and class swaps (``image.caption-edit``).

PromptMix (Bakhtiarnia et al., IJCNN 2023) edits the captions of the real images before
generating from them, by hand or from the metadata the dataset has. This augmentation
makes those edits reproducible: each output fills one template drawn uniformly from
``templates`` (a list, or a data file with one template per line) whose placeholders are
``{caption}``, ``{label}``, ``{class}`` (a class drawn uniformly from ``classes`` other than
the sample's label) and any key of the sample's metadata; with ``swap_class`` the caption's
mentions of the sample's label become ``{class}`` first. Template and class are recorded,
so an edit replays exactly.

Example:
    >>> import numpy as np
    >>> from crossaug import Sample
    >>> e = CaptionEdit(templates=["{caption}, at {place}"], classes=["cat", "dog"], swap_class=True)
    >>> s = Sample("s", {"text.caption": "a cat on a sofa"}, label="cat", meta={"place": "night"})
    >>> e.augment(s, np.random.default_rng(0))["text.caption"]
    'a dog on a sofa, at night'
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from crossaug import BadSample, ConfigError, Sample
from crossaug.augmentation import Augmentation

#: placeholders every template may use besides the sample's metadata keys
BUILTIN_KEYS = ("caption", "label", "class")


def read_templates(path: str | Path) -> list[str]:
    """Templates from a text file: one per line, blank lines and lines starting with ``#`` skipped."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"templates_file {str(p)!r} is not a file")
    lines = [line.strip() for line in p.read_text(encoding="utf-8").splitlines()]
    found = [line for line in lines if line and not line.startswith("#")]
    if not found:
        raise ConfigError(f"templates_file {str(p)!r} holds no template")
    return found


def template_keys(template: str) -> list[str]:
    """The placeholder names of ``template``; only plain names are allowed (no ``{a.b}``, ``{a[0]}``, specs).

    Example:
        >>> template_keys("{caption} in {season}")
        ['caption', 'season']
    """
    keys = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ConfigError(f"template {template!r}: {exc}") from None
    for _, name, spec, conv in parsed:
        if name is None:
            continue
        if not name.isidentifier() or spec or conv:
            raise ConfigError(f"template {template!r}: placeholder {{{name}}} must be a plain name "
                              f"such as {{caption}}, {{class}} or a metadata key")
        keys.append(name)
    return keys


def swap_label(caption: str, label: str, new: str) -> tuple[str, int]:
    """``caption`` with whole-word, case-insensitive mentions of ``label`` replaced by ``new``; and their count.

    Underscores in either name read as spaces.

    Example:
        >>> swap_label("A Persian cat and a persian cat", "persian_cat", "sphynx")
        ('A sphynx and a sphynx', 2)
    """
    old = " ".join(str(label).replace("_", " ").split())
    if not old:
        return caption, 0
    pattern = re.compile(r"(?<!\w)" + r"\s+".join(re.escape(w) for w in old.split()) + r"(?!\w)", re.IGNORECASE)
    return pattern.subn(str(new).replace("_", " "), caption)


class CaptionEdit(Augmentation):
    """Edit a caption by a template drawn at random and, optionally, a swapped class name.

    Args:
        templates: templates with ``{caption}``, ``{label}``, ``{class}`` and metadata keys (default
            ``["{caption}"]``; ours: PromptMix's edits are the user's).
        templates_file: a text file of templates, one per line, used instead of ``templates``.
        classes: class names ``{class}`` and ``swap_class`` draw from (the sample's own label excluded).
        swap_class: replace the caption's mentions of the sample's label with the drawn class.
        field: the caption field.
    """

    name: ClassVar[str] = "image.caption-edit"
    modalities: ClassVar[tuple[str, ...]] = ("text",)

    def __init__(self, templates: Sequence[str] | None = None, templates_file: str | None = None,
                 classes: Sequence[str] | None = None, swap_class: bool = False,
                 field: str = "text.caption") -> None:
        if isinstance(templates, str):
            templates = [templates]
        loaded = read_templates(templates_file) if templates_file else list(templates or ["{caption}"])
        if not loaded or not all(isinstance(t, str) and t.strip() for t in loaded):
            raise ConfigError(f"{self.name}: templates must be non-empty strings, got {loaded!r}")
        needs_class = swap_class or any("class" in template_keys(t) for t in loaded)
        if isinstance(classes, str):
            classes = [classes]
        classes = [str(c) for c in classes or []]
        if needs_class and not classes:
            raise ConfigError(f"{self.name}: swap_class and {{class}} need a list of classes to draw from")
        self.templates = None if templates_file else loaded
        self.templates_file = templates_file
        self.classes = classes or None
        self.swap_class = bool(swap_class)
        self.field = field
        self._templates = loaded

    def sample_params(self, sample: Sample, rng: np.random.Generator) -> dict[str, Any]:
        t = self._templates[int(rng.integers(len(self._templates)))]
        params: dict[str, Any] = {"template": t}
        if self.classes:
            own = None if sample.label is None else str(sample.label)
            pool = [c for c in self.classes if c != own] or list(self.classes)
            params["class"] = pool[int(rng.integers(len(pool)))]
        return params

    def apply(self, sample: Sample, params: Mapping[str, Any]) -> Sample:
        caption = sample[self.field]
        label = "" if sample.label is None else str(sample.label)
        new = params.get("class")
        if self.swap_class:
            if sample.label is None:
                raise BadSample(f"{self.name}: swap_class needs the sample's label", sample_id=sample.id,
                                field=self.field)
            caption, _ = swap_label(caption, label, str(new))
        values: dict[str, Any] = {k: v for k, v in sample.meta.items() if isinstance(k, str)
                                  and isinstance(v, (str, int, float))}
        values.update(caption=caption, label=label.replace("_", " "),
                      **({"class": str(new).replace("_", " ")} if new is not None else {}))
        template = str(params["template"])
        missing = [k for k in template_keys(template) if k not in values]
        if missing:
            raise BadSample(f"{self.name}: template {template!r} needs {', '.join(missing)}, which the sample's "
                            f"metadata lacks (it has {sorted(values)})", sample_id=sample.id, field=self.field)
        text = " ".join(template.format_map(values).split())
        if not text:
            raise BadSample(f"{self.name}: the edited caption is empty", sample_id=sample.id, field=self.field)
        return sample.derive(None, **{self.field: text})


__all__ = ["CaptionEdit", "read_templates", "template_keys", "swap_label", "BUILTIN_KEYS"]
