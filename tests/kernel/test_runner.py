"""Runner: output layout, determinism across executors, resume after SIGKILL, error policy."""

from __future__ import annotations

import importlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import crossaug
import numpy as np
import pytest
from crossaug import BackModality, Sample
from crossaug.builtin.edit_distance import EditDistance
from crossaug.builtin.reverse import ReverseWords
from crossaug.builtin.typo import Typo
from crossaug.recipe import Augment
from crossaug.runner import read_manifest
from crossaug.runner.executor import Executor, SerialExecutor

SENTENCES = [
    "The birch canoe slid on the smooth planks.", "Glue the sheet to the dark blue background.",
    "It's easy to tell the depth of a well.", "These days a chicken leg is a rare dish.",
    "Rice is often served in round bowls.", "The juice of lemons makes fine punch.",
    "The box was thrown beside the parked truck.", "The hogs were fed chopped corn and garbage.",
    "Four hours of steady work faced us.", "A large size in stockings is hard to sell.",
    "The boy was there when the sun rose.", "A rod is used to catch pink salmon.",
    "The source of the huge river is the clear spring.",
]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def round_trip_recipe() -> BackModality:
    return BackModality(forward=ReverseWords(), augment=[Typo(rate=0.05, field="text.reversed"),
                                                         Typo(rate=0.2, field="text.reversed")],
                        backward=ReverseWords(in_field="text.reversed", out_field="text"),
                        filters=[EditDistance(threshold=0.25)], fan_out=(1, 4, 1), keep=2)


def test_output_layout_and_manifest_keys(tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "in.jsonl", [{"id": f"s{i}", "text": t, "label": i % 3}
                                               for i, t in enumerate(SENTENCES[:5])])
    res = crossaug.run(round_trip_recipe(), data, tmp_path / "out", seed=3)
    out = tmp_path / "out"
    for name in ("manifest.jsonl", "summary.json", "report.html", "run.json"):
        assert (out / name).is_file(), name
    lines = list(read_manifest(out))
    assert len(lines) == 5 * 4  # l*m*n candidates per input, kept or rejected
    for rec in lines:
        assert {"id", "parent_id", "recipe", "kept", "reason", "lineage", "text"} <= set(rec)
        assert rec["recipe"] == "back-modality"
        assert rec["kept"] is (rec["reason"] is None)
        assert rec["label"] == int(rec["parent_id"][1:]) % 3
        names = [step["name"] for step in rec["lineage"]]
        assert names[0] == "text.reverse-words" and names[-1] in ("text.edit-distance", "keep")
    per_parent: dict[str, int] = {}
    for rec in lines:
        per_parent[rec["parent_id"]] = per_parent.get(rec["parent_id"], 0) + rec["kept"]
    assert all(v <= 2 for v in per_parent.values())  # keep=2
    assert res.summary["inputs"] == 5 and res.summary["lines"] == 20
    assert res.summary["filters"]["text.edit-distance"]["scored"] == 20
    assert "text.reverse-words" in res.summary["timings"]


@pytest.mark.parametrize("workers,batch_size,executor", [(2, 3, "process"), (2, 1, "thread"), (1, 5, "serial")])
def test_manifest_byte_identical_across_workers_and_batches(tmp_path: Path, workers: int, batch_size: int,
                                                           executor: str) -> None:
    data = write_jsonl(tmp_path / "in.jsonl", [{"text": t} for t in SENTENCES])
    crossaug.run(round_trip_recipe(), data, tmp_path / "ref", seed=11, workers=1, batch_size=8, report=False)
    crossaug.run(round_trip_recipe(), data, tmp_path / "other", seed=11, workers=workers,
                 batch_size=batch_size, executor=executor, report=False)
    ref = (tmp_path / "ref" / "manifest.jsonl").read_bytes()
    assert ref == (tmp_path / "other" / "manifest.jsonl").read_bytes()
    crossaug.run(round_trip_recipe(), data, tmp_path / "seed12", seed=12, report=False)
    assert ref != (tmp_path / "seed12" / "manifest.jsonl").read_bytes()


def test_media_fields_written_as_files(tmp_path: Path) -> None:
    from crossaug import Audio

    rng = np.random.default_rng(0)
    samples = [Sample(f"a{i}", {"text": f"clip number {i}",
                                "audio": Audio(rng.standard_normal(800).astype(np.float32) * 0.1, 8000)})
               for i in range(3)]
    crossaug.run(Augment(Typo(rate=0.1), n=1), samples, tmp_path / "out", seed=0)
    recs = list(read_manifest(tmp_path / "out"))
    for rec in recs:
        wav = tmp_path / "out" / rec["audio"]
        assert wav.is_file() and wav.read_bytes()[:4] == b"RIFF"
        back = crossaug.get_modality("audio").load(wav)
        assert back.sample_rate == 8000 and back.samples.shape == (800,)
    html = (tmp_path / "out" / "report.html").read_text()
    assert html.count("<audio") == 6  # each input's clip beside its output's
    assert all((tmp_path / "out" / rec["parent"]["audio"]).is_file() for rec in recs)


