"""LSTM text encoder aligned to StyleGAN2 latents with a pairwise ranking loss.

As in Wang et al. (2022), captions are encoded by an LSTM and trained so that each
caption is closer (cosine similarity) to the projected latent of its own image than
to the latents of the other images in the batch, by a margin: the hinge-based
bidirectional ranking loss of visual-semantic embeddings (Kiros et al., 2014;
``max_violation=True`` gives the hardest-negative variant of VSE++, Faghri et al.,
2018, whose margin 0.2 is our default).

Latent targets are centred on their mean before training; the ranking loss fixes only
directions, so :class:`~crossaug_multimodal.paired.model.PairedModel` restores the
scale from the projected latents when it turns an encoding into a latent.

Example:
    >>> import torch
    >>> t = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    >>> float(pairwise_ranking_loss(t, t, margin=0.2))  # matched pairs beat negatives by 1 > margin
    0.0
    >>> round(float(pairwise_ranking_loss(t, t.flip(0), margin=0.2)), 4)  # swapped: 2 * 1.2 per pair
    2.4
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from crossaug import ConfigError
from crossaug.precision import MixedPrecision, apply_torch_threads

from ..stylegan2._torch import import_torch

torch = import_torch()
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

log = logging.getLogger(__name__)

PAD, UNK = "<pad>", "<unk>"
_TOKEN = re.compile(r"[\w']+|[^\w\s]")


def tokenize(text: str) -> list[str]:
    """Lower-cased word and punctuation tokens."""
    return _TOKEN.findall(text.lower())


class Vocabulary:
    """Token <-> id map with ``<pad>`` = 0 and ``<unk>`` = 1.

    Args:
        tokens: the known tokens (specials are added in front).
    """

    def __init__(self, tokens: Iterable[str]) -> None:
        self.itos = [PAD, UNK] + [t for t in dict.fromkeys(tokens) if t not in (PAD, UNK)]
        self.stoi = {t: i for i, t in enumerate(self.itos)}

    @classmethod
    def build(cls, texts: Iterable[str], min_count: int = 1) -> Vocabulary:
        """Tokens seen at least ``min_count`` times, most frequent first (ties alphabetical)."""
        counts: dict[str, int] = {}
        for text in texts:
            for tok in tokenize(text):
                counts[tok] = counts.get(tok, 0) + 1
        return cls(t for t, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if c >= min_count)

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, text: str) -> list[int]:
        ids = [self.stoi.get(t, 1) for t in tokenize(text)]
        return ids or [1]

    @property
    def words(self) -> list[str]:
        """Word tokens (no specials, no punctuation)."""
        return [t for t in self.itos[2:] if re.match(r"\w", t)]


@dataclass
class EncoderConfig:
    """Shape and training of the text encoder.

    Args:
        embed_dim: word embedding size.
        hidden_dim: LSTM hidden size (per direction).
        layers: LSTM layers.
        bidirectional: read captions both ways.
        epochs: passes over the pairs.
        batch_size: pairs per step (the ranking loss uses in-batch negatives).
        lr: Adam learning rate.
        margin: ranking margin (VSE++ 0.2).
        max_violation: use only the hardest negative (VSE++) instead of the sum.
    """

    embed_dim: int = 64
    hidden_dim: int = 128
    layers: int = 1
    bidirectional: bool = True
    epochs: int = 30
    batch_size: int = 32
    lr: float = 2e-3
    margin: float = 0.2
    max_violation: bool = False

    def network(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("embed_dim", "hidden_dim", "layers", "bidirectional")}


class LSTMTextEncoder(nn.Module):
    """Embedding, (bi)LSTM, mean over time of the outputs, linear map to ``out_dim``."""

    def __init__(self, vocab_size: int, out_dim: int, embed_dim: int = 64, hidden_dim: int = 128,
                 layers: int = 1, bidirectional: bool = True) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        self.lstm = nn.LSTM(embed_dim, hidden_dim, num_layers=layers, batch_first=True,
                            bidirectional=bidirectional)
        self.proj = nn.Linear(hidden_dim * (2 if bidirectional else 1), out_dim)
        self.config = {"vocab_size": vocab_size, "out_dim": out_dim, "embed_dim": embed_dim,
                       "hidden_dim": hidden_dim, "layers": layers, "bidirectional": bidirectional}

    def forward(self, ids: Any, lengths: Any) -> Any:
        packed = nn.utils.rnn.pack_padded_sequence(self.embed(ids), lengths.cpu(), batch_first=True,
                                                   enforce_sorted=False)
        out, _ = self.lstm(packed)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=ids.shape[1])
        mask = (torch.arange(ids.shape[1], device=ids.device)[None] < lengths[:, None].to(ids.device))
        pooled = (out * mask[..., None]).sum(1) / lengths[:, None].to(out.dtype).to(out.device)
        return self.proj(pooled)


def batch_ids(vocab: Vocabulary, texts: Sequence[str]) -> tuple[Any, Any]:
    """Padded id tensor ``[N, T]`` and lengths ``[N]``."""
    seqs = [vocab.encode(t) for t in texts]
    lengths = torch.tensor([len(s) for s in seqs])
    ids = torch.zeros(len(seqs), int(lengths.max()), dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, :len(s)] = torch.tensor(s)
    return ids, lengths


def encode_texts(encoder: Any, vocab: Vocabulary, texts: Sequence[str]) -> Any:
    """Encode captions (no gradients), ``[N, out_dim]``."""
    dev = next(encoder.parameters()).device
    ids, lengths = batch_ids(vocab, texts)
    was = encoder.training
    encoder.eval()
    with torch.no_grad():
        out = encoder(ids.to(dev), lengths)
    encoder.train(was)
    return out


def pairwise_ranking_loss(text: Any, latent: Any, margin: float = 0.2, max_violation: bool = False) -> Any:
    """Bidirectional hinge ranking loss on cosine similarities, averaged over the batch.

    For every matched pair ``i`` and negative ``j``:
    ``[margin - s(t_i, l_i) + s(t_i, l_j)]_+ + [margin - s(t_i, l_i) + s(t_j, l_i)]_+``,
    summed over ``j`` (or the maximum over ``j`` with ``max_violation``).

    Args:
        text: text embeddings ``[N, D]``.
        latent: matched latents ``[N, D]``.
        margin: the margin (VSE++ 0.2).
        max_violation: hardest negative only.
    """
    s = F.normalize(text, dim=1) @ F.normalize(latent, dim=1).t()
    pos = s.diag()
    cost_latent = (margin + s - pos[:, None]).clamp(min=0)   # text i vs wrong latents j
    cost_text = (margin + s - pos[None, :]).clamp(min=0)     # latent j vs wrong texts i
    eye = torch.eye(s.shape[0], dtype=torch.bool, device=s.device)
    cost_latent = cost_latent.masked_fill(eye, 0)
    cost_text = cost_text.masked_fill(eye, 0)
    if max_violation:
        return (cost_latent.max(1).values + cost_text.max(0).values).mean()
    return (cost_latent.sum(1) + cost_text.sum(0)).mean()


@dataclass
class EncoderTraining:
    """What :func:`train_text_encoder` returns."""

    encoder: Any
    vocab: Vocabulary
    center: Any
    scale: float
    history: list[float]


def train_text_encoder(captions: Sequence[str], latents: Any, config: EncoderConfig | None = None,
                       vocab: Vocabulary | None = None, seed: int = 0) -> EncoderTraining:
    """Train an :class:`LSTMTextEncoder` mapping ``captions[i]`` toward ``latents[i]``.

    Args:
        captions: one caption per latent.
        latents: ``[N, D]`` projected latents (W, or flattened W+).
        config: :class:`EncoderConfig`.
        vocab: a vocabulary (built from ``captions`` when ``None``).
        seed: seed of the initial weights and the batch order.
    Returns:
        :class:`EncoderTraining` with the mean epoch loss in ``history``.
    """
    config = config or EncoderConfig()
    captions = list(captions)
    if len(captions) != latents.shape[0]:
        raise ConfigError(f"{len(captions)} captions but {latents.shape[0]} latents")
    if len(captions) < 2:
        raise ConfigError("the ranking loss needs at least two caption-latent pairs")
    vocab = vocab or Vocabulary.build(captions)
    latents = latents.detach().float().cpu()
    center = latents.mean(0)
    centred = latents - center
    scale = float(centred.norm(dim=1).mean())
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        enc = LSTMTextEncoder(len(vocab), latents.shape[1], **config.network())
    opt = torch.optim.Adam(enc.parameters(), lr=config.lr)
    gen = torch.Generator().manual_seed(seed)
    ids, lengths = batch_ids(vocab, captions)
    n = len(captions)
    history: list[float] = []
    enc.train()
    apply_torch_threads()  # trained on CPU: cores // workers threads, not torch's default
    mp = MixedPrecision("float32", "cpu", what="paired text encoder")  # float32; a NaN loss stops training
    step = 0
    for epoch in range(config.epochs):
        order = torch.randperm(n, generator=gen)
        total, count = 0.0, 0
        for start in range(0, n, config.batch_size):
            idx = order[start:start + config.batch_size]
            if len(idx) < 2:
                continue
            out = enc(ids[idx], lengths[idx])
            loss = pairwise_ranking_loss(out, centred[idx], config.margin, config.max_violation)
            opt.zero_grad(set_to_none=True)
            mp.backward(loss, step)
            mp.step(opt)
            step += 1
            total += float(loss.detach()) * len(idx)
            count += len(idx)
        history.append(total / max(count, 1))
        log.debug("text encoder epoch %d: ranking loss %.4f", epoch + 1, history[-1])
    enc.eval()
    return EncoderTraining(enc, vocab, center, scale, history)


__all__ = ["tokenize", "Vocabulary", "EncoderConfig", "LSTMTextEncoder", "batch_ids", "encode_texts",
           "pairwise_ranking_loss", "train_text_encoder", "EncoderTraining"]
