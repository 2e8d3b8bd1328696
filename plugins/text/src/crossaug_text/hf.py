"""The transformers backend shared by ``text.translate`` and ``text.llm-rewrite``.

Loads a seq2seq (T5, Marian, BART) or causal (GPT-2, Llama) language model by hub
id or local directory, resolved offline first through :func:`crossaug.resolve_model`,
and generates text for a batch of prompts with one seed per prompt:

* deterministic decoding (greedy / beam search) runs prompts in batches of equal
  token length, so no padding enters and each output depends only on its prompt;
* sampling runs each prompt under its own seed (``torch.random.fork_rng`` keeps
  the global generator untouched), so outputs do not depend on the batch.

torch and transformers are imported here only (extra ``crossaug-text[llm]``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from crossaug import MissingDependency

log = logging.getLogger(__name__)
INSTALL = "pip install 'crossaug-text[llm]'"
_lock = threading.Lock()


def require_transformers() -> tuple[Any, Any]:
    """Import torch and transformers or raise :class:`MissingDependency`."""
    try:
        import torch
        import transformers
    except ImportError as exc:
        raise MissingDependency(INSTALL, what=getattr(exc, "name", None) or "transformers") from exc
    return torch, transformers


class TextGenerator:
    """A loaded tokenizer + model pair and its generation routine.

    Args:
        model: hub id or local directory.
        revision: hub revision (``None``: default branch).
        device: torch device string.
    """

    def __init__(self, model: str, revision: str | None = None, device: str = "cpu") -> None:
        torch, transformers = require_transformers()
        from crossaug import resolve_model

        path = resolve_model("transformers", model, revision)
        with _lock:
            self.tokenizer = transformers.AutoTokenizer.from_pretrained(path)
            config = transformers.AutoConfig.from_pretrained(path)
            self.seq2seq = bool(getattr(config, "is_encoder_decoder", False))
            cls = transformers.AutoModelForSeq2SeqLM if self.seq2seq else transformers.AutoModelForCausalLM
            self.model = cls.from_pretrained(path).to(device).eval()
        self.device = device
        self.path = path
        if self.tokenizer.pad_token_id is None and self.tokenizer.eos_token_id is not None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        log.info("loaded %s model from %s", "seq2seq" if self.seq2seq else "causal", path)

    def count_tokens(self, text: str) -> int:
        """Number of tokens the model's tokenizer makes of ``text``."""
        return len(self.tokenizer(text)["input_ids"])

    def check_lengths(self, texts: Sequence[str], samples: Sequence[Any], field: str, limit: int) -> None:
        """Raise :class:`crossaug.BadSample` for the first text longer than ``limit`` tokens."""
        from crossaug import BadSample

        for text, sample in zip(texts, samples, strict=False):
            if len(text) + 8 > limit:  # cheap pre-check: tokens rarely outnumber characters
                n = self.count_tokens(text)
                if n > limit:
                    raise BadSample(f"text is {n} tokens long; this model takes at most {limit} "
                                    f"(split long texts into sentences first)", sample_id=sample.id, field=field)

    def _encode(self, prompt: str, max_input_tokens: int) -> list[int]:
        ids = self.tokenizer(prompt, truncation=True, max_length=max_input_tokens)["input_ids"]
        return list(ids)

    def _run(self, batch: list[list[int]], options: Mapping[str, Any]) -> list[str]:
        import torch

        input_ids = torch.tensor(batch, dtype=torch.long, device=self.device)
        mask = torch.ones_like(input_ids)
        kwargs = dict(options)
        if self.tokenizer.pad_token_id is not None:
            kwargs.setdefault("pad_token_id", self.tokenizer.pad_token_id)
        with torch.no_grad():
            out = self.model.generate(input_ids=input_ids, attention_mask=mask, **kwargs)
        if not self.seq2seq:
            out = out[:, input_ids.shape[1]:]
        return [t.strip() for t in self.tokenizer.batch_decode(out, skip_special_tokens=True)]

    def generate(self, prompts: Sequence[str], seeds: Sequence[int], options: Mapping[str, Any],
                 batch_size: int = 8, max_input_tokens: int = 512) -> list[str]:
        """One output per prompt; ``options`` are ``model.generate`` keyword arguments."""
        import torch

        encoded = [self._encode(p, max_input_tokens) for p in prompts]
        outputs: list[str | None] = [None] * len(prompts)
        if options.get("do_sample"):
            for i, (ids, seed) in enumerate(zip(encoded, seeds, strict=False)):
                with torch.random.fork_rng(devices=[]):
                    torch.manual_seed(int(seed) % (2**63 - 1))
                    outputs[i] = self._run([ids], options)[0]
            return outputs  # type: ignore[return-value]
        groups: dict[int, list[int]] = {}
        for i, ids in enumerate(encoded):
            groups.setdefault(len(ids), []).append(i)
        for idx in groups.values():
            for start in range(0, len(idx), max(1, batch_size)):
                chunk = idx[start:start + batch_size]
                for i, text in zip(chunk, self._run([encoded[i] for i in chunk], options), strict=False):
                    outputs[i] = text
        return outputs  # type: ignore[return-value]


_CACHE: dict[tuple[str, str | None, str], TextGenerator] = {}


def get_generator(model: str, revision: str | None = None, device: str = "cpu") -> TextGenerator:
    """A cached :class:`TextGenerator` per (model, revision, device) in this process."""
    key = (str(model), revision, device)
    gen = _CACHE.get(key)
    if gen is None:
        gen = _CACHE[key] = TextGenerator(model, revision, device)
    return gen


def clear_cache() -> None:
    """Forget loaded models (frees memory)."""
    _CACHE.clear()


__all__ = ["TextGenerator", "get_generator", "clear_cache", "require_transformers", "INSTALL"]
