"""TTS transforms (crossaug_audio/tts): contracts, speakability, chunking, model loading."""

from __future__ import annotations

import importlib.util
import shutil

import numpy as np
import pytest
from crossaug import BadSample, ConfigError, MissingDependency, Sample, create
from crossaug_testing import TransformContract

from .conftest import NEEDS_FLITE

ESPEAK = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="Debian espeak-ng not installed")


def bad_texts() -> list[tuple[Sample, str]]:
    return [(Sample("punct", {"text": "?!... --- !!!"}), "nothing to speak"),
            (Sample("emoji", {"text": "🙂🎉👍"}), "nothing to speak"),
            (Sample("cyr", {"text": "Привет, как дела?"}), "script"),
            (Sample("ws", {"text": "   "}), "whitespace"),
            (Sample("noaudiofield", {"audio": "x.wav"}), "needs field")]


GOOD = [Sample("g1", {"text": "The birch canoe slid on the smooth planks."}),
        Sample("g2", {"text": "Glue the sheet to the dark blue background."})]


@NEEDS_FLITE
class TestFliteContract(TransformContract):
    name = "audio.tts.flite"
    params = {"voice": "slt"}

    def good_samples(self):
        return GOOD

    def bad_samples(self):
        return bad_texts()


@ESPEAK
class TestEspeakContract(TransformContract):
    name = "audio.tts.espeak"
    params = {"voice": "en-us", "speed": 170}

    def good_samples(self):
        return GOOD

    def bad_samples(self):
        return bad_texts()


@NEEDS_FLITE
@pytest.mark.parametrize("voice,rate", [("slt", 16000), ("kal", 8000), ("awb", 16000)])
def test_flite_voices_speak_at_their_rate(voice, rate):
    out = create("transform", "audio.tts.flite", voice=voice)([GOOD[0]], [0])[0]
    a = out["audio"]
    assert a.sample_rate == rate
    assert 1.5 < a.duration < 5.0                       # ~8 words of speech
    assert float(np.sqrt(np.mean(a.samples ** 2))) > 0.01  # not silence
    assert out.lineage[-1].model == f"flite:{voice}"


@NEEDS_FLITE
def test_long_text_is_chunked_and_joined():
    sentence = "The birch canoe slid on the smooth planks. "
    tts = create("transform", "audio.tts.flite", voice="slt", max_chars=60)
    one = tts([Sample("one", {"text": sentence})], [0])[0]["audio"]
    six = tts([Sample("six", {"text": sentence * 6})], [0])[0]
    assert six.lineage[-1].params == {"chunks": 6}
    # six chunks of the same sentence plus five pauses of 0.15 s
    assert six["audio"].duration == pytest.approx(6 * one.duration + 5 * 0.15, abs=0.01)


def test_unknown_flite_voice_is_config_error():
    with pytest.raises(ConfigError, match="built-in voices"):
        create("transform", "audio.tts.flite", voice="nobody")


def test_missing_program_says_what_to_install():
    tts = create("transform", "audio.tts.flite", program="flite-not-installed-here")
    with pytest.raises(MissingDependency, match="apt-get install flite"):
        tts([GOOD[0]], [0])


@ESPEAK
def test_espeak_other_language_reads_its_script():
    out = create("transform", "audio.tts.espeak", voice="ru")([Sample("ru", {"text": "Привет, мир"})], [0])[0]
    assert out["audio"].duration > 0.3


class TestFastSpeech2Contract(TransformContract):
    name = "audio.tts.fastspeech2"

    @pytest.fixture(autouse=True)
    def _model(self, tiny_fastspeech2):
        self.params = {"model": tiny_fastspeech2, "g2p": "cmudict"}

    def good_samples(self):
        return [Sample("f1", {"text": "The cat sat on the mat."}), Sample("f2", {"text": "A red dog ran."})]

    def bad_samples(self):
        return bad_texts()[:3]


def test_fastspeech2_loads_local_dir_and_speaks(tiny_fastspeech2):
    tts = create("transform", "audio.tts.fastspeech2", model=tiny_fastspeech2, g2p="cmudict")
    out = tts([Sample("f", {"text": "The cat sat. The dog ran."})], [0])[0]
    assert out["audio"].sample_rate == 22050
    assert out["audio"].samples.size > 0 and np.isfinite(out["audio"].samples).all()
    assert out.lineage[-1].model == tiny_fastspeech2


def test_fastspeech2_device_dtype_policy_and_nan_is_bad_sample(tiny_fastspeech2):
    import torch
    from crossaug import BadSample, ConfigError
    from crossaug.models import pick_device

    tts = create("transform", "audio.tts.fastspeech2", model=tiny_fastspeech2, g2p="cmudict")
    assert (tts.device, tts.dtype) == ("auto", "auto")
    out = tts([Sample("f", {"text": "The cat sat."})], [0])[0]
    assert out.lineage[-1].runtime["device"] == pick_device("auto")
    assert out.lineage[-1].runtime["dtype"] == "float32"  # auto on CPU
    half = create("transform", "audio.tts.fastspeech2", model=tiny_fastspeech2, g2p="cmudict", dtype="bfloat16")
    assert next(half._load()[0].parameters()).dtype == torch.bfloat16
    with pytest.raises(ConfigError, match="dtype"):
        create("transform", "audio.tts.fastspeech2", dtype="half-ish")
    net = tts._load()[0]
    with torch.no_grad():
        next(net.vocoder.parameters()).fill_(float("nan"))  # the vocoder's first conv: NaN audio
    with pytest.raises(BadSample) as info:
        tts([Sample("nan-clip", {"text": "The dog ran."})], [0])
    assert info.value.sample_id == "nan-clip" and "NaN" in str(info.value)


def test_fastspeech2_g2p_en_missing_is_explained(tiny_fastspeech2):
    if importlib.util.find_spec("g2p_en") is not None:
        pytest.skip("g2p_en is installed here")
    tts = create("transform", "audio.tts.fastspeech2", model=tiny_fastspeech2)  # g2p="g2p_en" default
    with pytest.raises(MissingDependency, match="g2p"):
        tts([GOOD[0]], [0])


def test_fastspeech2_missing_weights_say_how_to_get_them(tmp_path, monkeypatch):
    pytest.importorskip("transformers")
    from crossaug import MissingResource

    monkeypatch.setenv("HF_HOME", str(tmp_path))
    tts = create("transform", "audio.tts.fastspeech2", model="nobody/no-such-fastspeech2", g2p="cmudict")
    with pytest.raises(MissingResource, match="download"):
        tts([GOOD[0]], [0])


@pytest.mark.parametrize("name,module", [("audio.tts.espnet", "espnet2"), ("audio.tts.piper", "piper")])
def test_optional_backends_name_their_extra(name, module):
    if importlib.util.find_spec(module) is not None:
        pytest.skip(f"{module} is installed here; the missing-dependency path cannot be exercised")
    tts = create("transform", name)
    with pytest.raises(MissingDependency, match="crossaug-audio\\["):
        tts([GOOD[0]], [0])
    assert tts.to_dict()["transform"] == name


def test_bad_text_is_per_sample_bad_sample():
    tts = create("transform", "audio.tts.flite")
    with pytest.raises(BadSample) as info:
        tts([Sample("e1", {"text": "🙂"})], [0])
    assert "e1" in str(info.value) and "nothing to speak" in str(info.value)
