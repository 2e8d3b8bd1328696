"""Table-driven bad inputs: each gives an error naming the sample/field and the reason;
with on_error="skip" each is recorded as rejected and the run finishes."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import crossaug
import numpy as np
import pytest
from crossaug import Audio, BadSample, ConfigError, CrossaugError
from crossaug.modalities.wav import wav_bytes
from crossaug.runner import read_manifest
from PIL import Image


def _png(path: Path, size: tuple[int, int] = (16, 16), mode: str = "RGB") -> Path:
    Image.new(mode, size).save(path)
    return path


def media(tmp: Path) -> dict[str, Path]:
    """Bad media files on disk."""
    files = {}
    good = _png(tmp / "good.png", (32, 32))
    files["truncated.png"] = tmp / "truncated.png"
    files["truncated.png"].write_bytes(good.read_bytes()[:60])
    files["tiny.png"] = _png(tmp / "tiny.png", (1, 1))
    files["empty.wav"] = tmp / "empty.wav"
    files["empty.wav"].write_bytes(b"")
    files["nosamples.wav"] = tmp / "nosamples.wav"
    files["nosamples.wav"].write_bytes(wav_bytes(np.zeros(0, np.float32), 16000))
    files["garbage.wav"] = tmp / "garbage.wav"
    files["garbage.wav"].write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunkjunkjunk")
    files["notes.xyz"] = tmp / "notes.xyz"
    files["notes.xyz"].write_text("not media")
    frames = [Image.new("RGB", (16, 16), c) for c in ("red", "blue")]
    files["anim.gif"] = tmp / "anim.gif"
    frames[0].save(files["anim.gif"], save_all=True, append_images=frames[1:])
    files["dir"] = tmp / "adir"
    files["dir"].mkdir()
    files["fifo"] = tmp / "pipe.png"
    os.mkfifo(files["fifo"])
    files["loop.wav"] = tmp / "loop.wav"
    files["loop.wav"].symlink_to("loop.wav")
    files["dangling.wav"] = tmp / "dangling.wav"
    files["dangling.wav"].symlink_to("nowhere.wav")
    noise = np.random.default_rng(0).integers(0, 256, (256, 256, 3), dtype=np.uint8)
    files["big.png"] = tmp / "big.png"
    Image.fromarray(noise).save(files["big.png"])  # ~200 kB, over the 64 kB cap set below
    return files


@pytest.fixture(autouse=True)
def limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small caps so that the over-the-limit cases stay small."""
    monkeypatch.setenv("CROSSAUG_MAX_BYTES_IMAGE", "64KB")
    monkeypatch.setenv("CROSSAUG_MAX_BYTES_ROW", "2MB")
    monkeypatch.setenv("CROSSAUG_MAX_TEXT_CHARS", "500000")


NAN, INF = float("nan"), float("inf")


def _nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = [value]
    return value


