"""Captioning with ``VisionEncoderDecoderModel`` (ViT-GPT2 style) or GIT through ``transformers``.

One backend for the encoder-decoder captioners of the Hugging Face hub: any
``VisionEncoderDecoderModel`` (e.g. ``nlpconnect/vit-gpt2-image-captioning``) and
GIT (``microsoft/git-base-coco``, a decoder-only model fed image tokens). The
label-filled prompt is the start of the decoder input, so captions begin with it.

Example:
    >>> VisionEncoderDecoderCaptioner(prompt=None).name
    'image.caption.vision-encoder-decoder'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from .base import Captioner


class VisionEncoderDecoderCaptioner(Captioner):
    """Caption images with a vision encoder + text decoder model (or GIT).

    Args:
        model: Hugging Face id or local directory (default
            ``nlpconnect/vit-gpt2-image-captioning``); a directory whose config has
            ``model_type: git`` is loaded as GIT.
        revision: hub revision.
        prompt: caption prefix with ``{label}``; ``None`` for unconditional captions.
        mode: ``sample`` (seeded nucleus sampling), ``beam`` or ``greedy``.
        num_captions: captions generated per image; all are recorded in lineage.
        max_new_tokens: caption length limit.
        min_new_tokens: tokens generated before the end token is allowed (no empty captions).
        temperature, top_k, top_p: sampling settings (ours: nucleus sampling, p=0.9).
        num_beams: beams in ``beam`` mode.
        batch_size: images per forward pass.
        device: ``auto``, ``cpu``, ``cuda``, ``cuda:N`` or ``mps``.
        dtype: ``auto`` (float16 on CUDA), ``float32``, ``float16`` or ``bfloat16``.
        allow_download: let ``from_pretrained`` download weights missing on disk.
        in_field, out_field: fields read and written (default ``image`` -> ``text``).
    """

    name: ClassVar[str] = "image.caption.vision-encoder-decoder"
    default_model: ClassVar[str] = "nlpconnect/vit-gpt2-image-captioning"

    def __init__(self, model: str = "nlpconnect/vit-gpt2-image-captioning", revision: str | None = None,
                 prompt: str | None = "a photo of a {label}", mode: str = "sample", num_captions: int = 1,
                 max_new_tokens: int = 30, min_new_tokens: int = 1, temperature: float = 1.0, top_k: int = 0,
                 top_p: float = 0.9, num_beams: int = 3, batch_size: int = 8, device: str = "auto",
                 dtype: str = "auto",
                 allow_download: bool = False, in_field: str | None = None,
                 out_field: str | None = None) -> None:
        self._init_common(model, revision, prompt, mode, num_captions, max_new_tokens, min_new_tokens,
                          temperature, top_k, top_p, num_beams, batch_size, device, dtype, allow_download,
                          in_field, out_field)
        self._tokenizer: Any = None
        self._is_git = False

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state["_tokenizer"] = None
        return state

    def load(self) -> None:
        tf, path, device, dtype = self._transformers_source()
        config = tf.AutoConfig.from_pretrained(path, revision=self.revision)
        self._is_git = getattr(config, "model_type", "") == "git"
        if self._is_git:
            self._processor = tf.AutoProcessor.from_pretrained(path, revision=self.revision)
            self._tokenizer = self._processor.tokenizer
            model = tf.AutoModelForCausalLM.from_pretrained(path, revision=self.revision, dtype=dtype)
        else:
            self._processor = tf.AutoImageProcessor.from_pretrained(path, revision=self.revision)
            self._tokenizer = tf.AutoTokenizer.from_pretrained(path, revision=self.revision)
            model = tf.VisionEncoderDecoderModel.from_pretrained(path, revision=self.revision, dtype=dtype)
        self._model = model.to(device).eval()

    def _start_ids(self, prompt: str | None) -> list[int]:
        tok, cfg = self._tokenizer, self._model.config
        if self._is_git:
            start = tok.cls_token_id if tok.cls_token_id is not None else tok.bos_token_id
        else:
            start = cfg.decoder_start_token_id
            if start is None:
                start = cfg.decoder.bos_token_id if cfg.decoder.bos_token_id is not None else tok.bos_token_id
        ids = [int(start)]
        if prompt:
            ids += list(tok(prompt, add_special_tokens=False)["input_ids"])
        return ids

    def prompt_length(self, prompt: str | None) -> int:
        return len(self._start_ids(prompt))

    def generate(self, images: Sequence[Any], prompts: Sequence[str | None], generators: Sequence[Any] | None,
                 num_return: int) -> list[list[str]]:
        import torch

        model = self._model
        improc = self._processor.image_processor if self._is_git else self._processor
        pixels = improc(images=list(images), return_tensors="pt")["pixel_values"].to(model.device, model.dtype)
        start = torch.tensor([self._start_ids(p) for p in prompts], device=model.device)
        gen = self._generate_kwargs(generators, num_return)
        tok = self._tokenizer
        pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        if pad is not None:
            gen["pad_token_id"] = pad
        with torch.inference_mode():
            mask = torch.ones_like(start)
            if self._is_git:
                out = model.generate(pixel_values=pixels, input_ids=start, attention_mask=mask, **gen)
            else:
                out = model.generate(pixel_values=pixels, decoder_input_ids=start, decoder_attention_mask=mask,
                                     **gen)
        return self._per_image(tok.batch_decode(out, skip_special_tokens=True), len(images), num_return)


__all__ = ["VisionEncoderDecoderCaptioner"]
