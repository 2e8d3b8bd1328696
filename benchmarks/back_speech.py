"""Back-speech throughput: the embedded offline pipeline, and pitch/tempo against audiomentations.

1. Runs ``back-speech`` (flite -> sox pitch/tempo -> pocketsphinx -> edit-distance
   filter) over the bundled Harvard sentences with 1 and 2 workers in the same
   run and prints sentences per second, the 2-vs-1 worker ratio, the share of
   time per stage (from ``summary.json`` "timings") and the kept ratio.
2. Times pitch shifting and time stretching of the same flite clips with
   crossaug (sox, librosa) and audiomentations (its default signalsmith method
   and its librosa phase vocoder) and prints clips per second and ratios.

    .venv/bin/python benchmarks/back_speech.py                 # ~1-2 min: 12 sentences, 2 voices
    .venv/bin/python benchmarks/back_speech.py --sentences 40 --repeats 5
    .venv/bin/python benchmarks/back_speech.py --skip-pipeline --quality   # + pocketsphinx WER per method
    .venv/bin/python benchmarks/back_speech.py --quick         # 4 sentences, 1 repeat

With ``--quality`` each pitch/tempo method's output is also transcribed by
pocketsphinx and the mean word edit distance to the sentence is printed (why
sox is the default for back-speech).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("CROSSAUG_NO_PROGRESS", "1")

import numpy as np  # noqa: E402


def stage_of(name: str) -> str | None:
    if name.startswith("audio.tts."):
        return "TTS"
    if name.startswith("audio.asr."):
        return "ASR"
    if name in ("compose", "audio.pitch-shift", "audio.time-stretch", "audio.gain", "audio.noise", "audio.speed"):
        return "augmentation"
    if name in ("text.edit-distance", "audio.empty-transcript"):
        return "filter"
    return None


def pipeline(sentences: list[str], voices: list[str]) -> None:
    from crossaug import run
    from crossaug_audio.back_speech import BackSpeech

    inputs = [{"id": f"h{i}", "text": t} for i, t in enumerate(sentences)]
    results = {}
    for workers in (1, 2):
        with tempfile.TemporaryDirectory() as out:
            start = time.perf_counter()
            res = run(BackSpeech(voices=voices), inputs, out, seed=0, workers=workers, batch_size=2,
                      on_error="skip", report=False)
            wall = time.perf_counter() - start
            results[workers] = (wall, res.summary, Path(out, "manifest.jsonl").read_bytes())
    (w1, s1, m1), (w2, _s2, m2) = results[1], results[2]
    n = len(sentences)
    print(f"## back-speech, embedded offline pipeline ({n} sentences, voices {','.join(voices)}, "
          f"{n * len(voices)} candidates, {os.cpu_count()} CPUs)")
    print(f"workers=1: {n / w1:.2f} sentences/s ({w1:.1f} s)")
    print(f"workers=2: {n / w2:.2f} sentences/s ({w2:.1f} s)")
    print(f"speed-up 2 vs 1 workers: {w1 / w2:.2f}x   manifests identical: {m1 == m2}")
    shares: dict[str, float] = {}
    for name, t in s1["timings"].items():
        stage = stage_of(name)
        if stage:
            shares[stage] = shares.get(stage, 0.0) + t["seconds"]
    total = sum(shares.values()) or 1.0
    print("time share per stage (workers=1): " +
          ", ".join(f"{k} {100 * v / total:.1f}%" for k, v in sorted(shares.items(), key=lambda kv: -kv[1])))
    print(f"kept ratio: {s1['kept_ratio']:.3f} ({s1['kept']} of {s1['lines']} candidates; "
          f"{len(s1['inputs_without_output'])} of {n} sentences with no kept candidate)")


def clips(sentences: list[str]) -> list[tuple[np.ndarray, int]]:
    from crossaug import Sample
    from crossaug_audio.tts.flite import FliteTTS

    outs = FliteTTS(voice="slt")([Sample(f"c{i}", {"text": t}) for i, t in enumerate(sentences)],
                                 list(range(len(sentences))))
    return [(o["audio"].samples, o["audio"].sample_rate) for o in outs]


def rate(fn, data, repeats: int) -> float:
    fn(*data[0])  # warm up (librosa/numba compile on first call)
    start = time.perf_counter()
    for _ in range(repeats):
        for x, sr in data:
            fn(x, sr)
    return repeats * len(data) / (time.perf_counter() - start)


#: audiomentations' default method for PitchShift and TimeStretch
DEFAULT_METHOD = "signalsmith_stretch"


def _call(transform):
    return lambda x, sr: transform(samples=x, sample_rate=sr)


def peers(sentences: list[str], repeats: int, quality: bool = False) -> None:
    from crossaug_audio.dsp.pitch import pitch_shift
    from crossaug_audio.dsp.stretch import time_stretch

    data = clips(sentences)
    seconds = sum(len(x) / sr for x, sr in data)
    print(f"\n## pitch shift (+1.5 semitones) and time stretch (x1.1) on {len(data)} flite clips "
          f"({seconds:.1f} s of speech), {repeats} repeats")
    ours = {
        "pitch": {"crossaug sox": lambda x, sr: pitch_shift(x, sr, 1.5, "sox"),
                  "crossaug librosa": lambda x, sr: pitch_shift(x, sr, 1.5, "librosa")},
        "stretch": {"crossaug sox": lambda x, sr: time_stretch(x, sr, 1.1, "sox"),
                    "crossaug librosa": lambda x, sr: time_stretch(x, sr, 1.1, "librosa")},
    }
    theirs: dict[str, dict] = {"pitch": {}, "stretch": {}}
    try:
        import audiomentations as am

        for method in ("signalsmith_stretch", "librosa_phase_vocoder"):
            try:
                ps = am.PitchShift(min_semitones=1.5, max_semitones=1.5, method=method, p=1.0)
                ts = am.TimeStretch(min_rate=1.1, max_rate=1.1, leave_length_unchanged=False, method=method, p=1.0)
                ps(samples=data[0][0], sample_rate=data[0][1])
                theirs["pitch"][f"audiomentations {method}"] = _call(ps)
                theirs["stretch"][f"audiomentations {method}"] = _call(ts)
            except Exception as exc:  # method not available in this version
                print(f"audiomentations {method}: skipped ({type(exc).__name__}: {exc})")
    except ImportError:
        print("audiomentations not installed: pip install 'crossaug-audio[bench]'")
    default = f"audiomentations {DEFAULT_METHOD}"
    versus = {}
    for op in ("pitch", "stretch"):
        rates = {name: rate(fn, data, repeats) for name, fn in {**ours[op], **theirs[op]}.items()}
        base = rates.get("crossaug sox")
        for name, r in rates.items():
            print(f"{op:8s} {name:40s} {r:8.1f} clips/s   {r * seconds / len(data):8.1f} x real time   "
                  f"ratio to crossaug sox {r / base:.2f}")
        if default in rates:
            versus[op] = base / rates[default]
    if versus:
        print(f"crossaug sox / {default} (its default method): "
              + ", ".join(f"{op} {ratio:.2f}x" for op, ratio in versus.items()))
    if quality:
        wer_table(sentences, data, {**ours["pitch"], **theirs["pitch"]}, {**ours["stretch"], **theirs["stretch"]})


def wer_table(sentences: list[str], data: list[tuple[np.ndarray, int]], pitch: dict, stretch: dict) -> None:
    from crossaug import Audio, Sample
    from crossaug.builtin.edit_distance import normalised_edit_distance
    from crossaug_audio.asr.pocketsphinx import PocketSphinxASR

    asr = PocketSphinxASR()

    def wer(clips: list[np.ndarray]) -> float:
        outs = asr([Sample(f"q{i}", {"audio": Audio(np.asarray(c, dtype=np.float32), sr)})
                    for i, (c, (_, sr)) in enumerate(zip(clips, data, strict=False))], [0] * len(clips))
        return float(np.mean([normalised_edit_distance(t, o["text"]) for t, o in zip(sentences, outs, strict=False)]))

    print(f"\n## pocketsphinx word edit distance after each method (same {len(data)} clips)")
    print(f"{'unaugmented':49s} {wer([x for x, _ in data]):.3f}")
    for op, fns in (("pitch", pitch), ("stretch", stretch)):
        for name, fn in fns.items():
            print(f"{op:8s} {name:40s} {wer([fn(x, sr) for x, sr in data]):.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=12, help="bundled sentences used (max 40)")
    parser.add_argument("--voices", default="rms,slt", help="flite voices (fan-out)")
    parser.add_argument("--repeats", type=int, default=3, help="repeats of the pitch/tempo timing")
    parser.add_argument("--skip-pipeline", action="store_true")
    parser.add_argument("--skip-peers", action="store_true")
    parser.add_argument("--quality", action="store_true", help="also pocketsphinx WER per pitch/tempo method")
    parser.add_argument("--quick", action="store_true", help="4 sentences, 1 repeat: a check, not a figure")
    args = parser.parse_args(argv)
    if args.quick:
        args.sentences, args.repeats = 4, 1
    load = open("/proc/loadavg").read().split()[:3] if os.path.exists("/proc/loadavg") else ["?"]
    print(f"cores: {os.cpu_count()}, load average: {' '.join(load)}")
    from crossaug_audio.hooks import demo_sentences_path

    sentences = demo_sentences_path().read_text(encoding="utf-8").splitlines()[: args.sentences]
    if not args.skip_pipeline:
        pipeline(sentences, [v for v in args.voices.split(",") if v])
    if not args.skip_peers:
        peers(sentences, args.repeats, args.quality)
    return 0


if __name__ == "__main__":
    sys.exit(main())
