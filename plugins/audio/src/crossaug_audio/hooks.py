"""crossaug hooks of the audio plugin: ``crossaug demo`` (back-speech) and ``crossaug doctor`` checks."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import crossaug

PLUGIN = "crossaug-audio"

#: settings of the demo: two flite voices, sox pitch/tempo, pocketsphinx
DEMO_VOICES = ["rms", "slt"]


def demo_sentences_path() -> Path:
    """The bundled Harvard sentences (see ``data/SOURCE.md`` next to the file)."""
    return Path(str(resources.files("crossaug_audio") / "data" / "harvard_sentences.txt"))


def demo_recipe() -> Any:
    from .back_speech import BackSpeech

    return BackSpeech(voices=DEMO_VOICES)


@crossaug.hookimpl
def crossaug_demo() -> Any:
    from crossaug.demo import DemoSpec

    return DemoSpec(demo_recipe(), demo_sentences_path(),
                    "back-speech demo: 40 Harvard sentences -> flite (voices rms, slt) -> sox pitch/tempo "
                    "(4 draws per voice) -> pocketsphinx -> spoken-form word edit distance <= 0.2, no copies, "
                    "k = 5 distinct per sentence (all offline)",
                    seed=0, workers=2, batch_size=2)


def _pocketsphinx_model() -> Any:
    from crossaug.doctor import Check

    try:
        import pocketsphinx
    except ImportError:
        return Check("pocketsphinx en-US model", False, "pocketsphinx not installed",
                     "pip install pocketsphinx", PLUGIN)
    base = Path(pocketsphinx.get_model_path()) / "en-us"
    need = [base / "en-us", base / "en-us.lm.bin", base / "cmudict-en-us.dict"]
    missing = [p.name for p in need if not p.exists()]
    return Check("pocketsphinx en-US model", not missing, str(base) if not missing else f"missing {missing}",
                 "pip install --force-reinstall pocketsphinx" if missing else None, PLUGIN)


@crossaug.hookimpl
def crossaug_doctor() -> list[Any]:
    from crossaug.doctor import check_module, check_program

    return [
        check_program("flite", "apt-get install flite (embedded TTS default)", PLUGIN),
        check_program("espeak-ng", "apt-get install espeak-ng", PLUGIN),
        check_program("sox", "apt-get install sox libsox-fmt-all (pitch/tempo default)", PLUGIN),
        _pocketsphinx_model(),
        check_module("soundfile", "pip install soundfile", PLUGIN),
        check_module("librosa", "pip install 'crossaug-audio[librosa]'", PLUGIN),
        check_module("transformers", "pip install 'crossaug-audio[transformers]'", PLUGIN),
        check_module("torch", "pip install 'crossaug-audio[transformers]' (CPU: torch==2.13.0)", PLUGIN),
        check_module("g2p_en", "pip install g2p-en (FastSpeech2 tokenizer; or g2p='cmudict')", PLUGIN),
        check_module("espnet2", "pip install 'crossaug-audio[espnet]' (needs a matching torch/torchaudio)", PLUGIN),
        check_module("piper", "pip install 'crossaug-audio[piper]' and download a voice (.onnx)", PLUGIN),
        check_module("faster_whisper", "pip install 'crossaug-audio[whisper]'", PLUGIN),
    ]
