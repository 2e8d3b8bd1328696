"""Throughput of the text and audio model backends: batched vs one at a time.

Measures items per second of LLM rewriting (``text.llm-rewrite``, sampled, on a causal
and a seq2seq model), translation (``text.translate``, sampled and beam search) and ASR
(``audio.asr.wav2vec2``, ``audio.asr.whisper``) when the step runs ``batch_size`` items per
model call and when it runs them one per call (``batch_size=1``), on the same models in
the same run, and prints the ratio, the model calls made and how many outputs differ
between the two batchings (greedy flips where a float tolerance moves an argmax; the
reproducibility contract bounds them). By default tiny random models are built in a
temporary directory (the test suite's builders; CPU, seconds); pass real models to
measure them (e.g. on a GPU):

    python benchmarks/text_audio_batching.py
    python benchmarks/text_audio_batching.py --device cuda --n 64 --batch-size 16 \\
        --llm-model Qwen/Qwen2.5-0.5B-Instruct --mt-model Helsinki-NLP/opus-mt-en-de \\
        --wav2vec2-model facebook/wav2vec2-base-960h --whisper-model openai/whisper-base.en
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SENTENCES = ["the cat sits on the mat", "a dog runs in the park", "a red car drives down the street",
             "the dog sits", "a cat runs down the street in the park", "the red car",
             "a dog and a cat sit on the red mat in the park", "the street"]


def _conftest(plugin: str) -> Any:
    spec = importlib.util.spec_from_file_location(f"{plugin}_fixtures", ROOT / f"tests/plugins/{plugin}/conftest.py")
    mod = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


class _Tmp:
    """Stands in for pytest's ``tmp_path_factory`` when the tests' model builders run here."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def mktemp(self, name: str) -> Path:
        return Path(tempfile.mkdtemp(prefix=f"{name}-", dir=self.root))


def tiny_models(root: Path) -> dict[str, Any]:
    """Tiny random GPT-2, T5, Marian (en-de), wav2vec2 and Whisper, saved under ``root``."""
    text, audio, tmp = _conftest("text"), _conftest("audio"), _Tmp(root)
    return {"gpt2": text.tiny_gpt2.__wrapped__(tmp), "t5": text.tiny_t5.__wrapped__(tmp),
            "marian": text.build_tiny_marian(root / "marian", 0),
            "wav2vec2": audio.tiny_wav2vec2.__wrapped__(tmp), "whisper": audio.tiny_whisper.__wrapped__(tmp)}


def sentences(n: int) -> list[str]:
    """``n`` sentences of mixed lengths (1 to 11 words)."""
    return [" ".join((SENTENCES[i % len(SENTENCES)] + " " + SENTENCES[(i * 3 + 1) % len(SENTENCES)]).split()
                     [:1 + (i * 5) % 11]) for i in range(n)]


def clips(n: int) -> list[Any]:
    """``n`` tones of 0.5 s to 2.5 s at 16 kHz (a batch that needs padding)."""
    from crossaug import Audio

    out = []
    for i in range(n):
        t = np.arange(int((0.5 + 2.0 * (i % 5) / 4) * 16000)) / 16000
        out.append(Audio((0.3 * np.sin(2 * np.pi * (180 + 30 * i) * t)).astype(np.float32), 16000))
    return out


