"""Shared fixtures of the text plugin's tests: real WordNet / spaCy, tiny random models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

CORPUS = ["the cat sits on the mat", "a dog runs in the park", "der hund läuft im park",
          "die katze sitzt auf der matte", "a red car drives down the street",
          "ein rotes auto fährt die straße hinunter"]


@pytest.fixture(scope="session")
def nlp():
    from crossaug_text.resources import spacy_pipeline

    return spacy_pipeline()


def _wordlevel_tokenizer():
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2}
    for w in sorted({w for s in CORPUS for w in s.split()} | set("abcdefghijklmnopqrstuvwxyz.,!?:")):
        vocab.setdefault(w, len(vocab))
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>")
    return fast, len(vocab)


@pytest.fixture(scope="session")
def tiny_t5(tmp_path_factory) -> str:
    """A randomly initialised 1-layer T5 with a word-level tokenizer, saved to a directory."""
    pytest.importorskip("torch", reason="the [llm] extra is not installed")
    import torch
    from transformers import T5Config, T5ForConditionalGeneration

    d = tmp_path_factory.mktemp("tiny-t5")
    fast, n = _wordlevel_tokenizer()
    torch.manual_seed(0)
    cfg = T5Config(vocab_size=n, d_model=16, d_ff=32, d_kv=8, num_layers=1, num_decoder_layers=1, num_heads=2,
                   decoder_start_token_id=0, pad_token_id=0, eos_token_id=1)
    T5ForConditionalGeneration(cfg).save_pretrained(d)
    fast.save_pretrained(d)
    return str(d)


@pytest.fixture(scope="session")
def tiny_gpt2(tmp_path_factory) -> str:
    """A randomly initialised 1-layer GPT-2 with a word-level tokenizer."""
    pytest.importorskip("torch", reason="the [llm] extra is not installed")
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    d = tmp_path_factory.mktemp("tiny-gpt2")
    fast, n = _wordlevel_tokenizer()
    torch.manual_seed(0)
    cfg = GPT2Config(vocab_size=n, n_embd=16, n_layer=1, n_head=2, n_positions=256, bos_token_id=1,
                     eos_token_id=1, pad_token_id=0)
    GPT2LMHeadModel(cfg).save_pretrained(d)
    fast.save_pretrained(d)
    return str(d)


def build_tiny_marian(d: Path, seed: int) -> str:
    """A tiny random MarianMT model with a sentencepiece tokenizer trained here on CORPUS."""
    import sentencepiece as spm
    import torch
    from transformers import MarianConfig, MarianMTModel, MarianTokenizer

    d.mkdir(parents=True, exist_ok=True)
    (d / "corpus.txt").write_text("\n".join(CORPUS * 5), encoding="utf-8")
    spm.SentencePieceTrainer.train(input=str(d / "corpus.txt"), model_prefix=str(d / "sp"), vocab_size=40,
                                   model_type="unigram", character_coverage=1.0, minloglevel=2,
                                   pad_id=-1, bos_id=-1, eos_id=-1, unk_id=0)
    sp = spm.SentencePieceProcessor(model_file=str(d / "sp.model"))
    vocab = {"</s>": 0, "<unk>": 1, "<pad>": 2}
    for i in range(sp.get_piece_size()):
        vocab.setdefault(sp.id_to_piece(i), len(vocab))
    (d / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    tok = MarianTokenizer(str(d / "sp.model"), str(d / "sp.model"), str(d / "vocab.json"))
    torch.manual_seed(seed)
    cfg = MarianConfig(vocab_size=len(vocab), d_model=16, encoder_layers=1, decoder_layers=1,
                       encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=32,
                       decoder_ffn_dim=32, max_position_embeddings=128, pad_token_id=2, eos_token_id=0,
                       decoder_start_token_id=2, forced_eos_token_id=0)
    out = d / "model"
    MarianMTModel(cfg).save_pretrained(out)
    tok.save_pretrained(out)
    return str(out)


@pytest.fixture(scope="session")
def tiny_marian(tmp_path_factory) -> tuple[str, str]:
    """(en->de, de->en) tiny random Marian models."""
    pytest.importorskip("torch", reason="the [llm] extra is not installed")
    pytest.importorskip("sentencepiece", reason="the [llm] extra is not installed")
    root = tmp_path_factory.mktemp("tiny-marian")
    return build_tiny_marian(root / "en-de", 0), build_tiny_marian(root / "de-en", 1)
