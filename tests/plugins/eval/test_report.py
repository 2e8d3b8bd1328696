"""The HTML report: content, pagination, plots, and what headless Chromium actually shows."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import crossaug
import numpy as np
import pytest
from crossaug import Audio, Sample
from crossaug.builtin.typo import Typo
from crossaug.recipe import Augment
from crossaug.report import page_name, write_report

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--autoplay-policy=no-user-gesture-required", "--allow-file-access-from-files"]

# Appended to a copy of a page (never to the report itself): waits for every image and audio
# element to load, then writes what loaded into the DOM, which --dump-dom prints.
PROBE = """<script>
window.addEventListener('load', async () => {
  const res = {images: [], audios: []};
  await Promise.all([...document.images].map(img => new Promise(done => {
    const finish = () => { res.images.push({src: img.getAttribute('src'), ok: img.complete && img.naturalWidth > 0,
                                            width: img.naturalWidth}); done(); };
    if (img.complete) finish(); else { img.addEventListener('load', finish); img.addEventListener('error', finish); }
  })));
  await Promise.all([...document.querySelectorAll('audio')].map(a => new Promise(done => {
    a.addEventListener('loadedmetadata', () => { res.audios.push({src: a.getAttribute('src'), ok: a.duration > 0,
                                                                  duration: a.duration}); done(); });
    a.addEventListener('error', () => { res.audios.push({src: a.getAttribute('src'), ok: false}); done(); });
    a.preload = 'auto'; a.load();
  })));
  res.items = document.querySelectorAll('tr.item').length;
  res.svgPoints = document.querySelectorAll('svg circle').length;
  const pre = document.createElement('pre'); pre.id = 'probe'; pre.textContent = JSON.stringify(res);
  document.body.appendChild(pre);
});
</script>"""


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str]] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"] or "")
        for key in ("href", "src"):
            if a.get(key):
                self.refs.append((tag, a[key] or ""))


def media_run(out: Path, n_inputs: int = 7) -> Path:
    rng = np.random.default_rng(0)
    t = np.arange(8000) / 8000
    samples = []
    for i in range(n_inputs):
        img = (rng.random((24, 32, 3)) * 255).astype(np.uint8)
        tone = (0.3 * np.sin(2 * np.pi * (220 + 40 * i) * t)).astype(np.float32)
        samples.append(Sample(f"in{i}", {"text": f"the quick brown fox number {i} jumps", "image": img,
                                         "audio": Audio(tone, 8000)}, label=i % 2))
    crossaug.run(Augment(Typo(rate=0.3), n=2), samples, out, seed=3, report=False)
    return out


def test_report_sections_and_pagination(tmp_path: Path) -> None:
    out = media_run(tmp_path / "run")
    (tmp_path / "run" / "report-9.html").write_text("stale page of a longer earlier report")
    first = write_report(out, per_page=3)
    pages = sorted(p.name for p in out.glob("report*.html"))
    assert pages == ["report-2.html", "report-3.html", "report.html"]
    html1 = first.read_text()
    assert "Per recipe" in html1 and "augment" in html1 and "7 of 7 inputs shown, page 1 of 3" in html1
    assert html1.count('class="parent"') == 3 and (out / "report-3.html").read_text().count('class="parent"') == 1
    assert "<del>" in html1 or "<ins>" in html1
    assert "Summary" not in (out / "report-2.html").read_text()  # later pages: gallery only
    assert 'href="report-2.html"' in html1 and "cdn" not in html1.lower() and "<script" not in html1
    # parents' media are stored once and shown beside the outputs
    recs = list(crossaug.read_manifest(out))
    assert all((out / r["parent"]["image"]).is_file() and (out / r["parent"]["audio"]).is_file() for r in recs)
    assert page_name(1) == "report.html" and page_name(4) == "report-4.html"


def test_report_shows_quality_metrics(tmp_path: Path) -> None:
    from crossaug_eval.metrics.run import quality_metrics

    out = media_run(tmp_path / "run", n_inputs=3)

    class CharEmbedder:  # bag of letters: enough to exercise the similarity path without a model
        def encode(self, texts: list[str]) -> np.ndarray:
            return np.array([[t.count(c) for c in "abcdefghijklmnopqrstuvwxyz"] for t in texts], float)

    run = quality_metrics(out, embedder=CharEmbedder(), reference=lambda recs: [r["label"] for r in recs])
    assert run["samples"] == 6 and run["label_preservation"] == 1.0
    assert 0 < run["fields"]["text"]["mean_edit_distance"] <= 1
    assert 0 < run["fields"]["text"]["mean_similarity"] < 1
    # typo leaves the image untouched: every output equals its input
    assert run["fields"]["image"]["mean_distance_to_parent"] == 0.0 and run["fields"]["image"]["dispersion"] == 0.0
    rows = [json.loads(line) for line in (out / "quality.jsonl").read_text().splitlines()]
    assert len(rows) == 6 and all("text.edit_distance" in r for r in rows)
    page = write_report(out).read_text()
    assert "Quality" in page and "mean_similarity" in page and "text edit distance" in page


@pytest.mark.slow
@pytest.mark.system
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (Debian package `chromium`)")
def test_report_in_headless_chromium(tmp_path: Path) -> None:
    from crossaug_eval import Protocol, evaluate

    out = media_run(tmp_path / "run")
    write_report(out, per_page=4)
    ARTIFACTS.mkdir(exist_ok=True)
    profile = tmp_path / "chromium-profile"

    def browse(page: Path, *args: str) -> str:
        res = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()],
                             capture_output=True, text=True, timeout=120)
        assert res.returncode == 0, res.stderr[-2000:]
        return res.stdout

    expected_items = {"report.html": 8, "report-2.html": 6}
    for name, items in expected_items.items():
        probe_page = out / f"probe-{name}"
        probe_page.write_text((out / name).read_text().replace("</body>", PROBE + "</body>"))
        dom = browse(probe_page, "--dump-dom", "--virtual-time-budget=20000")
        found = re.search(r'<pre id="probe">(.*?)</pre>', dom, flags=re.S)
        assert found, f"probe did not run on {name}"
        res = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
        parents = items // 2
        assert res["items"] == items, name                       # every output of the page is shown
        assert len(res["images"]) == parents + items and all(i["ok"] for i in res["images"]), res["images"][:3]
        assert len(res["audios"]) == parents + items, res["audios"][:3]
        assert all(a["ok"] and a["duration"] == pytest.approx(1.0, abs=0.01) for a in res["audios"])
        # no broken links: every href/src is a file in the run or an anchor on the page
        links = Links()
        links.feed(dom)
        for tag, ref in links.refs:
            if ref.startswith("#"):
                assert ref[1:] in links.ids, ref
            else:
                assert not re.match(r"^[a-z]+://", ref), f"external reference {ref}"
                assert (out / ref).is_file(), f"{name}: broken {tag} {ref}"
        probe_page.unlink()
    browse(out / "report.html", "--screenshot=" + str(ARTIFACTS / "report-gallery.png"), "--window-size=1280,2200",
           "--hide-scrollbars")
    assert (ARTIFACTS / "report-gallery.png").stat().st_size > 10_000

    # an evaluation's page: the plots render as SVG with one point per (method, k)
    data = [Sample(f"{c}{i}", {"text": f"{c} item {i}"}, label=c) for c in ("red", "blue") for i in range(8)]
    first = lambda train, seed: ((lambda xs: [x["text"].split()[0] for x in xs]), 0.1)
    evaluate(data, ["none", Typo(rate=0.2)], classifier=first, out_dir=tmp_path / "ev",
             protocol=Protocol(shots=(1, 2), data_seeds=2, budget=2, test_per_class=3, affinity_per_class=2))
    ev_probe = tmp_path / "ev" / "probe.html"
    ev_probe.write_text((tmp_path / "ev" / "report.html").read_text().replace("</body>", PROBE + "</body>"))
    dom = browse(ev_probe, "--dump-dom", "--virtual-time-budget=5000")
    res: Any = json.loads(re.search(r'<pre id="probe">(.*?)</pre>', dom, flags=re.S).group(1)  # type: ignore[union-attr]
                          .replace("&quot;", '"').replace("&amp;", "&"))
    assert res["svgPoints"] == 2 * 2 + 2  # accuracy: 2 methods x 2 k; diversity vs affinity: 2 methods
    assert "Accuracy vs k" in dom and "text.typo" in dom
    ev_probe.unlink()
    browse(tmp_path / "ev" / "report.html", "--screenshot=" + str(ARTIFACTS / "report-eval.png"),
           "--window-size=1280,1600", "--hide-scrollbars")
    assert (ARTIFACTS / "report-eval.png").stat().st_size > 10_000
