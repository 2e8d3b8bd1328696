"""Open-vocabulary detection on a tiny random OWL-ViT loaded from a local directory."""

from __future__ import annotations

import json
import math

import pytest
from crossaug import BadSample, ConfigError, Sample, create
from crossaug_image.detection.detect import clip_box
from crossaug_testing import TransformContract
from PIL import Image

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def owl_dir(tmp_path_factory, tiny):
    pytest.importorskip("transformers", reason="detection needs crossaug-image[transformers]")
    return str(tiny.build_owlvit(tmp_path_factory.mktemp("owlvit")))


def _images(tiny):
    return [Sample("d0", {"image": tiny.make_image(0, (48, 40))}, label="cat"),
            Sample("d1", {"image": tiny.make_image(1, (32, 32))}, label="dog"),
            Sample("d2", {"image": tiny.make_image(2, (40, 48))}, label="red_car", meta={"phrases": ["a tree"]})]


class TestDetectContract(TransformContract):
    name = "image.detect"

    @pytest.fixture(autouse=True)
    def _model(self, owl_dir, tiny):
        type(self).params = {"model": owl_dir, "phrases": ["a photo of a {label}", "a tree"],
                             "phrases_field": "phrases", "threshold": 0.0, "device": "cpu"}
        self._tiny = tiny

    def good_samples(self):
        return _images(self._tiny)

    def bad_samples(self):
        img = Image.new("RGB", (16, 16))
        return [(Sample("nolabel", {"image": img}), "no label"),
                (Sample("badphrases", {"image": img}, label="cat", meta={"phrases": "a cat"}), "non-empty list")]


def _plain_detections(owl_dir, image, phrases, threshold):
    """OWL-ViT's post-processing written out: per patch, the best query's sigmoid score and its box."""
    import torch
    from transformers import AutoModelForZeroShotObjectDetection, AutoProcessor

    proc = AutoProcessor.from_pretrained(owl_dir)
    model = AutoModelForZeroShotObjectDetection.from_pretrained(owl_dir).eval()
    with torch.no_grad():
        out = model(**proc(text=[phrases], images=[image], return_tensors="pt"))
    w, h = image.size
    found = []
    for p in range(out.logits.shape[1]):
        logits = [float(v) for v in out.logits[0, p]]
        q = max(range(len(logits)), key=lambda k: logits[k])
        score = 1.0 / (1.0 + math.exp(-logits[q])) if logits[q] > -50 else 0.0
        if score <= threshold:
            continue
        cx, cy, bw, bh = (float(v) for v in out.pred_boxes[0, p])
        box = [(cx - bw / 2) * w, (cy - bh / 2) * h, (cx + bw / 2) * w, (cy + bh / 2) * h]
        found.append((clip_box(box, w, h), phrases[q], score))
    return found


def test_boxes_labels_scores_match_a_plain_loop(owl_dir, tiny):
    s = _images(tiny)[0]
    phrases = ["a photo of a cat", "a tree"]
    t = create("transform", "image.detect", model=owl_dir, phrases=phrases, threshold=0.0, device="cpu")
    out = t([s], [0])[0]
    det = json.loads(out["text.detections"])
    expected = _plain_detections(owl_dir, s["image"], phrases, 0.0)
    assert len(det["boxes"]) == len(expected) > 0
    assert det["scores"] == sorted(det["scores"], reverse=True)
    got = sorted(zip(map(tuple, det["boxes"]), det["labels"]))
    want = sorted((tuple(b), lab) for b, lab, _ in expected)
    for (gb, gl), (wb, wl) in zip(got, want):
        assert gl == wl and all(abs(a - b) <= 0.011 for a, b in zip(gb, wb)), (gb, wb)
    assert sorted(det["scores"]) == pytest.approx(sorted(sc for _, _, sc in expected), abs=1e-5)
    assert out.meta["boxes"] == det["boxes"]
    assert all(0 <= b[0] <= b[2] <= 48 and 0 <= b[1] <= b[3] <= 40 for b in det["boxes"])
    assert out.lineage[-1].params["detections"] == len(det["boxes"])
    assert out.lineage[-1].params["phrases"] == phrases


