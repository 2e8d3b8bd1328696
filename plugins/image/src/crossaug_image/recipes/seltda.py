"""Recipe ``seltda``: pseudo question-answer pairs for unlabelled images (SelTDA, generation only).

SelTDA (Khan et al., CVPR 2023, "Q: How to Specialize Large Vision-Language Models to
Data-Scarce VQA Tasks? A: Self-Train on Unlabeled Images!") turns a vision-language
model into a teacher that writes question-answer pairs for unlabelled images, then
fine-tunes the VLM on the small labelled set plus the pseudo-labelled images. This
recipe is the data side of it, with no training:

1. **question generation**, ``n`` questions per image, each from its own seed: the VLM
   (``image.vqa``) follows a question-writing instruction with sampling, or any registered
   image -> text transform (a captioner) writes a caption that fills ``question_templates``
   (``{caption}``, ``{label}``);
2. **answering** each question with a VQA model (``image.vqa``), whose confidence (mean
   probability of the answer's tokens) is recorded in lineage;
3. **filters**: empty questions, questions without ``?`` (``require_question_mark``),
   repeated questions of one image, then ``image.answer-confidence`` (answer confidence
   below ``threshold``) and any user filters. Rejected candidates stay in the manifest with
   the reason and score.

Outputs are ``(image, question, answer)`` samples ``{id}~q{j}``. Every model is chosen by
registry name and model id; fine-tuning the teacher (SelTDA's VQG_IC) or the student is out
of scope: point ``question_model`` at a teacher checkpoint of your own. Such a teacher writes
``"question? answer"`` strings: ``split_answer=True`` cuts them at the first ``?`` (the
teacher's answer goes to ``meta["teacher_answer"]``), and ``answerer=None`` keeps the
teacher's answer with the teacher's confidence, as SelTDA does.

Example:
    >>> r = SelTDA(model="my/instructblip", n=2)
    >>> r.question_step.name, r.question_step.question, r.answer_step.prompt_template, r.confidence.threshold
    ('image.vqa', 'Write a short question about this image.', 'Question: {question} Short answer:', 0.5)
    >>> fill_question("What is {caption} doing?", "a dog on grass", None)
    'What is a dog on grass doing?'
    >>> split_question("what is on the desk? a laptop")
    ('what is on the desk?', 'a laptop')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from crossaug import ConfigError, Filter, Sample, Seeder, registry
from crossaug.recipe import Recipe, apply_filters, check_filters
from crossaug.transform import run_each

from ..filters.answer_confidence import AnswerConfidence

#: the question-writing instruction given to the VLM (ours)
QUESTION_PROMPT = "Write a short question about this image."
#: InstructBLIP's short-answer VQA prompt
ANSWER_TEMPLATE = "Question: {question} Short answer:"


def fill_question(template: str, caption: str, label: str | None) -> str:
    """``template`` with ``{caption}`` and ``{label}`` filled, whitespace collapsed."""
    text = template.replace("{caption}", caption.strip().rstrip(".")).replace(
        "{label}", "" if label is None else str(label).replace("_", " "))
    return " ".join(text.split())


def split_question(text: str) -> tuple[str, str]:
    """``("question?", "answer")`` of a teacher's ``"question? answer"`` string (answer ``""`` if none)."""
    text = " ".join(str(text).split())
    cut = text.find("?")
    return (text, "") if cut < 0 else (text[:cut + 1], text[cut + 1:].strip())


