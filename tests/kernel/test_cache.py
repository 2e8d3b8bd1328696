"""Cost control: the per-process model cache and the on-disk cache of transform outputs."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import crossaug
import numpy as np
import pytest
from crossaug import Audio, BackModality, Produced, Sample
from crossaug.builtin.reverse import ReverseWords
from crossaug.builtin.typo import Typo
from crossaug.cache import (
    DiskCache,
    active_cache,
    cached_model,
    cached_model_keys,
    clear_models,
    payload_digest,
    using_cache,
)
from crossaug.transform import Transform
from PIL import Image

TEXTS = ["one small step", "a giant leap", "for all of us", "the eagle has landed"]


class CountingUpper(Transform):
    """An 'expensive' text transform that counts how many samples it really computed."""

    name: ClassVar[str] = "test.counting-upper"
    source: ClassVar[str] = "text"
    target: ClassVar[str] = "text"
    cacheable: ClassVar[bool] = True
    calls: ClassVar[list[str]] = []

    def __init__(self, suffix: str = "!", out_field: str = "text.upper") -> None:
        self.suffix = suffix
        self.out_field = out_field

    def transform_batch(self, samples: Sequence[Sample], seeds: Sequence[int]) -> list[Any]:
        CountingUpper.calls.extend(s.id for s in samples)
        return [Produced(s["text"].upper() + self.suffix, {"seed_mod": seed % 97}) for s, seed in zip(samples, seeds)]


class NotCacheable(CountingUpper):
    name: ClassVar[str] = "test.not-cacheable"
    cacheable: ClassVar[bool] = False


def recipe(transform: Transform) -> BackModality:
    return BackModality(forward=transform, backward=ReverseWords(in_field="text.upper", out_field="text"),
                        augment=Typo(rate=0.1, field="text.upper"), fan_out=(2, 1, 1))


@pytest.fixture(autouse=True)
def _fresh_counts():
    CountingUpper.calls.clear()
    yield
    CountingUpper.calls.clear()


def test_cached_model_loads_once_per_key_even_under_contention() -> None:
    loads: list[str] = []
    barrier = threading.Barrier(6)
    got: list[Any] = []

    def loader() -> dict[str, str]:
        loads.append("m")
        return {"weights": "w"}

    def worker() -> None:
        barrier.wait()
        got.append(cached_model(("test", "contended"), loader))

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert loads == ["m"] and all(g is got[0] for g in got)
    assert cached_model(("test", "other"), lambda: 2) == 2
    assert ("test", "contended") in cached_model_keys()
    clear_models()
    assert cached_model(("test", "contended"), loader) is not got[0] and loads == ["m", "m"]
    clear_models()


def test_payload_digest_distinguishes_types_and_content() -> None:
    wave = np.linspace(-1, 1, 100, dtype=np.float32)
    digests = {
        payload_digest("abc"), payload_digest(b"abc"), payload_digest(["abc"]),
        payload_digest(Audio(wave, 16000)), payload_digest(Audio(wave, 8000)),
        payload_digest(wave), payload_digest(wave.astype(np.float64)),
        payload_digest(Image.new("RGB", (8, 8), "red")), payload_digest(Image.new("RGB", (8, 8), "blue")),
        payload_digest({"a": 1}), payload_digest({"a": 2}),
    }
    assert len(digests) == 11
    assert payload_digest(Audio(wave.copy(), 16000)) == payload_digest(Audio(wave, 16000))
    assert payload_digest({"b": 1, "a": 2}) == payload_digest({"a": 2, "b": 1})


def test_disk_cache_ignores_a_torn_entry(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path)
    key = cache.key("x")
    cache.put(key, {"v": 1})
    assert cache.get(key) == (True, {"v": 1}) and len(cache) == 1
    cache.path(key).write_bytes(b"\x80\x04trunc")
    assert cache.get(key) == (False, None)
    assert not list(tmp_path.glob("*/.tmp-*"))


def test_rerun_skips_finished_work_and_manifest_is_unchanged(tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    plain = crossaug.run(recipe(CountingUpper()), TEXTS, tmp_path / "plain", seed=1, report=False)
    assert len(CountingUpper.calls) == 2 * len(TEXTS)
    CountingUpper.calls.clear()
    first = crossaug.run(recipe(CountingUpper()), TEXTS, tmp_path / "first", seed=1, report=False,
                         cache_dir=cache_dir, batch_size=3)
    assert len(CountingUpper.calls) == 2 * len(TEXTS)
    assert len(DiskCache(cache_dir)) == 2 * len(TEXTS)
    CountingUpper.calls.clear()
    second = crossaug.run(recipe(CountingUpper()), TEXTS, tmp_path / "second", seed=1, report=False,
                          cache_dir=cache_dir)
    assert CountingUpper.calls == []  # everything came from the cache
    assert second.summary["timings"]["test.counting-upper:cache-hit"]["items"] == 2 * len(TEXTS)
    manifests = {p.manifest_path.read_bytes() for p in (plain, first, second)}
    assert len(manifests) == 1  # cached outputs replay with the same lineage (seed, info)


def test_key_covers_parameters_seed_and_input(tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    crossaug.run(recipe(CountingUpper()), TEXTS, tmp_path / "a", seed=1, report=False, cache_dir=cache_dir)
    CountingUpper.calls.clear()
    crossaug.run(recipe(CountingUpper(suffix="?")), TEXTS, tmp_path / "b", seed=1, report=False,
                 cache_dir=cache_dir)
    assert len(CountingUpper.calls) == 2 * len(TEXTS)  # other parameters: recomputed
    CountingUpper.calls.clear()
    crossaug.run(recipe(CountingUpper()), TEXTS, tmp_path / "c", seed=2, report=False, cache_dir=cache_dir)
    assert len(CountingUpper.calls) == 2 * len(TEXTS)  # other seed: recomputed
    CountingUpper.calls.clear()
    crossaug.run(recipe(CountingUpper()), TEXTS[:2] + ["a new sentence"], tmp_path / "d", seed=1,
                 report=False, cache_dir=cache_dir)
    assert sorted(CountingUpper.calls) == ["2", "2"]  # only the changed input ("2") is computed


def test_env_var_and_opt_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CROSSAUG_CACHE_DIR", str(tmp_path / "env-cache"))
    assert active_cache() is not None and active_cache().root == tmp_path / "env-cache"
    crossaug.run(recipe(NotCacheable()), TEXTS, tmp_path / "n", seed=1, report=False)
    assert not (tmp_path / "env-cache").exists() or len(DiskCache(tmp_path / "env-cache")) == 0
    crossaug.run(recipe(CountingUpper()), TEXTS, tmp_path / "y", seed=1, report=False)
    assert len(DiskCache(tmp_path / "env-cache")) == 2 * len(TEXTS)
    monkeypatch.delenv("CROSSAUG_CACHE_DIR")
    assert active_cache() is None
    with using_cache(tmp_path / "ctx") as cache:
        assert active_cache() is cache
    assert active_cache() is None


def test_process_workers_fill_the_same_cache(tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    crossaug.run(recipe(CountingUpper()), TEXTS, tmp_path / "p", seed=1, workers=2, batch_size=1,
                 executor="process", report=False, cache_dir=cache_dir)
    assert len(DiskCache(cache_dir)) == 2 * len(TEXTS)
    crossaug.run(recipe(CountingUpper()), TEXTS, tmp_path / "s", seed=1, report=False, cache_dir=cache_dir)
    assert CountingUpper.calls == []
    assert (tmp_path / "p" / "manifest.jsonl").read_bytes() == (tmp_path / "s" / "manifest.jsonl").read_bytes()


def test_recipe_file_run_options_and_cli_flag(tmp_path: Path) -> None:
    from crossaug.cli import app
    from crossaug.serialization import load_config
    from typer.testing import CliRunner

    cfg = tmp_path / "r.yaml"
    cfg.write_text("recipe: typo\nparams: {n: 2}\nseed: 3\n"
                   f"run: {{executor: thread, workers: 2, cache_dir: {tmp_path / 'c'}, executor_options: {{}}}}\n")
    loaded = load_config(cfg)
    assert loaded.run["cache_dir"] == str(tmp_path / "c") and loaded.run["executor_options"] == {}
    data = tmp_path / "in.txt"
    data.write_text("\n".join(TEXTS) + "\n")
    result = CliRunner().invoke(app, ["run", "--config", str(cfg), "-i", str(data), "-o", str(tmp_path / "o"),
                                      "--no-progress", "--cache-dir", str(tmp_path / "c2")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "c2").is_dir()  # the command-line flag wins over the file
    bad = CliRunner().invoke(app, ["run", "typo", "-i", str(data), "-o", str(tmp_path / "o2"), "--no-progress",
                                   "--address", "auto"])
    assert bad.exit_code == 2 and "ray executor" in bad.output


class _Boom:
    """Unpickling this writes a marker file: proof that a cache read executed code."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path(self.marker).write_text, ("executed",))


