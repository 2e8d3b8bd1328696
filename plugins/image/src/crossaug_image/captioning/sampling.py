"""Per-row seeded token sampling for batched caption generation.

``generate`` of Hugging Face models draws every row of a batch from one global
random stream, so a caption would depend on its batch mates. Here each row has
its own ``torch.Generator``; the sampled token is forced through a logits
processor, so the model runs batched while each caption depends only on its
image, prompt and seed.

Example:
    >>> import torch
    >>> filter_logits(torch.tensor([[1.0, 3.0, 2.0, 0.0]]), top_k=2, top_p=1.0).tolist()
    [[-inf, 3.0, 2.0, -inf]]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def filter_logits(logits: Any, top_k: int = 0, top_p: float = 1.0) -> Any:
    """Keep the ``top_k`` largest logits and the smallest set whose probability reaches ``top_p``.

    Args:
        logits: ``(rows, vocab)`` float tensor.
        top_k: keep this many tokens (0: all).
        top_p: nucleus mass (1.0: all). The most likely token is always kept.

    Returns:
        A copy with removed entries set to ``-inf``.
    """
    import torch

    out = logits.clone()
    if top_k and 0 < top_k < out.shape[-1]:
        kth = torch.topk(out, top_k, dim=-1).values[..., -1:]
        out = out.masked_fill(out < kth, float("-inf"))
    if top_p < 1.0:
        sorted_logits, order = torch.sort(out, descending=True, dim=-1)
        probs = torch.softmax(sorted_logits, dim=-1)
        before = torch.cumsum(probs, dim=-1) - probs  # mass strictly above each token
        remove_sorted = before >= top_p
        remove_sorted[..., 0] = False
        remove = torch.zeros_like(remove_sorted).scatter(-1, order, remove_sorted)
        out = out.masked_fill(remove, float("-inf"))
    return out


class NonFiniteScores(RuntimeError):
    """The model's next-token scores held NaN or inf for these inputs (indices into the batch)."""

    def __init__(self, inputs: list[int]) -> None:
        self.inputs = inputs
        super().__init__(f"NaN or infinite token scores for batch rows {inputs}")


def make_finite_check(rows_per_input: int = 1) -> Any:
    """A ``LogitsProcessor`` that raises :class:`NonFiniteScores` when a row's scores are NaN/inf.

    Runs first, on the model's raw scores (a row of ``-inf`` masks is fine; a NaN, or no
    finite score at all, is not). ``rows_per_input`` is the beams per input.
    """
    import torch
    from transformers import LogitsProcessor

    class FiniteCheck(LogitsProcessor):
        def __call__(self, input_ids: Any, scores: Any) -> Any:
            bad = torch.isnan(scores).any(-1) | ~torch.isfinite(scores).any(-1) | torch.isposinf(scores).any(-1)
            if bool(bad.any()):
                rows = sorted({int(r) // rows_per_input for r in torch.nonzero(bad).flatten().tolist()})
                raise NonFiniteScores(rows)
            return scores

    return FiniteCheck()


def make_row_sampler(generators: Sequence[Any], temperature: float = 1.0, top_k: int = 0,
                     top_p: float = 1.0) -> Any:
    """A ``transformers.LogitsProcessor`` that samples row ``i`` with ``generators[i]``.

    Use it with ``do_sample=False``: the processor leaves only the sampled token
    finite, so greedy decoding picks it.
    """
    import torch
    from transformers import LogitsProcessor

    class RowSampler(LogitsProcessor):
        def __call__(self, input_ids: Any, scores: Any) -> Any:
            if scores.shape[0] != len(generators):
                raise RuntimeError(f"row sampler has {len(generators)} generators for {scores.shape[0]} rows")
            logits = filter_logits(scores.float() / max(temperature, 1e-6), top_k, top_p)
            probs = torch.softmax(logits, dim=-1).cpu()
            forced = torch.full_like(scores, float("-inf"))
            for i, gen in enumerate(generators):
                tok = int(torch.multinomial(probs[i], 1, generator=gen))
                forced[i, tok] = 0.0
            return forced

    return RowSampler()


__all__ = ["filter_logits", "make_row_sampler", "make_finite_check", "NonFiniteScores"]
