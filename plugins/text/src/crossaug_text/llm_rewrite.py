"""Caption / sentence rewriting with a language model (back-captioning's caption augmentation).

The back-captioning recipe of Back-Modality (Huang et al., 2023) diversifies
captions by asking a language model: "Maintain the nouns in the following sentence
intact and generate semantically diverse sentences." ``LLMRewrite`` fills a prompt
template with that instruction and the text, and generates with

* a transformers model (seq2seq such as T5/FLAN-T5, or causal such as GPT-2/Llama)
  by hub id or local directory (extra ``crossaug-text[llm]``), or
* any LLM client plugged in by name (``client="my-api"``, see
  :mod:`crossaug_text.llm_clients`).

Each output draws a seed from the step's generator; the parameters record the seed,
the full prompt and the rewrite, so replay returns the recorded rewrite exactly
(and regenerates from the seed when given params without one).
:meth:`LLMRewrite.rewrite` and the batch call ``aug(samples, rngs)`` send many prompts
per model call: ``batch_size`` prompts of any length in one ``generate`` call, sampled
with one generator per prompt, so a rewrite depends only on its prompt and seed.

Example:
    >>> from crossaug_text.llm_clients import register_client, unregister_client
    >>> _ = register_client("echo-upper", lambda prompts, seeds, **kw: [p.split(": ")[-1].upper() for p in prompts])
    >>> aug = LLMRewrite(client="echo-upper", template="{prompt} Sentence: {text}")
    >>> aug.rewrite(["a dog runs"], [0])
    ['A DOG RUNS']
    >>> unregister_client("echo-upper")
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
from crossaug import ConfigError, Sample
from crossaug.augmentation import Augmentation
from crossaug.models import deterministic, enforce_determinism
from crossaug.rng import draw_seed

from .hf import check_dtype

log = logging.getLogger(__name__)

#: Back-Modality (back-captioning) caption-augmentation instruction.
DEFAULT_PROMPT = "Maintain the nouns in the following sentence intact and generate semantically diverse sentences."
DEFAULT_TEMPLATE = "{prompt}\nSentence: {text}\nNew sentence:"


class LLMRewrite(Augmentation):
    """Rewrite a text with a language model prompted to keep its nouns and vary the rest.

    Args:
        model: transformers hub id or local directory (ignored when ``client`` is set).
        prompt: the instruction (default: the back-captioning paper's).
        template: prompt template with ``{prompt}`` and ``{text}`` placeholders.
        client: name of a plugged-in LLM client instead of transformers.
        revision: model revision.
        do_sample: sample (diverse rewrites; seeded per output) or decode greedily/beam.
        temperature, top_p, top_k: sampling settings.
        num_beams: beam size when not sampling.
        max_new_tokens: rewrite length limit.
        batch_size: prompts per model call in the batch API (any lengths together: padded,
            masked, sampled with one generator per prompt).
        device: torch device; ``auto`` picks cuda, then mps, else cpu (:func:`crossaug.models.pick_device`).
        field: the text field.
        max_input_tokens: longest prompt accepted by the transformers backend; longer
            texts are a ``BadSample`` rather than silently truncated.
        dtype: ``auto`` (bfloat16/float16 on a GPU, float32 on CPU: :func:`crossaug.models.pick_dtype`),
            ``float32``, ``float16`` or ``bfloat16``.
        chat: send the prompt as a user turn of the tokenizer's chat template (causal LMs);
            ``None``: when the tokenizer has one.
        stop: strings that end a rewrite (cut there); ``None``: EOS only for chat and seq2seq
            models, plus the first newline after the rewrite began for base causal LMs.
    """

    name: ClassVar[str] = "text.llm-rewrite"
    modalities: ClassVar[tuple[str, ...]] = ("text",)

    def __init__(self, model: str = "google/flan-t5-base", prompt: str = DEFAULT_PROMPT,
                 template: str = DEFAULT_TEMPLATE, client: str | None = None, revision: str | None = None,
                 do_sample: bool = True, temperature: float = 1.0, top_p: float = 0.95, top_k: int = 50,
                 num_beams: int = 1, max_new_tokens: int = 64, batch_size: int = 8, device: str = "auto",
                 field: str = "text", max_input_tokens: int = 1024, dtype: str = "auto",
                 chat: bool | None = None, stop: Sequence[str] | None = None) -> None:
        if "{text}" not in template:
            raise ConfigError(f"{self.name}: template must contain '{{text}}', got {template!r}")
        try:
            template.format(prompt="", text="")
        except (KeyError, IndexError, ValueError) as exc:
            raise ConfigError(f"{self.name}: template may only use {{prompt}} and {{text}}: {exc}") from None
        if temperature <= 0 or not 0 < top_p <= 1 or top_k < 0:
            raise ConfigError(f"{self.name}: need temperature > 0, 0 < top_p <= 1, top_k >= 0")
        for n, v in (("num_beams", num_beams), ("max_new_tokens", max_new_tokens), ("batch_size", batch_size),
                     ("max_input_tokens", max_input_tokens)):
            if not isinstance(v, int) or v < 1:
                raise ConfigError(f"{self.name}: {n} must be a positive int, got {v!r}")
        self.max_input_tokens = max_input_tokens
        self.model = model
        self.prompt = prompt
        self.template = template
        self.client = client
        self.revision = revision
        self.do_sample = bool(do_sample)
        self.temperature = float(temperature)
        self.top_p = float(top_p)
        self.top_k = int(top_k)
        self.num_beams = num_beams
        self.max_new_tokens = max_new_tokens
        self.batch_size = batch_size
        self.device = device
        self.field = field
        self.dtype = check_dtype(self.name, dtype)
        self.chat = None if chat is None else bool(chat)
        if isinstance(stop, str):
            stop = [stop]
        self.stop = None if stop is None else [str(x) for x in stop]

    @property
    def model_id(self) -> str | None:
        return f"client:{self.client}" if self.client else self.model

    @property
    def model_revision(self) -> str | None:
        return None if self.client else self.revision

    def build_prompt(self, text: str) -> str:
        """The full prompt for ``text``."""
        return self.template.format(prompt=self.prompt, text=text)

    def options(self) -> dict[str, Any]:
        """Generation settings (``model.generate`` keyword arguments, also passed to clients)."""
        opts: dict[str, Any] = {"max_new_tokens": self.max_new_tokens}
        if self.do_sample:
            opts.update(do_sample=True, temperature=self.temperature, top_p=self.top_p, top_k=self.top_k)
        else:
            opts.update(do_sample=False, num_beams=self.num_beams)
        return opts

    def _generate(self, prompts: list[str], seeds: list[int], samples: Sequence[Sample] | None = None) -> list[str]:
        if self.client:
            from .llm_clients import get_client

            outs = list(get_client(self.client)(list(prompts), list(seeds), **self.options()))
            if len(outs) != len(prompts):
                raise RuntimeError(f"LLM client {self.client!r} returned {len(outs)} outputs for {len(prompts)}")
            return [str(o).strip() for o in outs]
        from .hf import get_generator

        gen = get_generator(self.model, self.revision, self.device, self.dtype)
        self.runtime_device, self.runtime_dtype = gen.device, gen.dtype_name
        if samples is not None:
            gen.check_lengths(prompts, samples, self.field, self.max_input_tokens)
        strict = deterministic()  # strict mode: one prompt per model call, deterministic kernels
        if strict:
            enforce_determinism(model_step=True)
        return gen.generate(prompts, seeds, self.options(), batch_size=1 if strict else self.batch_size,
                            max_input_tokens=self.max_input_tokens, chat=self.chat, stop=self.stop,
                            sample_ids=None if samples is None else [s.id for s in samples],
                            step=self.name, field=self.field)

    def rewrite(self, texts: Sequence[str], seeds: Sequence[int], ids: Sequence[str] | None = None) -> list[str]:
        """Batch API: one rewrite per text (the input itself when the model returns nothing).

        With the transformers backend a prompt longer than ``max_input_tokens`` raises
        :class:`crossaug.BadSample` naming ``ids[i]`` (default: the text's position, ``#i``) instead
        of being cut, which would silently drop the end of the prompt (its instructions).
        """
        refs = [_Ref(str(i)) for i in ids] if ids is not None else [_Ref(f"#{i}") for i in range(len(texts))]
        outs = self._generate([self.build_prompt(t) for t in texts], [int(s) for s in seeds], refs)
        return [o if o.strip() else t for o, t in zip(outs, texts, strict=False)]

    def _params(self, text: str, seed: int, output: str) -> dict[str, Any]:
        empty = not output.strip()
        return {"seed": seed, "prompt": self.build_prompt(text), "output": text if empty else output,
                "empty_output": empty}

    def sample_params(self, sample: Sample, rng: np.random.Generator) -> dict[str, Any]:
        seed = draw_seed(rng)
        text = sample[self.field]
        return self._params(text, seed, self._generate([self.build_prompt(text)], [seed], [sample])[0])

    def apply(self, sample: Sample, params: Mapping[str, Any]) -> Sample:
        out = params.get("output")
        if out is None:  # params without a recorded rewrite: regenerate from the seed
            if "seed" not in params:
                raise ConfigError(f"{self.name}: params need 'output' or 'seed', got {sorted(params)}")
            out = self.rewrite([sample[self.field]], [int(params["seed"])], [sample.id])[0]
        return sample.derive(None, **{self.field: str(out)})

    def __call__(self, samples: Sequence[Sample], rngs: Sequence[np.random.Generator]) -> list[Sample]:
        """Batch form: all prompts of the batch go to the model together."""
        if len(samples) != len(rngs):
            raise ValueError(f"got {len(samples)} samples but {len(rngs)} generators")
        for s in samples:
            self.check(s)
        seeds = [draw_seed(r) for r in rngs]
        texts = [s[self.field] for s in samples]
        outs = self._generate([self.build_prompt(t) for t in texts], seeds, samples)
        return [self._apply_recorded(s, self._params(t, seed, o))
                for s, t, seed, o in zip(samples, texts, seeds, outs, strict=True)]


class _Ref:
    """What the length check and the generator read of a sample: its id."""

    __slots__ = ("id",)

    def __init__(self, id: str) -> None:
        self.id = id


__all__ = ["LLMRewrite", "DEFAULT_PROMPT", "DEFAULT_TEMPLATE"]
