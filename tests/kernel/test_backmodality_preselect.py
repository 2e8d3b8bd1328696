"""BackModality runs G only for the candidates keep-k will keep when nothing after G can reject one."""

from __future__ import annotations

from typing import Any

import pytest
from crossaug import BackModality, Sample
from crossaug.builtin.edit_distance import EditDistance
from crossaug.builtin.reverse import ReverseWords
from crossaug.builtin.typo import Typo

INPUTS = [Sample(f"s{i}", {"text": f"one two three four five six seven eight {i}"}) for i in range(3)]


class CountingReverse(ReverseWords):
    """G that counts the candidates it is asked to produce."""

    def transform_batch(self, samples: Any, seeds: Any) -> list[Any]:
        type(self).calls += len(samples)
        return super().transform_batch(samples, seeds)

    calls = 0


def recipe(keep: int | None = 5, filters: Any = None, dedupe: bool = False) -> BackModality:
    return BackModality(forward=ReverseWords(out_field="text.reversed"),
                        augment=Typo(rate=0.2, field="text.reversed"),
                        backward=CountingReverse(in_field="text.reversed", out_field="text"),
                        filters=filters, fan_out=(2, 2, 2), keep=keep, dedupe=dedupe)


def run(r: BackModality) -> tuple[int, list[Sample]]:
    CountingReverse.calls = 0
    out = r(INPUTS, seed=3, kept_only=False)
    return CountingReverse.calls, out


def test_no_filter_after_g_means_only_the_kept_candidates_are_generated(monkeypatch: pytest.MonkeyPatch) -> None:
    calls, out = run(recipe())
    assert calls == 5 * len(INPUTS)  # l = m = n = 2, k = 5: 5 generations per input, not 8
    monkeypatch.setattr(BackModality, "_preselect", lambda self, *a: ({}, {}))  # the old path: G on all 8, then keep
    all_calls, reference = run(recipe())
    assert all_calls == 8 * len(INPUTS)
    assert [(o.id, o.kept, o.reason) for o in out] == [(o.id, o.kept, o.reason) for o in reference]
    for a, b in zip(out, reference):
        if a.kept:  # same candidates kept, with the same payloads and lineage
            assert a.fields == b.fields and a.lineage == b.lineage
        else:  # dropped before G: the keep step is recorded, and no output G never made
            assert a.lineage[-1] == b.lineage[-1] and a.lineage[-1].name == "keep"
            assert "text.reversed" in a.fields and "text" not in a.fields


@pytest.mark.parametrize("kwargs", [dict(filters=[EditDistance(min_distance=0.0)]), dict(dedupe=True),
                                    dict(keep=None), dict(keep=8)])
def test_g_runs_on_every_candidate_when_something_may_still_need_it(kwargs: dict[str, Any]) -> None:
    calls, out = run(recipe(**kwargs))
    assert calls == 8 * len(INPUTS)


class RejectingReverse(CountingReverse):
    """G that rejects what it makes from the first of the n draws (as a safety checker would)."""

    def __call__(self, samples: Any, seeds: Any) -> list[Sample]:
        out = super().__call__(samples, seeds)
        return [o.reject("nsfw: flagged") if s in type(self).bad else o for o, s in zip(out, seeds)]

    bad: set[int] = set()


def test_a_candidate_g_rejects_is_replaced_from_the_reserve_and_the_draw_stays_uniform() -> None:
    from collections import Counter

    from crossaug import Seeder

    inputs = [Sample(f"p{i}", {"text": f"alpha beta gamma delta {i}"}) for i in range(300)]
    r = BackModality(forward=ReverseWords(out_field="text.reversed"), augment=Typo(rate=0.2, field="text.reversed"),
                     backward=RejectingReverse(in_field="text.reversed", out_field="text"), fan_out=(2, 2, 2), keep=3)
    seeder = Seeder(5)
    RejectingReverse.bad = {seeder.integer_seed("G", s.id, i, j, 0) for s in inputs
                            for i in range(2) for j in range(2)}  # 4 of the 8 candidates of each input
    RejectingReverse.calls = 0
    groups = r.process(inputs, seeder)
    kept_at: Counter[str] = Counter()
    for g in groups:
        kept = [c for c in g if c.kept]
        assert len(kept) == 3 and all(c.id.endswith(".1") for c in kept)  # only candidates G let pass
        kept_at.update(c.id.split("~")[1] for c in kept)
        assert all(c.reason.startswith(("nsfw", "not sampled")) for c in g if not c.kept)
    assert RejectingReverse.calls < 8 * len(inputs)  # still fewer generations than running G on all
    # each of the 4 passing candidates is kept with probability 3/4: 225 of 300, binomial sd 7.5
    assert set(kept_at) == {"0.0.1", "0.1.1", "1.0.1", "1.1.1"}
    assert all(abs(v - 225) < 4 * 7.5 for v in kept_at.values()), kept_at
