"""A ``.txt`` input sent to process workers as line ranges they read themselves."""

from __future__ import annotations

import importlib
import itertools
from pathlib import Path

import crossaug
import pytest
from crossaug.io import text_lines
from crossaug.io.datasets import RawRecord, iter_records
from crossaug.io.text_lines import TextLines, line_batches

run_module = importlib.import_module("crossaug.runner.run")  # the module (the package exports its function)

#: blank and whitespace-only lines, CRLF, invalid UTF-8, a NUL, lines over the row cap (set to
#: 40 bytes below: by 60, by 1, by 1 with CRLF), one of 39 with its newline, and a last line
#: without a newline
TRICKY = (b"The birch canoe slid on the smooth planks.\n\n   \nGlue the sheet.\r\n"
          b"caf\xc3\xa9 au lait\n\xff\xfe not utf-8\nnul \x00 here\n" + b"x" * 100 + b"\n"
          + b"y" * 39 + b"\n\t\n" + b"w" * 41 + b"\n" + b"v" * 40 + b"\r\n"
          + b"It's easy to tell the depth of a well.\n"
          + b"z" * 95 + b" ends without a newline")


def _plain(records: list[RawRecord]) -> list[tuple]:
    return [(r.id, r.values, r.label, r.meta, r.base_dir, r.source, r.error, r.error_field) for r in records]


