"""The crossaug command line: describe, run, doctor, demo, report, list."""

from __future__ import annotations

import json
from pathlib import Path

from crossaug.cli import app
from typer.testing import CliRunner

runner = CliRunner()


def test_describe_shows_params_and_doc() -> None:
    res = runner.invoke(app, ["describe", "text.typo", "--json"])
    assert res.exit_code == 0, res.output
    info = json.loads(res.stdout)
    assert info["kind"] == "augmentation" and info["modalities"] == ["text"]
    assert {p["name"]: p["default"] for p in info["params"]}["rate"] == 0.05
    assert "Random keyboard typos" in info["doc"]
    res = runner.invoke(app, ["describe", "nothing-here"])
    assert res.exit_code == 2 and "nothing registered as 'nothing-here'" in res.output


def test_run_params_and_n(tmp_path: Path) -> None:
    data = tmp_path / "in.txt"
    data.write_text("one small sentence\nanother small sentence\n")
    res = runner.invoke(app, ["run", "typo", "-i", str(data), "-o", str(tmp_path / "o"), "--n", "3",
                              "-p", "rate=0.5", "--seed", "2", "--no-progress"])
    assert res.exit_code == 0, res.output
    recs = [json.loads(x) for x in (tmp_path / "o" / "manifest.jsonl").read_text().splitlines()]
    assert len(recs) == 6 and {r["parent_id"] for r in recs} == {"in-1", "in-2"}
    run_json = json.loads((tmp_path / "o" / "run.json").read_text())
    assert run_json["definition"]["params"]["rate"] == 0.5 and run_json["seed"] == 2


def test_run_errors_are_clean(tmp_path: Path) -> None:
    res = runner.invoke(app, ["run", "nope", "-i", "x.txt", "-o", str(tmp_path / "o")])
    assert res.exit_code == 2 and "unknown recipe 'nope'" in res.output
    res = runner.invoke(app, ["run", "typo", "-i", str(tmp_path / "missing.jsonl"), "-o", str(tmp_path / "o")])
    assert res.exit_code == 2 and "does not exist" in res.output


def test_doctor_json_lists_checks() -> None:
    res = runner.invoke(app, ["doctor", "--json"])
    assert res.exit_code == 0, res.output
    checks = json.loads(res.stdout)
    names = {c["name"] for c in checks}
    assert "python" in names and "example resource" in names
    assert all(c["status"] in ("ok", "missing") and (c["ok"] or c["hint"]) for c in checks)


def test_report_rewrites_page(tmp_path: Path) -> None:
    data = tmp_path / "in.txt"
    data.write_text("the cat sat on the mat\n")
    assert runner.invoke(app, ["run", "typo", "-i", str(data), "-o", str(tmp_path / "o"), "-p", "rate=0.3",
                               "--no-progress"]).exit_code == 0
    (tmp_path / "o" / "report.html").unlink()
    res = runner.invoke(app, ["report", str(tmp_path / "o")])
    assert res.exit_code == 0 and (tmp_path / "o" / "report.html").is_file()
    page = (tmp_path / "o" / "report.html").read_text()
    assert "in-1" in page and ("<del>" in page or "<ins>" in page)


def test_list_table_and_kind_filter() -> None:
    res = runner.invoke(app, ["list", "--kind", "recipe", "--json"])
    rows = json.loads(res.stdout)
    assert res.exit_code == 0 and rows and {r["kind"] for r in rows} == {"recipe"}
    assert {"augment", "back-modality", "typo"} <= {r["name"] for r in rows}
