"""Category concept learning (Diff-II, Sec. 3.1): a token per class plus UNet LoRA.

For every class a placeholder token (``<persian-cat>``) is added to the tokenizer,
its embedding initialised from the class name, and trained jointly with LoRA
adapters on the UNet's attention projections with the denoising loss on the
user's images, prompt "a photo of a [V] [metaclass]" (paper Sec. 3.1, eqs. 1-2;
textual inversion, Gal et al. 2023, plus LoRA, Hu et al. 2022). Only the new embedding rows and the adapters
change. :func:`apply_concepts` puts saved concepts into a fresh pipeline.

Example:
    >>> ConceptParams(steps=10).to_dict()["rank"]
    4
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from .components import TEMPLATE, class_prompt, concept_token, encode_images, encode_text
from .lora import inject_lora, load_lora_state_dict, lora_state_dict

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConceptParams:
    """Training settings of concept learning.

    Attributes:
        steps: optimisation steps. The paper gives none; its reference code loads
            concepts trained for 35 000 steps. 400 is ours: a few minutes on one GPU,
            enough for the loss to settle on a few-shot set; raise it for paper-scale runs.
        batch_size: images per step (ours).
        lr_embedding: Adam learning rate of the token embeddings (textual inversion: 5e-3).
        lr_lora: Adam learning rate of the LoRA weights (1e-4 is the usual SD LoRA value).
        rank, alpha: LoRA rank and scale numerator (ours).
        resolution: training image size (512 for SD 1.x).
        seed: seed of all training randomness.
        template, metaclass: the training prompt (see :func:`~.components.class_prompt`;
            paper: "a photo of a [V] [metaclass]").
    """

    steps: int = 400
    batch_size: int = 4
    lr_embedding: float = 5e-3
    lr_lora: float = 1e-4
    rank: int = 4
    alpha: float = 4.0
    resolution: int = 512
    seed: int = 0
    template: str = TEMPLATE
    metaclass: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def add_tokens(pipe: Any, labels: Sequence[Any]) -> dict[str, int]:
    """Add one placeholder token per label; initialise each from its class-name embedding."""
    import torch

    tok, enc = pipe.tokenizer, pipe.text_encoder
    tokens = {str(lab): concept_token(lab) for lab in labels}
    new = [t for t in tokens.values() if t not in tok.get_vocab()]
    tok.add_tokens(new)
    enc.resize_token_embeddings(len(tok))
    emb = enc.get_input_embeddings().weight
    ids = {}
    with torch.no_grad():
        for lab, t in tokens.items():
            tid = tok.convert_tokens_to_ids(t)
            ids[lab] = tid
            name_ids = tok(lab.replace("_", " "), add_special_tokens=False).input_ids or [tid]
            emb[tid] = emb[name_ids].mean(0)
    return ids


class ConceptEmbedding:
    """Token embeddings whose placeholder rows come from float32 master vectors (trainable).

    Wraps the text encoder's embedding layer during concept learning: every other row stays
    the frozen layer's (in the pipeline's dtype); the placeholder rows are the float32
    ``rows`` parameter, so Adam never updates a half-precision tensor.
    """

    def __new__(cls, base: Any, ids: Sequence[int], rows: Any) -> Any:
        import torch

        class _ConceptEmbedding(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.base = base
                self.rows = rows
                self.register_buffer("ids", torch.tensor(list(ids), dtype=torch.long, device=base.weight.device),
                                     persistent=False)

            @property
            def weight(self) -> Any:
                return self.base.weight

            def forward(self, input_ids: Any) -> Any:
                out = self.base(input_ids)
                match = input_ids[..., None] == self.ids  # (..., n_concepts)
                hit = match.any(-1, keepdim=True)
                picked = (match.to(self.rows.dtype) @ self.rows).to(out.dtype)
                return torch.where(hit, picked, out)

        return _ConceptEmbedding()


def learn_concepts(pipe: Any, images: Sequence[Any], labels: Sequence[Any],
                   params: ConceptParams = ConceptParams(), dtype: str = "auto") -> dict[str, Any]:
    """Train class tokens + LoRA on ``images``; modifies ``pipe`` and returns the learned state.

    Trained weights (the placeholder embeddings and the LoRA adapters) are float32 masters
    whatever the pipeline's dtype; forward passes run under autocast (bfloat16 on CPU, the
    pipeline's half dtype on CUDA, float16 with a gradient scaler), see
    :class:`crossaug.precision.MixedPrecision`. A NaN or infinite loss raises
    :class:`crossaug.precision.TrainingDiverged` naming the step.

    Args:
        dtype: the precision asked for (``auto``: the pipeline's own dtype).

    Returns:
        ``{"tokens": {label: token}, "embeddings": {label: tensor}, "lora": state dict,
        "losses": [float, ...]}`` (CPU tensors, ready for :func:`apply_concepts`).
    """
    import torch
    from crossaug.precision import MixedPrecision, apply_torch_threads

    if not images or len(images) != len(labels):
        raise ValueError("learn_concepts needs one label per image and at least one image")
    classes = sorted({str(lab) for lab in labels}, key=str)
    for part in (pipe.unet, pipe.text_encoder, pipe.vae):
        part.requires_grad_(False)
    ids = add_tokens(pipe, classes)
    unet, enc = pipe.unet, pipe.text_encoder
    dev = unet.device
    if dev.type == "cpu":
        apply_torch_threads()
    held = unet.dtype
    mp = MixedPrecision(held if dtype == "auto" else dtype, str(dev), what="Diff-II concept learning")
    # frozen half weights under another autocast dtype (bfloat16 on CPU) would meet float32 inputs in
    # layer norms: train on float32 copies and give the pipeline its dtype back afterwards
    upcast = held != torch.float32 and mp.compute != held
    if upcast:
        unet.float()
        enc.float()
    lora = inject_lora(unet, rank=params.rank, alpha=params.alpha, seed=params.seed)
    base = enc.get_input_embeddings()
    order = [ids[lab] for lab in classes]
    rows = torch.nn.Parameter(base.weight[order].detach().float().clone())  # float32 masters
    enc.set_input_embeddings(ConceptEmbedding(base, order, rows))
    opt = torch.optim.Adam([{"params": [rows], "lr": params.lr_embedding},
                            {"params": lora, "lr": params.lr_lora}], weight_decay=0.0)
    latents = encode_images(pipe, images, params.resolution).float()
    prompts = [class_prompt(lab, concept_token(lab), template=params.template, metaclass=params.metaclass)
               for lab in labels]
    sched = pipe.scheduler
    n_train = sched.config.num_train_timesteps
    gen = torch.Generator().manual_seed(params.seed)
    losses: list[float] = []
    in_dtype = unet.dtype
    try:
        for step in range(params.steps):
            pick = torch.randint(0, len(images), (min(params.batch_size, len(images)),), generator=gen)
            z0 = latents[pick]
            noise = torch.randn(z0.shape, generator=gen)
            t = torch.randint(0, n_train, (len(pick),), generator=gen)
            noisy = sched.add_noise(z0, noise, t)
            with mp.autocast():
                cond = encode_text(pipe, [prompts[int(i)] for i in pick])
                pred = unet(noisy.to(dev, in_dtype), t.to(dev), encoder_hidden_states=cond.to(in_dtype)).sample
            target = noise if sched.config.prediction_type == "epsilon" else sched.get_velocity(z0, noise, t)
            loss = torch.nn.functional.mse_loss(pred.float(), target.to(dev).float())
            opt.zero_grad(set_to_none=True)
            mp.backward(loss, step)
            mp.step(opt)
            losses.append(float(loss.detach()))
    finally:
        enc.set_input_embeddings(base)
        with torch.no_grad():
            base.weight[order] = rows.detach().to(base.weight.dtype)
        for p in lora:
            p.requires_grad_(False)
        if upcast:  # back to the pipeline's dtype; the LoRA adapters stay float32
            unet.to(held)
            enc.to(held)
            for p in lora:
                p.data = p.data.float()
    log.info("concept learning: %d steps, loss %.4f -> %.4f (autocast %s)", params.steps,
             losses[0] if losses else 0, losses[-1] if losses else 0, mp.compute_name)
    return {"tokens": {lab: concept_token(lab) for lab in classes},
            "embeddings": {lab: rows[k].detach().cpu().clone() for k, lab in enumerate(classes)},
            "lora": lora_state_dict(unet), "rank": params.rank, "alpha": params.alpha,
            "losses": losses}


def apply_concepts(pipe: Any, concepts: Mapping[str, Any]) -> None:
    """Add saved tokens, embeddings and LoRA weights to a fresh pipeline."""
    import torch

    ids = add_tokens(pipe, list(concepts["tokens"]))
    emb = pipe.text_encoder.get_input_embeddings().weight
    with torch.no_grad():
        for lab, vec in concepts["embeddings"].items():
            emb[ids[lab]] = vec.to(emb.device, emb.dtype)
    inject_lora(pipe.unet, rank=int(concepts["rank"]), alpha=float(concepts["alpha"]))
    load_lora_state_dict(pipe.unet, concepts["lora"])


__all__ = ["ConceptParams", "learn_concepts", "apply_concepts", "add_tokens"]
