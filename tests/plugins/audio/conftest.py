"""Shared fixtures of the audio plugin's tests: system programs and tiny random models."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

NEEDS_FLITE = pytest.mark.skipif(shutil.which("flite") is None, reason="Debian flite not installed")
NEEDS_SOX = pytest.mark.skipif(shutil.which("sox") is None, reason="Debian sox not installed")


@pytest.fixture(scope="session")
def tiny_wav2vec2(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A randomly initialised 1-layer wav2vec2 CTC model + processor saved to a temp dir.

    The CTC head's bias favours the letter ``A``, so greedy decoding emits ``a``
    (a random head would often emit only blanks, i.e. an empty transcript).
    """
    torch = pytest.importorskip("torch")
    T = pytest.importorskip("transformers")
    d = tmp_path_factory.mktemp("wav2vec2")
    vocab = {"<pad>": 0, "<s>": 1, "</s>": 2, "<unk>": 3, "|": 4}
    for c in "ETAOINSHRDLUCMFWYPVBGKJQXZ'":
        vocab[c] = len(vocab)
    (d / "vocab.json").write_text(json.dumps(vocab))
    tok = T.Wav2Vec2CTCTokenizer(str(d / "vocab.json"), unk_token="<unk>", pad_token="<pad>",
                                 word_delimiter_token="|")
    fe = T.Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000, padding_value=0.0,
                                    do_normalize=True, return_attention_mask=False)
    T.Wav2Vec2Processor(feature_extractor=fe, tokenizer=tok).save_pretrained(d)
    cfg = T.Wav2Vec2Config(vocab_size=len(vocab), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                           intermediate_size=32, conv_dim=(8, 8), conv_stride=(5, 4), conv_kernel=(10, 8),
                           num_conv_pos_embeddings=4, num_conv_pos_embedding_groups=2, pad_token_id=0)
    gen = torch.Generator().manual_seed(0)
    with torch.random.fork_rng():  # leave the global torch RNG as it was
        model = T.Wav2Vec2ForCTC(cfg)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * 0.02)
        model.lm_head.bias.zero_()
        model.lm_head.bias[vocab["A"]] = 5.0
    model.save_pretrained(d)
    return str(d)


WHISPER_SPECIALS = ["<|endoftext|>", "<|startoftranscript|>", "<|en|>", "<|transcribe|>", "<|translate|>",
                    "<|notimestamps|>", "<|startoflm|>", "<|startofprev|>", "<|nocaptions|>"]


@pytest.fixture(scope="session")
def tiny_whisper(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A randomly initialised 1+1-layer Whisper with a byte-level vocab (no merges) and special tokens."""
    torch = pytest.importorskip("torch")
    T = pytest.importorskip("transformers")
    d = tmp_path_factory.mktemp("whisper")
    vocab = {c: i for i, c in enumerate(["Ġ"] + [chr(c) for c in range(33, 127)])}
    for s in WHISPER_SPECIALS:
        vocab[s] = len(vocab)
    (d / "vocab.json").write_text(json.dumps(vocab))
    (d / "merges.txt").write_text("#version: 0.2\n")
    tok = T.WhisperTokenizer(str(d / "vocab.json"), str(d / "merges.txt"), unk_token="<|endoftext|>",
                             bos_token="<|endoftext|>", eos_token="<|endoftext|>", pad_token="<|endoftext|>")
    tok.add_tokens(WHISPER_SPECIALS, special_tokens=True)
    T.WhisperProcessor(feature_extractor=T.WhisperFeatureExtractor(feature_size=80), tokenizer=tok).save_pretrained(d)
    cfg = T.WhisperConfig(vocab_size=len(vocab), d_model=16, encoder_layers=1, decoder_layers=1,
                          encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=32,
                          decoder_ffn_dim=32, num_mel_bins=80, max_source_positions=1500,
                          max_target_positions=64, decoder_start_token_id=vocab["<|startoftranscript|>"],
                          eos_token_id=vocab["<|endoftext|>"], pad_token_id=vocab["<|endoftext|>"],
                          bos_token_id=vocab["<|endoftext|>"], begin_suppress_tokens=None, suppress_tokens=None)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = T.WhisperForConditionalGeneration(cfg)
    model.generation_config.forced_decoder_ids = None
    model.save_pretrained(d)
    return str(d)


FS2_TOKENS = ["<blank>", "<unk>", "AH0", "AH1", "N", "T", "K", "AE1", "S", "IY1", " ", ".", ",", "D", "EH1",
              "R", "L", "OW1", "W", "ER1", "DH", "M", "<sos/eos>"]


@pytest.fixture(scope="session")
def tiny_fastspeech2(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A randomly initialised FastSpeech2Conformer + HiFi-GAN (1 layer each) with an ARPAbet vocab.json."""
    torch = pytest.importorskip("torch")
    T = pytest.importorskip("transformers")
    d = tmp_path_factory.mktemp("fastspeech2")
    vocab = {t: i for i, t in enumerate(FS2_TOKENS)}
    (d / "vocab.json").write_text(json.dumps(vocab))
    mc = T.FastSpeech2ConformerConfig(
        vocab_size=len(vocab), hidden_size=16, num_mel_bins=20, encoder_num_attention_heads=2,
        decoder_num_attention_heads=2, encoder_layers=1, decoder_layers=1, encoder_linear_units=32,
        decoder_linear_units=32, speech_decoder_postnet_layers=1, speech_decoder_postnet_units=16,
        duration_predictor_layers=1, duration_predictor_channels=16, pitch_predictor_layers=1,
        pitch_predictor_channels=16, energy_predictor_layers=1, energy_predictor_channels=16)
    vc = T.FastSpeech2ConformerHifiGanConfig(model_in_dim=20, upsampling_initial_channel=16, upsample_rates=[4, 4],
                                             upsample_kernel_sizes=[8, 8], resblock_kernel_sizes=[3],
                                             resblock_dilation_sizes=[[1, 3]])
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = T.FastSpeech2ConformerWithHifiGan(
            T.FastSpeech2ConformerWithHifiGanConfig(model_config=mc.to_dict(), vocoder_config=vc.to_dict()))
    model.save_pretrained(d)
    return str(d)


@pytest.fixture
def harvard() -> list[str]:
    from crossaug_audio.hooks import demo_sentences_path

    return Path(demo_sentences_path()).read_text(encoding="utf-8").splitlines()
