"""Manifest lines built with shared parts cached are the bytes the dict path writes, and tally the same."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import json
import uuid
from types import MappingProxyType

import numpy as np
import pytest
from crossaug import LineageStep, Sample
from crossaug.runner.blocks import input_block
from crossaug.runner.manifest import journal_line
from crossaug.runner.records import _FALLBACK, _plain, dumps, sample_record
from crossaug.runner.summary import Tally

PARENT = Sample("p\u00e9 1", {"text": 'h\u00e9llo "w\u00f6rld"\n\t\\'}, label=np.int64(3))
STEP = LineageStep("a", params={"x": np.float32(0.5), "y": (1, 2), "z": float("nan")})
FILTER = LineageStep("f", kind="filter", score=np.float64(0.25), kept=False, reason="bad at 0x7fff1234")

CASES = {
    "kept": PARENT.derive(STEP, id="p~0", text="x"),
    "rejected by a filter": PARENT.derive(STEP, id="p~1", text="y").reject("f: 0.3 > 0.2", FILTER),
    "lone surrogate in the text": Sample("q~0", {"text": "a\ud800b"}, parent_id="q", lineage=(STEP, FILTER)),
    "tuple label, numpy meta": Sample("q~1", {"text": "t"}, label=("a", 1), parent_id="q",
                                      meta={"k": [1, np.float32(2.5)], 3: None}),
    "infinite label, object meta": Sample("q~2", {"text": "t"}, label=float("inf"), parent_id="q",
                                          meta={"k": object()}),
    "two text fields, surrogate param": Sample("q~3", {"text": "t", "text.de": "d"}, label={"a": np.bool_(True)},
                                               parent_id="q", lineage=(LineageStep("s", params={"p": "\ud800"}),)),
    "rejected without a step": Sample("q~4", {"text": "t"}, parent_id="q", kept=False, reason="x" * 5000),
    "a plugin's usual step": PARENT.derive(LineageStep("text.typo", plugin="crossaug", version="0.1.0",
                                                       params={"edits": [[1, "swap", ""]]}), id="p~2", text="z"),
    "every step entry": Sample("q~5", {"text": "t"}, parent_id="q", lineage=(
        LineageStep("m", kind="transform", plugin="d", version="1", params=MappingProxyType({"a": 1}), seed=7,
                    model="org/m", revision="abc", parent_ids=("q", "r"), score=0.5, kept=True,
                    runtime=MappingProxyType({"device": "cpu"})),
        LineageStep("e", params={}), LineageStep("s", params={}, seed=0, kept=False))),
}


def _block(group, parent, recipe, out_dir):
    """The runner's lines of an input's outputs (counted into a tally of their own)."""
    return input_block(group, parent, recipe, out_dir, Tally())


@pytest.mark.parametrize("name", sorted(CASES))
def test_input_block_is_the_dict_paths_bytes(name, tmp_path):
    sample = CASES[name]
    expected = (dumps(sample_record(sample, PARENT, "r\u00e9", tmp_path)) + "\n").encode("utf-8")
    assert _block([sample], PARENT, "r\u00e9", tmp_path) == expected
    json.loads(expected)  # and it is one valid JSON line


class Colour(enum.Enum):
    RED = "red"
    PAIR = (1, "\ud800")


class Size(enum.IntEnum):
    BIG = 2


@dataclasses.dataclass
class Box:
    side: int = 3


ODD_VALUES = [datetime.datetime(2020, 1, 2, 3, 4, 5, 6), datetime.datetime(2020, 1, 2, tzinfo=datetime.timezone.utc),
              datetime.date(2020, 1, 2), datetime.time(1, 2, 3), uuid.UUID(int=5), Colour.RED, Colour.PAIR, Size.BIG,
              Box(), 2**70, float("-inf"), np.float32(1.5)]


@pytest.mark.parametrize("value", ODD_VALUES, ids=lambda v: type(v).__name__)
def test_a_value_is_written_alike_whichever_encoder_writes_its_line(value, tmp_path):
    # orjson writes most lines; a line it refuses (a lone surrogate anywhere in it) is made plain and
    # written by the standard library: the same value must read the same either way
    assert dumps({"v": value}) == _FALLBACK(_plain({"v": value}))
    plain = Sample("q~6", {"text": "t"}, label=value, parent_id="q", meta={"m": [value]})
    odd = Sample("q~7", {"text": "t\ud800"}, label=value, parent_id="q", meta={"m": [value]})
    a, b = (json.loads(_block([s], PARENT, "r", tmp_path)) for s in (plain, odd))
    assert a["label"] == b["label"] and a["meta"] == b["meta"]


def test_odd_values_are_written_as_their_text_or_value():
    assert dumps({"d": datetime.datetime(2020, 1, 2, 3, 4, 5)}) == '{"d":"2020-01-02 03:04:05"}'
    assert dumps({"b": Box(), "c": Colour.RED, "s": Size.BIG}) == '{"b":"Box(side=3)","c":"red","s":2}'


def test_input_block_of_a_group_shares_steps_and_ends_each_line(tmp_path):
    group = [PARENT.derive(STEP, id=f"p~{i}", text=f"x{i}") for i in range(3)]
    block = _block(group, PARENT, "r", tmp_path)
    assert block.endswith(b"\n") and block.count(b"\n") == 3
    assert block == b"".join((dumps(sample_record(o, PARENT, "r", tmp_path)) + "\n").encode() for o in group)


def test_input_block_writes_media_like_the_dict_path(tmp_path):
    from PIL import Image

    img = Image.new("RGB", (4, 3), (10, 20, 30))
    parent = Sample("im/1", {"image": img, "text": "a"})
    out = parent.derive(STEP, id="im/1~0", image=img.rotate(90))
    block = _block([out], parent, "r", tmp_path / "a")
    line = json.loads(block)
    assert (tmp_path / "a" / line["image"]).is_file() and (tmp_path / "a" / line["parent"]["image"]).is_file()
    assert block == (dumps(sample_record(out, parent, "r", tmp_path / "a")) + "\n").encode()


def test_tally_of_samples_equals_tally_of_their_lines(tmp_path):
    by_sample, by_line = Tally(), Tally()
    for sample in CASES.values():
        by_sample.add_sample(sample)
        by_line.add(sample_record(sample, PARENT, "r", tmp_path))
    assert by_sample.summary() == by_line.summary()
    assert by_sample.summary()["filters"]["f"]["scored"] == 2


@pytest.mark.parametrize("ids", [["a"], ["\u00e9\u2028\"\\", "\x00"], ["\ud800x", "b"], ("t", "u"), ["x" * 300] * 3])
def test_journal_lines_name_their_ids(ids):
    line = journal_line(ids, 12)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert json.loads(line) == {"ids": list(ids), "end": 12}


def test_merged_only_tally_summarises_like_the_full_one(tmp_path):
    batches = []
    for b in range(3):  # one tally per batch, each holding every line of its inputs
        t = Tally()
        for k in range(4):
            parent = Sample(f"in{b}-{k}", {"text": "t"}, label=["pos", "neg", None][k % 3])
            for i in range(k % 3):  # inputs with 0, 1 and 2 outputs, some rejected
                out = parent.derive(STEP, id=f"{parent.id}~{i}", text="u")
                t.add_sample(out.reject("f: 0.3 > 0.2", FILTER) if (b + i) % 2 else out)
            if k % 3 == 0:
                t.add({"parent_id": parent.id, "kept": False, "reason": "BadSample: empty text",
                       "label": parent.label, "lineage": []})
        batches.append(t)
    full, merged = Tally(), Tally(merged_only=True)
    for t in batches:
        full.merge(t)
        merged.merge(t)
    assert merged.summary() == full.summary()
    assert merged.summary()["inputs"] == 12 and merged.summary()["inputs_without_output"]
    assert not merged.parents  # no dict entry per input


def _three_steps(group, parent, out_dir):
    """What the runner did before :func:`input_block`: check the ids, count each output, then each
    output's line by the dict path."""
    from crossaug.recipe import check_output_ids

    check_output_ids("r", [parent], [group])
    tally = Tally()
    for out in group:
        tally.add_sample(out)
    lines = b"".join((dumps(sample_record(out, parent, "r", out_dir)) + "\n").encode("utf-8") for out in group)
    return lines, tally.summary()