def _timed(fn: Callable[[], list[str]], repeat: int) -> tuple[float, list[str]]:
    best, out = float("inf"), []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def compare(label: str, make: Callable[[int], Callable[[], list[str]]], calls: Callable[[], int], n: int,
            batch_size: int, repeat: int) -> dict[str, Any]:
    """Time ``make(batch_size)()`` against ``make(1)()``; count model calls and differing outputs."""
    row: dict[str, Any] = {"step": label, "items": n, "batch_size": batch_size}
    outs = {}
    for size in (batch_size, 1):
        run = make(size)
        run()  # load and warm up
        before = calls()
        took, outs[size] = _timed(run, repeat)
        row[f"calls_b{size}"] = (calls() - before) // repeat
        row[f"items_per_s_b{size}"] = round(n / took, 2)
    row["ratio"] = round(row[f"items_per_s_b{batch_size}"] / row["items_per_s_b1"], 2)
    row["outputs_differ"] = sum(a != b for a, b in zip(outs[batch_size], outs[1]))
    return row


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--llm-model", action="append", help="causal or seq2seq LM (repeatable; default: tiny GPT-2 "
                    "and T5)")
    ap.add_argument("--mt-model", help="translation model (default: a tiny random Marian en-de)")
    ap.add_argument("--wav2vec2-model", help="wav2vec2 CTC model (default: a tiny random one)")
    ap.add_argument("--whisper-model", help="Whisper model (default: a tiny random one)")
    ap.add_argument("--only", choices=["rewrite", "translate", "asr"], action="append", help="steps to measure")
    ap.add_argument("--n", type=int, default=32, help="items per measurement")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--max-new-tokens", type=int, default=12)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--dtype", default="auto")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: leave as is)")
    ap.add_argument("--repeat", type=int, default=1, help="timed repetitions (best kept)")
    args = ap.parse_args(argv)

    import torch
    from crossaug import Sample, create
    from crossaug.models import pick_device, pick_dtype
    from crossaug_text.hf import get_generator

    if args.threads:
        torch.set_num_threads(args.threads)
    only = set(args.only or ["rewrite", "translate", "asr"])
    tmp = tempfile.TemporaryDirectory()
    tiny = tiny_models(Path(tmp.name)) if not (args.llm_model and args.mt_model and args.wav2vec2_model
                                                and args.whisper_model) else {}
    device = pick_device(args.device)
    common = {"device": args.device, "dtype": args.dtype}
    texts = sentences(args.n)
    samples = [Sample(f"s{i}", {"text": t}) for i, t in enumerate(texts)]
    rows = []

    if "rewrite" in only:
        for model in args.llm_model or [tiny["gpt2"], tiny["t5"]]:
            gen = get_generator(model, None, args.device, args.dtype)

            def make(size: int, model: str = model) -> Callable[[], list[str]]:
                aug = create("augmentation", "text.llm-rewrite", model=model, batch_size=size,
                             max_new_tokens=args.max_new_tokens, **common)
                return lambda: aug.rewrite(texts, list(range(len(texts))))

            name = "llm-rewrite sampled (" + ("seq2seq" if gen.seq2seq else "causal") + ")"
            rows.append(compare(name, make, lambda gen=gen: gen.calls, args.n, args.batch_size, args.repeat))

    if "translate" in only:
        mt = args.mt_model or tiny["marian"]
        gen = get_generator(mt, None, args.device, args.dtype)
        for label, opts in (("translate sampled top-k 10", {"do_sample": True, "top_k": 10}),
                            ("translate beam 4", {"num_beams": 4})):
            def make(size: int, opts: dict[str, Any] = opts) -> Callable[[], list[str]]:
                step = create("transform", "text.translate", model=mt, batch_size=size,
                              max_new_tokens=args.max_new_tokens, **opts, **common)
                return lambda: [o["text.de"] for o in step(samples, list(range(len(samples))))]

            rows.append(compare(label, make, lambda gen=gen: gen.calls, args.n, args.batch_size, args.repeat))

    if "asr" in only:
        audio = [Sample(f"a{i}", {"audio": a}) for i, a in enumerate(clips(args.n))]
        for name, model, extra in (("audio.asr.wav2vec2", args.wav2vec2_model or tiny.get("wav2vec2"), {}),
                                   ("audio.asr.whisper", args.whisper_model or tiny.get("whisper"),
                                    {"max_new_tokens": args.max_new_tokens} if args.whisper_model else
                                    {"max_new_tokens": args.max_new_tokens, "language": None, "task": None})):
            made: list[Any] = []

            def make(size: int, name: str = name, model: str = model, extra: dict = extra,
                     made: list[Any] = made) -> Callable[[], list[str]]:
                step = create("transform", name, model=model, batch_size=size, **extra, **common)
                made.append(step)
                return lambda: [o["text"] for o in step(audio, [0] * len(audio))]

            rows.append(compare(name, make, lambda made=made: sum(getattr(s, "calls", 0) for s in made),
                                args.n, args.batch_size, args.repeat))

    print(json.dumps({"device": device, "dtype": str(pick_dtype(args.dtype, device)).removeprefix("torch."),
                      "torch_threads": torch.get_num_threads()}))
    for row in rows:
        print(json.dumps(row))
    tmp.cleanup()
    return rows


if __name__ == "__main__":
    main()
