"""Tiny randomly initialised models for tests: BLIP, ViT-GPT2, GIT, CLIP and Stable Diffusion.

Each builder saves a complete model directory (weights, configs, tokenizer and
processor files written here: no hub access) that the public transforms load
with the directory as model id. Reusable by other plugins' tests (CLIP bits):
load this file with ``importlib.util.spec_from_file_location``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

WORDS = ["a", "photo", "of", "the", "cat", "dog", "on", "grass", "in", "snow", "red", "blue", "sitting",
         "persian", "car", "with", "and", "bright", "dark", "small", "big", "tree", "house", "beach"]


def make_image(seed: int = 0, size: tuple[int, int] = (48, 40), mode: str = "RGB") -> Any:
    """A random colour (or grey) PIL image."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    w, h = size
    if mode == "L":
        return Image.fromarray(rng.integers(0, 256, (h, w), dtype=np.uint8), mode="L")
    base = rng.integers(0, 256, 3)
    noise = rng.integers(-40, 41, (h, w, 3))
    return Image.fromarray(np.clip(base + noise, 0, 255).astype(np.uint8), mode="RGB")


def _byte_chars() -> list[str]:
    """GPT-2's printable stand-ins for the 256 byte values (printable bytes map to themselves)."""
    keep = [*range(ord("!"), ord("~") + 1), *range(ord("\xa1"), ord("\xac") + 1), *range(ord("\xae"), 256)]
    extra = 0
    out = {}
    for b in range(256):
        if b in keep:
            out[b] = chr(b)
        else:
            out[b] = chr(256 + extra)
            extra += 1
    return [out[b] for b in range(256)]


def _bpe_files(folder: Path, byte_level: bool) -> tuple[Path, Path]:
    """vocab.json + merges.txt: single characters, their end-of-word forms, and WORDS."""
    vocab: dict[str, int] = {}

    def add(tok: str) -> None:
        vocab.setdefault(tok, len(vocab))

    merges = ["#version: 0.2"]
    if byte_level:  # GPT-2 style: every byte has a printable stand-in
        for ch in _byte_chars():
            add(ch)
        add("<|endoftext|>")
        for w in WORDS:
            pieces = "Ġ" + w
            for i in range(2, len(pieces) + 1):
                merges.append(f"{pieces[:i - 1]} {pieces[i - 1]}")
                add(pieces[:i])
    else:  # CLIP style: lower-case characters with </w> word ends
        add("<|startoftext|>")
        add("<|endoftext|>")
        for ch in "abcdefghijklmnopqrstuvwxyz0123456789.,!?'-":
            add(ch)
            add(ch + "</w>")
        for w in WORDS:
            for i in range(2, len(w) + 1):
                left, right = w[:i - 1], w[i - 1] + ("</w>" if i == len(w) else "")
                merges.append(f"{left} {right}")
                add(left + right)
    merges = list(dict.fromkeys(merges))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("\n".join(merges) + "\n")
    return folder / "vocab.json", folder / "merges.txt"


def clip_tokenizer(folder: Path, max_length: int = 16) -> Any:
    from transformers import CLIPTokenizer

    vocab, merges = _bpe_files(folder, byte_level=False)
    return CLIPTokenizer(str(vocab), str(merges), model_max_length=max_length)


#: the vision tower of the tiny image-text models: 2 layers, 32x32 images in 16 patches of 8x8
VISION = dict(hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=4, image_size=32,
              patch_size=8)


def _wordpiece_tokenizer(folder: Path, extra: tuple[str, ...] = (), name: str = "vocab.txt") -> tuple[Any, list[str]]:
    """A BERT word-piece tokenizer over its special tokens, WORDS and ``extra`` (vocabulary saved as ``name``)."""
    from transformers import BertTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS, *extra]
    (folder / name).write_text("\n".join(words) + "\n")
    return BertTokenizer(str(folder / name), model_max_length=32), words


def _clip_text_config(vocab_size: int, bos: int, eos: int, pad: int) -> dict[str, Any]:
    """A 2-layer CLIP text tower over 16 positions."""
    return dict(vocab_size=vocab_size, hidden_size=32, intermediate_size=37, num_hidden_layers=2,
                num_attention_heads=4, max_position_embeddings=16, bos_token_id=bos, eos_token_id=eos,
                pad_token_id=pad)


def _clip_image_processor() -> Any:
    from transformers import CLIPImageProcessorPil

    return CLIPImageProcessorPil(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})