# (case id, row as written to JSONL -- or raw bytes --, field named in the error, reason fragment)
def cases(files: dict[str, Path]) -> list[tuple[str, Any, str | None, str]]:
    return [
        ("empty-text", {"text": ""}, "text", "empty text"),
        ("blank-text", {"text": "   "}, "text", "whitespace"),
        ("number-text", {"text": 42}, "text", "expected text"),
        ("list-text", {"text": ["a", "b"]}, "text", "expected text"),
        ("nul-text", {"text": "abc\u0000def"}, "text", "NUL"),
        ("huge-text", {"text": "a" * 1_000_001}, "text", "limit"),
        ("missing-file", {"text": "ok", "audio": "nope/missing.wav"}, "audio", "file not found"),
        ("dir-as-file", {"text": "ok", "audio": str(files["dir"])}, "audio", "directory"),
        ("zero-byte-audio", {"text": "ok", "audio": str(files["empty.wav"])}, "audio", "0 bytes"),
        ("zero-length-audio", {"text": "ok", "audio": str(files["nosamples.wav"])}, "audio", "zero-length"),
        ("corrupt-wav", {"text": "ok", "audio": str(files["garbage.wav"])}, "audio", "cannot decode audio"),
        ("truncated-image", {"text": "ok", "image": str(files["truncated.png"])}, "image", "cannot decode image"),
        ("tiny-image", {"text": "ok", "image": str(files["tiny.png"])}, "image", "1x1"),
        ("animated-gif", {"text": "ok", "image": str(files["anim.gif"])}, "image", "animated"),
        ("number-image", {"text": "ok", "image": 7}, "image", "cannot make"),
        ("no-data-field", {"caption_typo": "x"}, None, "no data field"),
        ("not-an-object", ["just", "a", "list"], None, "cannot read a sample"),
        ("malformed-json", b'{"text": "unterminated', None, "malformed JSON"),
        ("non-utf8", b'{"text": "caf\xe9"}', None, "not valid UTF-8"),
        ("duplicate-id", {"id": "dup", "text": "second copy"}, None, "duplicate id"),
        # values JSON cannot hold: they used to crash the manifest writer even under skip
        ("surrogate-text", {"text": "bad \udcff"}, "text", "lone surrogate"),
        ("surrogate-high", {"text": "x\ud800y"}, "text", "lone surrogate"),
        ("surrogate-label", {"text": "ok", "label": "c\udcff"}, "label", "lone surrogate"),
        ("surrogate-meta", {"text": "ok", "note": "n\udcff"}, "note", "lone surrogate"),
        ("surrogate-nested", {"text": "ok", "extra": {"a": ["\udcff"]}}, "extra", "lone surrogate"),
        ("surrogate-column", {"text": "ok", "k\udcff": 1}, None, "column name 'k\\udcff'"),
        ("surrogate-id", {"id": "i\udcff", "text": "ok"}, "id", "lone surrogate"),
        ("surrogate-path", {"text": "ok", "audio": "a\udcff.wav"}, "audio", "lone surrogate"),
        ("nan-text", {"text": NAN}, "text", "NaN/inf"),
        ("inf-meta", {"text": "ok", "score": INF}, "score", "NaN/inf"),
        ("nan-nested", {"text": "ok", "extra": {"a": [1, NAN]}}, "extra", "NaN/inf"),
        ("nan-label", {"text": "ok", "label": NAN}, "label", "NaN/inf"),
        ("nan-id", {"id": NAN, "text": "ok"}, "id", "NaN/inf"),
        ("deep-meta", {"text": "ok", "extra": _nested(40)}, "extra", "nested more than 32"),
        ("deep-json", b"[" * 100_000, None, "nested more than"),
        # bounded reads: devices, FIFOs, size caps, loops
        ("dev-zero", {"text": "ok", "audio": "/dev/zero"}, "audio", "not a regular file"),
        ("fifo", {"text": "ok", "image": str(files["fifo"])}, "image", "not a regular file"),
        ("over-byte-cap", {"text": "ok", "image": str(files["big.png"])}, "image", "CROSSAUG_MAX_BYTES_IMAGE"),
        ("over-char-cap", {"text": "w " * 300_000}, "text", "CROSSAUG_MAX_TEXT_CHARS"),
        ("over-row-cap", {"text": "b" * 3_000_000}, None, "CROSSAUG_MAX_BYTES_ROW"),
        ("symlink-loop", {"text": "ok", "audio": str(files["loop.wav"])}, "audio", "symbolic link loop"),
        ("dangling-link", {"text": "ok", "audio": str(files["dangling.wav"])}, "audio", "file not found"),
    ]


N_CASES = 42


def _write(path: Path, rows: list[tuple[str, Any]]) -> None:
    with path.open("wb") as fh:
        fh.write(json.dumps({"id": "dup", "text": "first copy is fine"}).encode() + b"\n")
        for cid, row in rows:
            if isinstance(row, bytes):
                fh.write(row + b"\n")
            elif isinstance(row, dict):
                fh.write(json.dumps({"id": cid, **row}).encode() + b"\n")
            else:
                fh.write(json.dumps(row).encode() + b"\n")
        fh.write(json.dumps({"id": "last-good", "text": "the run reaches the end"}).encode() + b"\n")


def _expected_id(cid: str, row: Any) -> str | None:
    """The id the error must name; None where the row's own id is unusable (a generated ``in-N``)."""
    if not isinstance(row, dict) or cid == "duplicate-id" or "id" in row or cid == "over-row-cap":
        return None
    return cid


def test_at_least_forty_cases(tmp_path: Path) -> None:
    assert len(cases(media(tmp_path))) == N_CASES >= 40


