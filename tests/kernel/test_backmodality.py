"""BackModality: the paper's (l, m, n) fan-out, uniform keep-k, filters recorded, member cycling."""

from __future__ import annotations

from collections import Counter

import pytest
from crossaug import BackModality, ConfigError, Sample, Seeder
from crossaug.builtin.edit_distance import EditDistance
from crossaug.builtin.reverse import ReverseWords
from crossaug.builtin.typo import Typo

S = Sample("s", {"text": "one two three four five six seven eight nine ten"})


def recipe(fan_out=(2, 3, 2), keep=None, filters=None, augment=True) -> BackModality:
    return BackModality(forward=[ReverseWords(), ReverseWords(out_field="text.reversed")],
                        augment=Typo(rate=0.1, field="text.reversed") if augment else None,
                        backward=ReverseWords(in_field="text.reversed", out_field="text"),
                        filters=filters, fan_out=fan_out, keep=keep)


def test_fan_out_produces_l_m_n_candidates_with_distinct_ids() -> None:
    out = recipe()([S], seed=0, kept_only=False)
    assert len(out) == 2 * 3 * 2
    assert len({o.id for o in out}) == 12
    assert {o.id.split("~")[1] for o in out} == {f"{i}.{j}.{k}" for i in range(2) for j in range(3) for k in range(2)}
    for o in out:
        assert o.parent_id == "s"
        kinds = [st.kind for st in o.lineage]
        assert kinds == ["transform", "augmentation", "transform"]
        assert "text.reversed" in o.fields  # the intermediates are kept for reports:
        raw = o.fields["text.reversed.forward"]  # F's output before H changed it
        assert raw == " ".join(reversed(S.fields["text"].split()))


def test_h_candidates_differ_and_g_seeds_recorded() -> None:
    out = recipe(fan_out=(1, 4, 1))([S], seed=1, kept_only=False)
    texts = [o.fields["text"] for o in out]
    assert len(set(texts)) > 1
    seeds = [o.lineage[-1].seed for o in out]
    assert len(set(seeds)) == 4


def test_default_fan_out_is_list_lengths() -> None:
    r = recipe(fan_out=None)
    assert r.fan_out == [2, 1, 1]


def test_keep_samples_uniformly_among_passing() -> None:
    r = recipe(fan_out=(1, 6, 1), keep=2)
    counts: Counter[str] = Counter()
    for seed in range(300):
        out = r([S], seed=seed, kept_only=False)
        kept = [o for o in out if o.kept]
        assert len(kept) == 2
        for o in out:
            if not o.kept:
                assert o.reason.startswith("not sampled: keep=2 of 6")
        counts.update(o.id for o in kept)
    # each of the 6 candidates is kept with probability 2/6: 100 of 300 expected
    assert len(counts) == 6 and all(70 < c < 130 for c in counts.values()), counts


def test_filters_recorded_and_rejections_kept_in_output() -> None:
    strict = EditDistance(threshold=0.0)
    r = BackModality(forward=ReverseWords(), augment=Typo(rate=0.5, field="text.reversed"),
                     backward=ReverseWords(in_field="text.reversed", out_field="text"),
                     filters=[strict], fan_out=(1, 5, 1), keep=1)
    groups = r.process([S], Seeder(3))
    assert len(groups[0]) == 5
    for cand in groups[0]:
        step = [st for st in cand.lineage if st.kind == "filter"][0]
        assert step.name == "text.edit-distance" and step.score is not None
        assert step.kept is (step.score == 0.0)
        if not cand.kept:
            assert "edit distance" in cand.reason


def test_all_candidates_rejected_still_reported() -> None:
    r = recipe(fan_out=(1, 3, 1), filters=[EditDistance(threshold=0.0, min_distance=0.0)])
    r.augment[0].rate = 1.0
    out = r([S], seed=0, kept_only=False)
    assert len(out) == 3 and not any(o.kept for o in out)


def test_no_augmentation_is_identity_round_trip() -> None:
    out = recipe(augment=False, fan_out=(2, 1, 1))([S], seed=0)
    assert [o.fields["text"] for o in out] == [S.fields["text"]] * 2


@pytest.mark.parametrize("kwargs,msg", [
    ({"fan_out": (1, 0, 1)}, "positive integers"),
    ({"fan_out": (1, 1)}, "must be"),
    ({"keep": 0}, "keep must be"),
])
def test_bad_configuration(kwargs, msg) -> None:
    with pytest.raises(ConfigError, match=msg):
        recipe(**kwargs)


def test_wrong_step_types_rejected() -> None:
    with pytest.raises(ConfigError, match="forward transform must be a Transform"):
        BackModality(forward=Typo(), backward=ReverseWords())


