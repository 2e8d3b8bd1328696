"""Low-rank adapters (LoRA, Hu et al., 2022) in plain torch for the UNet's attention projections.

``W x + (alpha / r) B A x`` with ``A`` (r x in) small random and ``B`` (out x r)
zero, so an injected model computes exactly what it did before training. No
``peft`` dependency.

Example:
    >>> import torch
    >>> base = torch.nn.Linear(4, 3)
    >>> lora = LoRALinear(base, rank=2, alpha=2.0)
    >>> x = torch.randn(5, 4)
    >>> bool(torch.equal(lora(x), base(x)))
    True
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch

DEFAULT_TARGETS = ("to_q", "to_k", "to_v", "to_out.0")


class LoRALinear(torch.nn.Module):
    """A frozen ``nn.Linear`` plus a trainable low-rank update (kept in float32).

    Args:
        base: the linear layer to adapt (its parameters are frozen).
        rank: rank ``r`` of the update.
        alpha: scale numerator; the update is multiplied by ``alpha / r``.
        generator: torch generator for the initialisation of ``A``.
    """

    def __init__(self, base: torch.nn.Linear, rank: int = 4, alpha: float = 4.0, generator: Any = None) -> None:
        super().__init__()
        if rank < 1:
            raise ValueError(f"rank must be >= 1, got {rank}")
        self.base = base
        self.rank = rank
        self.scale = alpha / rank
        for p in self.base.parameters():
            p.requires_grad_(False)
        dev = base.weight.device
        init = torch.randn(rank, base.in_features, generator=generator) / rank
        self.lora_a = torch.nn.Parameter(init.to(dev, torch.float32))
        self.lora_b = torch.nn.Parameter(torch.zeros(base.out_features, rank, device=dev, dtype=torch.float32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        update = (x.to(self.lora_a.dtype) @ self.lora_a.t()) @ self.lora_b.t()
        return self.base(x) + (self.scale * update).to(x.dtype)


def _get(module: Any, dotted: str) -> tuple[Any, str]:
    parts = dotted.split(".")
    for p in parts[:-1]:
        module = getattr(module, p) if not p.isdigit() else module[int(p)]
    return module, parts[-1]


def inject_lora(model: Any, rank: int = 4, alpha: float = 4.0, targets: Iterable[str] = DEFAULT_TARGETS,
                seed: int = 0) -> list[Any]:
    """Wrap every ``nn.Linear`` whose name ends with a target in a :class:`LoRALinear`.

    Only attention blocks (module names containing ``attn``) are touched. Returns the
    new trainable parameters, in a stable order.
    """
    cls = LoRALinear
    gen = torch.Generator().manual_seed(int(seed))
    targets = tuple(targets)
    names = [n for n, m in model.named_modules()
             if isinstance(m, torch.nn.Linear) and "attn" in n and any(n.endswith(t) for t in targets)]
    params: list[Any] = []
    for name in sorted(names):
        parent, attr = _get(model, name)
        base = parent[int(attr)] if attr.isdigit() else getattr(parent, attr)
        wrapped = cls(base, rank=rank, alpha=alpha, generator=gen)
        if attr.isdigit():
            parent[int(attr)] = wrapped
        else:
            setattr(parent, attr, wrapped)
        params += [wrapped.lora_a, wrapped.lora_b]
    return params


def lora_state_dict(model: Any) -> dict[str, Any]:
    """The LoRA weights of ``model`` (names ending in ``lora_a``/``lora_b``), on CPU."""
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items()
            if k.endswith(".lora_a") or k.endswith(".lora_b")}


def load_lora_state_dict(model: Any, state: dict[str, Any]) -> None:
    """Copy saved LoRA weights into a model already injected with the same layout."""
    own = model.state_dict()
    missing = [k for k in state if k not in own]
    if missing:
        raise KeyError(f"LoRA weights do not fit this model (first missing: {missing[0]})")
    model.load_state_dict(state, strict=False)


__all__ = ["inject_lora", "lora_state_dict", "load_lora_state_dict", "DEFAULT_TARGETS", "LoRALinear"]