def _opt_tokenizer(folder: Path) -> Any:
    """The byte-level BPE tokenizer of the tiny BLIP-2-style models, with a pad and an ``<image>`` token."""
    from transformers import GPT2Tokenizer

    vocab, merges = _bpe_files(folder, byte_level=True)
    tok = GPT2Tokenizer(str(vocab), str(merges), model_max_length=64)
    tok.add_special_tokens({"pad_token": "<pad>"})
    tok.add_tokens(["<image>"], special_tokens=True)
    tok.image_token = "<image>"
    return tok


def _qformer_config(vocab_size: int, **extra: Any) -> dict[str, Any]:
    """A 2-layer Q-Former reading the 32-wide vision tower."""
    return dict(vocab_size=vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                intermediate_size=37, encoder_hidden_size=32, max_position_embeddings=64, **extra)


def _opt_config(tok: Any) -> dict[str, Any]:
    """A 2-layer OPT language model over ``tok``'s vocabulary (its end token also starts a text)."""
    eos = tok.eos_token_id
    return dict(model_type="opt", vocab_size=len(tok), hidden_size=32, num_hidden_layers=2, ffn_dim=37,
                num_attention_heads=4, word_embed_proj_dim=32, max_position_embeddings=64,
                bos_token_id=eos, eos_token_id=eos, pad_token_id=tok.pad_token_id)


def _save_generator(model: Any, tok: Any, path: Path) -> None:
    """Save ``model`` (eval mode) with ``tok``'s end and pad ids as its generation defaults."""
    model = model.eval()
    model.generation_config.eos_token_id = tok.eos_token_id
    model.generation_config.pad_token_id = tok.pad_token_id
    model.save_pretrained(path)


def build_blip(path: Path, seed: int = 0) -> Path:
    """A 2-layer BLIP captioner on 32x32 images with a BERT word-piece vocabulary."""
    import torch
    from transformers import BlipConfig, BlipForConditionalGeneration, BlipImageProcessorPil, BlipProcessor

    tok, words = _wordpiece_tokenizer(path, (".", ","))
    proc = BlipProcessor(image_processor=BlipImageProcessorPil(size={"height": 32, "width": 32}), tokenizer=tok)
    cfg = BlipConfig(
        text_config=dict(vocab_size=len(words), hidden_size=32, intermediate_size=37, num_hidden_layers=2,
                         num_attention_heads=4, max_position_embeddings=64, bos_token_id=2, sep_token_id=3,
                         pad_token_id=0, eos_token_id=3),
        vision_config=dict(VISION), projection_dim=32)
    torch.manual_seed(seed)
    BlipForConditionalGeneration(cfg).eval().save_pretrained(path)
    proc.save_pretrained(path)
    return path


def build_vit_gpt2(path: Path, seed: int = 0) -> Path:
    """A ViT encoder + 2-layer GPT-2 decoder (VisionEncoderDecoderModel) with a byte-level BPE tokenizer."""
    import torch
    from transformers import (
        GPT2Config,
        GPT2Tokenizer,
        VisionEncoderDecoderConfig,
        VisionEncoderDecoderModel,
        ViTConfig,
        ViTImageProcessorPil,
    )

    vocab, merges = _bpe_files(path, byte_level=True)
    tok = GPT2Tokenizer(str(vocab), str(merges))
    eos = tok.eos_token_id
    enc = ViTConfig(**VISION)
    dec = GPT2Config(vocab_size=len(tok), n_embd=32, n_layer=2, n_head=4, n_positions=64,
                     bos_token_id=eos, eos_token_id=eos, add_cross_attention=True, is_decoder=True)
    cfg = VisionEncoderDecoderConfig(encoder=enc.to_dict(), decoder=dec.to_dict())
    cfg.decoder_start_token_id = eos
    cfg.pad_token_id = eos
    cfg.eos_token_id = eos
    torch.manual_seed(seed)
    model = VisionEncoderDecoderModel(config=cfg).eval()
    model.generation_config.decoder_start_token_id = eos
    model.generation_config.pad_token_id = eos
    model.generation_config.eos_token_id = eos
    model.save_pretrained(path)
    tok.save_pretrained(path)
    ViTImageProcessorPil(size={"height": 32, "width": 32}).save_pretrained(path)
    return path


def build_git(path: Path, seed: int = 0) -> Path:
    """A 2-layer GIT captioner (decoder-only, image tokens first) with a BERT vocabulary."""
    import torch
    from transformers import GitConfig, GitForCausalLM, GitProcessor

    tok, words = _wordpiece_tokenizer(path)
    cfg = GitConfig(vision_config=dict(VISION),
                    vocab_size=len(words), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                    intermediate_size=37, max_position_embeddings=64, bos_token_id=2, eos_token_id=3, pad_token_id=0)
    torch.manual_seed(seed)
    GitForCausalLM(cfg).eval().save_pretrained(path)
    GitProcessor(image_processor=_clip_image_processor(), tokenizer=tok).save_pretrained(path)
    return path


