"""A run with process workers writes the same manifest whichever way its workers start.

Linux forks workers by default up to Python 3.13; Python 3.14 starts them from a fork server, and
a parent that initialised CUDA spawns them. Each start method runs here in a fresh interpreter
(the default start method is set once per process), over a text file (workers read their own
lines) and a JSONL file with a bad row (records pickled to the workers, one refusal recorded).
"""

from __future__ import annotations

import json
import multiprocessing
import subprocess
import sys
from pathlib import Path

import pytest

CHILD = r"""
import multiprocessing, sys
multiprocessing.set_start_method(sys.argv[1])
import crossaug
for name, data in (("typo", sys.argv[2]), ("eda", sys.argv[3])):
    crossaug.run(name, data, f"{sys.argv[4]}/{name}", params={"n": 2} if name == "typo" else {"num_aug": 2},
                 workers=2, batch_size=16, on_error="skip", report=False)
"""

SENTENCES = ["The birch canoe slid on the smooth planks.", "Glue the sheet to the dark blue background.",
             "It's easy to tell the depth of a well.", "These days a chicken leg is a rare dish."]


def _run(method: str, txt: Path, jsonl: Path, out: Path) -> dict[str, bytes]:
    done = subprocess.run([sys.executable, "-c", CHILD, method, str(txt), str(jsonl), str(out)],
                          capture_output=True, text=True, timeout=300, env=_env())
    assert done.returncode == 0, done.stderr[-3000:]
    return {name: (out / name / "manifest.jsonl").read_bytes() for name in ("typo", "eda")}


def _env() -> dict[str, str]:
    import os

    return {**os.environ, "CROSSAUG_NO_PROGRESS": "1"}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, bytes]]:
    """The two inputs and the manifests of forked workers (the default on Linux up to Python 3.13)."""
    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("this platform cannot fork: there is no forked run to compare with")
    tmp = tmp_path_factory.mktemp("start-methods")
    txt = tmp / "in.txt"
    txt.write_text("".join(f"{SENTENCES[i % 4]} {i}\n" for i in range(120)), encoding="utf-8")
    jsonl = tmp / "in.jsonl"
    rows = [{"id": f"r{i}", "text": f"{SENTENCES[i % 4]} {i}"} for i in range(60)]
    rows[7]["text"] = ""  # refused and recorded, whichever way the workers start
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    forked = _run("fork", txt, jsonl, tmp / "fork")
    lines = [json.loads(line) for line in forked["eda"].splitlines()]
    assert sum(1 for r in lines if r["kept"]) == 2 * 59 and any("empty text" in (r["reason"] or "") for r in lines)
    assert len(forked["typo"].splitlines()) == 2 * 120
    return txt, jsonl, forked


@pytest.mark.parametrize("method", ["forkserver", "spawn"])
def test_workers_started_by_fork_server_or_spawn_write_what_forked_workers_write(
        inputs: tuple[Path, Path, dict[str, bytes]], tmp_path: Path, method: str) -> None:
    if method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"this platform has no {method!r} start method")
    txt, jsonl, forked = inputs
    assert _run(method, txt, jsonl, tmp_path / method) == forked
