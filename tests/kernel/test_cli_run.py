"""`crossaug run` as a new user drives it: -p forms, -n, --overwrite, run files, rejections by stage,
duplicate rows named as `validate` names them, the progress total of a CSV."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from crossaug import registry
from crossaug.cli import app
from crossaug.io.datasets import count_records
from typer.testing import CliRunner

runner = CliRunner()


def lines(out: Path) -> list[dict]:
    return [json.loads(x) for x in (out / "manifest.jsonl").read_text().splitlines()]


def params_of(out: Path) -> dict:
    return json.loads((out / "run.json").read_text())["definition"]["params"]


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "in.txt"
    path.write_text("one small sentence\nanother small sentence\n")
    return path


def test_p_repeated_or_several_pairs_after_one(tmp_path: Path, data: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    res = runner.invoke(app, ["run", "typo", "-i", str(data), "-o", str(a), "-p", "rate=0.4", "ops=[swap]",
                              "-n", "2"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["run", "-p", "rate=0.4", "-p", "ops=[swap]", "typo", "-i", str(data), "-o", str(b),
                              "--n", "2"])
    assert res.exit_code == 0, res.output
    assert params_of(a) == params_of(b) == {"rate": 0.4, "ops": ["swap"], "n": 2}
    assert (a / "manifest.jsonl").read_bytes() == (b / "manifest.jsonl").read_bytes()
    assert len(lines(a)) == 4


def test_p_errors_name_the_parameter_given(tmp_path: Path, data: Path) -> None:
    base = ["run", "typo", "-i", str(data), "-o", str(tmp_path / "o")]
    res = runner.invoke(app, [*base, "-p", "rate=abc"])
    assert res.exit_code == 2 and "-p rate=abc: parameter 'rate' of recipe 'typo' expects float, got str" in res.output
    res = runner.invoke(app, [*base, "-p", "rat=0.5"])
    assert res.exit_code == 2 and "has no parameter 'rat'; did you mean rate?" in res.output
    res = runner.invoke(app, [*base, "-p", "n=2", "-n", "4"])
    assert res.exit_code == 2 and "-p n=2 conflicts with --n 4" in res.output
    res = runner.invoke(app, [*base, "--bogus"])
    assert res.exit_code == 2 and "no such option(s) --bogus" in res.output
    assert not (tmp_path / "o" / "manifest.jsonl").exists()


def test_n_conflicts_with_an_alias_of_n(tmp_path: Path, data: Path) -> None:
    if "eda" not in registry.names("recipe"):
        pytest.skip("crossaug-text (eda) is not installed")
    base = ["run", "eda", "-i", str(data), "-o", str(tmp_path / "o")]
    res = runner.invoke(app, [*base, "-p", "num_aug=2", "-n", "4"])
    assert res.exit_code == 2 and "-p num_aug=2 conflicts with --n 4" in res.output
    res = runner.invoke(app, [*base, "-p", "num_aug=abc"])
    assert res.exit_code == 2 and "parameter 'num_aug' of recipe 'eda' expects int, got str 'abc'" in res.output


def test_overwrite_replaces_only_when_asked(tmp_path: Path, data: Path) -> None:
    out = tmp_path / "o"
    assert runner.invoke(app, ["run", "typo", "-i", str(data), "-o", str(out), "-n", "1"]).exit_code == 0
    res = runner.invoke(app, ["run", "typo", "-i", str(data), "-o", str(out), "-n", "3"])
    assert res.exit_code == 2 and "--overwrite to replace it" in res.output and len(lines(out)) == 2
    res = runner.invoke(app, ["run", "typo", "-i", str(data), "-o", str(out), "-n", "3", "--resume", "--overwrite"])
    assert res.exit_code == 2 and "give one of them" in res.output
    res = runner.invoke(app, ["run", "typo", "-i", str(data), "-o", str(out), "-n", "3", "--overwrite"])
    assert res.exit_code == 0, res.output
    assert len(lines(out)) == 6 and params_of(out)["n"] == 3


def test_a_run_file_carries_the_whole_run_and_flags_override_it(tmp_path: Path, data: Path) -> None:
    folder = tmp_path / "job"
    folder.mkdir()
    (folder / "data.txt").write_text(data.read_text())
    (folder / "run.yaml").write_text("recipe: typo\nparams: {rate: 0.3, n: 2}\nseed: 5\n"
                                     "run: {input: data.txt, output: out, workers: 1, executor: serial}\n")
    res = runner.invoke(app, ["run", "--config", str(folder / "run.yaml")])
    assert res.exit_code == 0, res.output
    run_json = json.loads((folder / "out" / "run.json").read_text())
    assert run_json["seed"] == 5 and run_json["definition"]["params"]["rate"] == 0.3
    assert len(lines(folder / "out")) == 4
    other = tmp_path / "other"
    res = runner.invoke(app, ["run", "-c", str(folder / "run.yaml"), "-o", str(other), "--seed", "7", "-n", "1",
                              "-p", "rate=0.1"])
    assert res.exit_code == 0, res.output
    run_json = json.loads((other / "run.json").read_text())
    assert run_json["seed"] == 7 and run_json["definition"]["params"] == {"rate": 0.1, "n": 1,
                                                                         "ops": params_of(other)["ops"]}
    assert len(lines(other)) == 2
    (folder / "bad.yaml").write_text("recipe: typo\n")
    res = runner.invoke(app, ["run", "-c", str(folder / "bad.yaml")])
    assert res.exit_code == 2 and "give --input and --output" in res.output


def test_rejections_by_stage_and_reason_and_duplicates_named_alike(tmp_path: Path) -> None:
    data = tmp_path / "in.jsonl"
    rows = [{"id": "r1", "text": "hello there friend"}, {"id": "r1", "text": "again"},
            {"id": "r2", "txt": "no text field"}, {"id": "r3", "text": "a fine long sentence to keep"}]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows) + "{not json\n")
    cfg = tmp_path / "r.yaml"
    cfg.write_text("recipe: augment\nparams:\n  augmentation: {augmentation: text.typo, params: {rate: 0.5}}\n"
                   "  n: 2\n  filters: [{filter: text.edit-distance, params: {threshold: 0.0001, unit: char}}]\n")
    out = tmp_path / "o"
    res = runner.invoke(app, ["run", "-c", str(cfg), "-i", str(data), "-o", str(out)])
    assert res.exit_code == 0, res.output
    summary = json.loads((out / "summary.json").read_text())
    rej = summary["rejections"]
    assert rej["duplicate id"] == {"an earlier row has this id": 1}
    assert sum(rej["input"].values()) == 2 and "row has no data field" in rej["input"]
    assert set(rej) == {"duplicate id", "input", "filter text.edit-distance"}
    assert sum(rej["filter text.edit-distance"].values()) == 4  # every typo variant is farther than 0.0001
    assert sum(sum(v.values()) for v in rej.values()) == summary["rejected"]
    assert summary["inputs_without_output"] == ["in-5", "r1", "r1#dup2", "r2", "r3"]
    closing = res.stderr
    assert "duplicate id 1" in closing and "filter text.edit-distance 4" in closing and "input 2" in closing
    assert "5 input(s) without output: in-5, r1, r1#dup2, r2, r3" in closing
    val = runner.invoke(app, ["validate", "-i", str(data), "--json"])
    assert val.exit_code == 1
    bad_ids = {b["id"] for b in json.loads(val.stdout)["bad"]}
    run_bad = {r["id"] for r in lines(out) if not r["kept"] and not r.get("lineage")}
    assert bad_ids == run_bad == {"r1#dup2", "r2", "in-5"}


def test_validate_prints_whole_lines_to_a_file(tmp_path: Path) -> None:
    data = tmp_path / "in.jsonl"
    data.write_text(json.dumps({"id": "x" * 30, "txt": "a " * 60}) + "\n")
    res = runner.invoke(app, ["validate", "-i", str(data)], env={"COLUMNS": "40"})
    assert res.exit_code == 1
    first = res.stdout.splitlines()[0]
    assert first.startswith(f"bad {'x' * 30}: ") and "row has no data field" in first


def test_progress_total_counts_csv_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import crossaug.io.datasets as ds

    path = tmp_path / "in.csv"
    path.write_text('id,text\na,"two\nlines"\nb,plain\n\nc,"x, y"\n')
    assert count_records(path) == 3  # the header and the blank line are not rows; a quoted newline is no row
    monkeypatch.setattr(ds, "COUNT_MAX_BYTES", 10)
    assert count_records(path) is None  # too large to parse twice: an indeterminate bar
    assert count_records(tmp_path) is None and count_records(["a", "b"]) == 2


def test_a_str_parameter_takes_the_text_as_written() -> None:
    from crossaug.cli_params import check_params
    from crossaug.errors import ConfigError

    class Tagged:
        @classmethod
        def param_info(cls) -> list[dict]:
            return [{"name": "voice", "type": "str"}, {"name": "k", "type": "int | None"},
                    {"name": "steps", "type": "Sequence[Step]"}, {"name": "instruction", "type": "str | None"}]

    assert check_params("r", Tagged, ["voice=123", "k=null", "steps=[a, b]"]) == {
        "voice": "123", "k": None, "steps": ["a", "b"]}  # an annotation it cannot read is not checked
    # a template with a placeholder reads as a YAML mapping or list; a str parameter takes it as written
    assert check_params("r", Tagged, ["instruction={entities}", "voice=[slt]"]) == {
        "instruction": "{entities}", "voice": "[slt]"}
    with pytest.raises(ConfigError, match=r"parameter 'k' of recipe 'r' expects int \| None, got dict"):
        check_params("r", Tagged, ["k={a}"])
    with pytest.raises(ConfigError, match=r"-p k=true: parameter 'k' of recipe 'r' expects int \| None, got bool"):
        check_params("r", Tagged, ["k=true"])


def test_rejection_stages_of_each_kind_of_line() -> None:
    from crossaug.runner.summary import rejection_stage

    step = {"kind": "augmentation", "name": "text.typo"}
    assert rejection_stage({"reason": "duplicate: same output as s~0.0.0", "lineage": [step]}) == (
        "duplicate output", "same output as an earlier candidate")
    assert rejection_stage({"reason": "BadSample: sample 'a#dup2': duplicate id 'a'; ids must be unique",
                            "lineage": []}) == ("duplicate id", "an earlier row has this id")
    assert rejection_stage({"reason": "BadSample: sample 'x': line 7 is not valid UTF-8 (byte 0xff)",
                            "lineage": []}) == ("input", "line N is not valid UTF-8")
    assert rejection_stage({"reason": "ModelError: backend crashed on 3 samples", "lineage": [step]}) == (
        "recipe", "ModelError: backend crashed on N samples")


def test_a_run_file_may_list_ops_instead_of_a_recipe(tmp_path: Path, data: Path) -> None:
    from crossaug.errors import ConfigError
    from crossaug.serialization import parse_config

    (tmp_path / "ops.yaml").write_text(
        f"ops:\n  - {{augmentation: text.typo, params: {{rate: 0.2}}}}\n  - {{augmentation: text.typo}}\n"
        f"  - {{filter: text.edit-distance, params: {{threshold: 0.9}}}}\n"
        f"params: {{n: 3, compose: {{p: [1.0, 0.0]}}}}\nrun: {{input: {data}, output: out}}\n")
    res = runner.invoke(app, ["run", "-c", str(tmp_path / "ops.yaml")])
    assert res.exit_code == 0, res.output
    d = json.loads((tmp_path / "out" / "run.json").read_text())["definition"]
    assert d["recipe"] == "augment" and d["params"]["n"] == 3
    assert [s["params"]["rate"] for s in d["params"]["augmentation"]["params"]["steps"]] == [0.2, 0.05]
    assert d["params"]["augmentation"]["params"]["p"] == [1.0, 0.0]
    assert [f["filter"] for f in d["params"]["filters"]] == ["text.edit-distance"]
    assert len(lines(tmp_path / "out")) == 6
    for doc, message in [({"ops": [{"filter": "text.edit-distance"}, {"augmentation": "text.typo"}]},
                          "augmentations, then filters"),
                         ({"ops": [{"filter": "text.edit-distance"}]}, "at least one augmentation"),
                         ({"ops": "text.typo"}, "non-empty list of steps"),
                         ({"ops": [{"augmentation": "text.typo"}], "recipe": "typo"}, "not both")]:
        with pytest.raises(ConfigError, match=message):
            parse_config(doc)


def test_ctrl_c_says_how_to_resume_and_resume_finishes(tmp_path: Path) -> None:
    """Ctrl-C during `crossaug run` keeps what was committed, says `--resume`, and resuming loses nothing."""
    import signal
    import subprocess
    import sys
    import time

    n = 60_000
    (tmp_path / "in.txt").write_text("".join(f"the birch canoe slid on the smooth planks {i}\n" for i in range(n)))
    cmd = [sys.executable, "-c", "from crossaug.cli import main; main()", "run", "typo", "-i", str(tmp_path / "in.txt"),
           "-o", str(tmp_path / "out"), "--no-progress", "--no-report", "--n", "2"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    manifest = tmp_path / "out" / "manifest.jsonl"
    deadline = time.monotonic() + 60
    while (not manifest.exists() or manifest.stat().st_size == 0) and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    if proc.returncode == 0:
        pytest.skip("the run finished before the interrupt arrived (a very fast machine)")
    assert proc.returncode == 130, err
    assert "--resume to continue" in err
    done = subprocess.run([*cmd, "--resume"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    ids = [json.loads(line)["id"] for line in manifest.read_text().splitlines()]
    assert len(ids) == 2 * n and len(set(ids)) == len(ids)  # every input's two outputs, none twice
