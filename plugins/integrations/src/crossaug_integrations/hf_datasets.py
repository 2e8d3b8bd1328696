"""Hugging Face ``datasets`` integration: augment a ``Dataset`` with ``dataset.map`` (batched).

:func:`augment_dataset` runs a crossaug recipe over a dataset with
``Dataset.map(batched=True)`` and returns a new dataset with one row per
candidate: ``id``, ``parent_id``, ``kept``, ``reason``, the sample's fields
(``text`` as strings, ``audio`` as ``{"array", "sampling_rate"}``, ``image`` as
PIL images), ``label``, the input's other columns, and ``lineage`` (a JSON
string). Randomness is keyed by the root seed and the row's id (``id`` column,
else its index), exactly as in ``crossaug.run``, so the rows equal the run's
manifest for the same seed, whatever ``batch_size`` or ``num_proc``.

The map's fingerprint is derived from the input's fingerprint, the recipe
definition and the seed, so ``datasets``' own cache skips a rerun.

``datasets`` is imported by this module only (``pip install 'crossaug[datasets]'``).

Example:
    >>> import datasets
    >>> from crossaug.builtin.typo_recipe import TypoRecipe
    >>> ds = datasets.Dataset.from_dict({"text": ["a small cat", "a big dog"], "label": [0, 1]})
    >>> aug = augment_dataset(ds, TypoRecipe(n=2, rate=0.2), seed=0)
    >>> list(aug["parent_id"]), list(aug["label"])
    (['0', '0', '1', '1'], [0, 0, 1, 1])
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from crossaug._json import to_jsonable
from crossaug.errors import BadSample, ConfigError, CrossaugError, MissingDependency
from crossaug.modalities.audio import Audio
from crossaug.recipe import Recipe
from crossaug.rng import Seeder
from crossaug.sample import Sample

from . import as_recipe, row_to_sample

log = logging.getLogger(__name__)

RESERVED_COLUMNS = ("id", "parent_id", "kept", "reason", "label", "lineage")


def _import_datasets() -> Any:
    try:
        import datasets
    except ImportError as exc:
        raise MissingDependency("pip install 'crossaug[datasets]'", what="datasets") from exc
    return datasets


def _payload(value: Any) -> Any:
    if isinstance(value, Audio):
        return {"array": value.samples, "sampling_rate": int(value.sample_rate)}
    return value


class _MapFn:
    """The batched map function (a picklable object, so ``num_proc > 1`` works)."""

    def __init__(self, recipe: Recipe, seed: int, on_error: str, include_original: bool,
                 columns: list[str], fields: list[str], has_label: bool) -> None:
        self.recipe = recipe
        self.seed = seed
        self.on_error = on_error
        self.include_original = include_original
        self.columns = columns
        self.fields = fields  # output field columns, fixed so every batch has the same schema
        self.has_label = has_label

    def _row(self, sample: Sample, parent: Sample | None, extra: dict[str, Any], kept: bool,
             reason: str | None) -> dict[str, Any]:
        row: dict[str, Any] = {"id": sample.id, "parent_id": parent.id if parent is not None else sample.id,
                               "kept": kept, "reason": reason}
        for name in self.fields:
            row[name] = _payload(sample.fields.get(name))
        if self.has_label:
            row["label"] = sample.label
        row.update(extra)
        row["lineage"] = json.dumps([step.to_dict() for step in sample.lineage], ensure_ascii=False)
        return row

    def __call__(self, batch: dict[str, list[Any]], indices: list[int]) -> dict[str, list[Any]]:
        from crossaug.io.datasets import known_modalities

        modalities = known_modalities()
        names = list(batch)
        rows_in = [{k: batch[k][j] for k in names} for j in range(len(indices))]
        samples: list[tuple[int, Sample]] = []
        out_rows: list[dict[str, Any]] = []
        failed: dict[int, str] = {}
        for j, (row, index) in enumerate(zip(rows_in, indices)):
            try:
                samples.append((j, row_to_sample(row, index, self.recipe.required_fields(), modalities)))
            except BadSample as exc:
                if self.on_error == "raise":
                    raise
                failed[j] = f"BadSample: {exc}"
        groups = self.recipe.process([s for _, s in samples], Seeder(self.seed)) if samples else []
        by_row = {j: (s, g) for (j, s), g in zip(samples, groups)}
        for j, (row, index) in enumerate(zip(rows_in, indices)):
            extra = {c: row[c] for c in self.columns if c in row}
            if j in failed:
                rid = str(row.get("id") or index)
                bad = Sample(rid, {}, label=row.get("label"))
                out_rows.append(self._row(bad, None, extra, False, failed[j]))
                continue
            parent, group = by_row[j]
            if self.include_original:
                out_rows.append(self._row(parent, None, extra, True, None))
            for cand in group:
                out_rows.append(self._row(cand, parent, extra, bool(cand.kept), cand.reason))
        keys = ["id", "parent_id", "kept", "reason", *self.fields, *(["label"] if self.has_label else []),
                *self.columns, "lineage"]
        return {k: [r.get(k) for r in out_rows] for k in keys}


def _features(datasets: Any, dataset: Any, fields: list[str], extra: list[str], has_label: bool) -> Any:
    """The output schema (explicit, so batches whose reasons are all empty still agree)."""
    from crossaug.sample import modality_of

    string = datasets.Value("string")

    def like_input(name: str) -> Any:  # keep the input's string type (CSV loaders give large_string)
        f = dataset.features.get(name)
        return f if isinstance(f, datasets.Value) and f.dtype in ("string", "large_string") else string

    ids = like_input("id")
    cols: dict[str, Any] = {"id": ids, "parent_id": ids, "kept": datasets.Value("bool"), "reason": string}
    for name in fields:
        modality = modality_of(name)
        if modality == "text":
            cols[name] = like_input(name)
        elif modality == "image":
            cols[name] = datasets.Image()
        elif modality == "audio":  # plain arrays: no audio decoder needed to read them back
            cols[name] = {"array": datasets.List(datasets.Value("float32")), "sampling_rate": datasets.Value("int64")}
        else:
            return None  # a third-party modality: let datasets infer the schema
    if has_label:
        cols["label"] = dataset.features["label"]
    for name in extra:
        cols[name] = dataset.features[name]
    cols["lineage"] = string
    return datasets.Features(cols)


def augment_dataset(dataset: Any, recipe: Recipe | str, *, seed: int = 0, batch_size: int = 32,
                    kept_only: bool = True, include_original: bool = False, on_error: str = "raise",
                    num_proc: int | None = None, params: dict[str, Any] | None = None,
                    load_from_cache_file: bool | None = None, desc: str | None = None) -> Any:
    """Augment a Hugging Face ``datasets.Dataset`` with a crossaug recipe (``Dataset.map``, batched).

    Args:
        dataset: a ``datasets.Dataset`` with field columns (``text``, ``audio``, ``image``)
            and optionally ``id`` and ``label``; other columns are carried along.
        recipe: a :class:`~crossaug.Recipe` or a registered recipe name (built with ``params``).
        seed: root seed (same seed, same rows).
        batch_size: rows per recipe call.
        kept_only: drop the candidates the recipe's filters rejected.
        include_original: also keep each input row (``kept`` true, empty lineage).
        on_error: ``raise`` or ``skip`` (bad rows become rejected rows with a reason).
        num_proc: processes for ``map``.
        params: recipe parameters when ``recipe`` is a name.
        load_from_cache_file, desc: passed to ``Dataset.map``.
    """
    datasets = _import_datasets()
    recipe = as_recipe(recipe, params)
    if on_error not in ("raise", "skip"):
        raise ConfigError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
    if not isinstance(dataset, datasets.Dataset):
        raise ConfigError(f"augment_dataset needs a datasets.Dataset, got {type(dataset).__name__} "
                          "(for an IterableDataset, use crossaug_integrations.torch_dataset or crossaug.run)")
    from crossaug.io.datasets import known_modalities
    from crossaug.sample import modality_of

    modalities = known_modalities()
    field_columns = [c for c in dataset.column_names if modality_of(c) in modalities]
    if recipe.requires_fit:
        recipe.fit(row_to_sample(row, i, recipe.required_fields(), modalities) for i, row in enumerate(dataset))
    # output fields: the inputs' plus what the recipe adds, found on the first row
    fields = list(field_columns)
    try:
        probe = recipe.process([row_to_sample(dataset[0], 0, recipe.required_fields(), modalities)],
                               Seeder(seed)) if len(dataset) else [[]]
    except CrossaugError:  # a bad first row: map() reports it (or records it with on_error="skip")
        probe = [[]]
    for cand in probe[0]:
        fields += [f for f in cand.fields if f not in fields]
    extra_columns = [c for c in dataset.column_names if c not in field_columns and c not in RESERVED_COLUMNS]
    has_label = "label" in dataset.column_names
    fn = _MapFn(recipe, seed, on_error, include_original, extra_columns, fields, has_label)
    features = _features(datasets, dataset, fields, extra_columns, has_label)
    from crossaug import __version__
    from crossaug.step import distribution_of_module

    identity = json.dumps({"input": getattr(dataset, "_fingerprint", None), "recipe": recipe.to_dict(),
                           "versions": [__version__, distribution_of_module(type(recipe).__module__)],
                           "seed": seed, "include_original": include_original, "on_error": on_error,
                           "fields": fields}, sort_keys=True, default=str)
    fingerprint = hashlib.blake2b(identity.encode(), digest_size=16).hexdigest()
    out = dataset.map(fn, batched=True, batch_size=batch_size, with_indices=True,
                      remove_columns=dataset.column_names, num_proc=num_proc, new_fingerprint=fingerprint,
                      features=features,
                      load_from_cache_file=load_from_cache_file, desc=desc or f"crossaug {recipe.name}")
    if kept_only:
        out = out.filter(lambda kept: kept, input_columns="kept", batch_size=batch_size,
                         new_fingerprint=fingerprint + "-kept")
    return out


def to_jsonable_row(row: dict[str, Any]) -> dict[str, Any]:
    """A row of :func:`augment_dataset` with its lineage parsed, for comparison with a manifest line."""
    row = dict(row)
    row["lineage"] = json.loads(row["lineage"])
    return to_jsonable(row)


__all__ = ["augment_dataset", "to_jsonable_row"]
