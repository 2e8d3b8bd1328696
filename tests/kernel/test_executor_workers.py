"""Process workers never inherit a CUDA context, and every worker gets an explicit torch thread count."""

from __future__ import annotations

import json
from pathlib import Path

import crossaug
import pytest
from crossaug.builtin.typo import Typo
from crossaug.precision import cpu_cores, set_worker_count, torch_threads
from crossaug.recipe import Augment
from crossaug.runner import executor as executor_module
from crossaug.runner import read_manifest

torch = pytest.importorskip("torch", reason="the worker policy is about torch state")


def worker_state(_: list[int]) -> tuple[str, int, bool]:
    import multiprocessing
    import sys

    in_torch = "torch" in sys.modules
    return (multiprocessing.get_start_method(allow_none=True) or "",
            sys.modules["torch"].get_num_threads() if in_torch else -1, in_torch)


def test_workers_of_a_parent_that_initialised_cuda_are_spawned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: True)
    ex = executor_module.LocalExecutor(2, "process")
    method, threads, in_torch = next(iter(ex.map(worker_state, [[1]])))
    assert method == "spawn"  # a fresh interpreter: nothing of the parent's CUDA context
    assert threads == max(1, cpu_cores() // 2)  # and not the forked child's single thread


def test_forked_workers_after_torch_run_one_thread_and_others_cores_over_workers(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: False)
    monkeypatch.delenv("CROSSAUG_TORCH_THREADS", raising=False)
    ex = executor_module.LocalExecutor(2, "process")
    method, threads, _ = next(iter(ex.map(worker_state, [[1]])))
    if executor_module._fork_default():
        assert method in ("fork", "") and threads == 1  # forked after the parent's thread pool ran
    try:
        torch.set_num_threads(cpu_cores())  # torch's default in a fresh process
        executor_module._init_worker(worker_state, 2, False)  # what a fresh worker does
        assert torch.get_num_threads() == max(1, cpu_cores() // 2) == torch_threads()
    finally:
        set_worker_count(1)


def test_thread_workers_share_the_cores_and_the_count_is_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CROSSAUG_TORCH_THREADS", raising=False)
    ex = executor_module.LocalExecutor(2, "thread")
    seen = list(ex.map(lambda batch: torch_threads(), [[1], [2], [3]]))
    assert seen == [max(1, cpu_cores() // 2)] * 3
    assert torch_threads() == cpu_cores()  # back to one worker after the run


def test_a_run_sets_torch_threads_before_each_batch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CROSSAUG_TORCH_THREADS", "1")
    before = torch.get_num_threads()
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": f"s{i}", "text": f"a small sentence {i}"}) + "\n" for i in range(3)))
    try:
        torch.set_num_threads(max(2, before))
        crossaug.run(Augment(Typo(rate=0.1), n=1), src, tmp_path / "out", seed=1)
        assert torch.get_num_threads() == 1
        assert len(list(read_manifest(tmp_path / "out"))) == 3
    finally:
        torch.set_num_threads(before)
