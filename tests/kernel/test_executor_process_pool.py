"""The process executor's pool: results in order, errors and dead workers reported, no deadlock, no orphans."""

from __future__ import annotations

import multiprocessing
import os

import pytest
from crossaug.runner.executor import make_executor
from crossaug.runner.process_pool import BrokenProcessPool, ProcessPool


def _fails_on_three(batch: int) -> int:
    if batch == 3:
        raise ValueError("batch 3 is refused")
    return batch


def _dies_on_two(batch: int) -> int:
    if batch == 2:
        os._exit(7)
    return batch


def _doubles(batch: bytes) -> bytes:
    return batch + batch


def _pid(_: int) -> int:
    return os.getpid()


def test_results_come_back_in_order_from_every_worker() -> None:
    pool = ProcessPool(2, None, _pid, ())
    try:
        pids = list(pool.map(range(40), in_flight=4))
    finally:
        pool.close()
    assert len(pids) == 40 and len(set(pids)) == 2 and os.getpid() not in pids


def test_an_error_in_a_worker_is_raised_with_its_type_and_traceback() -> None:
    ex = make_executor("process", 2)
    with pytest.raises(ValueError, match="batch 3 is refused") as info:
        list(ex.map(_fails_on_three, range(10)))
    assert "_fails_on_three" in str(info.value.__cause__)  # the worker's traceback, as text
    assert not multiprocessing.active_children()


def test_a_dead_worker_stops_the_run_instead_of_hanging() -> None:
    ex = make_executor("process", 2)
    with pytest.raises(BrokenProcessPool, match="exit code 7"):
        list(ex.map(_dies_on_two, range(10)))
    assert not multiprocessing.active_children()


def test_large_batches_and_results_both_ways_do_not_deadlock() -> None:
    """A batch bigger than a pipe's buffer waits for its worker while results keep being read."""
    ex = make_executor("process", 2)
    batches = [bytes([i]) * (3 << 20) for i in range(8)]
    assert list(ex.map(_doubles, batches)) == [b + b for b in batches]


def test_stopping_early_leaves_no_worker_behind() -> None:
    ex = make_executor("process", 2)
    for i, _ in enumerate(ex.map(_pid, range(1000))):
        if i == 3:
            break
    ex.close()
    assert not multiprocessing.active_children()


def _frozen_and_collected(_: int) -> tuple[int, int]:
    import gc

    return gc.get_freeze_count(), gc.collect()


def test_forked_workers_start_with_the_parents_objects_frozen() -> None:
    """A worker's cyclic collector never walks the objects it inherited (which copied every page
    holding one); the parent's own objects are collectable again once the workers are started."""
    import gc

    if multiprocessing.get_start_method() != "fork":
        pytest.skip("only forked workers inherit the parent's objects")
    inherited = [[i] for i in range(20_000)]  # objects the parent holds when it forks
    assert gc.get_freeze_count() == 0
    pool = ProcessPool(1, None, _frozen_and_collected, ())
    try:
        assert gc.get_freeze_count() == 0
        [(frozen, _)] = list(pool.map([0], in_flight=1))
    finally:
        pool.close()
    assert frozen >= len(inherited)
    gc.freeze()  # a caller's own freeze is kept as it is
    try:
        pool = ProcessPool(1, None, _frozen_and_collected, ())
        pool.close()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
