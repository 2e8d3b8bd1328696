"""Culture Mixup image side: switched captions and pasted concept regions stay paired."""

from __future__ import annotations

import sys
from typing import Any

import crossaug
import numpy as np
import pytest
from crossaug import BadSample, ConfigError, Sample, Seeder
from crossaug_multimodal.culture_mixup import apply_switches, paste_region, read_boxes
from crossaug_multimodal.culture_mixup.functional import label_matches
from crossaug_testing import RecipeContract
from PIL import Image

if "text.code-switch" not in crossaug.registry.names("augmentation"):  # pragma: no cover
    pytest.skip("culture-mixup uses text.code-switch from crossaug-text (pip install 'crossaug-multimodal[text]')",
                allow_module_level=True)

LEXICON = {"burger": "jiaozi", "fries": "baozi"}
CS = {"lexicon": LEXICON, "word_rate": 1.0, "lemmatize": False}


def image(colour: tuple[int, int, int], size: tuple[int, int] = (20, 16)) -> Image.Image:
    return Image.new("RGB", size, colour)


def donor_image() -> Image.Image:
    arr = np.zeros((16, 20, 3), np.uint8)
    arr[:, :10] = (200, 0, 0)     # jiaozi region (left half)
    arr[:, 10:] = (0, 200, 0)     # baozi region (right half)
    return Image.fromarray(arr)


def dataset() -> list[Sample]:
    return [
        Sample("lunch", {"text": "A burger and fries on a tray.", "image": image((255, 255, 255))},
               meta={"boxes": [{"label": "burger", "box": [2, 2, 8, 8]}, ["fries", 10, 4, 18, 12]]}),
        Sample("dimsum", {"text": "Jiaozi and baozi in a basket.", "image": donor_image()},
               meta={"boxes": [["jiaozi", 0, 0, 10, 16], ["baozi", 10, 0, 20, 16]]}),
        Sample("snack", {"text": "Fries in a paper cup.", "image": image((0, 0, 255))},
               meta={"boxes": [["fries", 4, 4, 12, 12]]}),
    ]


def test_paste_region_exact_on_small_arrays() -> None:
    img = np.zeros((4, 4, 3), np.uint8)
    donor = np.arange(2 * 2, dtype=np.uint8).reshape(2, 2) * 50   # grey donor into colour image
    out = paste_region(img, [1, 1, 3, 3], donor, [0, 0, 2, 2])
    assert out[1:3, 1:3, 0].tolist() == [[0, 50], [100, 150]] and out[1:3, 1:3, 2].tolist() == [[0, 50], [100, 150]]
    mask = np.ones((4, 4), bool)
    mask[1:3, 1:3] = False
    assert (out[mask] == 0).all() and (img == 0).all()
    scaled = paste_region(np.zeros((4, 4), np.uint8), [0, 0, 4, 4], np.full((1, 1), 9, np.uint8), [0, 0, 1, 1])
    assert (scaled == 9).all()


def test_apply_switches_and_label_matching() -> None:
    sw = [{"start": 2, "end": 8, "source": "burger", "target": "jiaozi"},
          {"start": 13, "end": 18, "source": "fries", "target": "baozi"}]
    assert apply_switches("A burger and fries.", sw) == "A jiaozi and baozi."
    with pytest.raises(ValueError, match="not found"):
        apply_switches("A pizza and fries.", sw)
    assert label_matches("Fry", "fries") is False and label_matches("burger", "Burgers")
    with pytest.raises(ValueError, match="four numbers"):
        read_boxes([{"label": "x", "box": [1, 2]}])
    with pytest.raises(ValueError, match="x1 > x0"):
        read_boxes([["x", 5, 0, 2, 4]])


class TestCultureMixupContract(RecipeContract):
    name = "culture-mixup"
    params = {"code_switch_params": {**CS, "word_rate": 0.7}, "n": 2}

    def good_samples(self) -> list[Sample]:
        return dataset()

    def bad_samples(self) -> list[tuple[Sample, str]]:
        return [(Sample("no-image", {"text": "a burger"}), "needs field 'image'"),
                (Sample("bad-boxes", {"text": "a burger", "image": image((0, 0, 0))}, meta={"boxes": "burger"}),
                 "boxes must be a list")]


