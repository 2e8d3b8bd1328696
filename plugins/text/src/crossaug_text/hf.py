"""The transformers backend shared by ``text.translate`` and ``text.llm-rewrite``.

Loads a seq2seq (T5, Marian, BART) or causal (GPT-2, Llama) language model by hub
id or local directory, resolved offline first through :func:`crossaug.resolve_model`,
on the device and in the dtype the kernel's policy picks
(:func:`crossaug.models.pick_device`, :func:`crossaug.models.pick_dtype`: ``auto`` is
the GPU in half precision when there is one, else the CPU in float32), and generates
text for prompts of any length, ``batch_size`` prompts per ``generate`` call:

* prompts are padded (on the left for causal LMs, so every row's next token sits in
  the last column) and masked, so a row's output depends only on its prompt; prompts
  are sorted by length first, so a batch carries little padding;
* sampling is batched too, with one ``torch.Generator`` per row: the usual
  temperature / top-k / top-p warping, then Gumbel noise drawn from that row's own
  generator (on the GPU when the model runs on CUDA, else on the CPU), and the argmax of
  ``logits + Gumbel`` is a draw from the warped softmax
  (the Gumbel-max trick). Row ``i`` consumes its generator's draws in step order,
  whatever else is in the batch, so the output depends only on (prompt, seed);
* causal LMs whose tokenizer has a chat template get the prompt as a user turn of that
  template (``chat=None``: on when the template exists); generation stops at the end of
  the turn (EOS) or, for base LMs, at the first newline after the rewrite has begun
  (``stop=`` overrides the stop strings; the text is cut there);
* a NaN or infinite logit in a row makes that sample a :class:`crossaug.BadSample`
  naming the sample and the step (half precision overflowing, broken weights), never
  a kept text.

torch and transformers are imported here only (extra ``crossaug-text[llm]``).

Example:
    >>> options_for_generate({"do_sample": False, "num_beams": 4, "max_new_tokens": 8})
    {'max_new_tokens': 8, 'num_beams': 4, 'do_sample': False}
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from crossaug import BadSample, ConfigError, MissingDependency
from crossaug.forking import renew_after_fork

log = logging.getLogger(__name__)
INSTALL = "pip install 'crossaug-text[llm]'"
_lock = threading.Lock()
renew_after_fork(globals(), "_lock")
#: stop strings of a causal LM without a chat template: the rewrite is one line
BASE_LM_STOP = ("\n",)


def require_transformers() -> tuple[Any, Any]:
    """Import torch and transformers or raise :class:`MissingDependency`."""
    try:
        import torch
        import transformers
    except ImportError as exc:
        raise MissingDependency(INSTALL, what=getattr(exc, "name", None) or "transformers") from exc
    return torch, transformers


def check_dtype(step: str, dtype: Any) -> str:
    """``dtype`` if the kernel's policy knows it (``auto``, ``float32``/``fp32``, ``float16``/``fp16``,
    ``bfloat16``/``bf16``), else :class:`ConfigError` naming the step; torch is not imported."""
    from crossaug.models import DTYPE_ALIASES

    if dtype is None or dtype == "auto" or str(dtype).lower().removeprefix("torch.") in DTYPE_ALIASES:
        return "auto" if dtype is None else str(dtype).removeprefix("torch.")
    raise ConfigError(f"{step}: dtype must be auto, float32, float16 or bfloat16 (or fp32/fp16/bf16), got {dtype!r}")


def dtype_kwarg(transformers: Any, dtype: Any) -> dict[str, Any]:
    """``from_pretrained``'s dtype argument: ``dtype`` (transformers 4.56+), else ``torch_dtype``."""
    major, minor = (int(x) for x in transformers.__version__.split(".")[:2])
    return {"dtype": dtype} if (major, minor) >= (4, 56) else {"torch_dtype": dtype}


def options_for_generate(options: Mapping[str, Any]) -> dict[str, Any]:
    """``model.generate`` keyword arguments for ``options`` (sampling settings are applied by this module)."""
    out = {k: v for k, v in options.items() if k not in ("do_sample", "temperature", "top_k", "top_p", "num_beams")}
    out["num_beams"] = 1 if options.get("do_sample") else int(options.get("num_beams", 1))
    out["do_sample"] = False  # sampling is the Gumbel-max argmax of the warped logits (one generator per row)
    return out


