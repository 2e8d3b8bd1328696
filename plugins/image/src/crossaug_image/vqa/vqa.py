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
depends only on image and prompt) or seeded sampling (one generator per item).

Example:
    >>> t = VisualQuestionAnswer(question="what colour is the {label}?")
    >>> t.prompt_of(Sample("s", {}, label="sports_car"))
    ('what colour is the sports car?', 'Question: what colour is the sports car? Answer:')
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from crossaug import BadSample, ConfigError, Produced, Sample, Transform, torch_generator

from .._backend import LazyModel, check_device, check_dtype
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
        max_new_tokens: answer length limit (default 30).
        temperature, top_k, top_p: sampling settings (defaults 1.0, 0, 0.9; ours).
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
                 mode: str = "greedy", max_new_tokens: int = 30, temperature: float = 1.0, top_k: int = 0,
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
        if not isinstance(max_new_tokens, int) or max_new_tokens < 1:
            raise ConfigError(f"{self.name}: max_new_tokens must be a positive integer, got {max_new_tokens!r}")
        if temperature <= 0 or not 0 < top_p <= 1 or top_k < 0:
            raise ConfigError(f"{self.name}: need temperature > 0, 0 < top_p <= 1, top_k >= 0")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigError(f"{self.name}: batch_size must be a positive integer, got {batch_size!r}")
        self.model = model
        self.revision = revision
        self.question = question
        self.question_field = question_field
        self.text_field = text_field
        self.prompt_template = prompt_template
        self.mode = mode
        self.max_new_tokens = max_new_tokens
        self.temperature = float(temperature)
        self.top_k = int(top_k)
        self.top_p = float(top_p)
        self.batch_size = batch_size
        self.device = check_device(device)
        self.dtype = check_dtype(dtype)
        self.allow_download = bool(allow_download)
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

    def answer(self, images: Sequence[Any], prompts: Sequence[str],
               seeds: Sequence[int]) -> list[tuple[str, float]]:
        """``(answer, confidence)`` per image; the prompts of one call tokenize to equal length."""
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
            gens = [torch_generator(int(s)) for s in seeds]
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
        for idx in groups.values():
            try:
                found = self.answer([samples[i][self.input_field].convert("RGB") for i in idx],
                                    [qp[i][1] for i in idx], [seeds[i] for i in idx])
            except NonFiniteScores as exc:
                raise BadSample(f"{self.name}: the model produced NaN or infinite token scores (dtype "
                                f"{getattr(self, 'runtime_dtype', None) or self.dtype}); try dtype='float32'",
                                sample_id=samples[idx[exc.inputs[0]]].id, field=self.input_field) from exc
            for i, (text, conf) in zip(idx, found):
                if not text.strip():
                    raise BadSample(f"{self.name}: the model produced an empty answer", sample_id=samples[i].id,
                                    field=self.input_field)
                results[i] = Produced(text, {"question": qp[i][0], "prompt": qp[i][1], "mode": self.mode,
                                             "confidence": round(conf, 6),
                                             "snapshot": getattr(self, "snapshot", None)})
        return results


__all__ = ["VisualQuestionAnswer", "MODES"]