def test_switched_caption_and_image_stay_paired() -> None:
    recipe = crossaug.create("recipe", "culture-mixup", code_switch_params=CS)
    data = dataset()
    recipe.fit(data)
    out = recipe.process([data[0]], Seeder(0))[0][0]
    assert out.kept and out.fields["text"] == "A jiaozi and baozi on a tray."
    arr = np.asarray(out.fields["image"])
    expected = paste_region(np.asarray(data[0].fields["image"]), [2, 2, 8, 8], np.asarray(donor_image()),
                            [0, 0, 10, 16])
    expected = paste_region(expected, [10, 4, 18, 12], np.asarray(donor_image()), [10, 0, 20, 16])
    assert np.array_equal(arr, expected)
    assert arr[5, 5].tolist() == [200, 0, 0] and arr[8, 14].tolist() == [0, 200, 0] and arr[14, 1].tolist() == [255] * 3
    names = [step.name for step in out.lineage]
    assert names == ["text.code-switch", "culture-mixup"]
    pastes = out.lineage[-1].params["pastes"]
    assert [(p["donor"], p["label"]) for p in pastes] == [("dimsum", "jiaozi"), ("dimsum", "baozi")]
    assert [b["label"] for b in out.meta["boxes"]] == ["jiaozi", "baozi"]
    assert out.meta["boxes"][0]["source_label"] == "burger"
    # the recorded code-switch params replay the caption exactly
    cs = crossaug.create("augmentation", "text.code-switch", **CS)
    assert cs.replay(data[0], out.lineage[0].params).fields["text"] == out.fields["text"]


def test_unmatched_switch_is_reverted_kept_or_rejected() -> None:
    # "snack" has fries but no burger; the lexicon also switches "cup" -> "bowl" without any box
    cs = {**CS, "lexicon": {**LEXICON, "cup": "bowl"}}
    data = dataset()
    results = {}
    for policy in ("revert", "keep", "reject"):
        recipe = crossaug.create("recipe", "culture-mixup", code_switch_params=cs, unmatched=policy)
        recipe.fit(data)
        results[policy] = recipe.process([data[2]], Seeder(0))[0][0]
    assert results["revert"].kept and results["revert"].fields["text"] == "Baozi in a paper cup."
    missed = results["revert"].lineage[-1].params["unmatched"]
    assert [(m["source"], m["reason"]) for m in missed] == [("cup", "no box for the source concept")]
    assert results["keep"].fields["text"] == "Baozi in a paper bowl."
    assert not results["reject"].kept and "cup" in results["reject"].reason
    assert np.array_equal(np.asarray(results["revert"].fields["image"]), np.asarray(results["keep"].fields["image"]))


def test_no_donor_means_nothing_switched_and_rejected() -> None:
    recipe = crossaug.create("recipe", "culture-mixup", code_switch_params=CS)
    data = dataset()
    recipe.fit([data[0], data[2]])    # no jiaozi/baozi regions anywhere
    out = recipe.process([data[0]], Seeder(0))[0][0]
    assert not out.kept and "no concept was switched" in out.reason
    assert out.fields["text"] == data[0].fields["text"]


