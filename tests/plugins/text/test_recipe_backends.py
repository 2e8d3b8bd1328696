"""Backends by name in the text recipes (crossaug_text/recipes.py): ``translator=`` and ``rewriter=``.

Any registered step of the right modality pair plugs into back-translation and caption-rewrite,
named in full or by a short alias; a typo gets a did-you-mean, a wrong modality pair a clear error.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import crossaug
import pytest
from crossaug import ConfigError, Sample, from_dict


def pig_latin(word: str) -> str:
    """Pig Latin written here from its rule (move the leading consonants, add 'ay'; vowel start: 'way')."""
    vowels = [i for i, ch in enumerate(word) if ch.lower() in "aeiou"]
    if not vowels:
        return word + "ay"
    i = vowels[0]
    return word[i:] + word[:i] + ("way" if i == 0 else "ay")


def test_translator_alias_resolves_to_the_registered_transform() -> None:
    r = crossaug.create("recipe", "back-translation", translator="translate")
    assert r.translator == "text.translate"
    (fwd,), (bwd,) = r.forward, r.backward
    assert fwd.name == bwd.name == "text.translate"
    assert (fwd.model, bwd.model) == ("Helsinki-NLP/opus-mt-en-de", "Helsinki-NLP/opus-mt-de-en")
    assert (fwd.source_lang, fwd.target_lang, fwd.in_field, fwd.out_field) == ("en", "de", "text", "text.de")


def test_a_third_party_translator_runs_the_round_trip() -> None:
    pytest.importorskip("crossaug_example", reason="the example third-party plugin (tests/fixtures) is not installed")
    r = crossaug.create("recipe", "back-translation", translator="example.pig-latin", pivot_lang="pig")
    outs = r([Sample("s1", {"text": "hello strong world"})], seed=0)
    twice = " ".join(pig_latin(pig_latin(w)) for w in "hello strong world".split())
    assert [o.fields["text"] for o in outs] == [twice]
    assert outs[0].fields["text.pig"] == "ellohay ongstray orldway"
    assert [step.name for step in outs[0].lineage][:2] == ["example.pig-latin", "example.pig-latin"]
    assert from_dict(r.to_dict()).to_dict() == r.to_dict()


def test_kernel_transform_as_translator_by_short_alias() -> None:
    r = crossaug.create("recipe", "back-translation", translator="reverse-words")
    out = r([Sample("s1", {"text": "one two three"})], seed=0, kept_only=False)
    assert r.translator == "text.reverse-words"
    assert out[0].fields["text.de"] == "three two one" and out[0].fields["text"] == "one two three"


def test_translator_typo_suggests_the_registered_name() -> None:
    with pytest.raises(ConfigError, match=r"did you mean text\.translate"):
        crossaug.create("recipe", "back-translation", translator="text.translat")


def test_translator_of_the_wrong_modality_pair_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"maps image -> text; expected text -> text"):
        crossaug.create("recipe", "back-translation", translator="image.caption.blip")


def test_rewriter_by_alias_and_a_different_registered_rewriter() -> None:
    default = crossaug.create("recipe", "caption-rewrite", client="x")
    assert default.rewriter == "text.llm-rewrite" and default.augmentation.client == "x"
    r = crossaug.create("recipe", "caption-rewrite", rewriter="typo", rewriter_params={"rate": 0.5}, n=2)
    assert r.rewriter == "text.typo" and r.augmentation.rate == 0.5
    outs = r([Sample("c1", {"text": "a small cat sits on a red mat"})], seed=0)
    assert len(outs) == 2 and all(o.lineage[-1].name == "text.typo" for o in outs)
    assert any(o.fields["text"] != "a small cat sits on a red mat" for o in outs)
    assert from_dict(r.to_dict()).to_dict() == r.to_dict()


def test_rewriter_errors_name_the_problem() -> None:
    with pytest.raises(ConfigError, match=r"did you mean text\.llm-rewrite"):
        crossaug.create("recipe", "caption-rewrite", rewriter="llm-rewrit")
    with pytest.raises(ConfigError, match=r"acts on image; expected text"):
        crossaug.create("recipe", "caption-rewrite", rewriter="image.flip")


def test_crossaug_run_back_translation_with_a_named_third_party_translator(tmp_path: Path) -> None:
    pytest.importorskip("crossaug_example", reason="the example third-party plugin (tests/fixtures) is not installed")
    data = tmp_path / "in.txt"
    data.write_text("hello strong world\n", encoding="utf-8")
    cli = Path(sys.executable).with_name("crossaug")
    run = subprocess.run([str(cli), "run", "back-translation", "-i", str(data), "-o", str(tmp_path / "out"),
                          "-p", "translator=example.pig-latin", "--no-progress"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    rows = [json.loads(x) for x in (tmp_path / "out" / "manifest.jsonl").read_text().splitlines()]
    kept = [r for r in rows if r["kept"]]
    assert [r["text"] for r in kept] == [" ".join(pig_latin(pig_latin(w)) for w in "hello strong world".split())]