@pytest.mark.parametrize("index", range(N_CASES))
def test_raise_policy_names_sample_and_reason(tmp_path: Path, index: int) -> None:
    files = media(tmp_path)
    cid, row, field, fragment = cases(files)[index]
    data = tmp_path / "in.jsonl"
    _write(data, [(cid, row)])
    with pytest.raises(BadSample) as info:
        crossaug.run("typo", data, tmp_path / "out", on_error="raise", report=False)
    msg = str(info.value)
    assert fragment.lower() in msg.lower(), msg
    expected_id = _expected_id(cid, row)
    if expected_id:
        assert f"sample {expected_id!r}" in msg
    else:
        assert "sample 'in-" in msg or "sample 'dup#dup2'" in msg, msg
    if field:
        assert f"field {field!r}" in msg, msg
    assert " at 0x" not in msg


def test_validate_flags_every_case(tmp_path: Path) -> None:
    from crossaug.cli import app
    from typer.testing import CliRunner

    table = cases(media(tmp_path))
    data = tmp_path / "in.jsonl"
    _write(data, [(cid, row) for cid, row, _, _ in table])
    res = CliRunner().invoke(app, ["validate", "-i", str(data), "--json"])
    assert res.exit_code == 1, res.output
    report = json.loads(res.stdout)
    assert report["rows"] == len(table) + 2
    reasons = [b["reason"] for b in report["bad"]]
    assert len(reasons) == len(table)
    for (cid, _, field, fragment), reason in zip(table, reasons):
        assert fragment.lower() in reason.lower(), (cid, reason)
        assert field is None or f"field {field!r}" in reason, (cid, reason)


def test_skip_policy_records_every_bad_input(tmp_path: Path) -> None:
    files = media(tmp_path)
    table = cases(files)
    data = tmp_path / "in.jsonl"
    _write(data, [(cid, row) for cid, row, _, _ in table])
    res = crossaug.run("typo", data, tmp_path / "out", on_error="skip")
    recs = list(read_manifest(tmp_path / "out"))
    rejected = [r for r in recs if not r["kept"]]
    assert len(rejected) == len(table)
    for (cid, _row, _, fragment), rec in zip(table, rejected):
        assert fragment.lower() in rec["reason"].lower(), (cid, rec["reason"])
        assert rec["lineage"] == []
        assert " at 0x" not in rec["reason"]  # no memory addresses: identical runs give identical lines
    kept_parents = [r["parent_id"] for r in recs if r["kept"]]
    assert kept_parents == ["dup", "last-good"]
    lines = data.read_bytes().count(b"\n")
    assert len({r["parent_id"] for r in recs}) == lines  # every input accounted for
    assert res.summary["inputs"] == len(table) + 2
    assert res.summary["rejected"] == len(table)


@pytest.mark.parametrize("make,fragment", [
    (lambda: Audio(np.array([0.1, np.nan], np.float32), 16000), "non-finite"),
    (lambda: Audio(np.zeros(10, np.float32), 0), "sample rate 0"),
    (lambda: Audio(np.zeros(16000 * 601, np.float32), 16000), "limit is 600 s"),
    (lambda: (np.zeros(10), "fast"), "sample rate must be an integer"),
    (lambda: np.zeros(10, np.float32), "no sample rate"),
])
def test_bad_audio_objects(make: Callable[[], Any], fragment: str) -> None:
    with pytest.raises(BadSample, match=fragment) as info:
        crossaug.get_modality("audio").coerce(make(), sample_id="a1", field="audio")
    assert "sample 'a1' field 'audio'" in str(info.value)


def test_bad_images_and_conversions(tmp_path: Path) -> None:
    img = crossaug.get_modality("image")
    rgba = img.coerce(Image.new("RGBA", (16, 16), (255, 0, 0, 0)), sample_id="x", field="image")
    assert rgba.mode == "RGB" and rgba.getpixel((0, 0)) == (255, 255, 255)  # transparent -> white
    cmyk = img.coerce(Image.new("CMYK", (16, 16), (0, 0, 0, 0)), sample_id="x", field="image")
    assert cmyk.mode == "RGB"
    deep = img.coerce(np.full((16, 16), 65535, np.uint16), sample_id="x", field="image")
    assert deep.mode == "L" and deep.getpixel((0, 0)) == 255
    with pytest.raises(BadSample, match="10000x10000"):
        img.coerce(Image.new("L", (10000, 10000)), sample_id="big", field="image")
    with pytest.raises(BadSample, match="NaN"):
        img.coerce(np.full((16, 16, 3), np.nan, np.float32), sample_id="nan", field="image")


