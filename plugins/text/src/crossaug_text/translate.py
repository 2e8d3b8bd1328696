"""Machine translation as a transform: ``text(xx) -> text(yy)`` with transformers seq2seq models.

MarianMT-style models (``Helsinki-NLP/opus-mt-en-de``) by hub id or local
directory; the languages name the fields (``text`` -> ``text.de``), so a round
trip is two transforms in a :class:`crossaug.BackModality` (recipe
``back-translation``). Sampling (``do_sample=True``, Edunov et al. 2018's
finding that sampled back-translations train better than beam ones) is seeded
per sample; beam/greedy decoding is deterministic. Sentences of any length share a
model call (padding + attention masks; sampling with one generator per sentence, see
:mod:`crossaug_text.hf`), so a batch of 8 is one ``generate`` call.

Example:
    >>> t = Translate(model="Helsinki-NLP/opus-mt-en-de", source_lang="en", target_lang="de")
    >>> (t.input_field, t.output_field, t.model_id)
    ('text', 'text.de', 'Helsinki-NLP/opus-mt-en-de')
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from crossaug import ConfigError, Produced, Sample
from crossaug.transform import Transform

from .hf import check_dtype


class Translate(Transform):
    """Translate ``in_field`` into ``out_field`` with a seq2seq model.

    Args:
        model: hub id or local directory of a seq2seq translation model.
        source_lang: language of the input (names the default input field).
        target_lang: language of the output (default output field ``text.<target_lang>``).
        in_field: field to read (default ``text`` for English input, else ``text.<source_lang>``).
        out_field: field to write (default ``text`` for English output, else ``text.<target_lang>``).
        prefix: text put before each input (e.g. ``">>de<< "`` for multilingual Marian models).
        revision: model revision.
        num_beams: beam size (1: greedy) when not sampling.
        do_sample: sample instead of beam search.
        top_k: with sampling, restrict to the k most likely tokens (0: unrestricted).
        temperature: sampling temperature.
        max_new_tokens: output length limit.
        batch_size: sentences per model call (padded and masked, any lengths together).
        device: torch device; ``auto`` picks cuda, then mps, else cpu (:func:`crossaug.models.pick_device`).
        dtype: ``auto`` (bfloat16/float16 on a GPU, float32 on CPU: :func:`crossaug.models.pick_dtype`),
            ``float32``, ``float16`` or ``bfloat16``.
        max_input_tokens: longest input accepted; longer texts are a ``BadSample``
            (split them into sentences) rather than silently truncated.
    """

    name: ClassVar[str] = "text.translate"
    source: ClassVar[str] = "text"
    target: ClassVar[str] = "text"
    #: deterministic given (input, seed): outputs may go to the kernel's result cache
    cacheable: ClassVar[bool] = True

    def __init__(self, model: str = "Helsinki-NLP/opus-mt-en-de", source_lang: str = "en",
                 target_lang: str = "de", in_field: str | None = None, out_field: str | None = None,
                 prefix: str = "", revision: str | None = None, num_beams: int = 1, do_sample: bool = False,
                 top_k: int = 0, temperature: float = 1.0, max_new_tokens: int = 256,
                 batch_size: int = 8, device: str = "auto", max_input_tokens: int = 512,
                 dtype: str = "auto") -> None:
        if not model:
            raise ConfigError(f"{self.name} needs a model id or path")
        if source_lang == target_lang:
            raise ConfigError(f"{self.name}: source and target language are both {source_lang!r}")
        for n, v in (("num_beams", num_beams), ("max_new_tokens", max_new_tokens), ("batch_size", batch_size)):
            if not isinstance(v, int) or v < 1:
                raise ConfigError(f"{self.name}: {n} must be a positive int, got {v!r}")
        if not isinstance(top_k, int) or top_k < 0 or temperature <= 0:
            raise ConfigError(f"{self.name}: need top_k >= 0 and temperature > 0")
        self.model = str(model)
        self.source_lang = source_lang
        self.target_lang = target_lang
        self.in_field = in_field or ("text" if source_lang == "en" else f"text.{source_lang}")
        self.out_field = out_field or ("text" if target_lang == "en" else f"text.{target_lang}")
        if self.in_field == self.out_field:
            raise ConfigError(f"{self.name}: in_field and out_field are both {self.in_field!r}; name them "
                              f"(e.g. in_field='text', out_field='text.{target_lang}')")
        self.prefix = prefix
        self.revision = revision
        self.num_beams = num_beams
        self.do_sample = bool(do_sample)
        self.top_k = top_k
        self.temperature = float(temperature)
        self.max_new_tokens = max_new_tokens
        self.batch_size = batch_size
        self.device = device
        self.dtype = check_dtype(self.name, dtype)
        if not isinstance(max_input_tokens, int) or max_input_tokens < 1:
            raise ConfigError(f"{self.name}: max_input_tokens must be a positive int, got {max_input_tokens!r}")
        self.max_input_tokens = max_input_tokens


    def generation_options(self) -> dict[str, Any]:
        opts: dict[str, Any] = {"max_new_tokens": self.max_new_tokens}
        if self.do_sample:
            opts.update(do_sample=True, top_k=self.top_k, temperature=self.temperature, num_beams=1)
        else:
            opts.update(do_sample=False, num_beams=self.num_beams)
        return opts

    def transform_batch(self, samples: Sequence[Sample], seeds: Sequence[int]) -> list[Any]:
        from .hf import get_generator

        gen = get_generator(self.model, self.revision, self.device, self.dtype)
        self.runtime_device, self.runtime_dtype = gen.device, gen.dtype_name
        texts = [self.prefix + s[self.in_field] for s in samples]
        gen.check_lengths(texts, samples, self.in_field, self.max_input_tokens)
        outs = gen.generate(texts, seeds, self.generation_options(), batch_size=self.batch_size,
                            max_input_tokens=self.max_input_tokens, chat=False, stop=(),
                            sample_ids=[s.id for s in samples], step=self.name, field=self.out_field)
        results = []
        for s, out in zip(samples, outs, strict=False):
            if not out.strip():  # a model may emit only special tokens; never hand on empty text
                results.append(Produced(s[self.in_field], {"empty_output": True, "kept_input": True}))
            else:
                results.append(Produced(out, {"source_lang": self.source_lang, "target_lang": self.target_lang}))
        return results


__all__ = ["Translate"]
