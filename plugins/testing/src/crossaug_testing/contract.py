"""Contract test suites that every registered transform, augmentation, filter and recipe passes.

Subclass one in a plugin's tests, say how to build the step and give a few good
and bad samples; pytest collects the inherited tests.

Example (in ``tests/plugins/text/test_eda.py``)::

    class TestEDAContract(AugmentationContract):
        name = "text.eda"
        params = {"alpha_sr": 0.1}

        def good_samples(self):
            return [Sample("s1", {"text": "the quick brown fox jumps"})]

        def bad_samples(self):
            return [(Sample("e", {"text": ""}), "empty")]
"""

from __future__ import annotations

import json
import math
import pickle
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import pytest
from crossaug import registry
from crossaug.errors import CrossaugError
from crossaug.rng import Seeder
from crossaug.sample import Sample
from crossaug.serialization import from_dict

from .tolerance import payload_mismatch, record_mismatch


def fields_equal(a: Sample, b: Sample) -> bool:
    """Field-by-field equality that understands arrays, images and audio."""
    if set(a.fields) != set(b.fields):
        return False
    for k in a.fields:
        x, y = a.fields[k], b.fields[k]
        if hasattr(x, "tobytes") and hasattr(y, "tobytes") and not isinstance(x, np.ndarray):
            if getattr(x, "size", None) != getattr(y, "size", None) or x.tobytes() != y.tobytes():
                return False
        elif isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
            if not np.array_equal(np.asarray(x), np.asarray(y)):
                return False
        elif x != y:
            return False
    return True


def is_neural(sample: Sample) -> bool:
    """Whether a neural step (one that records its runtime in lineage) contributed to ``sample``."""
    return any(step.runtime for step in sample.lineage)


def _lineage(sample: Sample) -> list[dict[str, Any]]:
    return [{k: v for k, v in step.to_dict().items() if k != "runtime"} for step in sample.lineage]


def outputs_mismatch(a: Sample, b: Sample) -> tuple[str | None, int]:
    """Compare two outputs under the reproducibility contract (``docs/concepts.md``).

    Returns ``(reason or None, text flips)``. Ids, verdicts, lineage (less its runtime
    record) and payloads are exact unless a neural step contributed; then payloads and the
    numbers recorded in lineage are compared with :mod:`crossaug_testing.tolerance`, and
    differing texts are counted as greedy-decoding flips (a flip may change the lineage
    downstream of it) for the caller to bound.
    """
    if (a.id, a.kept, a.parent_id, a.label) != (b.id, b.kept, b.parent_id, b.label):
        return f"id/verdict/parent/label differ: {a.id!r} vs {b.id!r}", 0
    if set(a.fields) != set(b.fields):
        return f"{a.id}: fields differ {sorted(a.fields)} vs {sorted(b.fields)}", 0
    if not is_neural(a) or not is_neural(b):
        if not fields_equal(a, b):
            return f"{a.id}: payloads of a non-neural output differ", 0
        why = record_mismatch(_lineage(a), _lineage(b), rel=0.0, where="lineage")
        return (None if why is None else f"{a.id}: {why}"), 0
    flips = 0
    for k in a.fields:
        x, y = a.fields[k], b.fields[k]
        if isinstance(x, str) and isinstance(y, str):
            flips += x != y
            continue
        why = payload_mismatch(x, y)
        if why:
            return f"{a.id} field {k!r}: {why}", flips
    if flips:
        return None, flips
    why = record_mismatch(_lineage(a), _lineage(b), where="lineage")
    return (None if why is None else f"{a.id}: {why}"), 0