def test_configuration_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown recipe 'no-such-recipe'"):
        crossaug.run("no-such-recipe", ["a"], tmp_path / "o1")
    with pytest.raises(ConfigError, match="has no parameter.*colour"):
        crossaug.run("typo", ["a"], tmp_path / "o2", params={"colour": "red"})
    bad_yaml = tmp_path / "r.yaml"
    bad_yaml.write_text("recipe: typo\nparams: {rate: [0.1\n")
    with pytest.raises(ConfigError, match="malformed YAML"):
        crossaug.load_config(bad_yaml)
    with pytest.raises(ConfigError, match="batch_size"):
        crossaug.run("typo", ["a"], tmp_path / "o3", batch_size=0)
    with pytest.raises(ConfigError, match="on_error"):
        crossaug.run("typo", ["a"], tmp_path / "o4", on_error="ignore")
    with pytest.raises(ConfigError, match="rate must lie in"):
        crossaug.create("recipe", "typo", rate=3)
    with pytest.raises(CrossaugError, match="does not exist"):
        crossaug.run("typo", tmp_path / "missing.jsonl", tmp_path / "o5")


def test_unexpected_exceptions_are_recorded_not_lost(tmp_path: Path) -> None:
    from crossaug import Augmentation

    class Explodes(Augmentation):
        name = "test.explodes"

        def __init__(self, field: str = "text") -> None:
            self.field = field

        def apply(self, sample, params):
            if "boom" in sample["text"]:
                raise ZeroDivisionError("division by zero inside a plugin")
            return sample

    recipe = crossaug.Augment(Explodes())
    res = crossaug.run(recipe, ["fine", "boom here", "also fine"], tmp_path / "o", on_error="skip", report=False)
    recs = list(read_manifest(tmp_path / "o"))
    assert [r["kept"] for r in recs] == [True, False, True]
    assert "ZeroDivisionError" in recs[1]["reason"] and recs[1]["text"] == "boom here"
    assert res.summary["rejected"] == 1


def test_setup_errors_stop_the_run_even_when_skipping(tmp_path: Path) -> None:
    """A missing package is not a bad sample: it must not be recorded against every input."""
    from crossaug import Augmentation, MissingDependency

    class NeedsPackage(Augmentation):
        name = "test.needs-package"

        def __init__(self, field: str = "text") -> None:
            self.field = field

        def apply(self, sample, params):
            raise MissingDependency("pip install 'crossaug-audio[whisper]'", what="faster-whisper")

    with pytest.raises(MissingDependency, match=r"crossaug-audio\[whisper\]"):
        crossaug.run(crossaug.Augment(NeedsPackage()), ["a", "b", "c"], tmp_path / "o", on_error="skip",
                     batch_size=2, report=False)
    assert (tmp_path / "o" / "manifest.jsonl").read_text() == ""


def test_cli_keeps_brackets_in_install_hints(tmp_path: Path) -> None:
    import typer
    from crossaug.cli import _fail
    from typer.testing import CliRunner

    runner_app = typer.Typer()

    @runner_app.command()
    def boom() -> None:
        from crossaug import MissingDependency

        _fail(MissingDependency("pip install 'crossaug-audio[whisper]'"))

    res = CliRunner().invoke(runner_app, [])
    assert res.exit_code == 2 and "crossaug-audio[whisper]" in res.output


# ---- inputs other than JSONL: (case, file name, bytes, bad row id, field, reason fragment, good ids) ----
FILE_CASES = [
    ("csv-invalid-byte", "d.csv", b"id,text\na,fine\nb,caf\xe9 noir\nc,also fine\n",
     "b", "text", "line 3 is not valid utf-8 (byte 0xe9)", ["a", "c"]),
    ("csv-unclosed-quote", "d.csv", b'id,text\na,fine\nb,"never closed\nc,next row\nd,last row\n',
     "d-2", None, "quoted field starting on line 3 never ends", ["a", "c", "d"]),
    ("csv-stray-quote", "d.csv", b'id,text\na,fine\nb,"quoted"tail\nc,after\n',
     "d-2", None, "malformed csv row starting on line 3", ["a", "c"]),
    ("csv-extra-cells", "d.csv", b"id,text\na,fine\nb,x,y\nc,after\n",
     "b", None, "row has 3 cells; header has 2", ["a", "c"]),
    ("csv-bom-missing-text", "d.csv", b"\xef\xbb\xbfid,text\na,fine\nb,\n", "b", "text", "empty text", ["a"]),
    ("txt-long-line", "d.txt", b"first line\n" + b"x" * 3_000_000 + b"\nthird line\n",
     "d-2", None, "CROSSAUG_MAX_BYTES_ROW", ["d-1", "d-3"]),
    ("jsonl-bom", "d.jsonl", b'\xef\xbb\xbf{"id": "a", "text": "fine"}\n{"id": "b", "text": ""}\n',
     "b", "text", "empty text", ["a"]),
]


