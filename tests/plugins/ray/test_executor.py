"""crossaug-ray: same manifest as the local executor, media layout, resume, a killed worker, bounds;
found by the runner through the ``crossaug.executors`` entry point."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import crossaug
import numpy as np
import pytest
from crossaug import Audio, BackModality, Sample
from crossaug.builtin.typo import Typo
from crossaug.errors import MissingDependency
from crossaug.recipe import Augment
from crossaug.rng import Seeder
from crossaug.runner.executor import BatchTask, make_executor
from crossaug.transform import Transform

ray = pytest.importorskip("ray", reason="the ray executor is optional: pip install 'crossaug[ray]'")
ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # actors cannot import test modules

pytestmark = pytest.mark.slow

TEXTS = [f"sentence {i} about a {w} on the {v}" for i, (w, v) in
         enumerate(zip(["cat", "dog", "bird", "fox", "cow"] * 6, ["mat", "hill", "road", "lake", "roof", "barn"] * 5))]


class TextToTone(Transform):
    """Test 'TTS': each character becomes a short burst of samples (plus seeded noise)."""

    name: ClassVar[str] = "test.text-to-tone"
    source: ClassVar[str] = "text"
    target: ClassVar[str] = "audio"

    def __init__(self, noise: float = 0.001) -> None:
        self.noise = noise

    def transform_batch(self, samples: Sequence[Sample], seeds: Sequence[int]) -> list[Any]:
        out = []
        for s, seed in zip(samples, seeds):
            codes = np.repeat(np.frombuffer(s["text"].encode(), dtype=np.uint8), 4).astype(np.float32) / 256
            noise = np.random.default_rng(seed).uniform(-self.noise, self.noise, codes.size).astype(np.float32)
            out.append(Audio(codes + noise, 8000))
        return out


class ToneToText(Transform):
    """Test 'ASR': inverse of :class:`TextToTone`."""

    name: ClassVar[str] = "test.tone-to-text"
    source: ClassVar[str] = "audio"
    target: ClassVar[str] = "text"

    def __init__(self, out_field: str = "text") -> None:
        self.out_field = out_field

    def transform_batch(self, samples: Sequence[Sample], seeds: Sequence[int]) -> list[Any]:
        codes = [np.clip(np.round(s["audio"].samples[::4] * 256), 0, 255).astype(np.uint8) for s in samples]
        return [bytes(c).decode(errors="replace") for c in codes]


class CrashOnce(Augment):
    """Typo recipe whose worker process dies the first time it meets ``victim`` (marker file absent)."""

    name: ClassVar[str] = "test.crash-once"

    def __init__(self, marker: str, victim: str = "r13") -> None:
        super().__init__(Typo(rate=0.2), n=2)
        self.marker = marker
        self.victim = victim

    def get_params(self) -> dict[str, Any]:
        return {"marker": self.marker, "victim": self.victim}

    def process(self, samples: Sequence[Sample], seeder: Seeder) -> list[list[Sample]]:
        if any(s.id == self.victim for s in samples) and not os.path.exists(self.marker):
            Path(self.marker).write_text(str(os.getpid()))
            os._exit(17)  # the worker process dies mid-run, with a batch in hand
        return super().process(samples, seeder)


class CallCounter:
    """A task that remembers how often *this instance* ran (proves it persists in the actor)."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, batch: list[int]) -> tuple[int, int, int, list[int], list[str]]:
        import ray as ray_in_actor

        self.calls += 1
        return os.getpid(), id(self), self.calls, batch, [str(g) for g in ray_in_actor.get_gpu_ids()]


