"""Samples and their lineage.

A :class:`Sample` holds one item of a dataset: an id, fields keyed by field name
(the part before the first ``.`` names the modality: ``text``, ``audio``,
``image``, ``image.depth``), an optional label and the lineage of steps that made
it. Steps never mutate a sample; they return new ones with :meth:`Sample.derive`.

Example:
    >>> s = Sample("s1", {"text": "a cat"}, label="pet")
    >>> t = s.derive(LineageStep(name="text.upper", params={}), text="A CAT")
    >>> (t.id, t.fields["text"], t.parent_id, len(t.lineage))
    ('s1', 'A CAT', 's1', 1)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import BadSample


def modality_of(field_name: str) -> str:
    """Return the modality a field name belongs to (``"image.depth"`` -> ``"image"``)."""
    return field_name.split(".", 1)[0]


@dataclass(frozen=True, slots=True)
class LineageStep:
    """One step that contributed to a sample, enough to replay it.

    Attributes:
        name: entry-point name of the step (``audio.tts.flite``).
        kind: ``transform``, ``augmentation``, ``filter`` or ``recipe``.
        plugin: distribution that provides the step, and ``version`` its version.
        params: parameters the step applied (replayable through ``apply``).
        seed: integer seed the step received, if it used randomness.
        model: model id or path and ``revision`` for model-backed steps.
        score: filter score; ``kept``/``reason`` the filter's verdict.
        runtime: for neural steps, where it ran: device, dtype, batch size and library
            versions (not part of the reproducibility contract's exact comparison).
    """

    name: str
    kind: str = "augmentation"
    plugin: str | None = None
    version: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    seed: int | None = None
    model: str | None = None
    revision: str | None = None
    parent_ids: tuple[str, ...] = ()
    score: float | None = None
    kept: bool | None = None
    reason: str | None = None
    runtime: Mapping[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict, leaving out empty entries."""
        return dict(step_entries(self, _STEP_FIELDS))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LineageStep:
        data = dict(data)
        if "parent_ids" in data:
            data["parent_ids"] = tuple(data["parent_ids"])
        return cls(**data)


_STEP_FIELDS = tuple(f.name for f in dataclasses.fields(LineageStep))


def step_entries(step: LineageStep, names: Iterable[str]) -> Iterator[tuple[str, Any]]:
    """``(name, JSON-ready value)`` of each of ``names`` set in ``step``, in that order: what
    :meth:`LineageStep.to_dict` holds (empty entries left out, tuples and mappings made lists and dicts)."""
    for name in names:
        value = getattr(step, name)
        if value is None or (type(value) is tuple and not value):  # never ``==`` on a numpy score
            continue
        if name == "parent_ids":
            value = list(value)
        elif name == "params" or name == "runtime":
            value = dict(value)
        yield name, value


def plain_step(name: str, kind: str, plugin: str | None, version: str | None, params: Mapping[str, Any],
               model: str | None, revision: str | None) -> LineageStep:
    """``LineageStep(name=..., kind=..., plugin=..., version=..., params=..., model=..., revision=...)``
    with the other fields at their defaults, as every augmentation call records one, without the
    dataclass constructor's keywords.

    Example:
        >>> plain_step("t", "augmentation", None, None, {"a": 1}, None, None) == LineageStep("t", params={"a": 1})
        True
    """
    new = _new(LineageStep)  # each slot set through its own descriptor: no attribute look-up by name
    _step_name(new, name)
    _step_kind(new, kind)
    _step_plugin(new, plugin)
    _step_version(new, version)
    _step_params(new, params)
    _step_seed(new, None)
    _step_model(new, model)
    _step_revision(new, revision)
    _step_parent_ids(new, ())
    _step_score(new, None)
    _step_kept(new, None)
    _step_reason(new, None)
    _step_runtime(new, None)
    return new


@dataclass(frozen=True, slots=True)
class Sample:
    """One data item.

    Args:
        id: unique id within a run.
        fields: payloads keyed by field name; ``text`` is ``str``, ``audio`` an
            :class:`crossaug.Audio`, ``image`` a ``PIL.Image.Image``.
        label: class label or ``None``.
        lineage: steps that produced this sample, oldest first.
        parent_id: id of the input sample this one descends from.
        kept: ``False`` once a filter or the error policy rejected it.
        reason: why it was rejected.
        meta: free-form metadata carried along (bounding boxes, source paths).
    """

    id: str
    fields: Mapping[str, Any]
    label: Any = None
    lineage: tuple[LineageStep, ...] = ()
    parent_id: str | None = None
    kept: bool = True
    reason: str | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise BadSample(f"sample id must be a non-empty string, got {self.id!r}")
        if type(self.fields) is not dict and not isinstance(self.fields, Mapping):
            raise BadSample(f"fields must be a mapping, got {type(self.fields).__name__}",
                            sample_id=self.id)

    @property
    def root_id(self) -> str:
        """Id of the input sample this one descends from (itself for inputs)."""
        return self.parent_id if self.parent_id is not None else self.id

    def __getitem__(self, name: str) -> Any:
        try:
            return self.fields[name]
        except KeyError:
            raise BadSample(f"has no field {name!r} (fields: {sorted(self.fields)})",
                            sample_id=self.id, field=name) from None

    def get(self, name: str, default: Any = None) -> Any:
        return self.fields.get(name, default)

    def derive(self, step: LineageStep | None = None, *, id: str | None = None,
               drop: tuple[str, ...] = (), **fields: Any) -> Sample:
        """Return a new sample with ``fields`` replaced and ``step`` appended to lineage."""
        if drop:
            new_fields = {k: v for k, v in self.fields.items() if k not in drop}
            new_fields.update(fields)
        else:
            new_fields = {**self.fields, **fields}
        new = _build(id or self.id, new_fields, self.label,  # replace(id=, fields=, parent_id=, lineage=)
                     self.lineage + (step,) if step is not None else self.lineage,
                     self.parent_id if self.parent_id is not None else self.id, self.kept, self.reason, self.meta)
        new.__post_init__()
        return new

    def replace(self, **changes: Any) -> Sample:
        """A copy with ``changes`` (like ``dataclasses.replace``, without its per-field overhead)."""
        if not _SAMPLE_FIELDS.issuperset(changes):
            raise TypeError(f"Sample has no field(s) {sorted(set(changes) - _SAMPLE_FIELDS)}")
        get = changes.get
        new = _build(get("id", self.id), get("fields", self.fields), get("label", self.label),
                     get("lineage", self.lineage), get("parent_id", self.parent_id), get("kept", self.kept),
                     get("reason", self.reason), get("meta", self.meta))
        if "id" in changes or "fields" in changes:
            new.__post_init__()
        return new

    def reject(self, reason: str, step: LineageStep | None = None) -> Sample:
        """Return a copy marked as rejected with ``reason``."""
        return self.replace(kept=False, reason=reason, parent_id=self.root_id,
                            lineage=self.lineage + (step,) if step is not None else self.lineage)


def input_sample(id: str, fields: Mapping[str, Any], label: Any, meta: Mapping[str, Any]) -> Sample:
    """``Sample(id, fields, label=label, meta=meta)`` (no lineage, kept), as the readers decode every
    input: the same checks without the dataclass constructor's keywords.

    Example:
        >>> input_sample("a", {"text": "x"}, 1, {}) == Sample("a", {"text": "x"}, label=1, meta={})
        True
    """
    new = _build(id, fields, label, (), None, True, None, meta)
    new.__post_init__()
    return new


def restamp(sample: Sample, lineage: tuple[LineageStep, ...], parent_id: str | None,
            id: str | None = None) -> Sample:
    """``sample.replace(lineage=lineage, parent_id=parent_id)`` (and ``id=id`` when given): what
    every augmentation call does to the sample its ``apply`` returned, without the keywords.

    Example:
        >>> s, steps = Sample("a", {"text": "x"}), (LineageStep("t"),)
        >>> restamp(s, steps, "a", "a~0") == s.replace(lineage=steps, parent_id="a", id="a~0")
        True
    """
    new = _build(sample.id if id is None else id, sample.fields, sample.label, lineage, parent_id, sample.kept,
                 sample.reason, sample.meta)
    if id is not None and (type(id) is not str or not id):  # fields come from a checked sample
        new.__post_init__()
    return new


def _build(id: Any, fields: Any, label: Any, lineage: Any, parent_id: Any, kept: Any, reason: Any,
           meta: Any) -> Sample:
    """A :class:`Sample` with its eight fields set directly, unchecked (callers run ``__post_init__``
    where a value is new): what ``replace``, ``derive``, :func:`input_sample` and :func:`restamp` build."""
    new = _new(Sample)
    _sample_id(new, id)
    _sample_fields(new, fields)
    _sample_label(new, label)
    _sample_lineage(new, lineage)
    _sample_parent_id(new, parent_id)
    _sample_kept(new, kept)
    _sample_reason(new, reason)
    _sample_meta(new, meta)
    return new


_SAMPLE_FIELDS = frozenset(f.name for f in dataclasses.fields(Sample))
assert len(_STEP_FIELDS) == 13, "plain_step sets each LineageStep field by name: update it with the fields"
assert len(_SAMPLE_FIELDS) == 8, "_build sets each Sample field by name: update it with the fields"
_new = object.__new__


def _slot_setter(cls: type, name: str) -> Any:
    """The ``__set__`` of ``cls``'s slot ``name`` (a frozen dataclass's ``__setattr__`` refuses; the slot's
    descriptor sets it as ``object.__setattr__`` would, without looking the name up on every call)."""
    return cls.__dict__[name].__set__


(_step_name, _step_kind, _step_plugin, _step_version, _step_params, _step_seed, _step_model, _step_revision,
 _step_parent_ids, _step_score, _step_kept, _step_reason, _step_runtime) = (
    _slot_setter(LineageStep, n) for n in ("name", "kind", "plugin", "version", "params", "seed", "model",
                                           "revision", "parent_ids", "score", "kept", "reason", "runtime"))
(_sample_id, _sample_fields, _sample_label, _sample_lineage, _sample_parent_id, _sample_kept, _sample_reason,
 _sample_meta) = (_slot_setter(Sample, n) for n in ("id", "fields", "label", "lineage", "parent_id", "kept",
                                                     "reason", "meta"))


__all__ = ["Sample", "LineageStep", "modality_of"]