def test_disk_cache_refuses_pickled_entries_without_executing_them(tmp_path: Path) -> None:
    import pickle

    cache = DiskCache(tmp_path / "c")
    marker = tmp_path / "marker"
    key = cache.key("k")
    cache.path(key).parent.mkdir(parents=True, exist_ok=True)
    cache.path(key).write_bytes(pickle.dumps(_Boom(str(marker))))  # a planted pickle under the entry's name
    assert cache.get(key) == (False, None)
    obj = np.empty(1, dtype=object)
    obj[0] = _Boom(str(marker))
    np.savez(cache.path(key), meta=np.frombuffer(b'{"format": 2, "value": {"array": 0}}', np.uint8), a0=obj)
    assert cache.get(key) == (False, None)  # an object array inside an .npz entry
    assert not marker.exists()


def test_disk_cache_refuses_a_tampered_entry(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path)
    key = cache.key("k")
    cache.put(key, "caption")
    raw = bytearray(cache.path(key).read_bytes())
    i = raw.index(b"caption")
    raw[i:i + 7] = b"CAPTION"  # the zip's CRC no longer matches
    cache.path(key).write_bytes(bytes(raw))
    assert cache.get(key) == (False, None)


def test_disk_cache_round_trips_every_payload_kind_without_pickle(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path)
    img = Image.fromarray(np.arange(48, dtype=np.uint8).reshape(4, 4, 3))
    audio = Audio(np.linspace(-1, 1, 16, dtype=np.float32), 16000)
    value = Produced(img, {"confidence": 0.5, "tokens": [1, 2], "nested": {"audio": audio, "none": None}})
    cache.put("k" * 40, value)
    hit, again = cache.get("k" * 40)
    assert hit and isinstance(again, Produced)
    assert again.payload.mode == "RGB" and again.payload.tobytes() == img.tobytes()
    assert again.info["confidence"] == 0.5 and again.info["tokens"] == [1, 2]
    assert again.info["nested"]["audio"] == audio and again.info["nested"]["none"] is None
    cache.put("o" * 40, object())  # not representable without pickle: not cached
    assert cache.get("o" * 40) == (False, None)
