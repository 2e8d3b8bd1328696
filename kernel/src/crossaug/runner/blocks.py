"""One input's outputs as manifest bytes, counted and their ids checked, in one pass.

What :func:`~crossaug.recipe.check_output_ids`, :meth:`Tally.add_sample
<crossaug.runner.summary.Tally.add_sample>` and ``dumps(sample_record(...))`` for each output
give, with one loop over the outputs, the parts an input's outputs share built once, and the
usual output (kept, inline text fields, a label that is text or none, no metadata, the usual
lineage steps) written without the general per-line checks: the same bytes, the same counts,
the same error for a bad id.

Example:
    >>> from pathlib import Path
    >>> from crossaug import LineageStep, Sample
    >>> from crossaug.runner.summary import Tally
    >>> parent, t = Sample("a", {"text": "one"}), Tally()
    >>> outs = [parent.derive(LineageStep("up", params={}), id=f"a~{i}", text="ONE") for i in range(2)]
    >>> print(input_block(outs, parent, "r", Path("."), t).decode(), end="")
    {"id":"a~0","parent_id":"a","recipe":"r","kept":true,"reason":null,"label":null,"text":"ONE","parent":{"text":"one"},"lineage":[{"name":"up","kind":"augmentation","params":{}}]}
    {"id":"a~1","parent_id":"a","recipe":"r","kept":true,"reason":null,"label":null,"text":"ONE","parent":{"text":"one"},"lineage":[{"name":"up","kind":"augmentation","params":{}}]}
    >>> t.kept, t.parents
    (2, {'a': 2})
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from orjson import dumps as _orjson_dumps

from ..recipe import check_output_ids
from ..sample import Sample
from .records import _OPTIONS, _field, _fields, _line_record, _parent_fields, dumps, plain_step_dict, sample_record
from .summary import Tally


def input_block(group: Sequence[Sample], parent: Sample, recipe: str, out_dir: Path, tally: Tally) -> bytes:
    """The manifest lines of ``parent``'s outputs ``group`` as UTF-8 (each ends with a newline), media
    written, each output counted into ``tally``; raises :class:`~crossaug.errors.ConfigError` (before
    anything is written or counted) when an output keeps its parent's id or repeats another's.
    """
    pid, size = parent.id, len(group)
    if size == 1:
        bad = group[0].id == pid
    elif size == 2:  # the usual n=2 without a set
        a, b = group[0].id, group[1].id
        bad = a == b or a == pid or b == pid
    else:
        ids = {out.id for out in group}
        bad = len(ids) != size or pid in ids
    if bad:
        check_output_ids(recipe, [parent], [group])  # raises, naming the first bad id
    count, fields, field = tally.count, _fields, _field
    steps: dict[int, dict[str, Any]] = {}  # the general lines' step entries, each written once per input
    shared: dict[str, Any] | None = None  # the parent's fields
    lines = []
    for sample in group:
        rec: dict[str, Any] | None = None
        label = sample.label
        # the usual output: kept, inline text fields, a text label or none, no metadata, usual steps
        if sample.kept is True and sample.reason is None and not sample.meta and (label is None or type(label) is str):
            parent_id = sample.parent_id
            rec = {"id": sample.id, "parent_id": sample.id if parent_id is None else parent_id,
                   "recipe": recipe, "kept": True, "reason": None, "label": label}
            for name, payload in sample.fields.items():
                kind = fields.get(name, fields)  # the cache itself when the name is not in it yet
                if kind is fields:
                    try:
                        kind = field(name)
                    except TypeError:  # a field named like a manifest key: the general line says so
                        kind = fields
                if kind is not None or type(payload) is not str:
                    rec = None
                    break
                rec[name] = payload
            if rec is not None:
                lineage = []
                for step in sample.lineage:  # the usual steps (a seed, a model, a filter's verdict: not)
                    found = plain_step_dict(step)
                    if found is None:
                        rec = None
                        break
                    lineage.append(found)
            if rec is not None:
                if shared is None:
                    shared = _parent_fields(parent, out_dir)
                rec["parent"] = shared
                rec["lineage"] = lineage
                count(rec["parent_id"], label, True)
        if rec is None:
            tally.add_sample(sample)
            try:
                rec = _line_record(sample, parent, recipe, out_dir, steps)
            except (ValueError, TypeError, RecursionError):
                lines.append(dumps(sample_record(sample, parent, recipe, out_dir)).encode("utf-8"))
                continue
        try:
            lines.append(_orjson_dumps(rec, option=_OPTIONS))
        except (ValueError, TypeError, RecursionError):  # what orjson refuses: the dict path makes it plain
            lines.append(dumps(sample_record(sample, parent, recipe, out_dir)).encode("utf-8"))
    lines.append(b"")
    return b"\n".join(lines)


__all__ = ["input_block"]