@pytest.fixture(scope="module")
def ray_cluster():
    # two *logical* GPUs: Ray schedules them like real ones, so placement is testable on a CPU box
    ray.init(num_cpus=2, num_gpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    yield
    ray.shutdown()


def write_jsonl(path: Path, n: int = len(TEXTS)) -> Path:
    path.write_text("".join(json.dumps({"id": f"r{i}", "text": t, "label": i % 2}) + "\n"
                            for i, t in enumerate(TEXTS[:n])), encoding="utf-8")
    return path


def tone_round_trip() -> BackModality:
    return BackModality(forward=TextToTone(), backward=ToneToText(), augment=None, fan_out=(2, 1, 1))


def files_of(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted((out / "media").rglob("*")) if p.is_file()}


def test_same_manifest_and_media_as_local_executor(ray_cluster, tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "in.jsonl")
    local = crossaug.run(tone_round_trip(), data, tmp_path / "local", seed=5, batch_size=3, report=False)
    dist = crossaug.run(tone_round_trip(), data, tmp_path / "ray", seed=5, batch_size=4, workers=2,
                        executor="ray", report=False)
    a = (tmp_path / "local" / "manifest.jsonl").read_bytes()
    b = (tmp_path / "ray" / "manifest.jsonl").read_bytes()
    assert a == b  # results come back in order: byte-identical, not just the same set
    assert len(a.splitlines()) == 2 * len(TEXTS)
    media_local, media_ray = files_of(tmp_path / "local"), files_of(tmp_path / "ray")
    assert len(media_local) == 2 * len(TEXTS) and media_local == media_ray
    assert local.summary["kept"] == dist.summary["kept"] == 2 * len(TEXTS)


def test_killed_worker_is_restarted_and_nothing_is_lost(ray_cluster, tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "in.jsonl")
    done_marker = tmp_path / "already-crashed"
    done_marker.write_text("local run: do not crash")
    crossaug.run(CrashOnce(str(done_marker)), data, tmp_path / "local", seed=2, batch_size=3, report=False)
    marker = tmp_path / "crash-marker"
    res = crossaug.run(CrashOnce(str(marker)), data, tmp_path / "ray", seed=2, batch_size=3, workers=2,
                       executor="ray", report=False)
    assert marker.exists(), "the victim batch never ran, so no worker was killed"
    assert int(marker.read_text()) != os.getpid()
    lines = (tmp_path / "ray" / "manifest.jsonl").read_bytes()
    assert lines == (tmp_path / "local" / "manifest.jsonl").read_bytes()
    parents = [json.loads(x)["parent_id"] for x in lines.splitlines()]
    assert sorted(set(parents)) == sorted(f"r{i}" for i in range(len(TEXTS)))
    assert len(parents) == 2 * len(TEXTS)  # nothing duplicated by the retry
    assert res.summary["rejected"] == 0


def test_resume_with_ray_completes_an_interrupted_run(ray_cluster, tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "in.jsonl")
    recipe = Augment(Typo(rate=0.1), n=2)
    crossaug.run(recipe, data, tmp_path / "local", seed=9, report=False)
    crossaug.run(recipe, data, tmp_path / "ray", seed=9, limit=11, workers=2, executor="ray", report=False)
    partial = (tmp_path / "ray" / "manifest.jsonl").read_bytes()
    assert len(partial.splitlines()) == 22
    res = crossaug.run(recipe, data, tmp_path / "ray", seed=9, resume=True, workers=2, batch_size=5,
                       executor="ray", report=False)
    assert res.summary["resumed_from"] == 11
    assert (tmp_path / "ray" / "manifest.jsonl").read_bytes() == (tmp_path / "local" / "manifest.jsonl").read_bytes()


def test_actor_keeps_its_task_gets_a_gpu_and_bounds_in_flight(ray_cluster) -> None:
    ex = make_executor("ray", 2)
    pulled = 0

    def batches():
        nonlocal pulled
        for i in range(12):
            pulled += 1
            yield [i]

    results, ahead = [], 0
    for k, res in enumerate(ex.map(CallCounter(), batches())):
        ahead = max(ahead, pulled - k)
        results.append(res)
    assert [r[3] for r in results] == [[i] for i in range(12)]  # in submission order
    assert ahead <= ex.in_flight  # the input is read lazily
    per_instance: dict[tuple[int, int], list[int]] = {}
    gpus: dict[int, list[str]] = {}
    for pid, inst, calls, _, gpu_ids in results:
        per_instance.setdefault((pid, inst), []).append(calls)
        gpus[pid] = gpu_ids
    assert sorted(ids[0] for ids in gpus.values()) == ["0", "1"]  # the cluster has GPUs: one per actor
    assert len(per_instance) == 2  # one task instance per actor, not one per batch
    for calls in per_instance.values():
        assert sorted(calls) == list(range(1, len(calls) + 1))
    assert sum(len(c) for c in per_instance.values()) == 12


def test_task_errors_surface_with_their_own_type(ray_cluster, tmp_path: Path) -> None:
    task = BatchTask(Augment(Typo()), 0, "raise", tmp_path, "augment")
    ex = make_executor("ray", 1)
    from crossaug.io.datasets import RawRecord

    with pytest.raises(crossaug.BadSample, match="missing field 'text'"):
        list(ex.map(task, [[RawRecord("x", {"text.other": "a"})]]))


def test_cli_runs_with_ray_executor(ray_cluster, tmp_path: Path) -> None:
    from crossaug.cli import app
    from typer.testing import CliRunner

    data = write_jsonl(tmp_path / "in.jsonl", 8)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["run", "typo", "-i", str(data), "-o", str(out), "--executor", "ray",
                                      "--workers", "2", "--no-progress", "--seed", "4"])
    assert result.exit_code == 0, result.output
    ref = crossaug.run("typo", data, tmp_path / "ref", seed=4, report=False)
    assert (out / "manifest.jsonl").read_bytes() == ref.manifest_path.read_bytes()
    assert (out / "report.html").is_file()


def test_missing_ray_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(MissingDependency, match=r"pip install 'crossaug\[ray\]'"):
        make_executor("ray", 2)


def test_found_through_the_executors_entry_point() -> None:
    from crossaug import registry
    from crossaug_ray import RayExecutor

    assert registry.load("executor", "ray") is RayExecutor
    assert {r.name: r.plugin for r in registry.list_plugins(["executor"])}["ray"] == "crossaug-ray"


def test_without_crossaug_ray_the_error_names_the_extra(kernel_only) -> None:
    """The kernel alone (crossaug-ray not visible) says how to get the executor, before any run starts."""
    with pytest.raises(MissingDependency, match=r"ray executor is not available; install it with: "
                                                r"pip install 'crossaug\[ray\]'"):
        make_executor("ray", 2)
    with pytest.raises(crossaug.ConfigError, match="unknown executor 'rey'; expected auto, serial, process, thread$"):
        make_executor("rey", 2)


def test_address_only_with_ray() -> None:
    with pytest.raises(crossaug.ConfigError, match="ray executor"):
        make_executor("process", 2, address="auto")
