"""Executors of other distributions plug into the runner through ``crossaug.executors`` (no Ray needed).

The example plugin under tests/fixtures registers ``example-inline``, which runs each pair of
batches second-first: the manifest must still equal the serial executor's byte for byte.
"""

from __future__ import annotations

import json
from pathlib import Path

import crossaug
import pytest
from crossaug import ConfigError, registry
from crossaug.runner.executor import make_executor

pytest.importorskip("crossaug_example.executor", reason="the example plugin fixture (tests/fixtures/example_plugin) "
                                                        "is not installed")


def write_jsonl(path: Path, n: int = 9) -> Path:
    path.write_text("".join(json.dumps({"id": f"r{i}", "text": f"sentence number {i} about a cat"}) + "\n"
                            for i in range(n)), encoding="utf-8")
    return path


def test_registered_executor_is_built_with_workers_and_options() -> None:
    ex = make_executor("example-inline", 3, label="mine")
    assert type(ex).__module__ == "crossaug_example.executor" and (ex.workers, ex.label) == (3, "mine")
    assert "example-inline" in registry.names("executor")


def test_a_run_on_a_registered_executor_writes_the_serial_manifest(tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "in.jsonl")
    ref = crossaug.run("typo", data, tmp_path / "serial", seed=3, batch_size=2, report=False)
    ex = make_executor("example-inline", 1)
    got = crossaug.run("typo", data, tmp_path / "inline", seed=3, batch_size=2, executor=ex, report=False)
    assert ex.batches == 5  # it really ran the batches (9 inputs, 2 per batch), pairs second-first
    assert got.manifest_path.read_bytes() == ref.manifest_path.read_bytes()
    by_name = crossaug.run("typo", data, tmp_path / "by-name", seed=3, batch_size=2, executor="example-inline",
                           report=False)
    assert by_name.manifest_path.read_bytes() == ref.manifest_path.read_bytes()


def test_unknown_executor_lists_the_registered_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown executor 'inline'; expected auto, serial, process, thread or "
                                          r".*example-inline"):
        make_executor("inline", 1)