def test_no_detections_is_a_valid_empty_result(owl_dir, tiny):
    t = create("transform", "image.detect", model=owl_dir, phrases=["a cat"], threshold=1.0, device="cpu")
    out = t([_images(tiny)[1]], [0])[0]
    assert out.kept
    assert json.loads(out["text.detections"]) == {"boxes": [], "labels": [], "scores": []}
    assert out.meta["boxes"] == [] and out.lineage[-1].params["detections"] == 0


def test_max_detections_and_meta_key(owl_dir, tiny):
    t = create("transform", "image.detect", model=owl_dir, phrases=["a cat"], threshold=0.0, max_detections=3,
               meta_key=None, device="cpu")
    out = t([_images(tiny)[0]], [0])[0]
    assert len(json.loads(out["text.detections"])["boxes"]) == 3 and "boxes" not in out.meta


def test_detected_boxes_feed_inpainting_masks(owl_dir, tiny):
    from crossaug_image.editing.inpaint import boxes_mask

    out = create("transform", "image.detect", model=owl_dir, phrases=["a cat"], threshold=0.0, device="cpu")(
        [_images(tiny)[0]], [0])[0]
    boxes = [b for b in out.meta["boxes"] if b[2] - b[0] >= 1 and b[3] - b[1] >= 1]
    assert boxes, "the tiny detector gives boxes with area at threshold 0"
    assert boxes_mask(boxes, (48, 40), "pixels", out.id, "boxes").size == (48, 40)


def test_bad_parameters():
    for params in ({"phrases": []}, {"phrases": "a cat"}, {"phrases": [""]}, {"threshold": 1.5},
                   {"max_detections": 0}):
        with pytest.raises(ConfigError):
            create("transform", "image.detect", **params)


def test_phrase_needing_a_label_names_the_sample(owl_dir):
    t = create("transform", "image.detect", model=owl_dir, device="cpu")
    with pytest.raises(BadSample, match="no label") as info:
        t([Sample("unlabelled", {"image": Image.new("RGB", (16, 16))})], [0])
    assert "unlabelled" in str(info.value)


# -- Grounding DINO: the same transform, token-span labels and a text threshold --------


@pytest.fixture(scope="module")
def gdino_dir(tmp_path_factory, tiny):
    pytest.importorskip("transformers", reason="detection needs crossaug-image[transformers]")
    return str(tiny.build_grounding_dino(tmp_path_factory.mktemp("grounding-dino")))


class TestGroundingDinoContract(TransformContract):
    name = "image.detect"

    @pytest.fixture(autouse=True)
    def _model(self, gdino_dir, tiny):
        type(self).params = {"model": gdino_dir, "phrases": ["a {label}", "a tree"], "threshold": 0.0,
                             "text_threshold": 0.0, "device": "cpu"}
        self._tiny = tiny

    def good_samples(self):
        return _images(self._tiny)[:2]

    def bad_samples(self):
        return [(Sample("nolabel", {"image": Image.new("RGB", (16, 16))}), "no label")]


def test_grounding_dino_boxes_lie_in_the_image_and_threshold_applies(gdino_dir, tiny):
    s = _images(tiny)[0]
    make = lambda th: create("transform", "image.detect", model=gdino_dir, phrases=["a cat", "a dog"],  # noqa: E731
                             threshold=th, text_threshold=0.0, device="cpu")
    det = json.loads(make(0.0)([s], [0])[0]["text.detections"])
    assert len(det["boxes"]) == 10  # one per query at threshold 0
    assert all(0 <= b[0] <= b[2] <= 48 and 0 <= b[1] <= b[3] <= 40 for b in det["boxes"])
    assert det["scores"] == sorted(det["scores"], reverse=True)
    assert all("cat" in lab or "dog" in lab for lab in det["labels"])  # spans of the phrases' tokens
    low = sorted(det["scores"])
    cut = (low[4] + low[5]) / 2  # between two recorded (rounded) scores
    kept = json.loads(make(cut)([s], [0])[0]["text.detections"])
    assert kept["scores"] == [x for x in det["scores"] if x > cut]
    assert json.loads(make(1.0)([s], [0])[0]["text.detections"])["boxes"] == []