def test_bank_dir_and_detector_hook(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "bank" / "jiaozi").mkdir(parents=True)
    Image.new("RGB", (4, 4), (9, 99, 199)).save(tmp_path / "bank" / "jiaozi" / "one.png")
    (tmp_path / "detmod.py").write_text(
        "def detect(image, labels):\n"
        "    return [{'label': 'burger', 'box': [0, 0, image.size[0] // 2, image.size[1]]}]\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("CROSSAUG_TRUST_CODE", "1")  # "detmod:detect" names user code: an explicit opt-in
    sample = Sample("plain", {"text": "One burger, please.", "image": image((0, 0, 0), (8, 8))})
    recipe = crossaug.create("recipe", "culture-mixup", code_switch_params=CS, detector="detmod:detect",
                             bank_dir=str(tmp_path / "bank"))
    recipe.fit([sample])
    out = recipe.process([sample], Seeder(0))[0][0]
    arr = np.asarray(out.fields["image"])
    assert out.fields["text"] == "One jiaozi, please."
    assert (arr[:, :4] == [9, 99, 199]).all() and (arr[:, 4:] == 0).all()
    assert out.lineage[-1].params["pastes"][0]["donor"] == "bank:jiaozi/one.png"
    sys.modules.pop("detmod", None)


def test_bad_config_and_bad_boxes() -> None:
    for bad in ({"unmatched": "drop"}, {"n": 0}, {"bank_dir": "/nonexistent/bank"}, {"text_field": "image"}):
        with pytest.raises(ConfigError):
            crossaug.create("recipe", "culture-mixup", code_switch_params=CS, **bad)
    recipe = crossaug.create("recipe", "culture-mixup", code_switch_params=CS)
    recipe.fit(dataset())
    s = Sample("weird", {"text": "A burger.", "image": image((0, 0, 0))}, meta={"boxes": [["burger", 1, 2]]})
    with pytest.raises(BadSample, match="'weird'.*boxes"):
        recipe.process([s], Seeder(0))
    with pytest.raises(ConfigError, match="unknown augmentation"):
        crossaug.create("recipe", "culture-mixup", code_switch="text.nope").process(dataset()[:1], Seeder(0))


def test_text_side_protection_and_language_check_carry_through() -> None:
    """The text switcher's URL protection and language refusal reach culture-mixup's outputs and errors."""
    import inspect

    from crossaug_text.code_switch import CodeSwitch

    if "input_language" not in inspect.signature(CodeSwitch).parameters:  # pragma: no cover
        pytest.skip("this crossaug-text has no language check in text.code-switch")
    recipe = crossaug.create("recipe", "culture-mixup", code_switch_params=CS)
    data = dataset()
    recipe.fit(data)
    url = data[0].replace(fields={**data[0].fields, "text": "A burger, see https://burger.example.com/menu today."})
    out = recipe.process([url], Seeder(0))[0][0]
    assert out.fields["text"] == "A jiaozi, see https://burger.example.com/menu today."
    pastes = out.lineage[-1].params["pastes"]
    assert [p["label"] for p in pastes] == ["jiaozi"] and pastes[0]["box"] == [2, 2, 8, 8]
    german = data[0].replace(id="de", fields={**data[0].fields,
                                               "text": "Ein Burger und Pommes auf einem Tablett, das ist lecker."})
    with pytest.raises(BadSample, match="'de'"):
        recipe.process([german], Seeder(0))


def test_donors_from_the_remembered_matches_are_a_scan_of_the_bank():
    """The bank is scanned once per (source, target, concept), not for every switch of every output;
    the donors (and their order) must be what a scan of the whole bank gives."""
    rng = np.random.default_rng(0)
    things = ["dog", "dogs", "cat", "tea", "bread", "hot dog"]
    samples = [Sample(f"s{i}", {"image": Image.fromarray(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)),
                                "text": "a dog and a cat"},
                      meta={"boxes": [{"label": things[i % 6], "box": [0, 0, 20, 20],
                                       **({"concept": "dog.n.01"} if i % 4 == 0 else {})},
                                      [things[(i + 2) % 6], 10, 10, 40, 40]]}) for i in range(24)]
    r = crossaug.create("recipe", "culture-mixup", code_switch_params={"lexicon": {"dog": ["cat"]}, "language": "tr"})
    r.fit(samples)

    def scan(sw, exclude):
        out = []
        for d in r._bank:
            same = sw.get("concept") is not None and d["concept"] == sw["concept"]
            if d["source"] != exclude and ((same and not label_matches(d["label"], sw["source"]))
                                           or label_matches(d["label"], sw["target"])):
                out.append(d)
        return out

    for sw in ({"source": "dog", "target": "cat"}, {"source": "Dogs", "target": "tea", "concept": "dog.n.01"},
               {"source": "bread", "target": "hot dogs", "concept": None}, {"source": "cat", "target": "x"}):
        for exclude in ("s0", "s3", "none"):
            for _ in range(2):  # scanned, then remembered
                assert r._donors(sw, exclude) == scan(sw, exclude)
    assert r._donors({"source": "dog", "target": "cat"}, "none")  # something matched at all