@pytest.fixture
def tricky(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CROSSAUG_MAX_BYTES_ROW", "40")
    path = tmp_path / "in.txt"
    path.write_bytes(TRICKY)
    return path


@pytest.mark.parametrize("chunk", [1, 7, 64, 1 << 20])
@pytest.mark.parametrize("size", [1, 2, 3, 5, 1000])
def test_line_ranges_read_the_records_iter_records_reads(tricky: Path, monkeypatch: pytest.MonkeyPatch,
                                                         chunk: int, size: int) -> None:
    monkeypatch.setattr(text_lines, "CHUNK", chunk)  # line ends found across every kind of read boundary
    batches = list(line_batches(tricky, lambda: size))
    expected = list(iter_records(tricky))
    assert any(r.error and "limit is 40" in r.error for r in expected)  # the over-cap line is one of them
    assert _plain([r for b in batches for r in b.records()]) == _plain(expected)
    lines = TRICKY.count(b"\n") + 1  # the last line has no newline
    assert [b.count for b in batches] == [size] * (lines // size) + ([lines % size] if lines % size else [])
    assert [b.first for b in batches] == list(itertools.accumulate([1] + [b.count for b in batches[:-1]]))
    for b in batches:  # each range starts right after a newline (or at the start)
        assert b.start == 0 or TRICKY[b.start - 1:b.start] == b"\n"


def test_line_ranges_follow_a_changing_batch_size(tricky: Path) -> None:
    sizes = iter([3, 1, 4, 1, 5, 9, 2, 6])
    batches = list(line_batches(tricky, lambda: next(sizes)))
    assert [b.count for b in batches] == [3, 1, 4, 1, 5]  # 14 lines
    assert _plain([r for b in batches for r in b.records()]) == _plain(list(iter_records(tricky)))


@pytest.mark.parametrize("data, counts", [(b"", []), (b"\n", [1]), (b"\n\n \n", [2, 1]), (b"a", [1]),
                                          (b"a\nb\n", [2])])
def test_line_ranges_of_small_files(tmp_path: Path, data: bytes, counts: list[int]) -> None:
    path = tmp_path / "t.txt"
    path.write_bytes(data)
    batches = list(line_batches(path, lambda: 2))
    assert [b.count for b in batches] == counts
    assert _plain([r for b in batches for r in b.records()]) == _plain(list(iter_records(path)))


def _decode_each(records: list[RawRecord], required: list[str]) -> list:
    """to_sample of each record, or the text of the BadSample it raises: what decoding a batch gave before."""
    from crossaug.errors import BadSample
    from crossaug.io.datasets import to_sample

    out = []
    for rec in records:
        try:
            out.append(to_sample(rec, required))
        except BadSample as exc:
            out.append(str(exc))
    return out


@pytest.mark.parametrize("at_once", [True, False], ids=["range read at once", "line by line"])
@pytest.mark.parametrize("required", [["text"], [], ["text", "text.de"]])
@pytest.mark.parametrize("size", [1, 4, 1000])
def test_decoded_lines_are_the_records_and_their_samples(tricky: Path, monkeypatch: pytest.MonkeyPatch,
                                                         required: list[str], size: int, at_once: bool) -> None:
    monkeypatch.setenv("CROSSAUG_MAX_TEXT_CHARS", "30")  # two lines within the row cap are over it
    if not at_once:
        monkeypatch.setattr(text_lines, "READ_AT_ONCE", 0)
    for batch in line_batches(tricky, lambda: size):
        expected = batch.records()
        records, samples = batch.decoded(required)
        assert len(records) == len(samples) == len(expected) and records.ids == [r.id for r in expected]
        assert _plain(list(records)) == _plain(expected) == _plain(records[:])
        assert _plain([records[k] for k in range(-len(records), 0)]) == _plain(expected)
        for sample, want in zip(samples, _decode_each(expected, required)):
            assert sample is None or sample == want  # the short way gives to_sample's sample
    every = [s for b in line_batches(tricky, lambda: size) for s in b.decoded(required)[1]]
    if required == ["text", "text.de"]:  # a field a line never has: each takes the general way (and fails)
        assert not any(every)
    else:  # the two good lines within the limit; the general way refuses the rest (limit, UTF-8, NUL, cap)
        assert sum(s is not None for s in every) == 2


def test_decoded_lines_leave_unicode_blanks_to_the_general_way(tmp_path: Path) -> None:
    path = tmp_path / "in.txt"  # no-break and em spaces only: not blank bytes, but blank text
    path.write_bytes("a\n\u00a0\u00a0\n\u2003\nb\u00a0c\n".encode())
    (batch,) = line_batches(path, lambda: 10)
    records, samples = batch.decoded(["text"])
    assert [s and s.fields["text"] for s in samples] == ["a", None, None, "b\u00a0c"]
    assert _decode_each(batch.records(), ["text"])[1:3] == ["sample 'in-2' field 'text': text is only whitespace",
                                                           "sample 'in-3' field 'text': text is only whitespace"]


def test_a_range_whose_file_changed_is_read_line_by_line(tricky: Path) -> None:
    whole = next(line_batches(tricky, lambda: 1000))
    wrong = TextLines(whole.path, whole.start, whole.count, whole.first, whole.start + 10)  # 1 line, not 12
    records, _ = wrong.decoded(["text"])
    assert _plain(list(records)) == _plain(whole.records())


def test_decoded_lines_take_the_general_way_when_a_plugin_coerces_text(tricky: Path) -> None:
    from crossaug.hooks import get_plugin_manager

    class Hook:
        @crossaug.hookimpl
        def crossaug_coerce(self, value: object, modality: str) -> object:
            return None

    pm, hook = get_plugin_manager(), Hook()
    pm.register(hook)
    try:
        assert not any(s for b in line_batches(tricky, lambda: 100) for s in b.decoded(["text"])[1])
    finally:
        pm.unregister(hook)
    assert any(s for b in line_batches(tricky, lambda: 100) for s in b.decoded(["text"])[1])


def test_a_range_is_small_to_send(tricky: Path) -> None:
    import pickle

    batch = next(line_batches(tricky, lambda: 1000))
    assert isinstance(batch, TextLines) and len(pickle.dumps(batch)) < 300 + len(str(tricky))


def test_process_workers_read_text_lines_themselves_with_the_same_manifest(
        tricky: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers (the calling thread, 2 threads, 2 processes) given line ranges, which they read and
    decode themselves, write the bytes of a run that reads records (a limited run, then resumed)."""
    ranges: list[TextLines] = []

    def spy(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202 - passes through
        for b in line_batches(*args, **kwargs):
            ranges.append(b)
            yield b

    monkeypatch.setattr(run_module, "line_batches", spy)
    params = {"n": 2, "rate": 0.1}
    one = crossaug.run("typo", tricky, tmp_path / "one", params=params, seed=5, on_error="skip", report=False)
    assert sum(b.count for b in ranges) == TRICKY.count(b"\n") + 1  # serial: the calling thread reads ranges
    manifest = (tmp_path / "one" / "manifest.jsonl").read_bytes()
    keep = ("inputs", "lines", "kept", "rejected", "inputs_without_output", "rejection_reasons")
    for executor in ("thread", "process"):
        ranges.clear()
        two = crossaug.run("typo", tricky, tmp_path / executor, params=params, seed=5, on_error="skip", workers=2,
                           batch_size=3, executor=executor, report=False)
        assert sum(b.count for b in ranges) == TRICKY.count(b"\n") + 1
        assert (tmp_path / executor / "manifest.jsonl").read_bytes() == manifest
        assert {k: two.summary[k] for k in keep} == {k: one.summary[k] for k in keep}
    assert one.summary["rejected"] >= 3  # invalid UTF-8, NUL and the over-cap line, recorded with reasons

    ranges.clear()
    crossaug.run("typo", tricky, tmp_path / "three", params=params, seed=5, on_error="skip", workers=2,
                 limit=4, report=False)
    crossaug.run("typo", tricky, tmp_path / "three", params=params, seed=5, on_error="skip", workers=2,
                 batch_size=2, resume=True, report=False)
    assert not ranges  # a limit, then a resume with inputs done: records, with their skip set
    assert (tmp_path / "three" / "manifest.jsonl").read_bytes() == manifest
