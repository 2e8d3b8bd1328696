"""ASR transforms (crossaug_audio/asr): contracts, bad audio policy, tiny random models."""

from __future__ import annotations

import functools
import importlib.util

import numpy as np
import pytest
from crossaug import Audio, BadSample, MissingDependency, Sample, create
from crossaug.builtin.edit_distance import normalised_edit_distance
from crossaug_testing import TransformContract

from .conftest import NEEDS_FLITE

REF = "glue the sheet to the dark blue background"


@functools.cache
def speech(text: str = REF, voice: str = "slt") -> Audio:
    from crossaug_audio.tts.flite import FliteTTS

    return FliteTTS(voice=voice)([Sample("tts", {"text": text})], [0])[0]["audio"]


def tone_audio(seconds: float = 0.5, rate: int = 16000) -> Audio:
    t = np.arange(int(seconds * rate)) / rate
    return Audio((0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), rate)


def bad_audio() -> list[tuple[Sample, str]]:
    return [(Sample("nan1", {"audio": Audio(np.array([0.1, np.nan] * 800, dtype=np.float32), 16000)}), "non-finite"),
            (Sample("empty1", {"audio": Audio(np.zeros(0, dtype=np.float32), 16000)}), "zero-length"),
            (Sample("hour1", {"audio": Audio(np.zeros(3600 * 1000, dtype=np.float32), 1000)}), "3600 s"),
            (Sample("textonly", {"text": "hello"}), "needs field")]


@NEEDS_FLITE
class TestPocketSphinxContract(TransformContract):
    name = "audio.asr.pocketsphinx"

    def good_samples(self):
        return [Sample("p1", {"audio": speech("hello world")}), Sample("p2", {"audio": speech("the dark blue sky")})]

    def bad_samples(self):
        return bad_audio()


class TestWav2Vec2Contract(TransformContract):
    name = "audio.asr.wav2vec2"

    @pytest.fixture(autouse=True)
    def _model(self, tiny_wav2vec2):
        self.params = {"model": tiny_wav2vec2}

    def good_samples(self):
        return [Sample("w1", {"audio": tone_audio(0.5)}), Sample("w2", {"audio": tone_audio(0.3, 8000)})]

    def bad_samples(self):
        return bad_audio()


class TestWhisperContract(TransformContract):
    name = "audio.asr.whisper"

    @pytest.fixture(autouse=True)
    def _model(self, tiny_whisper):
        self.params = {"model": tiny_whisper, "language": None, "task": None, "max_new_tokens": 6}

    def good_samples(self):
        return [Sample("h1", {"audio": tone_audio(0.5)}), Sample("h2", {"audio": tone_audio(0.4, 22050)})]

    def bad_samples(self):
        return bad_audio()[:2]


@NEEDS_FLITE
def test_pocketsphinx_transcribes_flite_speech():
    out = create("transform", "audio.asr.pocketsphinx")([Sample("s", {"audio": speech(voice="rms")})], [0])[0]
    assert normalised_edit_distance(REF, out["text"]) <= 0.25, out["text"]


@NEEDS_FLITE
@pytest.mark.parametrize("rate", [8000, 44100, 96000])
def test_other_rates_are_resampled_and_recorded(rate):
    from crossaug_audio.dsp.resample import resample

    a = speech(voice="rms")
    moved = Audio(resample(a.samples, a.sample_rate, rate), rate)
    out = create("transform", "audio.asr.pocketsphinx")([Sample("r", {"audio": moved})], [0])[0]
    assert out.lineage[-1].params["resampled_from"] == rate
    limit = 0.5 if rate == 8000 else 0.25      # 8 kHz loses the upper band the 16 kHz model uses
    assert normalised_edit_distance(REF, out["text"]) <= limit, out["text"]


@NEEDS_FLITE
def test_stereo_is_mixed_to_mono_and_clipping_recorded():
    a = speech(voice="rms")
    st = Audio(np.clip(np.stack([a.samples, a.samples], axis=1) * 3.0, -1, 1).astype(np.float32), a.sample_rate)
    out = create("transform", "audio.asr.pocketsphinx")([Sample("st", {"audio": st})], [0])[0]
    info = out.lineage[-1].params
    assert info["mixed_channels"] == 2 and info["clipped_fraction"] > 0
    assert normalised_edit_distance(REF, out["text"]) <= 0.5, out["text"]