@pytest.mark.parametrize("case", FILE_CASES, ids=[c[0] for c in FILE_CASES])
def test_file_inputs_reject_one_row_and_run_the_rest(tmp_path: Path, case: tuple) -> None:
    _, name, data, bad_id, field, fragment, good = case
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(BadSample) as info:
        crossaug.run("typo", path, tmp_path / "raise", on_error="raise", report=False)
    msg = str(info.value)
    assert f"sample {bad_id!r}" in msg and fragment.lower() in msg.lower(), msg
    assert field is None or f"field {field!r}" in msg, msg
    crossaug.run("typo", path, tmp_path / "skip", on_error="skip", report=False)
    recs = list(read_manifest(tmp_path / "skip"))
    assert sorted({r["parent_id"] for r in recs}) == sorted(good + [bad_id])  # every input accounted for
    assert sorted({r["parent_id"] for r in recs if r["kept"]}) == sorted(good)
    [rejected] = [r for r in recs if r["parent_id"] == bad_id]
    assert fragment.lower() in rejected["reason"].lower()


def test_validate_names_the_line_where_an_unclosed_quote_started(tmp_path: Path) -> None:
    from crossaug.cli import app
    from typer.testing import CliRunner

    (tmp_path / "d.csv").write_bytes(FILE_CASES[1][2])
    res = CliRunner().invoke(app, ["validate", "-i", str(tmp_path / "d.csv"), "--json"])
    report = json.loads(res.stdout)
    assert res.exit_code == 1 and report["rows"] == 4  # a, the bad one, c, d: nothing swallowed
    [bad] = report["bad"]
    assert "line 3" in bad["reason"] and bad["source"].endswith("d.csv:3")


def test_folder_given_as_relative_path_and_symlink_loops(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "fold" / "cls").mkdir(parents=True)
    (tmp_path / "fold" / "cls" / "a.txt").write_text("a short text")
    (tmp_path / "fold" / "cls" / "loop.wav").symlink_to("loop.wav")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(BadSample, match="sample 'cls/loop' field 'audio': symbolic link loop"):
        crossaug.run("typo", "fold", tmp_path / "raise", on_error="raise", report=False)
    crossaug.run("typo", "fold", "out", on_error="skip", report=False)
    recs = {r["parent_id"]: r for r in read_manifest(tmp_path / "out")}
    assert recs["cls/a"]["kept"] and "symbolic link loop" in recs["cls/loop"]["reason"]


@pytest.mark.parametrize("row,field,fragment", [
    ({"text": "ok", 1: "one"}, None, "non-string key 1"),
    ({"text": "ok", "extra": {2: "two"}}, "extra", "non-string key 2"),
    (crossaug.Sample("s", {"text": "ok"}, meta={"score": float("nan")}), "meta", "NaN/inf"),
    (crossaug.Sample("s", {"text": "ok"}, label="x\udcff"), "label", "lone surrogate"),
    ("plain \udcff string", "text", "lone surrogate"),
], ids=["key", "nested-key", "sample-meta", "sample-label", "string"])
def test_python_rows_that_json_cannot_hold(tmp_path: Path, row: Any, field: str | None, fragment: str) -> None:
    with pytest.raises(BadSample) as info:
        crossaug.run("typo", [row], tmp_path / "raise", on_error="raise", report=False)
    msg = str(info.value)
    assert fragment in msg and ("sample '0'" in msg or "sample 's'" in msg), msg
    assert field is None or f"field {field!r}" in msg, msg
    crossaug.run("typo", ["fine", row, "also fine"], tmp_path / "skip", on_error="skip")
    recs = list(read_manifest(tmp_path / "skip"))
    assert len({r["parent_id"] for r in recs}) == 3
    assert [r["kept"] for r in recs if r["parent_id"] in ("1", "s")] == [False]


