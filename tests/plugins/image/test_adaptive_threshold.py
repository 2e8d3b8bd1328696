"""filter.adaptive-threshold: SLUMA's EMA threshold pinned against a plain loop; where its state lives."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
from crossaug import BadSample, ConfigError, LineageStep, Sample, create
from crossaug_image.filters.ema_threshold import ema_thresholds
from crossaug_testing import FilterContract

NAME = "filter.adaptive-threshold"


def paper_loop(confidences, alpha, tau0):
    """The self-adaptive threshold written out from the method: tau <- a*tau + (1-a)*c, keep c >= tau."""
    taus, keeps = [], []
    tau = tau0
    for c in confidences:
        tau = alpha * tau + (1 - alpha) * c
        taus.append(tau)
        keeps.append(c >= tau)
    return taus, keeps


def _cands(parent_id, confs, start=0):
    return [Sample(f"{parent_id}~{start + i}", {"text": "x"}, meta={"confidence": float(c)}, parent_id=parent_id)
            for i, c in enumerate(confs)]


def _run(f, groups):
    """Call the filter once per input, in input order (as recipes do); every output in order."""
    out = []
    for pid, confs in groups:
        cands = _cands(pid, confs)
        out += f(cands, [Sample(pid, {"text": "x"})] * len(cands))
    return out


CONFS = np.random.default_rng(0).uniform(0.05, 0.45, size=(5, 4)).round(4).tolist()
GROUPS = [(f"p{i}", row) for i, row in enumerate(CONFS)]


class TestAdaptiveThresholdContract(FilterContract):
    name = NAME
    params = {"confidence": "meta:confidence", "alpha": 0.5}

    def pairs(self):
        p = Sample("p", {"text": "x"})
        c = _cands("p", [0.4, 0.1, 0.5])
        return [(c[0], p, True), (c[1], p, False), (c[2], p, True)]

    def bad_samples(self):
        return [(Sample("noconf", {"text": "x"}), "no finite confidence from meta:confidence"),
                (Sample("nanconf", {"text": "x"}, meta={"confidence": float("nan")}), "no finite confidence")]


def test_pure_function_matches_the_loop():
    flat = [c for _, row in GROUPS for c in row]
    before, after, keep = ema_thresholds(flat, 0.9, 0.1)
    taus, keeps = paper_loop(flat, 0.9, 0.1)
    assert after == taus and keep == keeps and before == [0.1, *taus[:-1]]
    assert 0 < sum(keeps) < len(keeps)  # the sequence exercises both verdicts


@pytest.mark.parametrize("alpha", [0.5, 0.9, 0.999])
def test_run_scope_follows_the_loop_over_the_whole_run_in_input_order(alpha):
    out = _run(create("filter", NAME, confidence="meta:confidence", alpha=alpha), GROUPS)
    flat = [c for _, row in GROUPS for c in row]
    taus, keeps = paper_loop(flat, alpha, 0.0)
    assert [o.kept for o in out] == keeps
    steps = [o.lineage[-1] for o in out]
    assert [s.params["threshold"] for s in steps] == [round(t, 6) for t in taus]
    assert [s.params["step"] for s in steps] == list(range(1, len(flat) + 1))
    assert [s.score for s in steps] == flat
    for o in out:
        if not o.kept:
            assert o.reason.startswith(NAME) and "adaptive threshold" in o.reason


def test_input_scope_restarts_for_each_input():
    out = _run(create("filter", NAME, confidence="meta:confidence", alpha=0.6, initial=0.2, scope="input"), GROUPS)
    want = [k for _, row in GROUPS for k in paper_loop(row, 0.6, 0.2)[1]]
    assert [o.kept for o in out] == want
    assert [o.lineage[-1].params["step"] for o in out] == [1, 2, 3, 4] * len(GROUPS)


def test_one_call_or_one_per_input_gives_the_same_verdicts():
    one = create("filter", NAME, confidence="meta:confidence", alpha=0.7)
    cands = [c for pid, row in GROUPS for c in _cands(pid, row)]
    together = one(cands, [Sample(c.parent_id, {"text": "x"}) for c in cands])
    apart = _run(create("filter", NAME, confidence="meta:confidence", alpha=0.7), GROUPS)
    assert [(o.kept, o.lineage[-1].params) for o in together] == [(o.kept, o.lineage[-1].params) for o in apart]


def test_scoring_a_candidate_again_repeats_its_verdict_and_leaves_the_ema():
    f = create("filter", NAME, confidence="meta:confidence", alpha=0.5)
    first = _run(f, GROUPS[:2])
    tau = f.threshold()
    again = _run(f, GROUPS[:2])
    assert f.threshold() == tau
    assert [o.lineage[-1].to_dict() for o in again] == [o.lineage[-1].to_dict() for o in first]
    f.reset()
    assert f.threshold() == 0.0


def test_rejected_candidates_pass_through_and_do_not_move_the_ema():
    f = create("filter", NAME, confidence="meta:confidence", alpha=0.5)
    c = _cands("p", [0.9, 0.3])
    c[0] = c[0].reject("earlier filter")
    out = f(c, [Sample("p", {"text": "x"})] * 2)
    assert out[0].reason == "earlier filter" and len(out[0].lineage) == 0
    assert out[1].lineage[-1].params["previous_threshold"] == 0.0 and f.threshold() == pytest.approx(0.15)


def test_confidence_from_a_field_a_lineage_score_or_a_named_model_filter():
    p = Sample("p", {"text": "x"})
    by_field = create("filter", NAME, confidence="field:text.score", alpha=0.5)
    assert [o.kept for o in by_field([Sample("a", {"text.score": 0.4}), Sample("b", {"text.score": 0.1})], [p, p])] \
        == [True, False]
    by_lineage = create("filter", NAME, confidence="lineage:image.clip-score", alpha=0.5)
    scored = [Sample(f"c{i}", {"text": "x"}, lineage=(LineageStep("image.clip-score", kind="filter", score=s),))
              for i, s in enumerate([0.3, 0.1])]
    out = by_lineage(scored, [p, p])
    assert [o.lineage[-1].score for o in out] == [0.3, 0.1] and [o.kept for o in out] == [True, False]
    # a named model filter: image.label-confidence with its toy brightness classifier
    from PIL import Image

    toy = "crossaug_image.filters.label_confidence:mean_brightness_is_label"
    by_model = create("filter", NAME, model_filter="label-confidence", alpha=0.5,
                      model_filter_params={"classifier": toy, "label_from": "candidate"})
    imgs = [Sample(f"i{v}", {"image": Image.new("L", (4, 4), v)}, label="bright") for v in (200, 20, 255)]
    out = by_model(imgs, imgs)
    want = paper_loop([200 / 255, 20 / 255, 1.0], 0.5, 0.0)[1]
    assert [o.kept for o in out] == want and out[0].lineage[-1].score == pytest.approx(200 / 255)
    assert json.loads(json.dumps(by_model.to_dict()))["params"]["model_filter"] == "label-confidence"


def test_missing_confidence_names_the_sample_and_bad_config_is_refused():
    f = create("filter", NAME, confidence="lineage:image.clip-score")
    with pytest.raises(BadSample, match="no finite confidence from lineage:image.clip-score") as info:
        f([Sample("s9", {"text": "x"})], [Sample("p", {"text": "x"})])
    assert info.value.sample_id == "s9"
    for bad in ({}, {"confidence": "meta:c", "model_filter": "image.clip-score"}, {"confidence": "score"},
                {"confidence": "meta:c", "alpha": 1.5}, {"confidence": "meta:c", "scope": "batch"}):
        with pytest.raises(ConfigError):
            create("filter", NAME, **bad)
    with pytest.raises(ConfigError, match="did you mean"):
        create("filter", NAME, model_filter="image.clip-scor")


def test_run_scope_refuses_to_run_where_it_sees_part_of_the_inputs():
    errors, results = [], []

    def work(scope):
        try:
            f = create("filter", NAME, confidence="meta:confidence", scope=scope)
            results.append(_run(f, GROUPS[:1]))
        except ConfigError as exc:
            errors.append(str(exc))

    for scope in ("run", "input"):
        t = threading.Thread(target=work, args=(scope,))
        t.start()
        t.join()
    assert len(errors) == 1 and "--workers 1" in errors[0] and "scope='input'" in errors[0]
    assert len(results) == 1 and len(results[0]) == 4


def test_a_worker_process_is_recognised():
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from crossaug_image.filters.adaptive_threshold import one_ordered_process

    assert one_ordered_process() is None
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as pool:
        assert pool.submit(one_ordered_process).result() == "a worker process"


# -- through the runner: same verdicts for any batch size; workers -------------------------------------


def _image_rows(tmp_path, n=6):
    from PIL import Image

    rows = []
    for i in range(n):
        rgb = tuple(int(v) for v in np.random.default_rng(i).integers(0, 256, 3))
        Image.new("RGB", (8, 8), rgb).save(tmp_path / f"{i}.png")
        rows.append(json.dumps({"id": f"im{i}", "image": f"{i}.png"}))
    data = tmp_path / "images.jsonl"
    data.write_text("\n".join(rows) + "\n")
    return data


def _recipe(scope):
    from crossaug.recipe import Augment

    return Augment(create("augmentation", "image.color-jitter", saturation=0.9), n=3,
                   filters=[create("filter", NAME, model_filter="image.grayscale", alpha=0.8, scope=scope)])


def _verdicts(out):
    lines = [json.loads(x) for x in (out / "manifest.jsonl").read_text().splitlines()]
    return [(r["id"], r["kept"], r["lineage"][-1]["params"]["threshold"]) for r in lines]


def test_runner_verdicts_do_not_depend_on_batch_size_and_run_scope_refuses_workers(tmp_path):
    import crossaug

    data = _image_rows(tmp_path)
    runs = {b: _verdicts(crossaug.run(_recipe("run"), data, tmp_path / f"b{b}", seed=1, batch_size=b,
                                      report=False).output_dir) for b in (1, 4)}
    assert runs[1] == runs[4]
    kept = [k for _, k, _ in runs[1]]
    assert 0 < sum(kept) < len(kept)
    assert len({t for *_, t in runs[1]}) > 1  # the threshold moves along the run
    with pytest.raises(ConfigError, match="scope='run'"):
        crossaug.run(_recipe("run"), data, tmp_path / "w2", seed=1, batch_size=2, workers=2, executor="thread",
                     report=False)
    one = _verdicts(crossaug.run(_recipe("input"), data, tmp_path / "i1", seed=1, batch_size=4, report=False)
                    .output_dir)
    two = _verdicts(crossaug.run(_recipe("input"), data, tmp_path / "i2", seed=1, batch_size=2, workers=2,
                                 executor="thread", report=False).output_dir)
    assert one == two