class _StepContract:
    #: entry-point name of the step under test
    name: ClassVar[str] = ""
    #: its kind (set by the subclasses below)
    kind: ClassVar[str] = ""
    #: constructor parameters for the instance under test
    params: ClassVar[dict[str, Any]] = {}
    #: across batch sizes, at most this share of a neural step's texts may differ (greedy
    #: decoding flips where an argmax lies within the payload tolerance)
    max_text_flips: ClassVar[float] = 0.25

    def assert_same_outputs(self, a: Sequence[Sample], b: Sequence[Sample]) -> None:
        """Outputs of two batchings agree under the reproducibility contract."""
        assert len(a) == len(b), f"{len(a)} outputs vs {len(b)}"
        flips = texts = 0
        for x, y in zip(a, b):
            why, n = outputs_mismatch(x, y)
            assert why is None, why
            flips += n
            if is_neural(x):
                texts += sum(isinstance(v, str) for v in x.fields.values())
        assert flips <= self.max_text_flips * texts, f"{flips} of {texts} neural texts differ"

    def make(self) -> Any:
        """Build the step through the registry, the way users do."""
        return registry.create(self.kind, self.name, **self.params)

    def good_samples(self) -> Sequence[Sample]:
        raise NotImplementedError("give at least two valid samples")

    def bad_samples(self) -> Sequence[tuple[Sample, str]]:
        """(sample, fragment expected in the error message) pairs."""
        return []

    def test_registered_by_name(self) -> None:
        step = self.make()
        assert self.name in registry.names(self.kind)
        assert step.name == self.name

    def test_to_dict_round_trip(self) -> None:
        step = self.make()
        d = step.to_dict()
        assert json.loads(json.dumps(d)) == d, "to_dict must be JSON-serialisable"
        again = from_dict(d)
        assert type(again) is type(step)
        assert again.to_dict() == d

    def test_picklable(self) -> None:
        step = self.make()
        again = pickle.loads(pickle.dumps(step))
        assert again.to_dict() == step.to_dict()

    def test_bad_input_names_sample(self) -> None:
        step = self.make()
        for sample, fragment in self.bad_samples():
            with pytest.raises(CrossaugError) as info:
                self.run_once(step, sample, 0)
            message = str(info.value)
            assert sample.id in message, f"error does not name sample {sample.id!r}: {message}"
            assert fragment.lower() in message.lower(), f"expected {fragment!r} in: {message}"

    def test_rejects_non_samples(self) -> None:
        step = self.make()
        with pytest.raises((CrossaugError, TypeError)):
            self.run_once(step, "not a sample", 0)  # type: ignore[arg-type]

    def run_once(self, step: Any, sample: Sample, seed: int) -> Any:
        raise NotImplementedError


def _plain_json(value: Any) -> bool:
    """Whether ``value`` is made of JSON's own types only (str, int, finite float, bool, ``None``,
    lists, dicts with str keys): what a step that says ``json_params`` promises."""
    kind = type(value)
    if value is None or kind in (str, int, bool):
        return True
    if kind is float:
        return math.isfinite(value)
    if kind is list:
        return all(_plain_json(v) for v in value)
    if kind is dict:
        return all(type(k) is str and _plain_json(v) for k, v in value.items())
    return False


def _containers(value: Any) -> set[int]:
    """The ids of the lists and dicts inside ``value`` (itself included)."""
    if type(value) is list:
        return {id(value)}.union(*(_containers(v) for v in value))
    if type(value) is dict:
        return {id(value)}.union(*(_containers(v) for v in value.values()))
    return set()


class AugmentationContract(_StepContract):
    """Determinism, replay from recorded params, serialisation, bad inputs."""

    kind: ClassVar[str] = "augmentation"
    #: set False for augmentations that may legitimately return the input unchanged
    must_change: ClassVar[bool] = True

    def run_once(self, step: Any, sample: Sample, seed: int) -> Sample:
        return step.augment(sample, np.random.default_rng(seed))

    def test_deterministic_under_seed(self) -> None:
        step = self.make()
        for s in self.good_samples():
            a = self.run_once(step, s, 123)
            b = self.run_once(self.make(), s, 123)
            assert fields_equal(a, b)
            assert a.lineage[-1].params == b.lineage[-1].params

    def test_seeds_vary_output(self) -> None:
        if not self.must_change:
            pytest.skip("this augmentation may leave inputs unchanged")
        step = self.make()
        s = self.good_samples()[0]
        outs = [self.run_once(step, s, seed) for seed in range(8)]
        assert any(not fields_equal(o, s) for o in outs), "no seed changed the sample"

    def test_replay_from_params(self) -> None:
        step = self.make()
        for s in self.good_samples():
            out = self.run_once(step, s, 7)
            params = json.loads(json.dumps(out.lineage[-1].params))  # as read back from a manifest
            again = self.make().replay(s, params)
            assert fields_equal(out, again)

    def test_params_are_json(self) -> None:
        """Params serialise as JSON; a step that says ``json_params`` (its lineage keeps
        ``sample_params``' dict as it is) returns a new dict of plain JSON values on every call,
        sharing no list or dict with another call's."""
        step = self.make()
        strict = getattr(step, "json_params", False)
        for s in self.good_samples():
            for seed in range(4 if strict else 1):
                params = step.sample_params(s, np.random.default_rng(seed))
                json.dumps(params)
                if strict:
                    again = step.sample_params(s, np.random.default_rng(seed))
                    assert type(params) is dict and _plain_json(params), f"params are not plain JSON: {params!r}"
                    assert params == again and not _containers(params) & _containers(again), \
                        "params share a list or dict between calls"

    def test_input_not_mutated(self) -> None:
        step = self.make()
        for s in self.good_samples():
            before = {k: (v.copy() if hasattr(v, "copy") else v) for k, v in s.fields.items()}
            self.run_once(step, s, 3)
            assert fields_equal(s, s.replace(fields=before))

    def test_lineage_recorded(self) -> None:
        step = self.make()
        s = self.good_samples()[0]
        out = self.run_once(step, s, 0)
        assert len(out.lineage) == len(s.lineage) + 1
        assert out.lineage[-1].name == self.name
        assert out.lineage[-1].kind == "augmentation"