@NEEDS_FLITE
def test_silence_gives_empty_transcript_marked_in_lineage():
    silent = Audio(np.zeros(16000, dtype=np.float32), 16000)
    asr = create("transform", "audio.asr.pocketsphinx")
    outs = asr([Sample("z", {"audio": silent}), Sample("s", {"audio": speech(voice="rms")}),
                Sample("z2", {"audio": silent})], [0, 0, 0])
    assert [o["text"] == "" for o in outs] == [True, False, True]
    assert outs[0].lineage[-1].params["empty"] is True and "empty" not in outs[1].lineage[-1].params


@NEEDS_FLITE
def test_pocketsphinx_output_does_not_depend_on_previous_clips():
    from crossaug_audio.augmentations.pitch_shift import PitchShift

    clips = [Sample(f"c{i}", {"audio": speech(t, v)}) for i, (t, v) in
             enumerate([("two blue fish swam", "slt"), ("read verse out loud", "rms"), ("the sun rose", "awb")])]
    clips = [PitchShift(semitones=[-1, 1]).augment(c, np.random.default_rng(9)) for c in clips]
    fresh = [create("transform", "audio.asr.pocketsphinx")([c], [0])[0]["text"] for c in clips]
    asr = create("transform", "audio.asr.pocketsphinx")
    assert [o["text"] for o in asr(clips, [0] * 3)] == fresh
    assert [o["text"] for o in asr(clips[::-1], [0] * 3)] == fresh[::-1]


def test_bad_audio_is_bad_sample_naming_sample():
    asr = create("transform", "audio.asr.pocketsphinx")
    for sample, fragment in bad_audio():
        with pytest.raises(BadSample) as info:
            asr([sample], [0])
        assert sample.id in str(info.value) and fragment in str(info.value)


def test_wav2vec2_tiny_model_decodes_through_public_path(tiny_wav2vec2):
    asr = create("transform", "audio.asr.wav2vec2", model=tiny_wav2vec2)
    out = asr([Sample("w", {"audio": tone_audio(0.5, 48000)})], [0])[0]
    assert out["text"] == "a"             # the biased head emits A; CTC collapses repeats; lowercased
    assert out.lineage[-1].model == tiny_wav2vec2 and out.lineage[-1].params["resampled_from"] == 48000
    assert asr.sample_rate == 16000


def test_wav2vec2_short_clip_is_padded(tiny_wav2vec2):
    asr = create("transform", "audio.asr.wav2vec2", model=tiny_wav2vec2)
    out = asr([Sample("w", {"audio": tone_audio(0.01)})], [0])[0]
    assert out["text"] == "a"


def test_whisper_tiny_model_generates_through_public_path(tiny_whisper):
    asr = create("transform", "audio.asr.whisper", model=tiny_whisper, language=None, task=None, max_new_tokens=5)
    out = asr([Sample("h", {"audio": tone_audio(0.5)})], [0])[0]
    text = out["text"]
    assert "<|" not in text and len(text.replace(" ", "")) <= 5 * 2  # byte-level tokens, special ones skipped
    assert out.lineage[-1].model == tiny_whisper


def count_calls(net, method: str = "generate") -> list:
    """Wrap ``net.<method>`` so each call appends its batch size to the returned list."""
    calls = []
    real = getattr(net, method)

    def counting(*args, **kwargs):
        first = args[0] if args else next(iter(kwargs.values()))
        calls.append(int(first.shape[0]))
        return real(*args, **kwargs)

    setattr(net, method, counting)
    return calls


def test_whisper_long_audio_is_windowed(tiny_whisper):
    from crossaug_audio.asr.whisper import WhisperASR

    texts, sizes = [], []
    for batch_size in (8, 1):
        asr = WhisperASR(model=tiny_whisper, language=None, task=None, max_new_tokens=2, batch_size=batch_size)
        calls = count_calls(asr._load()[0])
        texts.append(asr([Sample("long", {"audio": tone_audio(65.0)})], [0])[0]["text"])
        sizes.append(calls)
    assert sizes == [[3], [1, 1, 1]]      # 30 s + 30 s + 5 s windows: one batched call, or three
    assert texts[0] == texts[1]


@pytest.mark.parametrize("name,module", [("audio.asr.faster-whisper", "faster_whisper"),
                                         ("audio.asr.espnet", "espnet2")])