def test_manifest_writer_never_raises_on_what_a_plugin_returns(tmp_path: Path) -> None:
    from crossaug.runner.records import dumps

    line = dumps({"id": "x", "text": "bad \udcff", "score": float("nan"), "obj": object(), 3: [float("inf")]})
    rec = json.loads(line)
    assert rec["text"] == "bad \\udcff" and rec["score"] is None and rec["3"] == [None]
    assert "object" in rec["obj"] and " at 0x" not in rec["obj"]
    line.encode("utf-8")


def test_rejected_values_are_stored_truncated_with_their_size(tmp_path: Path) -> None:
    from crossaug.io.limits import KEEP_CHARS

    big = "z" * 400_000 + " tail"  # under the 500 000-character cap set above; rejected for the NUL after it
    rows = [{"id": "big", "text": big + "\u0000"}]
    (tmp_path / "in.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    crossaug.run("typo", tmp_path / "in.jsonl", tmp_path / "o", on_error="skip")
    [rec] = list(read_manifest(tmp_path / "o"))
    assert rec["text"] == {"truncated": big[:KEEP_CHARS], "chars": len(big) + 1}
    assert (tmp_path / "o" / "manifest.jsonl").stat().st_size < 10_000
    assert (tmp_path / "o" / "report.html").stat().st_size < 50_000


def test_rejected_lines_of_a_text_file_keep_their_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A refused line of a ``.txt`` input is written with its text (cut like any value), not only its size;
    a line that is not UTF-8 keeps its size."""
    from crossaug.io.limits import KEEP_CHARS

    monkeypatch.setenv("CROSSAUG_MAX_TEXT_CHARS", "3000")
    long = "w" * 3500
    (tmp_path / "in.txt").write_bytes(b"a good line\nnul \x00 here\n\xff\xfe bytes\n" + long.encode() + b"\n")
    crossaug.run("typo", tmp_path / "in.txt", tmp_path / "o", on_error="skip", report=False)
    rejected = {r["id"]: r for r in read_manifest(tmp_path / "o") if not r["kept"]}
    assert rejected["in-2"]["text"] == "nul \x00 here" and "NUL" in rejected["in-2"]["reason"]
    assert rejected["in-3"]["text"] == {"bytes": 8} and "UTF-8" in rejected["in-3"]["reason"]
    assert rejected["in-4"]["text"] == {"truncated": long[:KEEP_CHARS], "chars": 3500}
    assert "limit is 3000" in rejected["in-4"]["reason"] and set(rejected) == {"in-2", "in-3", "in-4"}


def test_image_decode_errors_hold_no_memory_address(tmp_path: Path) -> None:
    with pytest.raises(BadSample) as info:
        crossaug.get_modality("image").coerce(b"not an image at all", sample_id="x", field="image")
    assert "cannot decode image" in str(info.value) and "0x" not in str(info.value)


def test_text_limit_follows_its_variable_within_a_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """The parsed limit is kept between calls but every change of the variable is seen at once."""
    from crossaug.io.limits import MAX_TEXT_CHARS, max_text_chars

    text = crossaug.get_modality("text")
    aug = crossaug.create("augmentation", "text.typo", rate=0.0)
    sample = crossaug.Sample("s", {"text": "x" * 20})
    text.validate("x" * 20, sample_id="s", field="text")
    aug.augment(sample, 0)
    for limit in ("19", "10"):
        monkeypatch.setenv("CROSSAUG_MAX_TEXT_CHARS", limit)
        assert max_text_chars() == int(limit)
        with pytest.raises(BadSample, match=f"text has 20 characters; limit is {limit}"):
            text.validate("x" * 20, sample_id="s", field="text")
        with pytest.raises(BadSample, match=f"limit is {limit}"):
            aug.augment(sample, 0)
    monkeypatch.setenv("CROSSAUG_MAX_TEXT_CHARS", "20")
    assert aug.augment(sample, 0).fields["text"] == "x" * 20
    monkeypatch.delenv("CROSSAUG_MAX_TEXT_CHARS")
    assert max_text_chars() == MAX_TEXT_CHARS
    monkeypatch.setenv("CROSSAUG_MAX_TEXT_CHARS", "many")
    for _ in range(2):  # a bad value is refused on every call, not once
        with pytest.raises(ValueError):
            max_text_chars()


def test_text_check_refuses_whitespace_and_surrogates_like_before() -> None:
    """The check's shortcuts (isspace for strip, ASCII needing no encoding) refuse what they did."""
    text = crossaug.get_modality("text")
    for bad, why in (("", "empty text"), (" \t\u3000\u2029\x1c", "only whitespace"),
                     ("caf\udce9", "lone surrogate"), ("a\x00", "NUL")):
        with pytest.raises(BadSample, match=why):
            text.validate(bad, sample_id="s", field="text")
    for good in ("a", " a ", "café \u3000x", "\U0001f600"):
        text.validate(good, sample_id="s", field="text")


def test_text_lines_as_bytes_take_the_short_way_with_the_same_outcome(monkeypatch: pytest.MonkeyPatch) -> None:
    """A text file's lines (bytes) decode without the general path: what it accepts and refuses,
    and each refusal's message, are the general path's (a plain loop over its checks here)."""
    from crossaug.modalities.text import TextModality
    from crossaug.modality import Modality

    text = TextModality()

    def general(value: bytes) -> str:  # Modality.coerce: _coerce (decode), then validate
        return Modality.coerce(text, value, sample_id="s", field="text")

    monkeypatch.setenv("CROSSAUG_MAX_TEXT_CHARS", "12")
    cases = [b"a cat", "caf\u00e9 \U0001f600".encode(), b"", b" \t ", "\u3000".encode(), b"a\x00b",
             b"\xff\xfe bad", b"caf\xc3", b"x" * 12, b"x" * 13, b"\xed\xa0\x80 surrogate"]
    for value in cases:
        try:
            expected: Any = general(value)
        except BadSample as exc:
            expected = ("refused", str(exc))
        try:
            got: Any = text.coerce(value, sample_id="s", field="text")
        except BadSample as exc:
            got = ("refused", str(exc))
        assert got == expected, value
    assert text.coerce(b"x" * 12, sample_id="s", field="text") == "x" * 12
    with pytest.raises(BadSample, match="not valid UTF-8 \\(byte 0xff at offset 0\\)"):
        text.coerce(b"\xff", sample_id="s", field="text")

    class Shouting(TextModality):  # a subclass's own check is never skipped
        def validate(self, payload: Any, *, sample_id: str | None = None, field: str | None = None) -> None:
            if payload != payload.upper():
                raise BadSample("not upper case", sample_id=sample_id, field=field)

    with pytest.raises(BadSample, match="not upper case"):
        Shouting().coerce(b"quiet", sample_id="s", field="text")

    class Hook:  # a plugin that coerces text still sees every value, bytes included
        @crossaug.hookimpl
        def crossaug_coerce(self, value: Any, modality: str) -> Any:
            return "HOOKED" if value == b"raw" else None

    from crossaug.hooks import get_plugin_manager

    pm, hook = get_plugin_manager(), Hook()
    pm.register(hook)
    try:
        assert text.coerce(b"raw", sample_id="s", field="text") == "HOOKED"
        assert text.coerce(b"other", sample_id="s", field="text") == "other"
    finally:
        pm.unregister(hook)
    assert text.coerce(b"raw", sample_id="s", field="text") == "raw"


def test_text_limit_is_read_from_whatever_os_environ_is(monkeypatch: pytest.MonkeyPatch) -> None:
    """The limit is read from os.environ's own table when it is the standard mapping, and through
    ``get`` when something replaced os.environ with another mapping."""
    from crossaug.io.limits import MAX_TEXT_CHARS, max_text_chars

    monkeypatch.setitem(os.environ, "CROSSAUG_MAX_TEXT_CHARS", "33")
    assert max_text_chars() == 33
    os.environ.update(CROSSAUG_MAX_TEXT_CHARS="34")
    assert max_text_chars() == 34
    monkeypatch.setattr(os, "environ", {"CROSSAUG_MAX_TEXT_CHARS": "7"})
    assert max_text_chars() == 7
    monkeypatch.setattr(os, "environ", {})
    assert max_text_chars() == MAX_TEXT_CHARS
    monkeypatch.undo()
    assert max_text_chars() == (int(os.environ["CROSSAUG_MAX_TEXT_CHARS"])
                                if os.environ.get("CROSSAUG_MAX_TEXT_CHARS") else MAX_TEXT_CHARS)
