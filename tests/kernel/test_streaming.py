"""Streaming: every executor reads inputs lazily and peak memory follows batch size, not dataset size."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import crossaug
import pytest
from crossaug.builtin.typo import Typo
from crossaug.errors import ConfigError
from crossaug.recipe import Augment
from crossaug.runner.executor import Executor, make_executor


def _double(batch: list[int]) -> list[int]:
    return [2 * x for x in batch]


@pytest.mark.parametrize("kind", ["serial", "thread", "process"])
def test_executors_pull_batches_lazily_and_keep_order(kind: str) -> None:
    ex = make_executor(kind, 2)
    pulled = 0

    def batches() -> Iterator[list[int]]:
        nonlocal pulled
        for i in range(40):
            pulled += 1
            yield [i, i + 100]

    ahead = 0
    results = []
    for k, res in enumerate(ex.map(_double, batches())):
        ahead = max(ahead, pulled - k)
        results.append(res)
    assert results == [[2 * i, 2 * i + 200] for i in range(40)]
    bound = 1 if kind == "serial" else ex.in_flight  # type: ignore[attr-defined]
    assert ahead <= bound, f"{kind} read {ahead} batches ahead of the results it gave back"


def _states(batch: list[Any]) -> list[Any]:
    return [(type(r).__name__, dict(vars(r))) if hasattr(r, "__dict__") else r for r in batch]


def test_process_workers_receive_records_whole(tmp_path: Path) -> None:
    """Records travel to a process worker as their attribute dicts and arrive as the same records."""
    from crossaug.io.datasets import RawRecord

    recs = [RawRecord("a", {"text": b"caf\xc3\xa9", "image": Path("x.png")}, ("l", 1), {"k": [1.5]}, tmp_path,
                      "in.jsonl:1"),
            RawRecord("b#dup2", {}, error="duplicate id 'b'", error_field="text")]
    ex = make_executor("process", 2)
    got = list(ex.map(_states, [recs, [7, 8]]))
    assert got == [_states(recs), [7, 8]]


class _Probe(Executor):
    """Wraps a real executor; records how many inputs had been read when each result came back."""

    def __init__(self, inner: Executor, counter: dict[str, int]) -> None:
        self.inner, self.counter, self.seen = inner, counter, []

    def map(self, task: Any, batches: Any) -> Iterator[Any]:
        done = 0
        for result in self.inner.map(task, batches):
            done += len(result.ids)
            self.seen.append((done, self.counter["read"]))
            yield result

    def close(self) -> None:
        self.inner.close()


@pytest.mark.parametrize("kind", ["serial", "process"])
def test_run_reads_a_large_generator_incrementally(kind: str, tmp_path: Path) -> None:
    counter = {"read": 0}

    def rows() -> Iterator[dict[str, str]]:
        for i in range(600):
            counter["read"] += 1
            yield {"id": f"g{i}", "text": f"row number {i} of a long stream"}

    probe = _Probe(make_executor(kind, 2), counter)
    res = crossaug.run(Augment(Typo(rate=0.1)), rows(), tmp_path / "out", batch_size=10, executor=probe,
                       report=False)
    assert res.summary["inputs"] == 600
    in_flight = 1 if kind == "serial" else 4
    for done, read in probe.seen:  # never more than the batches in flight (+1 being assembled) read ahead
        assert read - done <= (in_flight + 1) * 10
    assert probe.seen[0][1] < 100  # the first results were written long before the input ended


def test_fit_recipe_rejects_one_shot_iterators(tmp_path: Path) -> None:
    class Fitted(Augment):
        name = "test.fitted"
        requires_fit = True

    with pytest.raises(ConfigError, match="reads its inputs twice"):
        crossaug.run(Fitted(Typo()), iter(["a b", "c d"]), tmp_path / "out", report=False)


RECIPE_MODULE = '''
from typing import ClassVar
from crossaug.recipe import Recipe


class Shout(Recipe):
    """One short output per input; ``fit`` counts inputs while streaming (constant memory)."""

    name: ClassVar[str] = "test.shout"
    requires_fit: ClassVar[bool] = True
    input_fields = ("text",)

    def __init__(self) -> None:
        self.fitted = 0

    def get_params(self):
        return {}

    def fit(self, samples):
        assert not isinstance(samples, (list, tuple)), "fit must receive a stream"
        self.fitted = sum(1 for _ in samples)

    def process(self, samples, seeder):
        return [[s.derive(None, text=s["text"][:12].upper()).replace(id=s.id + "~0")] for s in samples]
'''

MEASURE = '''
import json, resource, sys
sys.path.insert(0, sys.argv[1])
import crossaug
from shout import Shout

recipe = Shout()
res = crossaug.run(recipe, sys.argv[2], sys.argv[3], executor=sys.argv[4], workers=2, batch_size=32,
                   report=False)
assert recipe.fitted == res.summary["inputs"], (recipe.fitted, res.summary)
print(json.dumps({"inputs": res.summary["inputs"],
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
'''


def _peak(tmp_path: Path, n: int, executor: str) -> dict[str, Any]:
    data = tmp_path / f"in-{n}.jsonl"
    if not data.exists():
        line = "lorem ipsum dolor sit amet " * 150  # ~4 KB per row: materialising 10k rows would cost > 80 MiB
        with data.open("w") as fh:
            for i in range(n):
                fh.write(json.dumps({"id": f"r{i}", "text": f"{i} {line}"}) + "\n")
    out_dir = tmp_path / f"out-{n}-{executor}"
    out = subprocess.run([sys.executable, "-c", MEASURE, str(tmp_path), str(data), str(out_dir), executor],
                         capture_output=True, text=True, check=True, timeout=300)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.parametrize("executor", ["serial", "process"])
def test_peak_memory_does_not_grow_with_dataset_size(executor: str, tmp_path: Path) -> None:
    (tmp_path / "shout.py").write_text(textwrap.dedent(RECIPE_MODULE))
    small = _peak(tmp_path, 1_000, executor)
    large = _peak(tmp_path, 10_000, executor)
    assert (small["inputs"], large["inputs"]) == (1_000, 10_000)
    ratio = large["peak_mib"] / small["peak_mib"]
    # 10x the data (40 MB of text; merely holding it as dicts would add ~40%): only the set of ids
    # seen (duplicates of a JSONL's ids are refused: ~90 bytes per input) may grow
    assert ratio < 1.25, f"peak RSS {small['peak_mib']:.0f} MiB -> {large['peak_mib']:.0f} MiB (x{ratio:.2f})"


MEASURE_LINES = '''
import json, sys, tracemalloc
import crossaug
from crossaug.recipe import Recipe


class Upper(Recipe):  # no cache of its own that would fill up while the run goes on
    name = "test.upper"
    input_fields = ("text",)

    def get_params(self):
        return {}

    def process(self, samples, seeder):
        return [[s.derive(None, text=s["text"].upper()).replace(id=s.id + "~0")] for s in samples]


tracemalloc.start()  # the peak of what Python holds (RSS adds the allocator's own slack, which settles)
res = crossaug.run(Upper(), sys.argv[1], sys.argv[2], workers=int(sys.argv[3]), batch_size=64,
                   commit_interval=0.02, report=False)  # the same batches and lines held at any time
print(json.dumps({"inputs": res.summary["inputs"], "peak": tracemalloc.get_traced_memory()[1]}))
'''


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_the_parent_keeps_nothing_per_input_of_a_text_file(workers: int, tmp_path: Path) -> None:
    """Many short lines, so that per-input bookkeeping shows: the parent kept every input's id in
    two sets (ids already written, and ids seen, for duplicates), 108-153 bytes per input (about
    1 GB for 7 million sentences). A text file's ids are its line numbers, unique by construction,
    and the ids written matter only on resume, where the journal gives them."""
    peaks = {}
    for n in (30_000, 90_000):  # past the first tens of thousands, where caches and the collector settle
        data = tmp_path / f"in-{n}.txt"
        data.write_text("".join(f"short line number {i}\n" for i in range(n)))
        out = subprocess.run([sys.executable, "-c", MEASURE_LINES, str(data), str(tmp_path / f"o-{n}"), str(workers)],
                             capture_output=True, text=True, check=True, timeout=300)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        assert result["inputs"] == n
        peaks[n] = result["peak"]
    per_input = (peaks[90_000] - peaks[30_000]) / 60_000
    assert per_input < 20, f"what the parent holds grew {per_input:.0f} bytes per input"


def test_huge_rows_go_through_run_and_report_with_bounded_work(tmp_path: Path) -> None:
    """A 60 000-word row and a 1 MB row: the report shows them cut and does not diff them (a counted
    property, not wall time: the quadratic word diff is never entered past its length limit)."""
    import difflib

    from crossaug import report

    words = " ".join(f"word{i % 5000}" for i in range(60_000))
    mega = ("lorem ipsum dolor " * 60_000)[:1_000_000]
    data = tmp_path / "big.jsonl"
    data.write_text(json.dumps({"id": "words", "text": words}) + "\n" + json.dumps({"id": "mega", "text": mega}) + "\n")
    crossaug.run(Augment(Typo(rate=0.05), n=2), data, tmp_path / "o", on_error="skip", report=False)
    calls = 0
    real = difflib.SequenceMatcher

    class Counting(real):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            nonlocal calls
            calls += 1
            super().__init__(*args, **kwargs)

    difflib.SequenceMatcher = Counting  # type: ignore[misc]
    try:
        page = report.write_report(tmp_path / "o").read_text()
    finally:
        difflib.SequenceMatcher = real  # type: ignore[misc]
    assert calls == 0 and page.count('class="nodiff"') == 4  # 2 inputs x 2 outputs, none diffed
    assert page.count('class="cut"') == 6  # each input and output cut to SHOW_CHARS characters
    assert len(page) < 12 * report.SHOW_CHARS + 50_000  # texts and lineage cut, not copied whole
    assert report.word_diff("a b c d", "a B x d") == "a B <del>c</del> <ins>x</ins> d"
    long_old = " ".join(["same"] * 5000 + ["old"] + ["tail"] * 5000)
    long_new = long_old.replace("old", "new")
    assert "<del>old</del> <ins>new</ins>" in report.word_diff(long_old, long_new)  # common ends: linear


def test_typo_edits_apply_in_linear_time_as_the_plain_loop_does() -> None:
    """The one-pass path of ``apply_edits`` (edits two apart, as drawn) against the right-to-left list loop."""
    import random

    from crossaug.builtin.typo import apply_edits

    def plain(text: str, edits: list[list[Any]]) -> str:
        chars = list(text)
        for pos, op, ch in sorted(edits, key=lambda e: -int(e[0])):
            if op == "substitute":
                chars[pos] = ch
            elif op == "delete":
                del chars[pos]
            elif op == "insert":
                chars.insert(pos + 1, ch)
            elif op == "swap" and pos + 1 < len(chars):
                chars[pos], chars[pos + 1] = chars[pos + 1], chars[pos]
        return "".join(chars)

    rnd = random.Random(0)
    for _ in range(3000):
        text = "".join(rnd.choice("abcd") for _ in range(rnd.randint(1, 12)))
        spots = rnd.sample(range(0, len(text), 2), rnd.randint(0, len(range(0, len(text), 2))))
        edits = [[p, rnd.choice(["substitute", "delete", "insert", "swap"]), rnd.choice("XY")] for p in spots]
        assert apply_edits(text, edits) == plain(text, edits), (text, edits)
