"""Hugging Face datasets: ``augment_dataset`` (batched map) gives the runner's rows, whatever the batching."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

datasets = pytest.importorskip("datasets", reason="the datasets integration needs `datasets`")

import crossaug  # noqa: E402
from crossaug import BackModality  # noqa: E402
from crossaug.builtin.edit_distance import EditDistance  # noqa: E402
from crossaug.builtin.reverse import ReverseWords  # noqa: E402
from crossaug.builtin.typo import Typo  # noqa: E402
from crossaug.builtin.typo_recipe import TypoRecipe  # noqa: E402
from crossaug.errors import ConfigError  # noqa: E402
from crossaug.runner import read_manifest  # noqa: E402
from crossaug_integrations.hf_datasets import augment_dataset, to_jsonable_row  # noqa: E402

TEXTS = ["The birch canoe slid on the smooth planks.", "Glue the sheet to the dark blue background.",
         "It's easy to tell the depth of a well.", "These days a chicken leg is a rare dish.",
         "Rice is often served in round bowls."]


def make_dataset() -> datasets.Dataset:
    return datasets.Dataset.from_dict({"text": TEXTS, "label": [0, 1, 0, 1, 1],
                                       "source": [f"book-{i}" for i in range(5)]})


def round_trip() -> BackModality:
    return BackModality(forward=ReverseWords(), augment=Typo(rate=0.05, field="text.reversed"),
                        backward=ReverseWords(in_field="text.reversed", out_field="text"),
                        filters=[EditDistance(threshold=0.2)], fan_out=(1, 3, 1), keep_intermediate=False)


def test_map_round_trip_equals_the_runner(tmp_path: Path) -> None:
    ds = make_dataset()
    aug = augment_dataset(ds, round_trip(), seed=3, batch_size=2, kept_only=False)
    res = crossaug.run(round_trip(), ds, tmp_path / "out", seed=3, report=False)
    manifest = list(read_manifest(res.output_dir))
    rows = [to_jsonable_row(r) for r in aug]
    assert len(rows) == len(manifest) == 15
    for row, line in zip(rows, manifest):
        for key in ("id", "parent_id", "kept", "reason", "text", "label", "lineage"):
            assert row[key] == line[key], key
        assert row["source"] == f"book-{int(row['parent_id'])}"  # other columns ride along
    assert 0 < sum(r["kept"] for r in rows) < 15  # the filter really rejected some


def test_batch_size_does_not_change_rows_and_kept_only_filters() -> None:
    ds = make_dataset()
    one = augment_dataset(ds, round_trip(), seed=3, batch_size=1, kept_only=False)
    many = augment_dataset(ds, round_trip(), seed=3, batch_size=4, kept_only=False)
    assert one.to_list() == many.to_list()
    kept = augment_dataset(ds, round_trip(), seed=3)
    assert kept.to_list() == [r for r in one.to_list() if r["kept"]]
    other = augment_dataset(ds, round_trip(), seed=4, kept_only=False)
    assert other["text"] != one["text"]


def test_recipe_by_name_with_originals_and_lineage() -> None:
    aug = augment_dataset(make_dataset(), "typo", params={"n": 2, "rate": 0.2}, include_original=True)
    assert list(aug["id"][:3]) == ["0", "0~0", "0~1"]
    assert aug[0]["text"] == TEXTS[0] and json.loads(aug[0]["lineage"]) == []
    step = json.loads(aug[1]["lineage"])[0]
    assert step["name"] == "text.typo" and "edits" in step["params"]
    assert set(aug.column_names) == {"id", "parent_id", "kept", "reason", "text", "label", "source", "lineage"}


def test_bad_rows_skip_or_raise() -> None:
    ds = datasets.Dataset.from_dict({"text": ["fine words", None, "more words"]})
    with pytest.raises(crossaug.BadSample, match="sample '1'"):
        augment_dataset(ds, TypoRecipe())
    out = augment_dataset(ds, TypoRecipe(), on_error="skip", kept_only=False)
    assert list(out["kept"]) == [True, False, True]
    assert out[1]["reason"].startswith("BadSample: sample '1': row has no data field")


@pytest.mark.slow
def test_num_proc_gives_the_same_rows() -> None:
    ds = make_dataset()
    assert (augment_dataset(ds, TypoRecipe(n=2), seed=1, batch_size=2, num_proc=2).to_list()
            == augment_dataset(ds, TypoRecipe(n=2), seed=1, batch_size=2).to_list())


def test_hf_rows_feed_the_torch_wrapper_too() -> None:
    pytest.importorskip("torch")
    from crossaug_integrations.torch_dataset import AugmentedDataset

    ds = AugmentedDataset(make_dataset(), TypoRecipe(rate=0.3), seed=2)
    assert ds[1].label == 1 and ds[1].parent_id == "1" and ds[1].meta["source"] == "book-1"


def test_rejects_non_datasets() -> None:
    with pytest.raises(ConfigError, match="datasets.Dataset"):
        augment_dataset([{"text": "a"}], TypoRecipe())


def test_output_keeps_the_inputs_string_types_so_concatenation_works(tmp_path: Path) -> None:
    # the CSV loader of datasets 5 types text as large_string; the output must match it
    csv = tmp_path / "train.csv"
    csv.write_text("id,text,label\nr1,the cat sat on the mat,0\nr2,a dog barked,1\n", encoding="utf-8")
    ds = datasets.load_dataset("csv", data_files=str(csv), cache_dir=str(tmp_path / "cache"))["train"]
    ds = ds.cast_column("text", datasets.Value("large_string"))
    aug = augment_dataset(ds, TypoRecipe(n=2, rate=0.2), seed=0)
    assert aug.features["text"] == ds.features["text"] == datasets.Value("large_string")
    assert aug.features["id"] == ds.features["id"]
    train = datasets.concatenate_datasets([ds.select_columns(["text", "label"]),
                                           aug.select_columns(["text", "label"])])
    assert len(train) == 6 and train["text"][:2] == ["the cat sat on the mat", "a dog barked"]
    plain = augment_dataset(make_dataset(), TypoRecipe(n=1, rate=0.2), seed=0)  # string input stays string
    assert plain.features["text"] == datasets.Value("string")
