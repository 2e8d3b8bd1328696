"""Visual question answering / instruction-following captioning with BLIP-2 or InstructBLIP.

BLIP-2 (Li et al., 2023) bridges a frozen image encoder and a frozen LLM with a Q-Former;
its zero-shot VQA prompt is ``"Question: {} Answer:"``. InstructBLIP (Dai et al., 2023)
also feeds the instruction to the Q-Former. GMDA asks such a model for entity-annotated
text; the text-side issue uses it for image-grounded rewriting. Any checkpoint
``AutoModelForImageTextToText`` loads with its ``AutoProcessor`` works (BLIP-2,
InstructBLIP, by hub id or local directory).

Each answer's confidence, the mean probability the model gave the answer's tokens (the
raw, unprocessed distribution; the end token included when generated), is recorded in
lineage with the question and the prompt. Decoding is greedy by default (the answer
depends only on image and prompt) or seeded sampling (``do_sample=True``: one generator
per answer, derived from the item's seed only, so an answer never depends on its batch
mates). With ``num_return_sequences=n`` (sampling) each image gets ``n`` answers, each
with its confidence, in lineage (``answers``, ``confidences``); the output is the most
confident one (``index``).

Example:
    >>> t = VisualQuestionAnswer(question="what colour is the {label}?")
    >>> t.prompt_of(Sample("s", {}, label="sports_car"))
    ('what colour is the sports car?', 'Question: what colour is the sports car? Answer:')
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from crossaug import BadSample, ConfigError, Produced, Sample, Transform, torch_generator

from .._backend import LazyModel
from .._models import snapshot_hash
from ..captioning.base import clean_caption
from ..captioning.sampling import NonFiniteScores, make_finite_check, make_row_sampler

MODES = ("greedy", "sample")


class VisualQuestionAnswer(LazyModel, Transform):
    """Answer a question about an image (or follow an instruction), with the answer's confidence.

    Args:
        model: Hugging Face id or local directory of a BLIP-2 or InstructBLIP model (default
            ``Salesforce/blip2-opt-2.7b``, BLIP-2's smallest OPT release; ours).
        revision: hub revision.
        question: the question, with ``{label}`` and ``{text}`` (the ``text_field``) filled
            (default ``what does the image show?``; ours).
        question_field: text field holding a per-sample question, used instead of ``question``.
        text_field: text field filling ``{text}`` in ``question`` (default ``text``).
        prompt_template: the model's prompt around ``{question}`` (default
            ``Question: {question} Answer:``, BLIP-2's VQA prompt; ``{question}`` alone for
            InstructBLIP instructions).
        mode: ``greedy`` (default) or ``sample`` (seeded, ``temperature``/``top_k``/``top_p``).
        do_sample: ``True`` for ``mode="sample"``, ``False`` for ``mode="greedy"``
            (default ``None``: ``mode`` decides; naming both differently is an error).
        num_return_sequences: answers per image, each with its confidence (default 1;
            more than 1 needs sampling).
        max_new_tokens: answer length limit (default 30).
        temperature, top_k, top_p: sampling settings (defaults 1.0, 0, 0.9; ours; top-k is
            applied before top-p).
        batch_size: images per forward pass (rows whose prompts tokenize to equal length share one).
        device, dtype: the kernel's policy.
        allow_download: let ``from_pretrained`` download weights missing on disk.
        in_field, out_field: fields read and written (default ``image`` -> ``text``).
    """

    name: ClassVar[str] = "image.vqa"
    source: ClassVar[str] = "image"
    target: ClassVar[str] = "text"

    def __init__(self, model: str = "Salesforce/blip2-opt-2.7b", revision: str | None = None,
                 question: str = "what does the image show?", question_field: str | None = None,
                 text_field: str = "text", prompt_template: str = "Question: {question} Answer:",
                 mode: str = "greedy", do_sample: bool | None = None, num_return_sequences: int = 1,
                 max_new_tokens: int = 30, temperature: float = 1.0, top_k: int = 0,
                 top_p: float = 0.9, batch_size: int = 8, device: str = "auto", dtype: str = "auto",
                 allow_download: bool = False, in_field: str | None = None, out_field: str | None = None) -> None:
        if not isinstance(model, str) or not model:
            raise ConfigError(f"{self.name}: model must be a Hugging Face id or a local path, got {model!r}")
        if not isinstance(question, str) or not question.strip():
            raise ConfigError(f"{self.name}: question must be a non-empty string, got {question!r}")
        if "{question}" not in prompt_template:
            raise ConfigError(f"{self.name}: prompt_template must contain {{question}}, got {prompt_template!r}")
        if mode not in MODES:
            raise ConfigError(f"{self.name}: mode must be one of {', '.join(MODES)}, got {mode!r}")
        if do_sample is not None:
            if not isinstance(do_sample, bool):
                raise ConfigError(f"{self.name}: do_sample must be true, false or None, got {do_sample!r}")
            wanted = "sample" if do_sample else "greedy"
            if mode != "greedy" and mode != wanted:
                raise ConfigError(f"{self.name}: do_sample={do_sample} contradicts mode={mode!r}")
            mode = wanted
        if not isinstance(num_return_sequences, int) or isinstance(num_return_sequences, bool) \
                or num_return_sequences < 1:
            raise ConfigError(f"{self.name}: num_return_sequences must be a positive integer, "
                              f"got {num_return_sequences!r}")
        if num_return_sequences > 1 and mode != "sample":
            raise ConfigError(f"{self.name}: num_return_sequences={num_return_sequences} needs do_sample=True "
                              "(greedy decoding gives one answer)")
        if not isinstance(max_new_tokens, int) or max_new_tokens < 1:
            raise ConfigError(f"{self.name}: max_new_tokens must be a positive integer, got {max_new_tokens!r}")
        if temperature <= 0 or not 0 < top_p <= 1 or top_k < 0:
            raise ConfigError(f"{self.name}: need temperature > 0, 0 < top_p <= 1, top_k >= 0")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigError(f"{self.name}: batch_size must be a positive integer, got {batch_size!r}")
        self._init_model(model, revision, device, dtype, allow_download)
        self.question = question
        self.question_field = question_field
        self.text_field = text_field
        self.prompt_template = prompt_template
        self.mode = mode
        self.do_sample = mode == "sample"
        self.num_return_sequences = num_return_sequences
        self.max_new_tokens = max_new_tokens
        self.temperature = float(temperature)
        self.top_k = int(top_k)
        self.top_p = float(top_p)
        self.batch_size = batch_size
        self.in_field = in_field
        self.out_field = out_field
        self._model: Any = None
        self._processor: Any = None

    def load(self) -> None:
        tf, path, device, dtype = self._load_prologue("transformers")
        self._processor = tf.AutoProcessor.from_pretrained(path, revision=self.revision)
        self._model = tf.AutoModelForImageTextToText.from_pretrained(path, revision=self.revision,
                                                                     dtype=dtype).to(device).eval()
        self.runtime_device, self.runtime_dtype = device, str(dtype).removeprefix("torch.")
        self.snapshot = snapshot_hash(path)

    def prompt_of(self, sample: Sample) -> tuple[str, str]:
        """``(question, prompt)`` of ``sample``; an empty question is a ``BadSample``."""
        if self.question_field:
            q = sample.fields.get(self.question_field)
            where = self.question_field
        else:
            text = sample.fields.get(self.text_field) if "{text}" in self.question else ""
            if "{text}" in self.question and not isinstance(text, str):
                raise BadSample(f"{self.name}: question {self.question!r} needs text field {self.text_field!r}",
                                sample_id=sample.id, field=self.text_field)
            label = "" if sample.label is None else str(sample.label).replace("_", " ")
            q = self.question.replace("{label}", label).replace("{text}", text or "")
            where = self.text_field
        if not isinstance(q, str) or not q.strip():
            raise BadSample(f"{self.name}: the question is empty", sample_id=sample.id, field=where)
        q = " ".join(q.split())
        return q, self.prompt_template.replace("{question}", q)

    def generators(self, seed: int) -> list[Any]:
        """One ``torch.Generator`` per returned answer, derived from the item's ``seed`` only.

        With one answer it is ``torch_generator(seed)``; with several, child seeds of a
        ``numpy.random.SeedSequence(seed)``.
        """
        n = self.num_return_sequences
        if n == 1:
            return [torch_generator(int(seed))]
        return [torch_generator(int(c.generate_state(2, np.uint32).view(np.uint64)[0] >> 1))
                for c in np.random.SeedSequence(int(seed)).spawn(n)]

    def answer(self, images: Sequence[Any], prompts: Sequence[str],
               seeds: Sequence[int]) -> list[tuple[str, float]]:
        """``(answer, confidence)`` per row; the prompts of one call tokenize to equal length.

        In sample mode ``seeds`` holds one seed per row (an image repeated for several answers
        comes with its per-answer seeds, see :meth:`generators`); pass ``torch.Generator``
        objects instead of ints to use them directly.
        """
        import torch

        if self._model is None:
            self.load()
        if str(self._model.device) == "cpu":
            from crossaug.precision import apply_torch_threads

            apply_torch_threads()
        model, proc = self._model, self._processor
        inputs = proc(images=list(images), text=list(prompts), return_tensors="pt")
        inputs = {k: v.to(model.device) for k, v in inputs.items()}
        inputs["pixel_values"] = inputs["pixel_values"].to(model.dtype)
        processors = [make_finite_check(1)]
        if self.mode == "sample":
            gens = [s if isinstance(s, torch.Generator) else torch_generator(int(s)) for s in seeds]
            processors.append(make_row_sampler(gens, self.temperature, self.top_k, self.top_p))
        with torch.inference_mode():
            out = model.generate(**inputs, max_new_tokens=self.max_new_tokens, do_sample=False, num_beams=1,
                                 logits_processor=processors, output_logits=True, return_dict_in_generate=True)
        steps = len(out.logits)
        new = out.sequences[:, -steps:]
        probs = torch.stack([torch.softmax(lg.float(), dim=-1) for lg in out.logits], dim=1)  # rows x steps x V
        chosen = probs.gather(-1, new.unsqueeze(-1)).squeeze(-1)
        eos = model.generation_config.eos_token_id
        eos_ids = set(eos if isinstance(eos, list) else [eos]) if eos is not None else set()
        results = []
        for r in range(new.shape[0]):
            ids = new[r].tolist()
            n = next((k + 1 for k, t in enumerate(ids) if t in eos_ids), len(ids))  # through the first end token
            conf = float(chosen[r, :n].mean())
            text = proc.tokenizer.decode(ids[:n], skip_special_tokens=True)
            results.append((clean_caption(text), conf))
        return results

    def transform_batch(self, samples: Sequence[Sample], seeds: Sequence[int]) -> list[Any]:
        qp = [self.prompt_of(s) for s in samples]
        if self._model is None:
            self.load()
        groups: dict[int, list[int]] = {}
        for i, (_, p) in enumerate(qp):
            groups.setdefault(len(self._processor.tokenizer(p)["input_ids"]), []).append(i)
        results: list[Any] = [None] * len(samples)
        n = self.num_return_sequences
        for idx in groups.values():
            rows = [i for i in idx for _ in range(n)]  # n rows per image, answers of one image adjacent
            row_seeds: list[Any] = ([g for i in idx for g in self.generators(seeds[i])] if n > 1
                                    else [seeds[i] for i in idx])
            try:
                found = self.answer([samples[i][self.input_field].convert("RGB") for i in rows],
                                    [qp[i][1] for i in rows], row_seeds)
            except NonFiniteScores as exc:
                raise BadSample(f"{self.name}: the model produced NaN or infinite token scores (dtype "
                                f"{getattr(self, 'runtime_dtype', None) or self.dtype}); try dtype='float32'",
                                sample_id=samples[rows[exc.inputs[0]]].id, field=self.input_field) from exc
            for k, i in enumerate(idx):
                mine = found[k * n:(k + 1) * n]
                if not any(text.strip() for text, _ in mine):
                    raise BadSample(f"{self.name}: the model produced an empty answer", sample_id=samples[i].id,
                                    field=self.input_field)
                info: dict[str, Any] = {"question": qp[i][0], "prompt": qp[i][1], "mode": self.mode}
                if n == 1:
                    text, conf = mine[0]
                else:
                    live = [j for j, (t, _) in enumerate(mine) if t.strip()]
                    pick = max(live, key=lambda j: (mine[j][1], -j))  # most confident, first on ties
                    text, conf = mine[pick]
                    info.update(answers=[t for t, _ in mine], confidences=[round(c, 6) for _, c in mine],
                                index=pick)
                info.update(confidence=round(conf, 6), snapshot=getattr(self, "snapshot", None))
                if self.mode == "sample":
                    info.update(temperature=self.temperature, top_k=self.top_k, top_p=self.top_p)
                results[i] = Produced(text, info)
        return results


__all__ = ["VisualQuestionAnswer", "MODES"]
