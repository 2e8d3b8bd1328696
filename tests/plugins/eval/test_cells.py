"""The resumable grid: a cell per run, skipped when present, stale when settings change; partial-grid tables."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from crossaug import Sample
from crossaug.builtin.typo import Typo
from crossaug_eval import Protocol, evaluate
from crossaug_eval.cells import CellCache, fingerprint
from crossaug_eval.classifiers import CallableClassifier
from crossaug_eval.tables import cell_text, grid_table


def toy(n_per_class: int = 8) -> list[Sample]:
    words = {"red": ["apple", "cherry", "rose", "brick"], "blue": ["sea", "sky", "jay", "ink"]}
    return [Sample(f"{c}{i}", {"text": f"{c} {words[c][i % 4]} number {i}"}, label=c)
            for c in words for i in range(n_per_class)]


class Counting:
    """A first-word classifier that counts its trainings (and can be told to stop after some)."""

    def __init__(self, stop_after: int | None = None) -> None:
        self.fits = 0
        self.stop_after = stop_after

    def __call__(self, train: list[Sample], seed: int) -> Any:
        if self.stop_after is not None and self.fits >= self.stop_after:
            raise KeyboardInterrupt  # what Ctrl-C or a kill looks like to the grid
        self.fits += 1
        return (lambda xs: [x["text"].split()[0] for x in xs]), 0.1 + 0.01 * len(train)


PROTO = Protocol(shots=(1, 2), data_seeds=2, train_seeds=2, test_per_class=2, affinity_per_class=0)
RUNS = 2 * 2 * 2 * 2  # methods (none, typo) x shots x data seeds x training seeds


def run(cache: CellCache, counter: Counting, protocol: Protocol = PROTO, rate: float = 0.1) -> Any:
    return evaluate(toy(), ["none", ("typo", Typo(rate=rate), {})], classifier=CallableClassifier(counter),
                    protocol=protocol, cache=cache, method_params={"typo": {"rate": rate}})


def cache_at(tmp_path: Path, **config: Any) -> CellCache:
    return CellCache(tmp_path / "cells", {"task": "toy", "classifier": "first-word"}, {"test_per_class": 2, **config})


def test_every_run_is_a_cell_file_and_a_second_run_trains_nothing(tmp_path: Path) -> None:
    first = Counting()
    res1 = run(cache_at(tmp_path), first)
    assert first.fits == RUNS
    files = sorted(p.relative_to(tmp_path / "cells") for p in (tmp_path / "cells").rglob("*.json"))
    assert len(files) == RUNS and str(files[0]) == "toy/first-word/none/k1-d0-t0.json"
    assert not list((tmp_path / "cells").rglob("*.tmp"))  # written atomically
    cell = json.loads((tmp_path / "cells/toy/first-word/typo/k2-d1-t1.json").read_text())
    assert (cell["task"], cell["classifier"], cell["method"], cell["k"], cell["data_seed"], cell["train_seed"]) == \
        ("toy", "first-word", "typo", 2, 1, 1)
    assert cell["originals"] == 4 and cell["augmented"] == 4 * PROTO.budget and cell["params"] == {"rate": 0.1}

    again = Counting()
    res2 = run(cache_at(tmp_path), again)
    assert again.fits == 0
    assert res2.table == res1.table
    key = lambda r: (r["method"], r["k"], r["data_seed"], r["train_seed"])
    assert sorted(map(key, res2.results)) == sorted(map(key, res1.results))


def test_an_interrupted_grid_resumes_with_nothing_lost_or_repeated(tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt):
        run(cache_at(tmp_path), Counting(stop_after=5))
    assert len(list((tmp_path / "cells").rglob("k*.json"))) == 5
    rest = Counting()
    resumed = run(cache_at(tmp_path), rest)
    assert rest.fits == RUNS - 5 and len(resumed.results) == RUNS
    whole = run(cache_at(tmp_path / "fresh"), Counting())
    assert resumed.table == whole.table  # the same numbers as an uninterrupted grid

    (tmp_path / "cells/toy/first-word/typo/k1-d1-t0.json").unlink()
    one = Counting()
    run(cache_at(tmp_path), one)
    assert one.fits == 1


def test_cells_of_other_settings_are_stale_never_mixed_in(tmp_path: Path) -> None:
    run(cache_at(tmp_path), Counting())
    other_params = Counting()
    run(cache_at(tmp_path), other_params, rate=0.3)  # only the method whose parameters changed reruns
    assert other_params.fits == RUNS // 2
    cache = cache_at(tmp_path)
    assert {r["params"].get("rate") for r in cache.results() if r["method"] == "typo"} == {0.3}
    assert cache.results({"typo": {"rate": 0.1}}) == [r for r in cache.results() if r["method"] == "none"]

    other_config = Counting()
    cache = cache_at(tmp_path, budget=3)
    assert cache.results() == []
    run(cache, other_config, rate=0.3)
    assert other_config.fits == RUNS and cache.stale == RUNS


def test_a_torn_cell_file_is_run_again(tmp_path: Path) -> None:
    run(cache_at(tmp_path), Counting())
    (tmp_path / "cells/toy/first-word/none/k2-d0-t1.json").write_text('{"accuracy": 0.')
    redo = Counting()
    run(cache_at(tmp_path), redo)
    assert redo.fits == 1


def test_affinity_is_cached_per_method(tmp_path: Path) -> None:
    proto = Protocol(shots=(1,), data_seeds=1, train_seeds=1, test_per_class=2, affinity_per_class=1,
                     reference_per_class=2)
    first = Counting()
    res = run(cache_at(tmp_path), first, protocol=proto)
    assert first.fits == 2 + 1  # two runs and the reference model
    again = Counting()
    res2 = run(cache_at(tmp_path), again, protocol=proto)
    assert again.fits == 0
    assert res2.quality["typo"]["affinity"] == res.quality["typo"]["affinity"]
    assert cache_at(tmp_path).qualities()["typo"]["affinity"] == res.quality["typo"]["affinity"]


def test_fingerprint_ignores_key_order_only() -> None:
    assert fingerprint({"a": 1, "b": {"c": [1, 2]}}) == fingerprint({"b": {"c": [1, 2]}, "a": 1})
    assert fingerprint({"a": 1}) != fingerprint({"a": 1.5}) != fingerprint({"a": "1"})


def test_table_of_a_partial_grid_marks_missing_and_partial_cells() -> None:
    acc = {("none", 0): 0.50, ("none", 1): 0.60, ("none", 2): 0.40, ("eda", 0): 0.55, ("eda", 1): 0.70,
           ("eda", 2): 0.41}
    runs = [{"method": m, "k": 1, "data_seed": s, "train_seed": 0, "accuracy": a, "train_loss": 0.2 if m == "none"
             else 0.3} for (m, s), a in acc.items()]
    runs.append({"method": "none", "k": 5, "data_seed": 0, "train_seed": 0, "accuracy": 0.8, "train_loss": 0.1})
    md, rows, quality = grid_table(runs, {"eda": {"affinity": 0.9}}, ["none", "eda"], [1, 5], runs_per_cell=3,
                                   header=["what ran", "`cmd`"])
    lines = md.splitlines()
    assert lines[:2] == ["what ran", "`cmd`"]
    none_row, eda_row = lines[5], lines[6]
    assert none_row.startswith("| none | 0.500 [") and none_row.endswith("| 0.800 [0.800, 0.800] (1/3 runs) |")
    assert eda_row.endswith("| missing |")
    # the difference and the paired t-test, computed here by hand from the paper-free definitions
    d = [acc[("eda", s)] - acc[("none", s)] for s in range(3)]
    mean = sum(d) / 3
    sd = math.sqrt(sum((x - mean) ** 2 for x in d) / 2)
    t = mean / (sd / math.sqrt(3))
    from scipy import stats

    p = 2 * stats.t.sf(abs(t), 2)
    assert f"({mean:+.3f}, p={p:.2f})" in eda_row
    assert quality["eda"]["affinity"] == 0.9 and quality["eda"]["diversity"] == pytest.approx(1.5)
    assert quality["none"]["diversity"] == pytest.approx(1.0)
    assert "| eda | 0.900 | 1.500 | – |" in lines
    assert cell_text(None, 2) == "missing"