def test_optional_backends_name_their_extra(name, module):
    if importlib.util.find_spec(module) is not None:
        pytest.skip(f"{module} is installed here; the missing-dependency path cannot be exercised")
    asr = create("transform", name)
    with pytest.raises(MissingDependency, match="crossaug-audio\\["):
        asr([Sample("x", {"audio": tone_audio()})], [0])


def test_wav2vec2_missing_weights_say_how_to_get_them(tmp_path, monkeypatch):
    pytest.importorskip("transformers")
    from crossaug import MissingResource

    monkeypatch.setenv("HF_HOME", str(tmp_path))
    asr = create("transform", "audio.asr.wav2vec2", model="nobody/no-such-wav2vec2")
    with pytest.raises(MissingResource, match="huggingface-cli download nobody/no-such-wav2vec2"):
        asr([Sample("x", {"audio": tone_audio()})], [0])


def clips(n: int = 8) -> list[Sample]:
    """``n`` tones of different pitch and length (0.2 s to 0.9 s): a batch that needs padding."""
    out = []
    for i in range(n):
        rate = 16000
        t = np.arange(int((0.2 + 0.1 * i) * rate)) / rate
        x = (0.3 * np.sin(2 * np.pi * (180 + 40 * i) * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))).astype(np.float32)
        out.append(Sample(f"c{i}", {"audio": Audio(x, rate)}))
    return out


def capture_logits(net) -> list:
    """Wrap ``net.forward`` to keep each call's logits (and count the calls)."""
    seen = []
    real = net.forward

    def forward(*args, **kwargs):
        result = real(*args, **kwargs)
        seen.append(result.logits.detach().clone())
        return result

    net.forward = forward
    return seen


@pytest.fixture(scope="module")
def layer_norm_wav2vec2(tiny_wav2vec2, tmp_path_factory) -> str:
    """The tiny wav2vec2 as a layer-norm model whose feature extractor returns an attention mask."""
    T = pytest.importorskip("transformers")
    d = tmp_path_factory.mktemp("wav2vec2-layer")
    proc = T.Wav2Vec2Processor.from_pretrained(tiny_wav2vec2)
    proc.feature_extractor.return_attention_mask = True
    proc.save_pretrained(d)
    cfg = T.Wav2Vec2Config.from_pretrained(tiny_wav2vec2)
    cfg.feat_extract_norm, cfg.do_stable_layer_norm = "layer", True
    import torch
    with torch.random.fork_rng():
        torch.manual_seed(1)
        model = T.Wav2Vec2ForCTC(cfg)
    model.load_state_dict(T.Wav2Vec2ForCTC.from_pretrained(tiny_wav2vec2).state_dict(), strict=False)
    model.save_pretrained(d)
    return str(d)


def test_wav2vec2_eight_clips_one_forward_pass_same_as_one_at_a_time(tiny_wav2vec2, layer_norm_wav2vec2):
    for path, masked in ((tiny_wav2vec2, False), (layer_norm_wav2vec2, True)):
        runs = {}
        for batch_size in (8, 1):
            asr = create("transform", "audio.asr.wav2vec2", model=path, batch_size=batch_size, device="cpu")
            net, processor = asr._load()
            seen = capture_logits(net)
            texts = [o["text"] for o in asr(clips(), [0] * 8)]
            runs[batch_size] = (texts, seen, net)
        (batched, seen8, net), (single, seen1, _) = runs[8], runs[1]
        assert len(seen8) == 1 and seen8[0].shape[0] == 8 and len(seen1) == 8
        assert batched == single and all(batched)
        if masked:  # with the mask each clip's own frames match its one-clip run (float tolerance)
            lengths = sorted(len(c["audio"].samples) for c in clips())  # the batch is sorted by length
            frames = net._get_feat_extract_output_lengths(__import__("torch").tensor(lengths)).tolist()
            for row, one in enumerate(seen1):
                assert one.shape[1] == frames[row]
                assert float((seen8[0][row, :frames[row]] - one[0]).abs().max()) < 1e-4


def test_whisper_eight_clips_one_generate_call_same_as_one_at_a_time(tiny_whisper):
    texts, sizes = {}, {}
    for batch_size in (8, 1):
        asr = create("transform", "audio.asr.whisper", model=tiny_whisper, language=None, task=None,
                     max_new_tokens=4, batch_size=batch_size)
        sizes[batch_size] = count_calls(asr._load()[0])
        texts[batch_size] = [o["text"] for o in asr(clips(), [0] * 8)]
    assert sizes == {8: [8], 1: [1] * 8}
    assert texts[8] == texts[1]