def test_existing_output_requires_resume(tmp_path: Path) -> None:
    crossaug.run("typo", SENTENCES[:2], tmp_path / "o", report=False)
    with pytest.raises(crossaug.ConfigError, match="pass (resume=True|--resume) to continue"):
        crossaug.run("typo", SENTENCES[:2], tmp_path / "o", report=False)
    with pytest.raises(crossaug.ConfigError, match="different seed"):
        crossaug.run("typo", SENTENCES[:2], tmp_path / "o", seed=5, resume=True, report=False)


def test_resume_after_clean_stop_adds_only_missing(tmp_path: Path) -> None:
    crossaug.run("typo", SENTENCES, tmp_path / "a", params={"n": 2}, report=False)
    crossaug.run("typo", SENTENCES, tmp_path / "b", params={"n": 2}, limit=4, report=False)
    res = crossaug.run("typo", SENTENCES, tmp_path / "b", params={"n": 2}, resume=True, report=False)
    assert res.summary["resumed_from"] == 4
    assert (tmp_path / "a" / "manifest.jsonl").read_bytes() == (tmp_path / "b" / "manifest.jsonl").read_bytes()


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-c", "from crossaug.cli import main; main()", *args]


@pytest.mark.slow
@pytest.mark.parametrize("workers", ["2", "1"])
def test_resume_after_sigkill_at_random_points(tmp_path: Path, workers: str) -> None:
    """Kill the CLI (and its worker processes) with SIGKILL at random points, resume each time
    (2 process workers, and 1 worker: the recipe in the CLI's own process)."""
    n_inputs = 800
    data = write_jsonl(tmp_path / "in.jsonl", [{"id": f"r{i}", "text": SENTENCES[i % len(SENTENCES)] + f" {i}"}
                                               for i in range(n_inputs)])
    args = ["run", "typo", "-i", str(data), "-p", "n=4", "-p", "rate=0.3", "--workers", workers,
            "--batch-size", "7", "--no-progress", "--seed", "5"]
    env = {**os.environ, "CROSSAUG_NO_PROGRESS": "1"}
    ref = tmp_path / "ref"
    subprocess.run(_cli(*args, "-o", str(ref)), check=True, env=env, capture_output=True)
    out = tmp_path / "out"
    manifest = out / "manifest.jsonl"
    full = (ref / "manifest.jsonl").stat().st_size
    rng = np.random.default_rng(1234)
    kills = 0
    attempts = 0
    while attempts < 40:
        attempts += 1
        first = not manifest.exists()
        cmd = _cli(*args, "-o", str(out)) + ([] if first else ["--resume"])
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                start_new_session=True)
        done = manifest.stat().st_size if manifest.exists() else 0
        target = done + int(rng.integers(1, max(2, (full - done) // 3)))
        while proc.poll() is None:
            if manifest.exists() and manifest.stat().st_size >= target:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                kills += 1
                break
            time.sleep(0.002)  # polling the file, not timing the code under test
        else:
            if proc.returncode == 0 and kills >= 10:
                break
            assert proc.returncode == 0, proc.stderr.read().decode()
            # finished before the kill point: start over to get enough kills
            if kills < 10:
                for p in out.glob("**/*"):
                    if p.is_file():
                        p.unlink()
                manifest.unlink(missing_ok=True)
                continue
    assert kills >= 10, f"only {kills} kills"
    recs = list(read_manifest(out))
    ids = [r["id"] for r in recs]
    assert len(ids) == len(set(ids)), "duplicated lines after resume"
    assert sorted({r["parent_id"] for r in recs}) == sorted(f"r{i}" for i in range(n_inputs))
    assert len(recs) == 4 * n_inputs
    assert manifest.read_bytes() == (ref / "manifest.jsonl").read_bytes()


def _tree(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_a_refused_run_changes_nothing_on_disk(tmp_path: Path) -> None:
    data, other = tmp_path / "in.txt", tmp_path / "other.txt"
    data.write_text("\n".join(SENTENCES[:4]) + "\n")
    other.write_text("\n".join(SENTENCES[4:8]) + "\n")
    crossaug.run("typo", data, tmp_path / "o", limit=2, report=False)
    before = _tree(tmp_path / "o")
    refusals = [
        ({}, "already exists"),  # no --resume
        ({"resume": True, "params": {"rate": 0.5}}, "different recipe"),
        ({"resume": True, "seed": 9}, "different seed"),
        ({"resume": True, "inputs": other}, "different input"),
    ]
    for kwargs, fragment in refusals:
        kwargs = {"inputs": data, **kwargs}
        with pytest.raises(crossaug.ConfigError, match=fragment):
            crossaug.run("typo", output=tmp_path / "o", report=False, **kwargs)
        assert _tree(tmp_path / "o") == before, fragment
    res = crossaug.run("typo", data, tmp_path / "o", resume=True, report=False)  # the original still resumes
    assert res.summary["inputs"] == 4 and res.summary["resumed_from"] == 2
    assert {r["recipe"] for r in read_manifest(tmp_path / "o")} == {"typo"}


def test_output_that_is_a_file_is_a_clear_error(tmp_path: Path) -> None:
    from crossaug.cli import app
    from typer.testing import CliRunner

    (tmp_path / "f").write_text("a file")
    (tmp_path / "in.txt").write_text("one line\n")
    with pytest.raises(crossaug.ConfigError, match="exists and is not a directory"):
        crossaug.run("typo", tmp_path / "in.txt", tmp_path / "f")
    res = CliRunner().invoke(app, ["run", "typo", "-i", str(tmp_path / "in.txt"), "-o", str(tmp_path / "f"),
                                   "--no-progress"])
    assert res.exit_code == 2 and "is not a directory" in res.output and "Traceback" not in res.output
    assert (tmp_path / "f").read_text() == "a file"


def test_cli_no_report_and_limits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from crossaug.cli import app
    from typer.testing import CliRunner

    for name in ("CROSSAUG_MAX_TEXT_CHARS", "CROSSAUG_MAX_BYTES_IMAGE"):  # the flags set these: restore after
        monkeypatch.setenv(name, "1000000" if "CHARS" in name else "256MB")

    (tmp_path / "in.txt").write_text("a fine line of text\n" + "x" * 50 + "\n")
    res = CliRunner().invoke(app, ["run", "typo", "-i", str(tmp_path / "in.txt"), "-o", str(tmp_path / "o"),
                                   "--no-progress", "--no-report", "--max-text-chars", "30",
                                   "--max-bytes", "image=1MB"])
    assert res.exit_code == 0, res.output
    assert not (tmp_path / "o" / "report.html").exists() and (tmp_path / "o" / "summary.json").exists()
    recs = list(read_manifest(tmp_path / "o"))
    assert [r["kept"] for r in recs] == [True, False] and "limit is 30" in recs[1]["reason"]
    bad = CliRunner().invoke(app, ["run", "typo", "-i", str(tmp_path / "in.txt"), "-o", str(tmp_path / "o2"),
                                   "--no-progress", "--max-bytes", "video=1MB"])
    assert bad.exit_code == 2 and "KIND=SIZE" in bad.output


def test_media_folders_never_collide(tmp_path: Path) -> None:
    from crossaug import Audio

    clip = Audio(np.linspace(-0.5, 0.5, 800, dtype=np.float32), 8000)
    louder = Audio(np.linspace(-0.9, 0.9, 800, dtype=np.float32), 8000)
    samples = [Sample("a/b", {"text": "first one", "audio": clip}),
               Sample("a_b-82badf67", {"text": "second one", "audio": louder})]
    crossaug.run(Augment(Typo(rate=0.1), n=1), samples, tmp_path / "o", report=False)
    recs = list(read_manifest(tmp_path / "o"))
    folders = {Path(r["parent"]["audio"]).parent for r in recs}
    assert len(folders) == 2
    back = [crossaug.get_modality("audio").load(tmp_path / "o" / r["parent"]["audio"]) for r in recs]
    assert back[0].samples.max() < 0.6 < back[1].samples.max()


def test_resume_rewrites_torn_media(tmp_path: Path) -> None:
    from crossaug import Audio

    rng = np.random.default_rng(1)
    samples = [Sample(f"a{i}", {"text": f"clip number {i}",
                                "audio": Audio(rng.standard_normal(800).astype(np.float32) * 0.1, 8000)})
               for i in range(3)]
    crossaug.run(Augment(Typo(rate=0.1), n=2), samples, tmp_path / "o", seed=3, report=False)
    good = _tree(tmp_path / "o")
    recs = list(read_manifest(tmp_path / "o"))
    parent = tmp_path / "o" / recs[2]["parent"]["audio"]
    output = tmp_path / "o" / recs[0]["audio"]
    parent.write_bytes(parent.read_bytes()[:10])  # torn by a crash
    output.unlink()
    crossaug.run(Augment(Typo(rate=0.1), n=2), samples, tmp_path / "o", seed=3, resume=True, report=False)
    after = _tree(tmp_path / "o")
    assert {k: v for k, v in after.items() if k != "summary.json"} == \
        {k: v for k, v in good.items() if k != "summary.json"}
    assert not [p for p in (tmp_path / "o" / "media").rglob("*") if p.name.endswith(".tmp")]


def test_resume_does_not_take_rejected_paths_for_torn_media(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    data = tmp_path / "in.jsonl"
    data.write_text('{"id": "a", "text": "fine"}\n{"id": "b", "text": "ok", "audio": "/dev/zero"}\n')
    crossaug.run("typo", data, tmp_path / "o", on_error="skip", report=False)
    with caplog.at_level("WARNING"):
        crossaug.run("typo", data, tmp_path / "o", on_error="skip", resume=True, report=False)
    assert "torn" not in caplog.text


def test_resume_from_a_generator_with_torn_media_still_processes_the_rest(tmp_path: Path) -> None:
    from crossaug import Audio

    def samples(n: int):
        for i in range(n):
            yield Sample(f"g{i}", {"text": f"clip {i}", "audio": Audio(np.full(800, 0.1 * (i + 1), np.float32), 8000)})

    crossaug.run(Augment(Typo(rate=0.1), n=1), samples(2), tmp_path / "o", report=False)
    rec = next(read_manifest(tmp_path / "o"))
    (tmp_path / "o" / rec["parent"]["audio"]).write_bytes(b"RIFF")  # torn; a generator cannot be re-read
    res = crossaug.run(Augment(Typo(rate=0.1), n=1), samples(4), tmp_path / "o", resume=True, report=False)
    assert res.summary["inputs"] == 4 and res.summary["resumed_from"] == 2


def _journaled(journal: bytes) -> list[str]:
    """The parents a journal names, in order."""
    return [i for line in journal.splitlines() for i in json.loads(line)["ids"]]


def test_group_commit_journals_only_what_was_fsynced(tmp_path: Path) -> None:
    """Appended parents are durable only after a group commit; a crash before it loses them, never half."""
    from crossaug.runner.manifest import Manifest

    m = Manifest(tmp_path, commit_interval=3600)  # the committer thread will not fire during the test
    m.open(resume=False)
    m.commit([("a", b'{"id": "a~0"}\n'), ("b", ['{"id": "b~0"}', '{"id": "b~1"}'])])
    m.sync()
    m.commit([("c", b'{"id": "c~0"}\n')])
    m._fh.flush()  # what the OS has when the process is killed: c's line, not its journal entry
    journal = (tmp_path / ".crossaug" / "journal.jsonl").read_bytes()
    assert _journaled(journal) == ["a", "b"]
    crashed = Manifest(tmp_path)  # a new run reads the directory as a kill -9 left it
    crashed.open(resume=True)
    assert crashed.done == {"a", "b"}
    crashed.close()
    assert (tmp_path / "manifest.jsonl").read_bytes() == b'{"id": "a~0"}\n{"id": "b~0"}\n{"id": "b~1"}\n'
    m._stop.set()


def test_a_journal_of_a_line_per_parent_still_resumes(tmp_path: Path) -> None:
    """Runs journaled a line per parent before a line per append: such a run resumes the same way."""
    from crossaug.runner.manifest import Manifest

    (tmp_path / ".crossaug").mkdir()
    (tmp_path / "manifest.jsonl").write_bytes(b'{"id": "a~0"}\n{"id": "b~0"}\n{"id": "c~0"}\n')
    (tmp_path / ".crossaug" / "journal.jsonl").write_bytes(b'{"id": "a", "end": 14}\n{"id": "b", "end": 28}\n')
    m = Manifest(tmp_path)
    m.open(resume=True)  # c's line was written but not journaled: dropped, and c redone
    assert m.done == {"a", "b"}
    m.append(["c", "d"], b'{"id": "c~0"}\n{"id": "d~0"}\n')
    m.close()
    again = Manifest(tmp_path)
    again.open(resume=True)
    assert again.done == {"a", "b", "c", "d"}
    assert (tmp_path / "manifest.jsonl").read_bytes().count(b"c~0") == 1
    again.close()


def test_calling_thread_writes_at_once_and_a_crash_drops_what_was_not_journaled(tmp_path: Path) -> None:
    """Without a committer thread lines are written when appended; until a group commit journals
    them they are not part of the run: a run resumed after a kill -9 cuts them off and redoes them."""
    from crossaug.runner.manifest import Manifest

    m = Manifest(tmp_path, commit_interval=3600, background=False)
    m.open(resume=False)
    m.append(["a"], b'{"id": "a~0"}\n')
    m.sync()
    big = b'{"id": "b~0", "text": "' + b"x" * 100_000 + b'"}\n'  # past any buffer: in the file at once
    m.append(["b"], big)
    path = tmp_path / "manifest.jsonl"
    assert path.read_bytes() == b'{"id": "a~0"}\n' + big and _journaled((tmp_path / ".crossaug" / "journal.jsonl")
                                                                        .read_bytes()) == ["a"]
    crashed = Manifest(tmp_path)  # the directory as a kill -9 now leaves it
    crashed.open(resume=True)
    assert crashed.done == {"a"} and path.read_bytes() == b'{"id": "a~0"}\n'
    crashed.close()


def test_group_commit_interval_bounds_the_unjournaled_tail(tmp_path: Path) -> None:
    from crossaug.runner.manifest import Manifest

    m = Manifest(tmp_path, commit_interval=0.05)
    m.open(resume=False)
    m.commit([("a", b'{"id": "a~0"}\n')])
    deadline = time.monotonic() + 10
    journal = tmp_path / ".crossaug" / "journal.jsonl"
    while not journal.read_bytes() and time.monotonic() < deadline:
        time.sleep(0.01)  # waiting for the background commit, not timing it
    assert json.loads(journal.read_bytes()) == {"ids": ["a"], "end": 14}
    m.close()
    with pytest.raises(crossaug.ConfigError):
        Manifest(tmp_path, commit_interval=-1)


def test_appends_wait_for_the_group_commit_and_memory_stays_bounded(tmp_path: Path, monkeypatch) -> None:
    """The appending thread writes nothing itself; past WRITE_AHEAD bytes held a commit starts early,
    past twice that the appending thread commits at once."""
    from crossaug.runner import manifest as manifest_module
    from crossaug.runner.manifest import Manifest

    monkeypatch.setattr(manifest_module, "WRITE_AHEAD", 100)
    m = Manifest(tmp_path, commit_interval=3600)  # the timer never fires during the test
    m.open(resume=False)
    path, journal = tmp_path / "manifest.jsonl", tmp_path / ".crossaug" / "journal.jsonl"
    m.commit([("a", b"x" * 60 + b"\n")])
    assert path.stat().st_size == 0 and journal.read_bytes() == b""  # held for the next group commit
    m.commit([("b", b"y" * 60 + b"\n")])  # 122 bytes held: the committer is woken
    deadline = time.monotonic() + 10
    while not journal.read_bytes() and time.monotonic() < deadline:
        time.sleep(0.01)  # waiting for the background commit, not timing it
    assert _journaled(journal.read_bytes()) == ["a", "b"]
    m._stop.set()  # the committer stops: only the appending thread can commit now
    m._wake.set()
    m._thread.join()
    m.commit([("c", b"z" * 250 + b"\n")])  # over twice WRITE_AHEAD: committed before commit() returns
    assert path.read_bytes().endswith(b"z\n") and _journaled(journal.read_bytes())[-1] == "c"
    m._thread = None
    m.close()


def test_calling_thread_commits_at_the_interval_or_after_a_slow_batch(tmp_path: Path, monkeypatch) -> None:
    """``background=False``: no committer thread; the appending thread commits once the interval
    has passed, or at once when the call comes a whole interval after the previous one."""
    from crossaug.runner import manifest as manifest_module
    from crossaug.runner.manifest import Manifest

    now = [100.0]
    monkeypatch.setattr(manifest_module, "_clock", lambda: now[0])
    m = Manifest(tmp_path, commit_interval=1.0, background=False)
    m.open(resume=False)
    assert m._thread is None
    journal = tmp_path / ".crossaug" / "journal.jsonl"

    def journaled() -> list[str]:
        return _journaled(journal.read_bytes())

    for k, parent in enumerate("abc"):  # fast batches: 0.4 s apart
        now[0] += 0.4
        m.commit([(parent, b'{"id": "%s~0"}\n' % parent.encode())])
        assert journaled() == ([] if k < 2 else ["a", "b", "c"])  # due 1.0 s after opening: at 1.2
    now[0] += 0.3
    m.commit([("d", b'{"id": "d~0"}\n')])
    assert journaled() == ["a", "b", "c"]  # held: next commit due at 101.2 + 1.0
    now[0] += 1.5  # a slow batch: its lines are committed at once (and the next ones will be too)
    m.commit([("e", b'{"id": "e~0"}\n')])
    assert journaled() == ["a", "b", "c", "d", "e"]
    now[0] += 1.0
    m.commit([("f", b'{"id": "f~0"}\n')])
    assert journaled()[-1] == "f"
    m.commit([("g", b'{"id": "g~0"}\n')])  # no time passed: not journaled until close
    assert journaled()[-1] == "f"
    m.close()
    assert journaled() == list("abcdefg")


def test_a_failed_commit_in_the_calling_thread_journals_nothing_more(tmp_path: Path, monkeypatch) -> None:
    """A write or fsync that fails (disk full, Ctrl-C during it) leaves the manifest possibly short
    of what was being written: later appends must not be journaled after it, and the error stays."""
    from crossaug.runner import manifest as manifest_module
    from crossaug.runner.manifest import Manifest

    m = Manifest(tmp_path, commit_interval=0, background=False)
    m.open(resume=False)
    m.commit([("a", b'{"id": "a~0"}\n')])
    real = os.fsync
    monkeypatch.setattr(manifest_module.os, "fsync", lambda fd: (_ for _ in ()).throw(OSError(28, "No space left")))
    with pytest.raises(OSError, match="No space"):
        m.commit([("b", b'{"id": "b~0"}\n')])
    monkeypatch.setattr(manifest_module.os, "fsync", real)
    with pytest.raises(OSError, match="No space"):
        m.commit([("c", b'{"id": "c~0"}\n')])
    with pytest.raises(OSError, match="No space"):
        m.close()
    journal = (tmp_path / ".crossaug" / "journal.jsonl").read_bytes()
    assert _journaled(journal) == ["a"]
    again = Manifest(tmp_path)
    again.open(resume=True)
    assert again.done == {"a"} and (tmp_path / "manifest.jsonl").read_bytes() == b'{"id": "a~0"}\n'
    again.close()


@pytest.mark.parametrize("workers, background", [(1, False), (2, True)])
def test_runs_commit_from_the_thread_that_runs_the_batches(tmp_path: Path, monkeypatch, workers: int,
                                                          background: bool) -> None:
    """1 worker: the calling thread runs the batches and commits between them (a committer thread
    waiting for the interpreter lock slowed it); with process workers a background thread commits
    while the calling thread waits on them. Same manifest either way."""
    from crossaug.runner import manifest as manifest_module

    made: list[bool] = []

    class Watched(manifest_module.Manifest):
        def open(self, resume: bool) -> None:
            made.append(self.background)
            super().open(resume)

    monkeypatch.setattr(importlib.import_module("crossaug.runner.run"), "Manifest", Watched)
    crossaug.run(Augment(Typo(rate=0.2), n=2), SENTENCES, tmp_path / "out", seed=3, workers=workers,
                 report=False)
    assert made == [background]
    plain = crossaug.run(Augment(Typo(rate=0.2), n=2), SENTENCES, tmp_path / "ref", seed=3, report=False,
                         commit_interval=0)
    assert (tmp_path / "out" / "manifest.jsonl").read_bytes() == plain.manifest_path.read_bytes()


@pytest.mark.parametrize("workers, auto", [(1, False), (2, True)])
def test_progress_bar_is_drawn_by_the_thread_that_runs_the_batches(tmp_path: Path, monkeypatch,
                                                                  workers: int, auto: bool) -> None:
    """1 worker: no refresh thread (one waiting for the interpreter lock slows the computing thread);
    the bar is redrawn between batches, at most every ``_Bar.EVERY`` seconds, and at the end."""
    run_module = importlib.import_module("crossaug.runner.run")
    monkeypatch.delenv("CROSSAUG_NO_PROGRESS", raising=False)
    bars: list = []

    class Watched(run_module._Bar):
        def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003 - passes through
            super().__init__(*args, **kwargs)
            self.draws = 0
            refresh = self.progress.refresh

            def counted() -> None:
                self.draws += 1
                refresh()
            self.progress.refresh = counted
            bars.append(self)

    monkeypatch.setattr(run_module, "_Bar", Watched)
    crossaug.run(Augment(Typo(rate=0.2), n=2), SENTENCES * 4, tmp_path / "out", seed=3, workers=workers,
                 batch_size=2, progress=True, report=False)
    (bar,) = bars
    assert bar.auto is auto and bar.progress.live.auto_refresh is auto  # rich starts its thread when auto
    assert bar.progress.tasks[0].completed == len(SENTENCES) * 4
    if not auto:  # 26 batches in well under a second: redrawn a few times, not once per batch
        assert 1 <= bar.draws < 26
    monkeypatch.setattr(Watched, "EVERY", 0.0)
    bars.clear()
    crossaug.run(Augment(Typo(rate=0.2), n=2), SENTENCES * 4, tmp_path / "again", seed=3, workers=workers,
                 batch_size=2, progress=True, report=False)
    if not auto:
        assert bars[0].draws == 26 + 1  # after every batch, and once at the end


def test_workers_return_finished_lines_and_summary_times_each_stage(tmp_path: Path) -> None:
    from crossaug.io.datasets import RawRecord
    from crossaug.runner.executor import BatchTask

    task = BatchTask(Augment(Typo(rate=0.2), n=2), 3, "raise", tmp_path, "typo")
    result = task([RawRecord("r1", {"text": SENTENCES[0]}), RawRecord("r2", {"text": SENTENCES[1]})])
    assert result.ids == ["r1", "r2"]
    block = result.block
    assert isinstance(block, bytes) and block.endswith(b"\n")
    assert [json.loads(x)["id"] for x in block.splitlines()] == ["r1~0", "r1~1", "r2~0", "r2~1"]
    assert result.timings["runner:rng"][1] == 4 and result.timings["runner:serialise"][1] == 2
    res = crossaug.run(Augment(Typo(rate=0.2), n=2), SENTENCES, tmp_path / "out", seed=3, report=False,
                       commit_interval=0)
    timings = res.summary["timings"]
    assert {"runner:rng", "runner:serialise", "runner:io", "recipe:augment"} <= set(timings)
    assert timings["runner:rng"]["items"] == 2 * len(SENTENCES)
    assert timings["runner:io"]["items"] == len(SENTENCES)
    assert timings["runner:rng"]["seconds"] <= timings["recipe:augment"]["seconds"]
    assert timings["runner:first-batch"]["items"] == 1  # one worker: its first batch holds the one-time loads


class _FitsByAugmenting(Augment):
    """A recipe whose ``fit`` runs its augmentation (timed like any call) over every input."""

    requires_fit = True

    def fit(self, samples):  # noqa: ANN001, ANN201 - the Recipe signature
        self.seen = [self.augmentation.augment(s, 0) for s in samples]


@pytest.mark.parametrize("workers", [1, 2])
def test_summary_times_only_the_runs_batches(tmp_path: Path, workers: int) -> None:
    """What the calling thread timed before a run (a user's own calls, the recipe's fit) is not
    counted as the run's: a serial run's first batch, or a worker forked from that thread, saw it."""
    typo = Typo(rate=0.2)
    for k in range(7):  # the caller's own calls: 7 timed augmentations, 7 streams
        typo.augment(Sample(f"own{k}", {"text": SENTENCES[0]}), crossaug.Seeder(0).rng("own", k))
    res = crossaug.run(Augment(typo, n=2), SENTENCES, tmp_path / "plain", seed=3, workers=workers,
                       report=False)
    timings = res.summary["timings"]
    assert timings["text.typo"]["items"] == 2 * len(SENTENCES)
    assert timings["runner:rng"]["items"] == 2 * len(SENTENCES)
    assert "runner:fit" not in timings

    fitting = _FitsByAugmenting(Typo(rate=0.2), n=2)
    res = crossaug.run(fitting, SENTENCES, tmp_path / "fit", seed=3, workers=workers, report=False)
    timings = res.summary["timings"]
    assert len(fitting.seen) == len(SENTENCES)  # fit augmented every input (in this thread) ...
    assert timings["text.typo"]["items"] == 2 * len(SENTENCES)  # ... and is not counted as batches
    assert timings["runner:fit"]["items"] == 1 and timings["runner:fit"]["seconds"] > 0


def test_summary_from_worker_tallies_equals_the_manifest_read_back(tmp_path: Path) -> None:
    """Workers tally what they write; the summary a run reports is what its manifest says."""
    from crossaug.runner.summary import summarise

    rows = [{"id": f"r{i}", "text": SENTENCES[i % len(SENTENCES)], "label": "ab"[i % 2]} for i in range(30)]
    rows[3]["text"] = ""  # rejected before the recipe runs
    res = crossaug.run(round_trip_recipe(), rows, tmp_path / "o", seed=2, workers=2, batch_size=4,
                       on_error="skip", report=False)
    read_back = summarise(tmp_path / "o")
    assert read_back["rejected"] > 0 and read_back["filters"] and read_back["labels"]
    assert {k: res.summary[k] for k in read_back} == read_back


@pytest.mark.parametrize("on_error", ["raise", "skip"])
def test_each_input_is_validated_once_unless_the_recipe_checks_more(tmp_path: Path, monkeypatch, on_error) -> None:
    """Decoding validates an input's fields; Augment's own check would validate the same fields again."""
    from crossaug.modalities.text import TextModality

    calls: list[str] = []
    validate = TextModality.validate

    def counting(self, payload, **kw):
        calls.append(payload)
        return validate(self, payload, **kw)

    monkeypatch.setattr(TextModality, "validate", counting)
    rows = SENTENCES[:3]
    crossaug.run(Augment(Typo(rate=0.1), n=2), rows, tmp_path / "a", on_error=on_error, report=False)
    assert sorted(calls) == sorted(rows)  # once per input, by decoding: not by Augment.check, not per output

    class Stricter(Augment):
        def check(self, samples):
            for s in samples:
                if len(s["text"]) > 40:
                    raise crossaug.BadSample("too long for this recipe", sample_id=s.id, field="text")
            super().check(samples)

    calls.clear()
    res = crossaug.run(Stricter(Typo(rate=0.1), n=2), rows, tmp_path / "b", on_error="skip", report=False)
    assert sorted(calls) == sorted(rows + [r for r in rows if len(r) <= 40])  # its check ran, and validated again
    assert res.summary["rejected"] == sum(len(r) > 40 for r in rows) and res.summary["kept"] == 2 * sum(
        len(r) <= 40 for r in rows)


class _Sizes(Executor):
    """A serial executor that records each batch's length."""

    def __init__(self) -> None:
        self.inner, self.sizes = SerialExecutor(), []

    def map(self, task, batches):
        def counted():
            for b in batches:
                self.sizes.append(len(b))
                yield b
        return self.inner.map(task, counted())

    def close(self) -> None:
        self.inner.close()


def test_automatic_batch_size_grows_for_per_input_recipes_and_changes_no_byte(tmp_path: Path, monkeypatch) -> None:
    run_module = importlib.import_module("crossaug.runner.run")
    monkeypatch.setattr(run_module, "AUTO_BATCH_SECONDS", 1000.0)  # any machine reaches the cap after one batch
    monkeypatch.setattr(run_module, "AUTO_BATCH_MAX", 50)
    rows = [f"{SENTENCES[i % len(SENTENCES)]} {i}" for i in range(300)]
    probe = _Sizes()
    auto = crossaug.run(Augment(Typo(rate=0.1), n=2), rows, tmp_path / "auto", executor=probe, report=False)
    fixed = crossaug.run(Augment(Typo(rate=0.1), n=2), rows, tmp_path / "fixed", batch_size=3, report=False)
    assert probe.sizes == [8, 8] + [50] * 5 + [34]  # the first batch (imports, loads) is not measured
    assert auto.summary["batch_size"].startswith("auto") and fixed.summary["batch_size"] == 3
    assert auto.manifest_path.read_bytes() == fixed.manifest_path.read_bytes()

    class OwnProcess(Augment):  # its outputs may depend on the batch: batches stay at 8
        def process(self, samples, seeder, **kw):
            return super().process(samples, seeder, **kw)

    probe = _Sizes()
    crossaug.run(OwnProcess(Typo(rate=0.1)), rows, tmp_path / "own", executor=probe, report=False)
    assert set(probe.sizes[:-1]) == {8}


def test_batch_sizer_aims_at_its_time_per_batch_within_bounds() -> None:
    from crossaug.runner.run import AUTO_BATCH_MAX, AUTO_BATCH_SECONDS, BatchSizer

    s = BatchSizer(None)
    s.observe({"recipe:r": [1.0, 10], "runner:first-batch": [1.0, 1]}, "recipe:r", 10)
    assert s.size == 8  # a worker's first batch (imports, model loads) says nothing of the rest
    s.observe({"recipe:r": [0.004, 20], "runner:serialise": [0.001, 20]}, "recipe:r", 20)
    assert s.size == int(AUTO_BATCH_SECONDS / (0.005 / 20))  # 250 us per input
    s.observe({"recipe:r": [1e-6, 20]}, "recipe:r", 20)
    assert s.size == AUTO_BATCH_MAX
    s.observe({"recipe:r": [100.0, 20]}, "recipe:r", 20)
    assert s.size == 1
    fixed = BatchSizer(5)
    fixed.observe({"recipe:r": [1e-6, 20]}, "recipe:r", 20)
    assert fixed.size == 5


class _Flaky(Typo):
    """Typo that refuses inputs holding "bad" and fails unexpectedly on inputs holding "boom"."""

    def sample_params(self, sample: Sample, rng: np.random.Generator) -> dict:
        if "boom" in sample["text"]:
            raise RuntimeError("flaky step")
        if "bad" in sample["text"]:
            raise crossaug.BadSample("refused by the step", sample_id=sample.id, field="text")
        return super().sample_params(sample, rng)


class _Watcher:
    """A plugin that sees every batch's outputs (so the runner hands them over as one batch) and
    every refused input."""

    def __init__(self) -> None:
        self.outputs = 0
        self.errors: list[str] = []

    @crossaug.hookimpl
    def crossaug_after_step(self, step: object, samples: list, outputs: list) -> None:
        self.outputs += sum(len(g) for g in outputs)

    @crossaug.hookimpl
    def crossaug_on_step_error(self, step: object, sample: Sample, error: BaseException) -> None:
        self.errors.append(sample.id)


def test_lines_built_per_input_match_lines_built_per_batch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch's lines are built input by input as its outputs appear (an Augment whose inputs
    decoding checked) or after the whole batch's outputs exist (the general way): both give the same
    manifest and summary, with refused inputs, unexpected failures (which redo the batch the general
    way) and bad rows; a plugin watching ``crossaug_after_step`` sees every output either way, and
    each refused or failed input reaches ``crossaug_on_step_error`` once."""
    from crossaug.hooks import get_plugin_manager
    from crossaug.runner.executor import BatchTask

    streamed: list[bool] = []
    stream = BatchTask._stream

    def spy(self: BatchTask, *args: object) -> bool:
        streamed.append(stream(self, *args))
        return streamed[-1]

    monkeypatch.setattr(BatchTask, "_stream", spy)
    rows = [{"id": f"r{i}", "text": ("bad " if i % 7 == 3 else "boom " if i % 11 == 5 else "")
             + f"the birch canoe slid {i}"} for i in range(60)] + [{"id": "empty", "text": ""}]
    expected_errors = sorted(r["id"] for r in rows if "bad" in r["text"] or "boom" in r["text"])
    pm = get_plugin_manager()
    runs = {}
    for how in ("per input", "per batch", "per input, watched"):
        plugin = _Watcher()
        pm.register(plugin)
        monkeypatch.setattr(BatchTask, "_streams", lambda self, how=how: how != "per batch")
        try:
            res = crossaug.run(Augment(_Flaky(rate=0.2), n=2), rows, tmp_path / how, seed=4, batch_size=16,
                               on_error="skip", report=False)
        finally:
            pm.unregister(plugin)
        assert sorted(plugin.errors) == expected_errors, how
        summary = {k: v for k, v in res.summary.items() if k not in ("seconds", "timings")}
        runs[how] = ((tmp_path / how / "manifest.jsonl").read_bytes(), summary, res.summary["timings"])
        assert plugin.outputs == summary["kept"], how
        # 4 batches of 16; "boom" in rows 5, 16, 27 and 49: those batches are redone the general way
        assert streamed == ([] if how == "per batch" else [False, False, True, False]), (how, streamed)
        streamed.clear()
    assert runs["per input"][:2] == runs["per batch"][:2] == runs["per input, watched"][:2]
    assert runs["per input"][1]["kept"] == 2 * (60 - len(expected_errors))
    for how in runs:  # the recipe is timed over every decoded input either way (failures redo some)
        (key,) = [k for k in runs[how][2] if k.startswith("recipe:")]
        assert runs[how][2][key]["items"] >= 60, how
    with pytest.raises(crossaug.BadSample, match="refused by the step"):
        crossaug.run(Augment(_Flaky(rate=0.2), n=2), rows[:10], tmp_path / "raise", batch_size=16, report=False)