def _processors(transformers: Any) -> tuple[type, type]:
    """The guard and Gumbel logits processors (classes built lazily: transformers is optional)."""
    torch = __import__("torch")

    class NonFiniteGuard(transformers.LogitsProcessor):
        """Marks rows (of ``beams`` beams each) whose logits hold a NaN or +inf; passes scores on."""

        def __init__(self, beams: int) -> None:
            self.beams = beams
            self.rows: set[int] = set()

        def __call__(self, input_ids: Any, scores: Any) -> Any:
            bad = (torch.isnan(scores) | torch.isposinf(scores)).any(dim=-1)
            if bool(bad.any()):
                self.rows.update(int(r) // self.beams for r in bad.nonzero().flatten().tolist())
            return scores

    class GumbelNoise(transformers.LogitsProcessor):
        """Adds Gumbel(0, 1) noise drawn from row ``i``'s own generator (on that generator's device) to row ``i``."""

        def __init__(self, generators: Sequence[Any]) -> None:
            self.generators = list(generators)

        def __call__(self, input_ids: Any, scores: Any) -> Any:
            vocab = scores.shape[-1]
            draws = [torch.empty(vocab, dtype=torch.float32, device=g.device).exponential_(generator=g)
                     for g in self.generators]
            noise = -torch.stack(draws).log()  # -log(Exp(1)) is Gumbel(0, 1)
            return scores.float() + noise.to(scores.device)

    return NonFiniteGuard, GumbelNoise


class TextGenerator:
    """A loaded tokenizer + model pair and its batched generation routine.

    Args:
        model: hub id or local directory.
        revision: hub revision (``None``: default branch).
        device: torch device (``auto``: cuda, then mps, else cpu).
        dtype: ``auto`` (half precision on a GPU, float32 on CPU), ``float32``, ``float16``, ``bfloat16``.
    """

    def __init__(self, model: str, revision: str | None = None, device: str = "auto", dtype: str = "auto") -> None:
        torch, transformers = require_transformers()
        from crossaug import resolve_model
        from crossaug.models import pick_device, pick_dtype

        path = resolve_model("transformers", model, revision)
        self.device = pick_device(device)
        self.dtype = pick_dtype(dtype, self.device)
        with _lock:
            self.tokenizer = transformers.AutoTokenizer.from_pretrained(path)
            config = transformers.AutoConfig.from_pretrained(path)
            self.seq2seq = bool(getattr(config, "is_encoder_decoder", False))
            cls = transformers.AutoModelForSeq2SeqLM if self.seq2seq else transformers.AutoModelForCausalLM
            self.model = cls.from_pretrained(path, **dtype_kwarg(transformers, self.dtype)).to(self.device).eval()
        self.path = path
        if self.tokenizer.pad_token_id is None and self.tokenizer.eos_token_id is not None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        # causal LMs continue the last column: pad on the left; encoders are masked either way
        self.tokenizer.padding_side = "right" if self.seq2seq else "left"
        self.has_chat_template = not self.seq2seq and bool(getattr(self.tokenizer, "chat_template", None))
        self.calls = 0  # generate calls made (the batching tests and benchmark read it)
        log.info("loaded %s model from %s on %s in %s", "seq2seq" if self.seq2seq else "causal", path,
                 self.device, str(self.dtype).removeprefix("torch."))

    @property
    def dtype_name(self) -> str:
        return str(self.dtype).removeprefix("torch.")

    def count_tokens(self, text: str) -> int:
        """Number of tokens the model's tokenizer makes of ``text``."""
        return len(self.tokenizer(text)["input_ids"])

    def check_lengths(self, texts: Sequence[str], samples: Sequence[Any], field: str, limit: int) -> None:
        """Raise :class:`crossaug.BadSample` for the first text longer than ``limit`` tokens."""
        for text, sample in zip(texts, samples, strict=False):
            if len(text) + 8 > limit:  # cheap pre-check: tokens rarely outnumber characters
                n = self.count_tokens(text)
                if n > limit:
                    raise BadSample(f"text is {n} tokens long; this model takes at most {limit} "
                                    f"(split long texts into sentences first)", sample_id=sample.id, field=field)

    def uses_chat(self, chat: bool | None) -> bool:
        """Whether prompts go through the chat template (``None``: when the tokenizer has one)."""
        if chat and not self.has_chat_template:
            raise ConfigError(f"chat=True but {self.path} has no chat template"
                              + (" (seq2seq models take the plain prompt)" if self.seq2seq else ""))
        return self.has_chat_template if chat is None else bool(chat)

    def stop_strings(self, stop: Sequence[str] | None, chat: bool | None) -> tuple[str, ...]:
        """Where a rewrite ends besides EOS: ``stop`` if given, else a newline for base causal LMs."""
        if stop is not None:
            return tuple(s for s in stop if s)
        return () if self.seq2seq or self.uses_chat(chat) else BASE_LM_STOP

    def encode(self, prompt: str, max_input_tokens: int, chat: bool | None = None) -> list[int]:
        """Token ids of ``prompt`` (as a user turn of the chat template when :meth:`uses_chat`)."""
        if self.uses_chat(chat):
            text = self.tokenizer.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False,
                                                      add_generation_prompt=True)
            ids = self.tokenizer(text, add_special_tokens=False, truncation=True, max_length=max_input_tokens)
        else:
            ids = self.tokenizer(prompt, truncation=True, max_length=max_input_tokens)
        return list(ids["input_ids"])

    def _stopping(self, transformers: Any, stops: tuple[str, ...], start: int) -> Any:
        torch = __import__("torch")
        tokenizer = self.tokenizer

        class StopStrings(transformers.StoppingCriteria):
            def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
                texts = tokenizer.batch_decode(input_ids[:, start:], skip_special_tokens=True)
                return torch.tensor([any(s in t.lstrip() for s in stops) for t in texts], device=input_ids.device)

        return transformers.StoppingCriteriaList([StopStrings()])

    def _run(self, batch: list[list[int]], seeds: Sequence[int], options: Mapping[str, Any],
             stops: tuple[str, ...]) -> tuple[list[str], set[int]]:
        torch, transformers = require_transformers()
        guard_cls, gumbel_cls = _processors(transformers)
        padded = self.tokenizer.pad({"input_ids": batch}, padding=True, return_tensors="pt")
        input_ids = padded["input_ids"].to(self.device)
        mask = padded["attention_mask"].to(self.device)
        kwargs = options_for_generate(options)
        guard = guard_cls(kwargs["num_beams"])
        processors: list[Any] = [guard]
        if options.get("do_sample"):
            if float(options.get("temperature", 1.0)) != 1.0:
                processors.append(transformers.TemperatureLogitsWarper(float(options["temperature"])))
            if int(options.get("top_k", 0) or 0) > 0:
                processors.append(transformers.TopKLogitsWarper(int(options["top_k"])))
            if float(options.get("top_p", 1.0)) < 1.0:
                processors.append(transformers.TopPLogitsWarper(float(options["top_p"])))
            # CUDA rows draw on the GPU (no vocabulary-sized copy per step); elsewhere on the CPU
            where = self.device if str(self.device).startswith("cuda") else "cpu"
            processors.append(gumbel_cls([torch.Generator(device=where).manual_seed(int(s) % (2**63 - 1))
                                          for s in seeds]))
        kwargs["logits_processor"] = transformers.LogitsProcessorList(processors)
        if stops and kwargs["num_beams"] == 1:
            kwargs["stopping_criteria"] = self._stopping(transformers, stops, 0 if self.seq2seq else
                                                         input_ids.shape[1])
        if self.tokenizer.pad_token_id is not None:
            kwargs.setdefault("pad_token_id", self.tokenizer.pad_token_id)
        with torch.inference_mode():
            out = self.model.generate(input_ids=input_ids, attention_mask=mask, **kwargs)
        self.calls += 1
        if not self.seq2seq:
            out = out[:, input_ids.shape[1]:]
        texts = []
        for text in self.tokenizer.batch_decode(out, skip_special_tokens=True):
            text = text.lstrip()
            for s in stops:
                text = text.split(s, 1)[0]
            texts.append(text.strip())
        return texts, guard.rows

    def generate(self, prompts: Sequence[str], seeds: Sequence[int], options: Mapping[str, Any],
                 batch_size: int = 8, max_input_tokens: int = 512, *, chat: bool | None = None,
                 stop: Sequence[str] | None = None, sample_ids: Sequence[str] | None = None,
                 step: str = "text generation", field: str | None = None) -> list[str]:
        """One output per prompt, ``batch_size`` prompts per ``generate`` call.

        ``options``: ``max_new_tokens``, ``do_sample``, ``temperature``, ``top_k``, ``top_p``,
        ``num_beams`` (other keys go to ``model.generate``). ``sample_ids``, ``step`` and
        ``field`` name the sample of a NaN/inf :class:`~crossaug.BadSample`.
        """
        encoded = [self.encode(p, max_input_tokens, chat) for p in prompts]
        stops = self.stop_strings(stop, chat)
        order = sorted(range(len(prompts)), key=lambda i: len(encoded[i]))  # little padding per batch
        outputs: list[str] = [""] * len(prompts)
        size = max(1, int(batch_size))
        for start in range(0, len(order), size):
            chunk = order[start:start + size]
            texts, bad = self._run([encoded[i] for i in chunk], [seeds[i] for i in chunk], options, stops)
            if bad:
                i = chunk[min(bad)]
                raise BadSample(f"{step}: the model produced NaN or infinite logits (dtype {self.dtype_name} "
                                f"on {self.device}); try dtype='float32'",
                                sample_id=None if sample_ids is None else sample_ids[i], field=field)
            for i, text in zip(chunk, texts, strict=True):
                outputs[i] = text
        return outputs


_CACHE: dict[tuple[str, str | None, str, str], TextGenerator] = {}


def get_generator(model: str, revision: str | None = None, device: str = "auto",
                  dtype: str = "auto") -> TextGenerator:
    """A cached :class:`TextGenerator` per (model, revision, resolved device, resolved dtype) in this process."""
    from crossaug.models import pick_device, pick_dtype

    dev = pick_device(device)
    key = (str(model), revision, dev, str(pick_dtype(dtype, dev)))
    gen = _CACHE.get(key)
    if gen is None:
        gen = _CACHE[key] = TextGenerator(model, revision, dev, dtype)
    return gen


def clear_cache() -> None:
    """Forget loaded models (frees memory)."""
    _CACHE.clear()


__all__ = ["TextGenerator", "get_generator", "clear_cache", "require_transformers", "options_for_generate",
           "dtype_kwarg", "check_dtype", "BASE_LM_STOP", "INSTALL"]