def test_asr_device_and_dtype_follow_the_kernel_policy(tiny_wav2vec2):
    from crossaug import ConfigError
    from crossaug.models import pick_device

    asr = create("transform", "audio.asr.wav2vec2", model=tiny_wav2vec2)
    assert (asr.device, asr.dtype) == ("auto", "auto")
    out = asr([Sample("w", {"audio": tone_audio(0.5)})], [0])[0]
    runtime = out.lineage[-1].runtime
    assert runtime["device"] == pick_device("auto") and runtime["dtype"] == "float32"  # auto on CPU: fp32
    half = create("transform", "audio.asr.wav2vec2", model=tiny_wav2vec2, dtype="bf16", device="cpu")
    out = half([Sample("w", {"audio": tone_audio(0.5)})], [0])[0]
    assert next(half._load()[0].parameters()).dtype.__str__() == "torch.bfloat16"
    assert out.lineage[-1].runtime["dtype"] == "bfloat16" and out["text"] == "a"
    with pytest.raises(ConfigError, match="dtype"):
        create("transform", "audio.asr.whisper", dtype="int8")
    with pytest.raises(ConfigError, match="batch_size"):
        create("transform", "audio.asr.wav2vec2", batch_size=0)


@pytest.mark.parametrize("name", ["audio.asr.wav2vec2", "audio.asr.whisper"])
def test_nan_model_output_is_bad_sample_of_that_clip(name, tiny_wav2vec2, tiny_whisper):
    import torch

    extra = {"language": None, "task": None, "max_new_tokens": 3} if name.endswith("whisper") else {}
    asr = create("transform", name, model=tiny_whisper if name.endswith("whisper") else tiny_wav2vec2, **extra)
    net = asr._load()[0]
    head = net.proj_out if name.endswith("whisper") else net.lm_head
    with torch.no_grad():
        head.weight.fill_(float("nan"))
    silent = Sample("quiet", {"audio": Audio(np.zeros(8000, dtype=np.float32), 16000)})  # never decoded
    with pytest.raises(BadSample) as info:
        asr([silent, Sample("loud", {"audio": tone_audio(0.5)})], [0, 0])
    assert info.value.sample_id == "loud" and name in str(info.value) and "NaN" in str(info.value)


def test_back_speech_passes_device_and_dtype_to_every_model_step():
    from crossaug_audio.back_speech import BackSpeech

    r = BackSpeech(tts="fastspeech2", asr="wav2vec2", device="cpu", dtype="bfloat16",
                   asr_options={"dtype": "float32"}, fan_out=[1, 1, 1])
    assert [(t.device, t.dtype) for t in r.forward] == [("cpu", "bfloat16")]
    assert (r.backward[0].device, r.backward[0].dtype) == ("cpu", "float32")  # asr_options win
    assert r.to_dict()["params"]["device"] == "cpu" and r.to_dict()["params"]["dtype"] == "bfloat16"
    plain = BackSpeech(device="cuda")  # flite and pocketsphinx take no device: nothing passed
    assert not hasattr(plain.forward[0], "device") and plain.device == "cuda"


def test_more_clips_than_a_batch_are_grouped_by_duration(tiny_wav2vec2):
    samples = clips(8)[::-1] + clips(8)  # 16 clips, durations 0.9 s down to 0.2 s, then up again
    samples = [s.replace(id=f"{s.id}-{k}") for k, s in enumerate(samples)]
    asr = create("transform", "audio.asr.wav2vec2", model=tiny_wav2vec2, batch_size=8, device="cpu")
    net = asr._load()[0]
    real, seen = net.forward, []

    def forward(x, **kwargs):
        seen.append(int(x.shape[1]))  # padded width of the batch
        return real(x, **kwargs)

    net.forward = forward
    outs = asr(samples, list(range(16)))
    durations = sorted(len(s["audio"].samples) for s in samples)
    assert seen == [durations[7], durations[15]]  # the 8 shortest clips together, then the 8 longest
    assert [o.id for o in outs] == [s.id for s in samples]  # outputs in input order
    alone = create("transform", "audio.asr.wav2vec2", model=tiny_wav2vec2, batch_size=1, device="cpu")
    assert [o["text"] for o in outs] == [o["text"] for o in alone(samples, list(range(16)))]