class SelTDA(Recipe):
    """Generate ``n`` questions per unlabelled image, answer them, keep the confident pairs.

    Args:
        model: VLM answering the questions (and writing them, unless ``question_model``) by
            Hugging Face id or directory (default ``Salesforce/instructblip-flan-t5-xl``, ours;
            SelTDA fine-tunes BLIP).
        question_model: model of the question step (``None``: ``model`` for ``image.vqa``,
            the transform's own default for a captioner).
        questioner: registered image -> text transform writing the questions (default
            ``image.vqa``) or the captions that fill ``question_templates``.
        question_prompt: instruction given to a VQA questioner (default: ours, see
            :data:`QUESTION_PROMPT`), sent as the whole prompt.
        question_templates: questions with ``{caption}`` / ``{label}``; when given, the
            questioner's output is a caption and question ``j`` uses template ``j mod len``.
        question_params: further parameters of the questioner (``top_p``, ``max_new_tokens`` ...);
            by default a VQA questioner samples (``do_sample=True``, ``top_p=0.9``; ours) and a
            captioner uses ``mode="sample"``.
        answerer: registered VQA transform (default ``image.vqa``; needs ``question_field``);
            ``None``: the teacher's own answers (needs ``split_answer``), scored by the
            question step's confidence.
        answer_template: the answerer's prompt around ``{question}`` (default InstructBLIP's
            ``Question: {question} Short answer:``; BLIP-2: ``Question: {question} Answer:``).
        answer_params: further parameters of the answerer (greedy by default).
        n: questions per image (default 3; ours).
        threshold: minimum answer confidence (``image.answer-confidence``; default 0.5, ours).
        require_question_mark: reject generated questions without ``?``.
        split_answer: the questioner writes ``"question? answer"`` (SelTDA's teacher): cut at the
            first ``?``; the rest is the teacher's answer (``meta["teacher_answer"]``; with
            ``answerer=None`` the output's answer).
        filters: further filters scoring each kept pair against its image.
        question_field, answer_field: output text fields (``text.question``, ``text.answer``).
        caption_field: where a captioner's caption goes (templated questions).
        device, dtype: of both models (``auto``: the kernel's policy).
    """

    name: ClassVar[str] = "seltda"
    input_fields: ClassVar[tuple[str, ...]] = ("image",)

    def __init__(self, model: str = "Salesforce/instructblip-flan-t5-xl", question_model: str | None = None,
                 questioner: str = "image.vqa", question_prompt: str = QUESTION_PROMPT,
                 question_templates: Sequence[str] | None = None, question_params: Mapping[str, Any] | None = None,
                 answerer: str | None = "image.vqa", answer_template: str = ANSWER_TEMPLATE,
                 answer_params: Mapping[str, Any] | None = None, n: int = 3, threshold: float = 0.5,
                 require_question_mark: bool = True, split_answer: bool = False,
                 filters: Sequence[Filter] | None = None,
                 question_field: str = "text.question", answer_field: str = "text.answer",
                 caption_field: str = "text.caption", device: str = "auto", dtype: str = "auto") -> None:
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise ConfigError(f"{self.name}: n must be a positive integer, got {n!r}")
        if isinstance(question_templates, str):
            question_templates = [question_templates]
        if question_templates is not None:
            question_templates = list(question_templates)
            if not question_templates or not all(isinstance(t, str) and t.strip() for t in question_templates):
                raise ConfigError(f"{self.name}: question_templates must be a non-empty list of non-empty "
                                  f"strings, got {question_templates!r}")
        if len({question_field, answer_field, caption_field}) < 3:
            raise ConfigError(f"{self.name}: question_field, answer_field and caption_field must differ")
        self.model, self.question_model = model, question_model
        self.questioner = registry.resolve("transform", questioner, prefix="image.", source="image", target="text")
        self.question_prompt, self.question_templates = question_prompt, question_templates
        self.question_params = dict(question_params or {})
        if answerer is None and (not split_answer or question_templates is not None):
            raise ConfigError(f"{self.name}: answerer=None keeps the teacher's own answers: it needs "
                              "split_answer=True and a VQA questioner (no question_templates), whose confidence "
                              "scores them")
        self.answerer = (registry.resolve("transform", answerer, prefix="image.", source="image", target="text")
                         if answerer else None)
        self.split_answer = bool(split_answer)
        self.answer_template, self.answer_params = answer_template, dict(answer_params or {})
        self.n, self.threshold = n, float(threshold)
        self.require_question_mark = bool(require_question_mark)
        self.filters = check_filters(filters, self.name)
        self.question_field, self.answer_field, self.caption_field = question_field, answer_field, caption_field
        self.device, self.dtype = device, dtype
        self.confidence = AnswerConfidence(threshold=self.threshold, step=self.answerer or self.questioner)
        self._steps = self._build()

    def _build(self) -> tuple[Any, Any]:
        q_accepts = set(registry.load("transform", self.questioner).param_names())
        a_accepts = set(registry.load("transform", self.answerer).param_names()) if self.answerer else set()
        if self.answerer and "question_field" not in a_accepts:
            raise ConfigError(f"{self.name}: answerer {self.answerer!r} takes no question_field; "
                              "it must be a VQA transform such as image.vqa")
        common = {"device": self.device, "dtype": self.dtype}
        if self.question_templates is None:
            q = {"model": self.question_model or self.model, "question": self.question_prompt,
                 "prompt_template": "{question}", "do_sample": True, "top_p": 0.9,
                 "out_field": self.question_field, **common}
        else:
            q = {"mode": "sample", "out_field": self.caption_field, **common}
            if self.question_model:
                q["model"] = self.question_model
        q = {k: v for k, v in q.items() if k in q_accepts}
        q.update(self.question_params)
        a = {"model": self.model, "question_field": self.question_field, "prompt_template": self.answer_template,
             "out_field": self.answer_field, **common}
        a = {k: v for k, v in a.items() if k in a_accepts}
        a.update(self.answer_params)
        answer = registry.create("transform", self.answerer, **a) if self.answerer else None
        return registry.create("transform", self.questioner, **q), answer

    @property
    def question_step(self) -> Any:
        """The built question-generation transform."""
        return self._steps[0]

    @property
    def answer_step(self) -> Any:
        """The built answering transform (``None``: the teacher's answers are kept)."""
        return self._steps[1]

    def _split(self, out: Sample) -> Sample:
        """Cut a ``"question? answer"`` string: the question stays, the answer goes to meta (and the
        answer field without an answerer); no answer after the ``?`` is a rejection."""
        if not self.split_answer or not out.kept:
            return out
        q, a = split_question(str(out.fields.get(self.question_field, "")))
        if not a:
            if "?" not in q and self.require_question_mark:
                return out  # rejected as not a question
            return out.reject(f"the teacher wrote no answer after the question: {q!r}")
        fields = {self.question_field: q, **({} if self.answer_step else {self.answer_field: a})}
        return out.derive(None, **fields).replace(meta={**out.meta, "teacher_answer": a})

    def _question(self, out: Sample, j: int, parent: Sample) -> Sample:
        """Fill template ``j`` with the caption (templated mode) and record it in lineage."""
        if self.question_templates is None:
            return out
        template = self.question_templates[j % len(self.question_templates)]
        caption = str(out.fields.get(self.caption_field, ""))
        if not caption.strip():
            return out.reject(f"{self.question_step.name}: empty caption")
        q = fill_question(template, caption, parent.label)
        step = self.lineage_step({"template": template, "caption": caption, "question": q})
        return out.derive(step, **{self.question_field: q})

    def _screen(self, outs: list[Sample]) -> list[Sample]:
        """Reject empty, mark-less and repeated questions of one image (first one kept)."""
        seen: dict[str, str] = {}
        screened = []
        for o in outs:
            if o.kept:
                q = " ".join(str(o.fields.get(self.question_field, "")).split())
                key = q.lower().rstrip("?.! ")
                if not q:
                    o = o.reject("empty question")
                elif self.require_question_mark and "?" not in q:
                    o = o.reject(f"not a question (no '?'): {q!r}")
                elif key in seen:
                    o = o.reject(f"duplicate question (same as {seen[key]})")
                else:
                    seen[key] = o.id
            screened.append(o)
        return screened

    def process(self, samples: Sequence[Sample], seeder: Seeder) -> list[list[Sample]]:
        self.check(samples)
        flat = [(s, j) for s in samples for j in range(self.n)]
        ids = [f"{s.id}~q{j}" for s, j in flat]
        q_seeds = [seeder.integer_seed(self.name, "question", s.id, j) for s, j in flat]
        asked = run_each(self.question_step, [s for s, _ in flat], q_seeds)
        cands: list[Sample] = []
        for (s, j), out_id, got in zip(flat, ids, asked):
            if isinstance(got, str):
                cands.append(s.replace(id=out_id, parent_id=s.id).reject(got))
            else:
                cands.append(self._question(got.replace(id=out_id, parent_id=s.id), j, s))
        cands = [self._split(c) for c in cands]
        cands = [o for i in range(len(samples)) for o in self._screen(cands[i * self.n:(i + 1) * self.n])]
        live = [k for k, c in enumerate(cands) if c.kept]
        if self.answer_step is not None:
            a_seeds = [seeder.integer_seed(self.name, "answer", flat[k][0].id, flat[k][1]) for k in live]
            answered = run_each(self.answer_step, [cands[k] for k in live], a_seeds)
            for k, got in zip(live, answered):
                cands[k] = cands[k].reject(got) if isinstance(got, str) else got
        groups: list[list[Sample]] = []
        for i, s in enumerate(samples):
            mine = cands[i * self.n:(i + 1) * self.n]
            kept = [c for c in mine if c.kept]
            kept = apply_filters([self.confidence, *self.filters], kept, [s] * len(kept))
            by_id = {c.id: c for c in kept}
            groups.append([by_id.get(c.id, c) for c in mine])
        return groups

    def get_params(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.param_names()}


__all__ = ["SelTDA", "QUESTION_PROMPT", "ANSWER_TEMPLATE", "fill_question", "split_question", "run_each"]