USUAL = [PARENT.derive(LineageStep("text.typo", plugin="crossaug", version="0.1.0",
                                   params={"edits": [[i, "swap", ""]]}), id=f"p~u{i}", text=f"u{i}") for i in range(3)]
#: one filter step object in two outputs' lineage
SHARED_FILTER = [out.replace(id=f"{out.id}f").reject("f: 0.3 > 0.2", FILTER) for out in USUAL[:2]]


@pytest.mark.parametrize("group", [
    list(CASES.values()),
    USUAL,
    [USUAL[0], *CASES.values(), USUAL[1]],
    [USUAL[0].replace(label="pos"), USUAL[1].replace(label="neg"), USUAL[2].replace(label=None)],
    [USUAL[0].replace(fields={"text": "a", "text.de": "b"}), USUAL[1].replace(meta={"k": 1})],
    [USUAL[0], *SHARED_FILTER, USUAL[1].replace(kept=False, reason="dropped")],
    [Sample("p~r", {"text": "root"}, lineage=(STEP,))],  # no parent id: its own
], ids=["every case", "usual", "usual around the others", "text labels", "two fields, meta",
        "a filter step shared", "no parent id"])
def test_input_block_is_the_three_steps(group, tmp_path):

    expected, counts = _three_steps(group, PARENT, tmp_path)
    tally = Tally()
    assert input_block(group, PARENT, "r", tmp_path, tally) == expected
    assert tally.summary() == counts


@pytest.mark.parametrize("ids", [["p\u00e9 1"], ["a", "p\u00e9 1"], ["a", "a"], ["a", "b", "a"]])
def test_input_block_refuses_bad_ids_like_check_output_ids_before_counting(ids, tmp_path):
    from crossaug.errors import ConfigError
    from crossaug.recipe import check_output_ids

    group = [PARENT.derive(STEP, id=i, text="x") for i in ids]
    with pytest.raises(ConfigError) as expected:
        check_output_ids("r", [PARENT], [group])
    tally = Tally()
    with pytest.raises(ConfigError) as got:
        input_block(group, PARENT, "r", tmp_path, tally)
    assert str(got.value) == str(expected.value)
    assert tally.produced == 0 and not list(tmp_path.iterdir())