class TransformContract(_StepContract):
    """Determinism per seed, batch-size independence, lineage, serialisation, bad inputs."""

    kind: ClassVar[str] = "transform"

    def run_once(self, step: Any, sample: Sample, seed: int) -> Sample:
        return step([sample], [seed])[0]

    def test_deterministic_under_seed(self) -> None:
        samples = list(self.good_samples())
        a = self.make()(samples, list(range(len(samples))))
        b = self.make()(samples, list(range(len(samples))))
        assert all(fields_equal(x, y) for x, y in zip(a, b))

    def test_batch_size_independent(self) -> None:
        samples = list(self.good_samples())
        seeds = [11 + i for i in range(len(samples))]
        step = self.make()
        together = step(samples, seeds)
        one_by_one = [step([s], [seed])[0] for s, seed in zip(samples, seeds)]
        self.assert_same_outputs(together, one_by_one)

    def test_output_field_and_lineage(self) -> None:
        step = self.make()
        s = self.good_samples()[0]
        out = self.run_once(step, s, 5)
        assert step.output_field in out.fields
        assert out.lineage[-1].name == self.name and out.lineage[-1].seed == 5
        from crossaug.modality import field_modality

        field_modality(step.output_field).validate(out.fields[step.output_field], sample_id=out.id,
                                                   field=step.output_field)


class FilterContract(_StepContract):
    """Scores are finite floats, verdicts are recorded, rejections carry a reason."""

    kind: ClassVar[str] = "filter"

    def pairs(self) -> Sequence[tuple[Sample, Sample, bool]]:
        """(candidate, parent, expected verdict) triples."""
        raise NotImplementedError

    def good_samples(self) -> Sequence[Sample]:
        return [c for c, _, _ in self.pairs()]

    def run_once(self, step: Any, sample: Sample, seed: int) -> Any:
        return step([sample], [sample])

    def test_verdicts(self) -> None:
        step = self.make()
        triples = list(self.pairs())
        out = step([c for c, _, _ in triples], [p for _, p, _ in triples])
        for o, (_, _, expected) in zip(out, triples):
            assert o.kept is expected, o.reason
            assert o.lineage[-1].name == self.name and o.lineage[-1].score is not None
            assert np.isfinite(o.lineage[-1].score)
            if not expected:
                assert o.reason and self.name in o.reason


class RecipeContract(_StepContract):
    """Same seed, same outputs; outputs name their parent; independent of batching; serialisation.

    Recipes with ``requires_fit`` are fitted once on all of :meth:`good_samples` (the dataset)
    and then asked to process any subset of it, as the runner does.
    """

    kind: ClassVar[str] = "recipe"

    def make_fitted(self) -> Any:
        step = self.make()
        if step.requires_fit:
            step.fit(list(self.good_samples()))
        return step

    def run_once(self, step: Any, sample: Sample, seed: int) -> Any:
        if step.requires_fit:
            step.fit(list(self.good_samples()))
        return step.process([sample], Seeder(seed))

    def test_deterministic_under_seed(self) -> None:
        samples = list(self.good_samples())
        a = self.make_fitted().process(samples, Seeder(3))
        b = self.make_fitted().process(samples, Seeder(3))
        assert [[o.id for o in g] for g in a] == [[o.id for o in g] for g in b]
        assert all(fields_equal(x, y) for ga, gb in zip(a, b) for x, y in zip(ga, gb))

    def test_batch_independent(self) -> None:
        samples = list(self.good_samples())
        step = self.make_fitted()
        together = step.process(samples, Seeder(9))
        alone = [step.process([s], Seeder(9))[0] for s in samples]
        for ga, gb in zip(together, alone):
            assert [o.id for o in ga] == [o.id for o in gb]
        self.assert_same_outputs([o for g in together for o in g], [o for g in alone for o in g])

    def test_outputs_name_parent(self) -> None:
        samples = list(self.good_samples())
        groups = self.make_fitted().process(samples, Seeder(0))
        assert len(groups) == len(samples)
        for s, group in zip(samples, groups):
            assert group, f"no output for {s.id}"
            for o in group:
                assert o.parent_id == s.id
                assert o.kept or o.reason

    def test_output_ids_are_new_and_unique(self) -> None:
        """No output keeps its parent's id or repeats another output's id (the runner refuses both)."""
        from crossaug.recipe import check_output_ids

        samples = list(self.good_samples())
        groups = self.make_fitted().process(samples, Seeder(0))
        ids = [o.id for g in groups for o in g]
        assert not {s.id for s in samples} & set(ids), "an output kept its parent's id"
        assert len(ids) == len(set(ids)), f"repeated output ids: {sorted(i for i in set(ids) if ids.count(i) > 1)}"
        check_output_ids(self.name, samples, groups)


__all__ = ["AugmentationContract", "TransformContract", "FilterContract", "RecipeContract", "fields_equal",
           "is_neural", "outputs_mismatch"]
