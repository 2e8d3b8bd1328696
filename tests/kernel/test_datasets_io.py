"""Dataset readers: JSONL, CSV/TSV, TXT, class-per-subfolder folders, iterables, Hugging Face datasets."""

from __future__ import annotations

import json
from pathlib import Path

import crossaug
import numpy as np
import pytest
from crossaug import Audio, BadSample, Sample
from crossaug.io import iter_records, to_sample
from crossaug.modalities.wav import write_wav
from PIL import Image


def test_jsonl_fields_label_meta_and_relative_media(tmp_path: Path) -> None:
    (tmp_path / "img").mkdir()
    Image.new("RGB", (20, 10), "red").save(tmp_path / "img" / "a.png")
    write_wav(tmp_path / "a.wav", np.zeros(160, np.float32), 16000)
    rows = [{"id": "x1", "text": "a red box", "image": "img/a.png", "audio": "a.wav", "label": "box", "source": "web"}]
    (tmp_path / "d.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    [rec] = list(iter_records(tmp_path / "d.jsonl"))
    s = to_sample(rec)
    assert s.id == "x1" and s.label == "box" and s.meta == {"source": "web"}
    assert s.fields["image"].size == (20, 10) and s.fields["audio"].sample_rate == 16000
    assert s.fields["text"] == "a red box"


def test_csv_and_tsv(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text('text,label,text.de\n"a cat, small",pet,eine Katze\nsecond,,\n')
    recs = list(iter_records(tmp_path / "d.csv"))
    assert [r.id for r in recs] == ["d-1", "d-2"]
    a = to_sample(recs[0])
    assert a.fields == {"text": "a cat, small", "text.de": "eine Katze"} and a.label == "pet"
    with pytest.raises(BadSample, match="sample 'd-2' field 'text.de': empty text"):
        to_sample(recs[1])
    (tmp_path / "d.tsv").write_text("id\ttext\nq\ttab separated\n")
    assert to_sample(next(iter_records(tmp_path / "d.tsv"))).fields["text"] == "tab separated"


def test_txt_one_sample_per_line(tmp_path: Path) -> None:
    (tmp_path / "s.txt").write_bytes(b"first line\n\n  \nsecond line\r\n")
    recs = list(iter_records(tmp_path / "s.txt"))
    assert [(r.id, to_sample(r).fields["text"]) for r in recs] == [("s-1", "first line"), ("s-4", "second line")]


def test_class_per_subfolder(tmp_path: Path) -> None:
    for label in ("cats", "dogs"):
        (tmp_path / label).mkdir()
        for i in range(2):
            Image.new("L", (12, 12), i * 100).save(tmp_path / label / f"{i}.png")
    (tmp_path / "dogs" / "readme.md").write_text("x")
    recs = list(iter_records(tmp_path))
    ok = [to_sample(r) for r in recs if not r.error]
    assert [(s.id, s.label) for s in ok] == [("cats/0", "cats"), ("cats/1", "cats"), ("dogs/0", "dogs"),
                                             ("dogs/1", "dogs")]
    bad = [r for r in recs if r.error]
    assert len(bad) == 1 and "unknown file type '.md'" in bad[0].error


def test_iterables_of_samples_dicts_strings() -> None:
    audio = Audio(np.zeros(10, np.float32), 8000)
    recs = list(iter_records([Sample("z", {"text": "t"}), {"text": "u", "audio": audio}, "v"]))
    assert [r.id for r in recs] == ["z", "1", "2"]
    assert to_sample(recs[1]).fields["audio"] is audio


def test_missing_required_field_names_it() -> None:
    [rec] = list(iter_records([{"id": "q", "text": "words"}]))
    with pytest.raises(BadSample, match="sample 'q' field 'audio': missing field 'audio'"):
        to_sample(rec, required=["audio"])


def test_huggingface_dataset(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets", reason="Hugging Face datasets is an optional input type")
    ds = datasets.Dataset.from_dict({
        "text": ["a photo of a cat", "a photo of a dog"],
        "label": [0, 1],
        "image": [Image.new("RGB", (16, 16), "white"), Image.new("RGB", (16, 16), "black")],
    }).cast_column("image", datasets.Image())
    res = crossaug.run("typo", ds, tmp_path / "out", params={"rate": 0.2}, report=False)
    recs = list(crossaug.read_manifest(tmp_path / "out"))
    assert res.summary["inputs"] == 2 and [r["label"] for r in recs] == [0, 1]
    assert all((tmp_path / "out" / r["image"]).is_file() for r in recs)


def test_cli_validate_reports_bad_rows(tmp_path: Path) -> None:
    from crossaug.cli import app
    from typer.testing import CliRunner

    (tmp_path / "d.jsonl").write_text('{"text": "fine"}\n{"text": ""}\n{"oops": 1}\n')
    result = CliRunner().invoke(app, ["validate", "-i", str(tmp_path / "d.jsonl"), "--json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["rows"] == 3 and [b["id"] for b in report["bad"]] == ["d-2", "d-3"]
    assert "empty text" in report["bad"][0]["reason"]
