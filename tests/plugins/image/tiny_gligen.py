"""A tiny random GLIGEN pipeline for tests, and the plain Stable Diffusion pipeline of the same weights.

The UNet is ``UNet2DConditionModel(attention_type="gated")``: each transformer block gets a
gated self-attention fuser and the UNet a text-box position net. Fresh gates are zero
(``tanh(0) = 0``: grounding does nothing), as in an untrained GLIGEN; the builder opens
them (``gate``) so that grounding visibly acts, as in a trained checkpoint. Its random
attention is near uniform over the visual and the 30 grounding tokens, so which phrase sits in
which box changes the image only by about one grey level: tests check that the layout reaches
the position net rather than how the picture looks.
Loaded by the test modules with ``importlib`` (see ``load``).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any


def load() -> Any:
    """This module, importable from test files without a package."""
    spec = importlib.util.spec_from_file_location("crossaug_image_tests_tiny_gligen", Path(__file__))
    mod = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


def build_gligen(path: Path, tiny: Any, seed: int = 0, gate: float = 1.0,
                 plain_path: Path | None = None) -> Path:
    """Save a tiny ``StableDiffusionGLIGENPipeline`` at ``path`` (32x32 images, DDIM).

    With ``plain_path``, the same components are also saved there as a
    ``StableDiffusionPipeline`` (what ``image.text-to-image.diffusers`` loads).
    """
    import diffusers
    import torch
    from diffusers import AutoencoderKL, DDIMScheduler, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    tok = tiny.clip_tokenizer(path / "_tok", max_length=16)
    torch.manual_seed(seed)
    unet = UNet2DConditionModel(block_out_channels=(16, 32), layers_per_block=1, sample_size=8, in_channels=4,
                                out_channels=4, down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
                                up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"), cross_attention_dim=16,
                                attention_head_dim=4, norm_num_groups=8, attention_type="gated")
    with torch.no_grad():
        for name, p in unet.named_parameters():
            if name.endswith(("fuser.alpha_attn", "fuser.alpha_dense")):
                p.fill_(gate)
    vae = AutoencoderKL(block_out_channels=(8, 16), in_channels=3, out_channels=3,
                        down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2,
                        latent_channels=4, norm_num_groups=8, sample_size=32)
    text = CLIPTextModel(CLIPTextConfig(vocab_size=len(tok), hidden_size=16, intermediate_size=37,
                                        num_hidden_layers=2, num_attention_heads=2, max_position_embeddings=16,
                                        bos_token_id=0, eos_token_id=1, pad_token_id=1))
    sched = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False,
                          set_alpha_to_one=False, steps_offset=1)
    parts = dict(unet=unet, vae=vae, text_encoder=text, tokenizer=tok, scheduler=sched, safety_checker=None,
                 feature_extractor=None, requires_safety_checker=False)
    diffusers.StableDiffusionGLIGENPipeline(**parts).save_pretrained(path)
    if plain_path is not None:
        diffusers.StableDiffusionPipeline(**parts).save_pretrained(plain_path)
    return path