def dedupe_recipe(rate: float, keep=None, top_up=0, dedupe=True, fan_out=(1, 4, 1)) -> BackModality:
    return BackModality(forward=ReverseWords(), augment=Typo(rate=rate, field="text.reversed"),
                        backward=ReverseWords(in_field="text.reversed", out_field="text"),
                        fan_out=fan_out, keep=keep, dedupe=dedupe, top_up=top_up)


def test_dedupe_rejects_repeats_with_reason_duplicate() -> None:
    # rate 0: H changes nothing, so all four candidates are the same text; only the first stays
    out = dedupe_recipe(0.0)([S], seed=0, kept_only=False)
    assert [o.kept for o in out] == [True, False, False, False]
    assert all(o.reason == "duplicate: same output as s~0.0.0" for o in out[1:])
    assert out[1].lineage[-1].name == "dedupe"
    # without dedupe the four copies are all kept
    assert all(o.kept for o in dedupe_recipe(0.0, dedupe=False)([S], seed=0, kept_only=False))


def test_kept_outputs_are_distinct_and_at_most_keep() -> None:
    out = dedupe_recipe(0.15, keep=3, fan_out=(1, 8, 1))([S], seed=2, kept_only=False)
    kept = [o.fields["text"] for o in out if o.kept]
    assert len(kept) == 3 and len(set(kept)) == 3
    reasons = Counter(o.reason.split(":")[0] for o in out if not o.kept)
    assert set(reasons) <= {"duplicate", "not sampled"}


def test_top_up_runs_new_rounds_only_for_short_inputs() -> None:
    # rate 0.3 on one round of 2 candidates cannot reach keep=4; top-up rounds use new ids and seeds
    two = [S, Sample("t", {"text": "alpha beta gamma delta epsilon zeta eta theta"})]
    short = dedupe_recipe(0.3, keep=4, fan_out=(1, 2, 1))(two, seed=0, kept_only=False)
    topped = dedupe_recipe(0.3, keep=4, top_up=2, fan_out=(1, 2, 1))(two, seed=0, kept_only=False)
    assert sum(o.kept for o in short if o.parent_id == "s") == 2
    kept_s = [o for o in topped if o.parent_id == "s" and o.kept]
    assert len(kept_s) == 4 and len({o.fields["text"] for o in kept_s}) == 4
    ids = [o.id for o in topped if o.parent_id == "s"]
    assert ids == ["s~0.0.0", "s~0.1.0", "s~1.0.0", "s~1.1.0"]  # one extra round reached k; no more
    # the first round is the same with or without top-up (top-up only adds)
    assert [o.fields["text"] for o in topped if o.id in ("s~0.0.0", "s~0.1.0")] == \
        [o.fields["text"] for o in short if o.parent_id == "s"]


def test_top_up_is_bounded_when_inputs_cannot_reach_k() -> None:
    out = dedupe_recipe(0.0, keep=5, top_up=3, fan_out=(1, 2, 1))([S], seed=0, kept_only=False)
    assert len(out) == 2 * 4  # the first round and three top-up rounds, no more
    assert sum(o.kept for o in out) == 1


def test_n_param_maps_cli_n_to_keep() -> None:
    assert BackModality.n_param == "keep"
    with pytest.raises(ConfigError, match="top_up"):
        dedupe_recipe(0.1, top_up=-1)


def test_run_reports_kept_outputs_per_label_and_warns_on_a_shift(tmp_path) -> None:
    import crossaug
    from crossaug.runner.summary import label_balance

    rows = [{"id": f"p{i}", "text": f"good words number {i} here", "label": "pos"} for i in range(3)]
    rows += [{"id": f"n{i}", "text": "", "label": "neg"} for i in range(3)]  # nothing to transform: no output
    res = crossaug.run(dedupe_recipe(0.2, keep=2, fan_out=(1, 4, 1)), rows, tmp_path / "o", on_error="skip",
                       report=False)
    bal = res.label_balance
    assert bal["inputs"] == {"neg": 3, "pos": 3} and bal["outputs"] == {"pos": res.summary["kept"]}
    assert bal["shift_pp"] == 50.0 and "50.0 percentage points" in bal["warning"]
    # by hand: 4 of 10 inputs positive (40%), 6 of 10 outputs positive (60%): 20 points
    assert label_balance({"pos": 4, "neg": 6}, {"pos": 6, "neg": 4})["shift_pp"] == 20.0
    assert label_balance({"pos": 4, "neg": 6}, {"pos": 9, "neg": 11})["warning"] is None  # 45% vs 40%
