"""Recipe ``culture-mixup``: code-switch captions and paste the switched concepts into the images.

Culture Mixup (Li and Zhang, EMNLP 2023) code-switches cultural concepts in
text. For image-text pairs the image must follow: when ``"burger"`` becomes
``"jiaozi"`` in the caption, the burger's region of the image is replaced by a
jiaozi region taken from another image of the dataset (or from a folder of
concept images). Text switches come from the text plugin's ``text.code-switch``
(or any augmentation whose params list ``switches``).

Example:
    >>> from crossaug import Sample
    >>> from PIL import Image
    >>> data = [Sample("a", {"text": "A burger on a plate.", "image": Image.new("RGB", (16, 16), "white")},
    ...                meta={"boxes": [["burger", 4, 4, 12, 12]]}),
    ...         Sample("b", {"text": "Jiaozi in a bowl.", "image": Image.new("RGB", (16, 16), "red")},
    ...                meta={"boxes": [["jiaozi", 0, 0, 16, 16]]})]
    >>> recipe = CultureMixupRecipe(code_switch_params={"lexicon": {"burger": "jiaozi"}, "word_rate": 1.0,
    ...                                                 "lemmatize": False})
    >>> out = recipe(data, seed=0)
    >>> out[0].fields["text"], out[0].fields["image"].getpixel((8, 8)), out[0].fields["image"].getpixel((0, 0))
    ('A jiaozi on a plate.', (255, 0, 0), (255, 255, 255))
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from crossaug import Augmentation, BadSample, ConfigError, MissingDependency, Recipe, Sample, Seeder

from .._images import to_array, to_pil
from .functional import apply_switches, label_matches, normalise_label, paste_region, read_boxes

log = logging.getLogger(__name__)

UNMATCHED = ("revert", "keep", "reject")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


class CultureMixupRecipe(Recipe):
    """Code-switched captions with the switched concepts pasted into their images.

    For each output, ``code_switch`` draws text switches (``{"start", "end",
    "source", "target", "concept", "level"}``). For each switch, the image's box
    whose label names the source (or shares its ``concept``) is replaced by a
    donor region whose label names the target (or, with a ``concept``, a region
    of that concept with another label), resized to the box. Donors come from
    the fitted dataset (other samples' boxes) and from ``bank_dir``.

    Boxes are read from ``sample.meta[boxes_key]`` (``[{"label", "box": [x0, y0,
    x1, y1]}]`` or ``[label, x0, y0, x1, y1]`` lists, pixels), else from
    ``detector``. The output's ``meta[boxes_key]`` carries the relabelled boxes.

    Args:
        code_switch: the text switcher: an entry-point name (default the text
            plugin's ``text.code-switch``) or an augmentation instance.
        code_switch_params: its parameters when given by name (e.g. ``lexicon``).
        n: outputs per input.
        text_field, image_field: the paired fields.
        boxes_key: metadata key holding the boxes.
        detector: optional ``"package.module:function"``; called as
            ``f(image, labels)`` (labels: the concepts wanted, or ``None`` for all)
            and returning boxes in the format above, for samples without boxes.
        bank_dir: optional folder of donor images, ``<label>.png`` or
            ``<label>/<any>.png`` (the whole image is the region).
        unmatched: what to do with a switch that has no box or no donor:
            ``revert`` (undo it in the text, so caption and image stay paired),
            ``keep`` (keep the text switch only) or ``reject`` (reject the output).
    """

    name: ClassVar[str] = "culture-mixup"
    requires_fit: ClassVar[bool] = True

    def __init__(self, code_switch: Augmentation | str = "text.code-switch",
                 code_switch_params: Mapping[str, Any] | None = None, n: int = 1, text_field: str = "text",
                 image_field: str = "image", boxes_key: str = "boxes", detector: str | None = None,
                 bank_dir: str | None = None, unmatched: str = "revert") -> None:
        if not isinstance(code_switch, (str, Augmentation)):
            raise ConfigError(f"culture-mixup code_switch must be an augmentation or its name, "
                              f"got {type(code_switch).__name__}")
        if isinstance(code_switch, Augmentation) and code_switch_params:
            raise ConfigError("culture-mixup: give code_switch_params only with a code_switch name")
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise ConfigError(f"culture-mixup n must be a positive integer, got {n!r}")
        if unmatched not in UNMATCHED:
            raise ConfigError(f"culture-mixup unmatched must be one of {UNMATCHED}, got {unmatched!r}")
        if text_field.split(".", 1)[0] != "text" or image_field.split(".", 1)[0] != "image":
            raise ConfigError(f"culture-mixup needs a text and an image field, got {text_field!r}, {image_field!r}")
        if bank_dir is not None and not Path(bank_dir).is_dir():
            raise ConfigError(f"culture-mixup bank_dir {bank_dir!r} is not a directory")
        self.code_switch = code_switch
        self.code_switch_params = dict(code_switch_params) if code_switch_params else None
        self.n = n
        self.text_field, self.image_field = text_field, image_field
        self.boxes_key = boxes_key
        self.detector = detector
        self.bank_dir = bank_dir
        self.unmatched = unmatched
        self._switcher: Augmentation | None = code_switch if isinstance(code_switch, Augmentation) else None
        self._detector: Callable[..., Any] | None = None
        self._bank: list[dict[str, Any]] = []
        self._images: dict[str, Any] = {}
        self._matching: dict[tuple[Any, ...], list[dict[str, Any]]] = {}  # see _donors

    def required_fields(self) -> tuple[str, ...]:
        return (self.text_field, self.image_field)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_detector"] = None
        state["_matching"] = {}
        if isinstance(self.code_switch, str):
            state["_switcher"] = None
        return state

    # -- parts ----------------------------------------------------------
    def switcher(self) -> Augmentation:
        """The text code-switching augmentation (built on first use)."""
        if self._switcher is None:
            from crossaug import registry

            name = str(self.code_switch)
            if name not in registry.names("augmentation"):
                if name == "text.code-switch":
                    raise MissingDependency("pip install 'crossaug-multimodal[text]'",
                                            what="text.code-switch (crossaug-text)")
                raise ConfigError(f"culture-mixup: unknown augmentation {name!r}")
            params = dict(self.code_switch_params or {})
            if "field" in registry.load("augmentation", name).param_names():
                params.setdefault("field", self.text_field)
            self._switcher = registry.create("augmentation", name, **params)
        return self._switcher

    def _detect(self, image: Any, labels: list[str] | None, sample_id: str | None) -> list[dict[str, Any]]:
        if self.detector is None:
            return []
        if self._detector is None:
            from crossaug.importing import import_callable

            self._detector = import_callable(self.detector, param="detector")
        try:
            return read_boxes(self._detector(image, labels))
        except ValueError as exc:
            raise BadSample(f"detector {self.detector!r} returned bad boxes: {exc}", sample_id=sample_id,
                            field=self.image_field) from None

    def boxes(self, sample: Sample, labels: list[str] | None = None) -> list[dict[str, Any]]:
        """The sample's labelled boxes (metadata first, else the detector)."""
        raw = sample.meta.get(self.boxes_key) if sample.meta else None
        if raw is None:
            return self._detect(sample.fields[self.image_field], labels, sample.id)
        try:
            return read_boxes(raw)
        except ValueError as exc:
            raise BadSample(f"meta[{self.boxes_key!r}]: {exc}", sample_id=sample.id, field=self.image_field) from None

    # -- fit ------------------------------------------------------------
    def fit(self, samples: Iterable[Sample]) -> None:
        """Collect donor regions: every labelled box of the dataset, plus ``bank_dir`` images."""
        bank: list[dict[str, Any]] = []
        images: dict[str, Any] = {}
        for s in samples:
            img = s.fields.get(self.image_field) if isinstance(s, Sample) else None
            if img is None or not hasattr(img, "size"):
                continue
            try:
                boxes = self.boxes(s)
            except BadSample as exc:
                log.warning("culture-mixup: %s; sample left out of the donor bank", exc)
                continue
            images[s.id] = img
            for b in boxes:
                bank.append({"source": s.id, "label": normalise_label(b["label"]), "concept": b.get("concept"),
                             "box": b["box"]})
        if self.bank_dir is not None:
            from PIL import Image

            root = Path(self.bank_dir)
            for path in sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES):
                label = path.parent.name if path.parent != root else path.stem
                key = f"bank:{path.relative_to(root).as_posix()}"
                with Image.open(path) as im:
                    img = im.convert("RGB")
                images[key] = img
                bank.append({"source": key, "label": normalise_label(label), "concept": None,
                             "box": [0, 0, img.size[0], img.size[1]]})
        self._bank = sorted(bank, key=lambda d: (d["source"], d["label"], d["box"]))
        self._images = images
        self._matching = {}

    # -- process --------------------------------------------------------
    def _check(self, sample: Any) -> None:
        if not isinstance(sample, Sample):
            raise BadSample(f"culture-mixup: expected a Sample, got {type(sample).__name__}")
        from crossaug.modality import get_modality

        for f in (self.text_field, self.image_field):
            if f not in sample.fields:
                raise BadSample(f"culture-mixup needs field {f!r}; sample has {sorted(sample.fields)}",
                                sample_id=sample.id, field=f)
            get_modality(f.split(".", 1)[0]).validate(sample.fields[f], sample_id=sample.id, field=f)
        if not sample.fields[self.text_field].strip():
            raise BadSample("empty caption", sample_id=sample.id, field=self.text_field)

    def _donors(self, switch: Mapping[str, Any], exclude: str) -> list[dict[str, Any]]:
        """Bank regions that can stand for the switch's target (its concept, not the source word;
        or a label naming the target), in bank order, none from the image ``exclude``. The bank is
        scanned once per (source, target, concept), not for every switch of every output."""
        concept = switch.get("concept")
        key = (switch["source"], switch["target"], concept)
        matching = self._matching.get(key)
        if matching is None:
            matching = self._matching[key] = [
                d for d in self._bank
                if (concept is not None and d["concept"] == concept and not label_matches(d["label"], switch["source"]))
                or label_matches(d["label"], switch["target"])]
        return [d for d in matching if d["source"] != exclude]

    @staticmethod
    def _region(boxes: list[dict[str, Any]], switch: Mapping[str, Any], used: set[int]) -> int | None:
        concept = switch.get("concept")
        for i, b in enumerate(boxes):
            if i in used:
                continue
            if label_matches(b["label"], switch["source"]) or (concept is not None and b.get("concept") == concept):
                return i
        return None

    def process(self, samples: Sequence[Sample], seeder: Seeder) -> list[list[Sample]]:
        aug = self.switcher()
        out: list[list[Sample]] = []
        for sample in samples:
            self._check(sample)
            aug.check(sample)
            text = sample.fields[self.text_field]
            image = sample.fields[self.image_field]
            group = []
            for k in range(self.n):
                rng = seeder.rng("culture-mixup", sample.id, k)
                cs_params = dict(aug.sample_params(sample, rng))
                switches = list(cs_params.get("switches") or [])
                boxes = self.boxes(sample, [sw["source"] for sw in switches])
                arr = to_array(image)
                used: set[int] = set()
                new_boxes = [dict(b) for b in boxes]
                matched, pastes, missed = [], [], []
                for i, sw in enumerate(switches):
                    region = self._region(boxes, sw, used)
                    donors = self._donors(sw, sample.id) if region is not None else []
                    if region is None or not donors:
                        why = "no box for the source concept" if region is None else "no donor region for the target"
                        missed.append({"switch": i, "source": sw["source"], "target": sw["target"], "reason": why})
                        continue
                    donor = donors[int(rng.integers(len(donors)))]
                    arr = paste_region(arr, boxes[region]["box"], to_array(self._images[donor["source"]]),
                                       donor["box"])
                    used.add(region)
                    new_boxes[region] = {**boxes[region], "label": sw["target"], "source_label": boxes[region]["label"]}
                    if sw.get("concept") is not None:
                        new_boxes[region]["concept"] = sw["concept"]
                    matched.append(sw)
                    pastes.append({"switch": i, "box": boxes[region]["box"], "donor": donor["source"],
                                   "donor_box": donor["box"], "label": sw["target"]})
                kept = matched if self.unmatched == "revert" else switches
                try:
                    new_text = apply_switches(text, kept)
                except ValueError as exc:
                    raise BadSample(f"culture-mixup: {exc}", sample_id=sample.id, field=self.text_field) from None
                step_text = aug.lineage_step({**cs_params, "switches": kept})
                step_img = self.lineage_step({"pastes": pastes, "unmatched": missed},
                                             parent_ids=(sample.id, *sorted({p["donor"] for p in pastes})))
                meta = {**dict(sample.meta), self.boxes_key: new_boxes}
                cand = sample.derive(step_text, id=f"{sample.id}~{k}", **{self.text_field: new_text,
                                                                        self.image_field: to_pil(arr)})
                cand = cand.replace(meta=meta, parent_id=sample.id)
                if self.unmatched == "reject" and missed:
                    cand = cand.reject(f"culture-mixup: {len(missed)} switched concept(s) without an image region "
                                       f"({missed[0]['source']!r}: {missed[0]['reason']})", step_img)
                elif not kept:
                    cand = cand.reject("culture-mixup: no concept was switched in both caption and image", step_img)
                else:
                    cand = cand.replace(lineage=cand.lineage + (step_img,))
                group.append(cand)
            out.append(group)
        return out


__all__ = ["CultureMixupRecipe", "UNMATCHED"]
