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
    monkeypatch.setattr(BackModality, "_preselect", lambda self, *a: {})  # the old path: G on all 8, then keep
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
