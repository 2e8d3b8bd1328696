"""The evaluation protocol on a toy dataset: balanced k-shot sets, seeds, the same budget for every method."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any, ClassVar

import pytest
from crossaug import ConfigError, Filter, Sample, Seeder
from crossaug.builtin.typo import Typo
from crossaug.recipe import Augment
from crossaug_eval import Protocol, evaluate
from crossaug_eval.methods import make_method
from crossaug_eval.protocol import choose_budget, k_shot_indices, nested_k_shot, stratified_split

LABELS = ["a"] * 12 + ["b"] * 10 + ["c"] * 8


def toy(n_per_class: int = 12) -> list[Sample]:
    words = {"red": ["apple", "cherry", "rose", "brick"], "blue": ["sea", "sky", "jay", "ink"],
             "green": ["leaf", "frog", "lime", "moss"]}
    return [Sample(f"{c}{i}", {"text": f"{c} {words[c][i % 4]} number {i}"}, label=c)
            for c in words for i in range(n_per_class)]


def test_k_shot_is_exactly_balanced_and_nested() -> None:
    sets = nested_k_shot(LABELS, [1, 2, 5], Seeder(3).rng("k"))
    for k, idx in sets.items():
        assert Counter(LABELS[i] for i in idx) == {"a": k, "b": k, "c": k}
        assert len(set(idx)) == len(idx)
    assert set(sets[1]) <= set(sets[2]) <= set(sets[5])
    assert k_shot_indices(LABELS, 2, Seeder(3).rng("k")) == nested_k_shot(LABELS, [2], Seeder(3).rng("k"))[2]


def test_k_shot_depends_only_on_the_seed() -> None:
    a = k_shot_indices(LABELS, 3, Seeder(1).rng("k"))
    assert a == k_shot_indices(LABELS, 3, Seeder(1).rng("k"))
    assert a != k_shot_indices(LABELS, 3, Seeder(2).rng("k"))


def test_k_larger_than_a_class_is_an_error() -> None:
    with pytest.raises(ConfigError, match="'c' \\(8\\)"):
        k_shot_indices(LABELS, 9, Seeder(0).rng("k"))


def test_split_is_disjoint_and_stratified() -> None:
    pool, test = stratified_split(LABELS, 3, Seeder(0).rng("s"))
    assert not set(pool) & set(test) and len(pool) + len(test) == len(LABELS)
    assert Counter(LABELS[i] for i in test) == {"a": 3, "b": 3, "c": 3}
    with pytest.raises(ConfigError):
        stratified_split(LABELS, 8, Seeder(0).rng("s"))


def test_protocol_training_sets_and_seeds() -> None:
    p = Protocol(shots=(1, 3), data_seeds=3, train_seeds=2, test_per_class=2)
    pool, test = p.split(LABELS)
    sets = p.training_sets(LABELS, pool)
    assert sorted(sets) == [(1, 0), (1, 1), (1, 2), (3, 0), (3, 1), (3, 2)]
    for (k, s), idx in sets.items():
        assert not set(idx) & set(test)
        assert Counter(LABELS[i] for i in idx) == {"a": k, "b": k, "c": k}
        assert set(sets[(1, s)]) <= set(sets[(3, s)])
    assert sets[(3, 0)] != sets[(3, 1)]
    seeds = {p.train_seed(k, s, t) for k in (1, 3) for s in range(3) for t in range(2)}
    assert len(seeds) == 12 and p.runs_per_method() == 12
    with pytest.raises(ConfigError):
        Protocol(budget=0)


def test_choose_budget_exact_counts() -> None:
    rng = Seeder(0).rng("b")
    assert len(choose_budget(list("abcdefg"), 5, rng)) == 5
    assert len(set(choose_budget(list("abcdefg"), 5, Seeder(0).rng("b")))) == 5  # without replacement
    short = choose_budget(["x", "y"], 5, rng)
    assert len(short) == 5 and short[:2] == ["x", "y"] and set(short) == {"x", "y"}
    assert choose_budget([], 5, rng) == []


class RejectOdd(Filter):
    """Rejects candidates whose typo params hash odd: about half of them."""

    name: ClassVar[str] = "test.reject-odd"

    def score_batch(self, candidates: Sequence[Sample], parents: Sequence[Sample]) -> list[float]:
        return [float(sum(map(ord, c["text"])) % 2) for c in candidates]

    def passes(self, score: float) -> bool:
        return score == 0.0


class RejectAll(RejectOdd):
    name: ClassVar[str] = "test.reject-all"

    def passes(self, score: float) -> bool:
        return False


def test_budget_is_filled_exactly_even_when_filters_reject() -> None:
    data = toy(3)
    m = make_method(Augment(Typo(rate=0.3), n=5, filters=[RejectOdd()]), name="typo+filter")
    out = m.augment(data, budget=5, seed=0)
    assert all(len(out[s.id]) == 5 for s in data)
    assert all(c.kept and c.label == s.label and c.parent_id == s.id for s in data for c in out[s.id])
    assert any(not c.kept for s in data for c in m.candidates(s.id))  # the filter did reject some
    assert len({c.id for s in data for c in m.candidates(s.id)}) == sum(len(m.candidates(s.id)) for s in data)
    again = make_method(Augment(Typo(rate=0.3), n=5, filters=[RejectOdd()]), name="typo+filter")
    assert [c["text"] for c in again.augment(data, 5, 0)["red0"]] == [c["text"] for c in out["red0"]]
    none_kept = make_method(Augment(Typo(rate=0.3), n=2, filters=[RejectAll()]), name="all-rejected")
    assert none_kept.augment(data[:2], 5, 0) == {data[0].id: [], data[1].id: []}
    assert none_kept.shortfall == 2


def test_evaluate_gives_every_method_the_same_sets_seeds_and_budget(tmp_path: Any) -> None:
    seen: list[tuple[int, tuple[str, ...], int]] = []

    def train(samples: list[Sample], seed: int) -> Any:
        originals = tuple(sorted(s.id for s in samples if not s.lineage))
        seen.append((seed, originals, len(samples) - len(originals)))
        first_word = {s["text"].split()[0]: s.label for s in samples}
        return (lambda xs: [first_word.get(x["text"].split()[0], "red") for x in xs]), 0.5

    proto = Protocol(shots=(1, 2), data_seeds=2, train_seeds=2, budget=3, test_per_class=4, affinity_per_class=2)
    res = evaluate(toy(), ["none", Typo(rate=0.2), ("heavy-typo", Typo(rate=0.5), {}),
                                 "no-such-method"], classifier=train,
                   protocol=proto, out_dir=tmp_path / "ev")
    assert "no-such-method" in res.skipped
    methods = res.info["methods"]
    assert methods[0] == "none" and len(methods) == 3
    assert len(seen[-1][1]) == res.info["pool"] == 36 - 3 * 4 and seen[-1][2] == 0  # pool < reference cap
    seen = seen[:-1]  # the last training is the reference model of affinity (clean training pool)
    assert len(res.results) == 3 * proto.runs_per_method() == len(seen)
    runs = {m: [(r["k"], r["data_seed"], r["train_seed"]) for r in res.results if r["method"] == m] for m in methods}
    assert runs["none"] == runs["text.typo"] == runs["heavy-typo"]
    per_method = len(seen) // 3
    for i in range(per_method):  # same seed and the same originals for each method's i-th run
        assert seen[i][:2] == seen[per_method + i][:2] == seen[2 * per_method + i][:2]
        assert seen[i][2] == 0 and seen[per_method + i][2] == seen[2 * per_method + i][2] == 3 * len(seen[i][1])
    for r in res.results:
        assert r["originals"] == 3 * r["k"] and r["augmented"] == (0 if r["method"] == "none" else 3 * 3 * r["k"])
    assert {row["method"] for row in res.table if "p_t" in row} == {"text.typo", "heavy-typo"}
    assert res.quality["text.typo"]["diversity"] == 1.0  # both losses are 0.5
    assert 0 <= res.quality["text.typo"]["label_preservation"] <= 1
    out = tmp_path / "ev"
    for name in ("eval.json", "results.jsonl", "manifest.jsonl", "summary.json", "report.html"):
        assert (out / name).is_file(), name
    page = (out / "report.html").read_text()
    assert "Accuracy vs k" in page and "<svg" in page and "no-such-method" in page
