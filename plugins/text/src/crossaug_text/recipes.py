"""Named text recipes: ``eda``, ``token-replacement``, ``code-switch``, ``caption-rewrite``,
``back-translation``. Each is a small subclass of the kernel's ``Augment`` or
``BackModality`` carrying its paper's defaults.

Example:
    >>> from crossaug import Sample
    >>> outs = EDARecipe(num_aug=2, alpha_sr=0.0, alpha_ri=0.0)([Sample("a", {"text": "one two three"})])
    >>> [o.id for o in outs]
    ['a~0', 'a~1']
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

from crossaug import ConfigError, Sample, registry
from crossaug.backmodality import BackModality
from crossaug.filter import Filter
from crossaug.recipe import Augment, apply_filters
from crossaug.rng import Seeder
from crossaug.step import Step

from .code_switch import CodeSwitch
from .eda import EDA
from .language import MIN_CONFIDENCE
from .llm_rewrite import DEFAULT_PROMPT, DEFAULT_TEMPLATE
from .token_replacement import TokenReplacement, Vocabulary


def build_backend(kind: str, name: str, params: Mapping[str, Any] | None, *, prefix: str,
                  modalities: tuple[str, str], required: Sequence[str] = (), **defaults: Any) -> Any:
    """Build the backend registered as ``name`` (full name or short alias) of ``kind``.

    The name is resolved through :func:`crossaug.registry.resolve` (did-you-mean on a
    typo), and the backend must map ``modalities`` (source, target; an augmentation must
    act on both). ``defaults`` the backend does not accept are left out, except those
    named in ``required``; ``params`` (the recipe's ``*_params``) win over ``defaults``.

    Example:
        >>> build_backend("transform", "translate", None, prefix="text.", modalities=("text", "text"),
        ...               model="m", in_field="text", out_field="text.de").name
        'text.translate'
    """
    if params is not None and not isinstance(params, Mapping):
        raise ConfigError(f"parameters of {kind} {name!r} must be a mapping, got {type(params).__name__}")
    if kind == "transform":
        full = registry.resolve(kind, name, prefix=prefix, source=modalities[0], target=modalities[1])
    else:
        full = registry.resolve(kind, name, prefix=prefix)
        acts_on = tuple(getattr(registry.load(kind, full), "modalities", ()) or ())
        if not set(modalities) <= set(acts_on):
            raise ConfigError(f"{kind} {full!r} acts on {', '.join(acts_on) or 'nothing'}; expected "
                              f"{' and '.join(sorted(set(modalities)))}")
    accepted = set(registry.load(kind, full).param_names())
    missing = [k for k in required if k not in accepted]
    if missing:
        raise ConfigError(f"{kind} {full!r} cannot serve here: it has no parameter(s) {', '.join(missing)}")
    merged = {k: v for k, v in defaults.items() if k in accepted or k in required}
    merged.update(params or {})
    return registry.create(kind, full, **merged)


class EDARecipe(Augment):
    """``num_aug`` EDA variants of each sentence (Wei and Zou, 2019).

    Defaults follow the paper: alpha = 0.1 for every operation and ``num_aug = 4``
    (Table 3 for training sets above 5,000 sentences; use
    :func:`crossaug_text.eda.recommended_params` for smaller ones: 16 at 500, 8 at 2,000).

    Args:
        num_aug: augmented sentences per input.
        alpha_sr, alpha_ri, alpha_rs, p_rd: operation rates (see :class:`~crossaug_text.eda.EDA`).
        field: the text field.
        filters: optional filters (e.g. ``text.edit-distance``).
        n: alias of ``num_aug`` (what ``crossaug run --n`` sets).
        protect_pos: spaCy universal POS tags never edited (e.g. ``["NOUN", "PROPN"]``).
        protect_label: never edit the words of the sample's label.
        input_language: refuse samples detected as another language (``"auto"``: English when
            SR or RI is used or ``protect_pos`` is set, see :class:`~crossaug_text.eda.EDA`;
            ``None``: no check).
        min_language_confidence: langid probability from which that refusal applies.
        spacy_model: spaCy pipeline for ``protect_pos``.
    """

    name: ClassVar[str] = "eda"

    def __init__(self, num_aug: int = 4, alpha_sr: float = 0.1, alpha_ri: float = 0.1,
                 alpha_rs: float = 0.1, p_rd: float = 0.1, field: str = "text",
                 filters: Sequence[Filter] | None = None, n: int | None = None,
                 protect_pos: Sequence[str] = (), protect_label: bool = False,
                 input_language: str | None = "auto", min_language_confidence: float = MIN_CONFIDENCE,
                 spacy_model: str | None = None) -> None:
        num_aug = n if n is not None else num_aug
        aug = EDA(alpha_sr, alpha_ri, alpha_rs, p_rd, field, protect_pos=protect_pos,
                  protect_label=protect_label, input_language=input_language,
                  min_language_confidence=min_language_confidence, spacy_model=spacy_model)
        super().__init__(aug, n=num_aug, filters=filters)
        self.num_aug = num_aug
        self.alpha_sr, self.alpha_ri, self.alpha_rs, self.p_rd = alpha_sr, alpha_ri, alpha_rs, p_rd
        self.field = field
        self.protect_pos, self.protect_label = list(aug.protect_pos), aug.protect_label
        self.input_language, self.min_language_confidence = input_language, min_language_confidence
        self.spacy_model = spacy_model


class TokenReplacementRecipe(Augment):
    """``n`` random-token-replacement variants per sentence; the vocabulary comes from the dataset.

    ``fit`` (called by the runner before processing) builds the vocabulary from
    the inputs unless one is given.

    Args:
        rate: fraction of word tokens replaced.
        mode: ``random`` or ``pos`` (same spaCy part of speech).
        n: outputs per input.
        vocabulary: explicit vocabulary (skips fitting).
        spacy_model: spaCy pipeline for POS mode.
        field: the text field.
        filters: optional filters.
        input_language: language check (``"auto"``: English in POS mode, none in random mode).
        min_language_confidence: langid probability from which that refusal applies.
    """

    name: ClassVar[str] = "token-replacement"
    requires_fit: ClassVar[bool] = True

    def __init__(self, rate: float = 0.15, mode: str = "random", n: int = 1,
                 vocabulary: Vocabulary | None = None, spacy_model: str | None = None,
                 field: str = "text", filters: Sequence[Filter] | None = None,
                 input_language: str | None = "auto", min_language_confidence: float = MIN_CONFIDENCE) -> None:
        aug = TokenReplacement(rate=rate, mode=mode, vocabulary=vocabulary, spacy_model=spacy_model, field=field,
                               input_language=input_language, min_language_confidence=min_language_confidence)
        super().__init__(aug, n=n, filters=filters)
        self.rate, self.mode, self.spacy_model, self.field = rate, mode, spacy_model, field
        self.input_language, self.min_language_confidence = input_language, min_language_confidence
        self.vocabulary = aug.vocabulary

    def get_params(self) -> dict[str, Any]:
        params = super().get_params()
        params["vocabulary"] = self.vocabulary  # as given, not the fitted one
        return params

    def fit(self, samples: Iterable[Sample]) -> None:
        if self.vocabulary is None:
            self.augmentation.fit(samples)  # type: ignore[attr-defined]

    def process(self, samples: Sequence[Sample], seeder: Any) -> list[list[Sample]]:
        if self.augmentation.vocabulary is None:  # type: ignore[attr-defined]
            raise ConfigError("token-replacement: call fit(samples) first (the runner does) "
                              "or pass vocabulary=")
        return super().process(samples, seeder)


class CodeSwitchRecipe(Augment):
    """``n`` code-switched variants per sentence (Culture Mixup's three tiers).

    Args:
        lexicon: bilingual lexicon (dict, TSV/JSON path or ``"kenet:tr"``).
        language: target language code.
        word_rate, phrase_rate, sentence_rate: switch probabilities per tier.
        graph: saved culture graph path; ``max_distance``: related-concept radius.
        n: outputs per input.
        field: the text field.
        filters: optional filters.
        pos_filter, sense, sentence_model, device, input_language, min_language_confidence,
        spacy_model, screen_langs, blocked_words: see :class:`~crossaug_text.code_switch.CodeSwitch`.
    """

    name: ClassVar[str] = "code-switch"

    def __init__(self, lexicon: Mapping[str, Any] | str | None = "kenet:tr", language: str | None = None,
                 word_rate: float = 0.3, phrase_rate: float = 0.3, sentence_rate: float = 0.0,
                 graph: str | None = None, max_distance: int = 0, n: int = 1, field: str = "text",
                 filters: Sequence[Filter] | None = None, pos_filter: bool = True, sense: str | None = "lesk",
                 sentence_model: str | None = None, device: str = "cpu", input_language: str | None = "en",
                 min_language_confidence: float = MIN_CONFIDENCE, spacy_model: str | None = None,
                 screen_langs: Sequence[str] | None = None, blocked_words: Sequence[str] = ()) -> None:
        aug = CodeSwitch(lexicon=lexicon, language=language, word_rate=word_rate, phrase_rate=phrase_rate,
                         sentence_rate=sentence_rate, graph=graph, max_distance=max_distance, field=field,
                         pos_filter=pos_filter, sense=sense, sentence_model=sentence_model, device=device,
                         input_language=input_language, min_language_confidence=min_language_confidence,
                         spacy_model=spacy_model, screen_langs=screen_langs, blocked_words=blocked_words)
        super().__init__(aug, n=n, filters=filters)
        self.pos_filter, self.sense, self.sentence_model, self.device = pos_filter, sense, sentence_model, device
        self.input_language, self.min_language_confidence = input_language, min_language_confidence
        self.spacy_model, self.screen_langs = spacy_model, aug.screen_langs if screen_langs is not None else None
        self.blocked_words = list(blocked_words)
        self.lexicon, self.language, self.graph, self.max_distance = aug.lexicon, language, graph, max_distance
        self.word_rate, self.phrase_rate, self.sentence_rate = word_rate, phrase_rate, sentence_rate
        self.field = field


class CaptionRewriteRecipe(Augment):
    """``n`` language-model rewrites of each caption (back-captioning's caption augmentation).

    All ``n`` prompts of a batch of inputs go to the model in one batched call.

    Args:
        rewriter: registered text augmentation that rewrites (full name or short alias such as
            ``llm-rewrite``); third-party rewriters plug in here.
        rewriter_params: further parameters of the rewriter.
        model: transformers hub id or local directory (seq2seq or causal LM).
        prompt: instruction (default: the back-captioning paper's).
        template: prompt template with ``{prompt}`` and ``{text}``.
        client: a plugged-in LLM client name instead of transformers.
        n: rewrites per input.
        do_sample, temperature, top_p, max_new_tokens: generation settings.
        batch_size: prompts per model call.
        device: torch device (``auto``: cuda, then mps, else cpu).
        dtype: ``auto`` (half precision on a GPU, float32 on CPU), ``float32``, ``float16``, ``bfloat16``.
        field: the text field.
        filters: optional filters (e.g. ``text.edit-distance``).
    """

    name: ClassVar[str] = "caption-rewrite"

    def __init__(self, model: str = "google/flan-t5-base", prompt: str = DEFAULT_PROMPT,
                 template: str = DEFAULT_TEMPLATE, client: str | None = None, n: int = 1,
                 do_sample: bool = True, temperature: float = 1.0, top_p: float = 0.95,
                 max_new_tokens: int = 64, batch_size: int = 8, device: str = "auto", field: str = "text",
                 filters: Sequence[Filter] | None = None, rewriter: str = "text.llm-rewrite",
                 rewriter_params: Mapping[str, Any] | None = None, dtype: str = "auto") -> None:
        aug = build_backend("augmentation", rewriter, rewriter_params, prefix="text.", modalities=("text", "text"),
                            required=("field",), model=model, prompt=prompt, template=template, client=client,
                            do_sample=do_sample, temperature=temperature, top_p=top_p,
                            max_new_tokens=max_new_tokens, batch_size=batch_size, device=device, dtype=dtype,
                            field=field)
        super().__init__(aug, n=n, filters=filters)
        self.rewriter, self.rewriter_params = aug.name, dict(rewriter_params or {})
        self.model, self.prompt, self.template, self.client = model, prompt, template, client
        self.do_sample, self.temperature, self.top_p = do_sample, temperature, top_p
        self.max_new_tokens, self.batch_size, self.device, self.field = max_new_tokens, batch_size, device, field
        self.dtype = dtype

    def process(self, samples: Sequence[Sample], seeder: Seeder) -> list[list[Sample]]:
        for s in samples:
            self.augmentation.check(s)
        flat = [(s, i) for s in samples for i in range(self.n)]
        outs = self.augmentation([s for s, _ in flat], [seeder.rng("augment", s.id, i) for s, i in flat])
        groups: list[list[Sample]] = []
        for k, s in enumerate(samples):
            cands = [o.replace(id=f"{s.id}~{i}") for i, o in enumerate(outs[k * self.n:(k + 1) * self.n])]
            groups.append(apply_filters(self.filters, cands, [s] * len(cands)))
        return groups


class BackTranslationRecipe(BackModality):
    """Back-translation: ``text(en) -> text(pivot) -> text(en)`` with two translation models.

    A :class:`~crossaug.BackModality` round trip (Sennrich et al., 2016; Back-Modality's
    text instance). The forward pass samples (top-k 10, Edunov et al., 2018) so
    that ``fan_out=(l, 1, n)`` gives ``l`` different pivots; the backward pass uses
    beam search.

    Args:
        translator: registered text -> text transform for both legs (full name or short alias
            such as ``translate``); third-party translators plug in here.
        translator_params: further parameters of the translator (both legs).
        forward_model: source -> pivot model id or path.
        backward_model: pivot -> source model id or path.
        source_lang: language of the input field.
        pivot_lang: intermediate language (field ``text.<pivot_lang>``).
        fan_out: ``(l, 1, n)`` candidates per input.
        keep: candidates kept per input (``None``: all that pass the filters).
        forward_sampling: sample the forward translation (else beam search).
        top_k: top-k for forward sampling.
        num_beams: beam size of the backward (and non-sampled forward) pass.
        max_new_tokens: length limit of each translation.
        batch_size: sentences per model call.
        device: torch device of both legs (``auto``: cuda, then mps, else cpu).
        dtype: ``auto`` (half precision on a GPU, float32 on CPU), ``float32``, ``float16``, ``bfloat16``.
        field: the text field round-tripped.
        filters: filters on the back-translations (e.g. ``text.edit-distance``).
        dedupe: reject a passing back-translation equal to another kept one of the same input.
        top_up: extra rounds with new seed keys for inputs left with fewer than ``keep`` passing
            candidates (bounded; 0: none).
    """

    name: ClassVar[str] = "back-translation"

    def __init__(self, forward_model: str = "Helsinki-NLP/opus-mt-en-de",
                 backward_model: str = "Helsinki-NLP/opus-mt-de-en", source_lang: str = "en",
                 pivot_lang: str = "de", fan_out: Sequence[int] = (1, 1, 1), keep: int | None = None,
                 forward_sampling: bool = True, top_k: int = 10, num_beams: int = 4,
                 max_new_tokens: int = 256, batch_size: int = 8, device: str = "auto", field: str = "text",
                 filters: Sequence[Filter] | None = None, translator: str = "text.translate",
                 translator_params: Mapping[str, Any] | None = None, dtype: str = "auto",
                 dedupe: bool = False, top_up: int = 0) -> None:
        mid = f"text.{pivot_lang}"
        shared = dict(num_beams=num_beams, max_new_tokens=max_new_tokens, batch_size=batch_size, device=device,
                      dtype=dtype)
        fwd = build_backend("transform", translator, translator_params, prefix="text.", modalities=("text", "text"),
                            required=("in_field", "out_field"), model=forward_model, source_lang=source_lang,
                            target_lang=pivot_lang, in_field=field, out_field=mid, do_sample=forward_sampling,
                            top_k=top_k, **shared)
        bwd = build_backend("transform", translator, translator_params, prefix="text.", modalities=("text", "text"),
                            required=("in_field", "out_field"), model=backward_model, source_lang=pivot_lang,
                            target_lang=source_lang, in_field=mid, out_field=field, **shared)
        super().__init__(forward=fwd, backward=bwd, filters=filters, fan_out=fan_out, keep=keep, dedupe=dedupe,
                         top_up=top_up)
        self.translator, self.translator_params = fwd.name, dict(translator_params or {})
        self.forward_model, self.backward_model = forward_model, backward_model
        self.source_lang, self.pivot_lang = source_lang, pivot_lang
        self.forward_sampling, self.top_k, self.num_beams = forward_sampling, top_k, num_beams
        self.max_new_tokens, self.batch_size, self.device, self.field = max_new_tokens, batch_size, device, field
        self.dtype = dtype

    def get_params(self) -> dict[str, Any]:
        return Step.get_params(self)


__all__ = ["EDARecipe", "TokenReplacementRecipe", "CodeSwitchRecipe", "CaptionRewriteRecipe",
           "BackTranslationRecipe", "build_backend"]