def build_clip(path: Path, seed: int = 0) -> Path:
    """A tiny CLIP (2-layer text and vision towers, 32x32 images) with its processor."""
    import torch
    from transformers import CLIPConfig, CLIPModel, CLIPProcessor

    tok = clip_tokenizer(path / "_tok", max_length=16)
    cfg = CLIPConfig(text_config=_clip_text_config(len(tok), bos=0, eos=1, pad=1), vision_config=dict(VISION),
                     projection_dim=16)
    torch.manual_seed(seed)
    CLIPModel(cfg).eval().save_pretrained(path)
    CLIPProcessor(image_processor=_clip_image_processor(), tokenizer=tok).save_pretrained(path)
    return path


def build_stable_diffusion(path: Path, seed: int = 0, sample_size: int = 32, in_channels: int = 4,
                           pipeline: str = "StableDiffusionPipeline") -> Path:
    """A tiny Stable Diffusion pipeline (UNet 16/32 channels, 2-block VAE, 2-layer CLIP text encoder, DDIM).

    ``in_channels=9`` with ``StableDiffusionInpaintPipeline`` makes an inpainting model,
    ``in_channels=8`` with ``StableDiffusionInstructPix2PixPipeline`` an InstructPix2Pix one.
    """
    import diffusers
    import torch
    from diffusers import AutoencoderKL, DDIMScheduler, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    tok = clip_tokenizer(path / "_tok", max_length=16)
    torch.manual_seed(seed)
    unet = UNet2DConditionModel(block_out_channels=(16, 32), layers_per_block=1, sample_size=sample_size // 4,
                                in_channels=in_channels, out_channels=4,
                                down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
                                up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"), cross_attention_dim=16,
                                attention_head_dim=4, norm_num_groups=8)
    vae = AutoencoderKL(block_out_channels=(8, 16), in_channels=3, out_channels=3,
                        down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2,
                        latent_channels=4, norm_num_groups=8, sample_size=sample_size)
    text = CLIPTextModel(CLIPTextConfig(vocab_size=len(tok), hidden_size=16, intermediate_size=37,
                                        num_hidden_layers=2, num_attention_heads=2, max_position_embeddings=16,
                                        bos_token_id=0, eos_token_id=1, pad_token_id=1))
    sched = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False,
                          set_alpha_to_one=False, steps_offset=1)
    pipe = getattr(diffusers, pipeline)(unet=unet, vae=vae, text_encoder=text, tokenizer=tok, scheduler=sched,
                                   safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    pipe.save_pretrained(path)
    return path


__all__ = ["make_image", "build_blip", "build_vit_gpt2", "build_git", "build_clip", "build_stable_diffusion",
           "clip_tokenizer", "WORDS"]


def build_owlvit(path: Path, seed: int = 0) -> Path:
    """A tiny OWL-ViT open-vocabulary detector (2-layer towers, 32x32 images, 16 patches)."""
    import torch
    from transformers import OwlViTConfig, OwlViTForObjectDetection, OwlViTProcessor

    try:
        from transformers import OwlViTImageProcessorPil as ImageProcessor
    except ImportError:  # pragma: no cover - transformers without the PIL backend split
        from transformers import OwlViTImageProcessor as ImageProcessor

    from transformers import CLIPTokenizer

    # OWL-ViT masks a text query whose first token id is 0, so the start token must not be id 0
    vocab_file, merges = _bpe_files(path / "_tok", byte_level=False)
    vocab = {"<|pad|>": 0, **{k: v + 1 for k, v in json.loads(vocab_file.read_text()).items()}}
    vocab_file.write_text(json.dumps(vocab))
    tok = CLIPTokenizer(str(vocab_file), str(merges), model_max_length=16)
    cfg = OwlViTConfig(text_config=_clip_text_config(len(vocab), bos=1, eos=2, pad=2), vision_config=dict(VISION),
                       projection_dim=32)
    torch.manual_seed(seed)
    OwlViTForObjectDetection(cfg).eval().save_pretrained(path)
    improc = ImageProcessor(size={"height": 32, "width": 32}, crop_size={"height": 32, "width": 32})
    OwlViTProcessor(image_processor=improc, tokenizer=tok).save_pretrained(path)
    return path


def build_blip2(path: Path, seed: int = 0) -> Path:
    """A tiny BLIP-2 (2-layer ViT, 2-layer Q-Former with 4 queries, 2-layer OPT) with a byte-level BPE tokenizer."""
    import torch
    from transformers import Blip2Config, Blip2ForConditionalGeneration, Blip2Processor, BlipImageProcessorPil

    tok = _opt_tokenizer(path)
    cfg = Blip2Config(vision_config=dict(VISION), qformer_config=_qformer_config(len(tok)),
                      text_config=_opt_config(tok), num_query_tokens=4,
                      image_token_index=tok.convert_tokens_to_ids("<image>"))
    torch.manual_seed(seed)
    _save_generator(Blip2ForConditionalGeneration(cfg), tok, path)
    Blip2Processor(image_processor=BlipImageProcessorPil(size={"height": 32, "width": 32}), tokenizer=tok,
                   num_query_tokens=4).save_pretrained(path)
    return path


def build_grounding_dino(path: Path, seed: int = 0) -> Path:
    """A tiny Grounding DINO (4-stage Swin with 8 channels, 2-layer BERT, d_model 32, 10 queries, 96px images)."""
    import torch
    from transformers import (
        GroundingDinoConfig,
        GroundingDinoForObjectDetection,
        GroundingDinoImageProcessorPil,
        GroundingDinoProcessor,
        SwinConfig,
    )

    tok, words = _wordpiece_tokenizer(path, (".",))
    backbone = SwinConfig(window_size=7, embed_dim=8, depths=[1, 1, 1, 1], num_heads=[1, 1, 1, 1], image_size=96,
                          out_features=["stage2", "stage3", "stage4"], out_indices=[2, 3, 4])
    text = dict(model_type="bert", vocab_size=len(words), hidden_size=32, num_hidden_layers=2,
                num_attention_heads=4, intermediate_size=37, max_position_embeddings=64)
    cfg = GroundingDinoConfig(backbone_config=backbone, text_config=text, d_model=32, num_queries=10,
                              encoder_layers=1, decoder_layers=2, encoder_ffn_dim=32, decoder_ffn_dim=32,
                              encoder_attention_heads=2, decoder_attention_heads=2, num_feature_levels=4,
                              encoder_n_points=2, decoder_n_points=2, max_text_len=32)
    torch.manual_seed(seed)
    GroundingDinoForObjectDetection(cfg).eval().save_pretrained(path)
    improc = GroundingDinoImageProcessorPil(size={"shortest_edge": 96, "longest_edge": 128})
    GroundingDinoProcessor(image_processor=improc, tokenizer=tok).save_pretrained(path)
    return path


def build_instructblip(path: Path, seed: int = 0) -> Path:
    """A tiny InstructBLIP (as :func:`build_blip2`, plus a BERT word-piece tokenizer for the Q-Former's instruction)."""
    import torch
    from transformers import (
        BlipImageProcessorPil,
        InstructBlipConfig,
        InstructBlipForConditionalGeneration,
        InstructBlipProcessor,
    )

    tok = _opt_tokenizer(path)
    qtok, words = _wordpiece_tokenizer(path, (".", "?"), name="qformer_vocab.txt")
    cfg = InstructBlipConfig(vision_config=dict(VISION), qformer_config=_qformer_config(len(words), pad_token_id=0),
                             text_config=_opt_config(tok), num_query_tokens=4,
                             image_token_index=tok.convert_tokens_to_ids("<image>"))
    torch.manual_seed(seed)
    _save_generator(InstructBlipForConditionalGeneration(cfg), tok, path)
    InstructBlipProcessor(image_processor=BlipImageProcessorPil(size={"height": 32, "width": 32}), tokenizer=tok,
                          qformer_tokenizer=qtok, num_query_tokens=4).save_pretrained(path)
    return path


def build_safety_checker(weight: float) -> tuple[Any, Any]:
    """A tiny real StableDiffusionSafetyChecker; concept weight -2 flags every image, +2 none."""
    import torch
    from diffusers.pipelines.stable_diffusion.safety_checker import StableDiffusionSafetyChecker
    from transformers import CLIPConfig, CLIPImageProcessor

    cfg = CLIPConfig(text_config=dict(vocab_size=50, hidden_size=16, intermediate_size=37, num_hidden_layers=1,
                                      num_attention_heads=2),
                     vision_config=dict(hidden_size=16, intermediate_size=37, num_hidden_layers=1,
                                        num_attention_heads=2, image_size=32, patch_size=8), projection_dim=8)
    torch.manual_seed(0)
    checker = StableDiffusionSafetyChecker(cfg).eval()
    with torch.no_grad():
        checker.concept_embeds_weights.fill_(weight)
        checker.special_care_embeds_weights.fill_(abs(weight))
    return checker, CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
