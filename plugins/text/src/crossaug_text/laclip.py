"""LaCLIP: caption rewriting by in-context learning (Fan et al., NeurIPS 2023, "Improving CLIP
Training with Language Rewrites").

LaCLIP rewrites every caption of a CLIP training set several times with a base
(non-instruction) LLM prompted by in-context learning: a few (caption, rewrite)
demonstration pairs, written once by a chat model or by people, are sampled per prompt
and joined with the ``=>`` separator, and the model continues the last line::

    white and red cheerful combination in the bedroom for girl => A cheerful bedroom ...
    a man riding a bike down a dirt road => On a dusty country track, a cyclist pedals along.
    two dogs playing with a ball on the beach => On the sand by the sea, a pair of dogs ...
    <caption> =>

The rewrite ends at the first newline (base LMs) or at the end of the turn (chat models,
which also get a one-line instruction before the demonstrations). At training time one
of the caption's texts (original or a rewrite) is drawn per epoch:
:class:`crossaug_integrations.torch_dataset.GroupedOutputsDataset` does that from the
recipe's outputs.

Defaults from the paper: ``k = 3`` demonstrations per prompt, 4 rewrites per caption
(one per demonstration set when several sets are given, as the paper's ChatGPT, Bard,
COCO and human sets). The bundled demonstrations (``data/laclip_demonstrations.jsonl``,
16 pairs) are ours, not the paper's.

Example:
    >>> build_prompt("a cat on a mat", [("a dog", "A puppy."), ("a car", "An automobile.")])
    'a dog => A puppy.\\na car => An automobile.\\na cat on a mat =>'
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from crossaug import ConfigError, MissingResource, Sample
from crossaug.augmentation import Augmentation
from crossaug.filter import Filter
from crossaug.recipe import Augment, apply_filters
from crossaug.rng import Seeder, draw_seed

from .hf import check_dtype

#: the bundled demonstrations (ours: 16 pairs in the paper's style)
DEFAULT_DEMONSTRATIONS = "builtin:laclip_demonstrations.jsonl"
#: the separator LaCLIP's prompts use between a caption and its rewrite
SEPARATOR = "=>"
#: put before the demonstrations for chat models and LLM clients (base LMs get none)
DEFAULT_INSTRUCTION = ("Rewrite the last image caption in the style of the examples: keep its key concepts "
                       "and meaning, vary the wording and sentence structure. Reply with the rewrite only.")


def load_demonstrations(path: str) -> list[tuple[str, str]]:
    """(caption, rewrite) pairs of a JSONL file (``{"caption": ..., "rewrite": ...}`` per line).

    ``builtin:NAME`` reads a file bundled with this package.
    """
    if path.startswith("builtin:"):
        res = resources.files("crossaug_text") / "data" / path.removeprefix("builtin:")
        if not res.is_file():
            raise MissingResource(f"bundled demonstrations {path!r}", "give a JSONL path instead")
        lines = res.read_text(encoding="utf-8").splitlines()
    else:
        p = Path(path).expanduser()
        if not p.is_file():
            raise MissingResource(f"LaCLIP demonstrations file {path!r}",
                                  'write a JSONL file with one {"caption": ..., "rewrite": ...} object per line')
        lines = p.read_text(encoding="utf-8").splitlines()
    pairs = []
    for no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            cap, rew = row["caption"], row["rewrite"]
        except (json.JSONDecodeError, KeyError, TypeError):
            raise ConfigError(f"demonstrations {path} line {no}: expected a JSON object with 'caption' and "
                              f"'rewrite'") from None
        if not (isinstance(cap, str) and isinstance(rew, str) and cap.strip() and rew.strip()):
            raise ConfigError(f"demonstrations {path} line {no}: caption and rewrite must be non-empty strings")
        if "\n" in cap or "\n" in rew:
            raise ConfigError(f"demonstrations {path} line {no}: caption and rewrite must be one line each")
        pairs.append((cap.strip(), rew.strip()))
    if not pairs:
        raise ConfigError(f"demonstrations {path} hold no (caption, rewrite) pairs")
    return pairs


def build_prompt(caption: str, demonstrations: Sequence[tuple[str, str]], instruction: str | None = None) -> str:
    """The in-context prompt: one ``caption => rewrite`` line per demonstration, then ``caption =>``."""
    lines = [f"{c} {SEPARATOR} {r}" for c, r in demonstrations]
    lines.append(f"{' '.join(caption.split())} {SEPARATOR}")
    body = "\n".join(lines)
    return f"{instruction}\n{body}" if instruction else body


class LaCLIPRewrite(Augmentation):
    """Rewrite a caption by in-context learning from ``k`` sampled (caption, rewrite) demonstrations.

    Args:
        demonstrations: JSONL file(s) of demonstration pairs (``builtin:...`` for the bundled
            one); with several, each output draws from one set (the recipe rotates them).
        k: demonstrations per prompt (paper: 3).
        model: transformers hub id or local directory of a causal LM (base or chat).
        client: name of a plugged-in LLM client (:mod:`crossaug_text.llm_clients`) instead.
        revision: model revision.
        instruction: one line put before the demonstrations for chat models and clients.
        chat: use the tokenizer's chat template (``None``: when it has one).
        do_sample, temperature, top_p, top_k: sampling settings (ours: sampling at temperature 0.9).
        max_new_tokens: rewrite length limit.
        batch_size: prompts per model call.
        device, dtype: where and in what precision the model runs (``auto``: the kernel's policy).
        field: the text field.
        max_input_tokens: longest prompt accepted (a longer one is a ``BadSample``).
    """

    name: ClassVar[str] = "text.laclip-rewrite"
    modalities: ClassVar[tuple[str, ...]] = ("text",)

    def __init__(self, demonstrations: str | Sequence[str] = DEFAULT_DEMONSTRATIONS, k: int = 3,
                 model: str = "huggyllama/llama-7b", client: str | None = None, revision: str | None = None,
                 instruction: str = DEFAULT_INSTRUCTION, chat: bool | None = None, do_sample: bool = True,
                 temperature: float = 0.9, top_p: float = 0.95, top_k: int = 0, max_new_tokens: int = 77,
                 batch_size: int = 8, device: str = "auto", dtype: str = "auto", field: str = "text",
                 max_input_tokens: int = 1024) -> None:
        paths = [demonstrations] if isinstance(demonstrations, str) else list(demonstrations)
        if not paths:
            raise ConfigError(f"{self.name}: demonstrations names no file")
        self.demonstrations: str | list[str] = demonstrations if isinstance(demonstrations, str) else paths
        self.sets = [load_demonstrations(str(p)) for p in paths]
        if not isinstance(k, int) or k < 1:
            raise ConfigError(f"{self.name}: k must be a positive int, got {k!r}")
        small = [(p, len(s)) for p, s in zip(paths, self.sets) if len(s) < k]
        if small:
            raise ConfigError(f"{self.name}: k={k} demonstrations per prompt, but {small[0][0]} holds only "
                              f"{small[0][1]}")
        if temperature <= 0 or not 0 < top_p <= 1 or top_k < 0:
            raise ConfigError(f"{self.name}: need temperature > 0, 0 < top_p <= 1, top_k >= 0")
        for n, v in (("max_new_tokens", max_new_tokens), ("batch_size", batch_size),
                     ("max_input_tokens", max_input_tokens)):
            if not isinstance(v, int) or v < 1:
                raise ConfigError(f"{self.name}: {n} must be a positive int, got {v!r}")
        self.k, self.model, self.client, self.revision = k, model, client, revision
        self.instruction = instruction
        self.chat = None if chat is None else bool(chat)
        self.do_sample, self.temperature, self.top_p, self.top_k = bool(do_sample), float(temperature), \
            float(top_p), int(top_k)
        self.max_new_tokens, self.batch_size, self.device = max_new_tokens, batch_size, device
        self.dtype = check_dtype(self.name, dtype)
        self.field, self.max_input_tokens = field, max_input_tokens

    @property
    def model_id(self) -> str | None:
        return f"client:{self.client}" if self.client else self.model

    @property
    def model_revision(self) -> str | None:
        return None if self.client else self.revision

    def options(self) -> dict[str, Any]:
        opts: dict[str, Any] = {"max_new_tokens": self.max_new_tokens}
        if self.do_sample:
            opts.update(do_sample=True, temperature=self.temperature, top_p=self.top_p, top_k=self.top_k)
        else:
            opts.update(do_sample=False, num_beams=1)
        return opts

    def draw(self, rng: np.random.Generator, demo_set: int | None = None) -> dict[str, Any]:
        """Seed, demonstration set and the ``k`` demonstration indices of one rewrite."""
        seed = draw_seed(rng)
        s = int(rng.integers(len(self.sets))) if demo_set is None else int(demo_set) % len(self.sets)
        idx = sorted(int(i) for i in rng.choice(len(self.sets[s]), size=self.k, replace=False))
        return {"seed": seed, "demo_set": s, "demos": idx}

    def _uses_instruction(self) -> bool:
        if self.client:
            return True
        from .hf import get_generator

        return get_generator(self.model, self.revision, self.device, self.dtype).uses_chat(self.chat)

    def prompt_for(self, text: str, draw: Mapping[str, Any]) -> str:
        demos = [self.sets[int(draw["demo_set"])][i] for i in draw["demos"]]
        return build_prompt(text, demos, self.instruction if self._uses_instruction() else None)

    def _generate(self, prompts: list[str], seeds: list[int], samples: Sequence[Sample]) -> list[str]:
        if self.client:
            from .llm_clients import get_client

            outs = list(get_client(self.client)(list(prompts), list(seeds), **self.options()))
            if len(outs) != len(prompts):
                raise RuntimeError(f"LLM client {self.client!r} returned {len(outs)} outputs for {len(prompts)}")
            return [str(o).split("\n", 1)[0].strip() for o in outs]
        from .hf import get_generator

        gen = get_generator(self.model, self.revision, self.device, self.dtype)
        self.runtime_device, self.runtime_dtype = gen.device, gen.dtype_name
        gen.check_lengths(prompts, samples, self.field, self.max_input_tokens)
        outs = gen.generate(prompts, seeds, self.options(), batch_size=self.batch_size,
                            max_input_tokens=self.max_input_tokens, chat=self.chat, stop=("\n",),
                            sample_ids=[s.id for s in samples], step=self.name, field=self.field)
        return [o.split("\n", 1)[0].strip() for o in outs]

    def rewrite_batch(self, samples: Sequence[Sample], rngs: Sequence[np.random.Generator],
                      demo_sets: Sequence[int | None] | None = None) -> list[Sample]:
        """One rewrite per sample, all prompts in batched model calls (``demo_sets``: set per output)."""
        if len(samples) != len(rngs):
            raise ValueError(f"got {len(samples)} samples but {len(rngs)} generators")
        for s in samples:
            self.check(s)
        draws = [self.draw(r, None if demo_sets is None else demo_sets[i]) for i, r in enumerate(rngs)]
        prompts = [self.prompt_for(s[self.field], d) for s, d in zip(samples, draws)]
        outs = self._generate(prompts, [d["seed"] for d in draws], samples)
        return [self._apply_recorded(s, {**d, "prompt": p, "output": o})
                for s, d, p, o in zip(samples, draws, prompts, outs, strict=True)]

    def sample_params(self, sample: Sample, rng: np.random.Generator) -> dict[str, Any]:
        d = self.draw(rng)
        prompt = self.prompt_for(sample[self.field], d)
        return {**d, "prompt": prompt, "output": self._generate([prompt], [d["seed"]], [sample])[0]}

    def apply(self, sample: Sample, params: Mapping[str, Any]) -> Sample:
        out = params.get("output")
        if out is None:
            if "seed" not in params or "demos" not in params:
                raise ConfigError(f"{self.name}: params need 'output', or 'seed', 'demo_set' and 'demos'")
            draw = {"seed": int(params["seed"]), "demo_set": int(params.get("demo_set", 0)),
                    "demos": list(params["demos"])}
            out = self._generate([self.prompt_for(sample[self.field], draw)], [draw["seed"]], [sample])[0]
        return sample.derive(None, **{self.field: str(out)})


class LaCLIPRecipe(Augment):
    """``n`` in-context-learning rewrites of each caption (LaCLIP).

    Output ``i`` of a caption uses demonstration set ``i mod len(sets)`` (the paper makes
    one rewrite per set). A rewrite that is empty or repeats the caption is kept as a
    rejected output with its reason. All prompts of a batch go to the model together.

    Args:
        demonstrations, k, model, client, revision, instruction, chat, do_sample, temperature,
        top_p, top_k, max_new_tokens, batch_size, device, dtype, field: see :class:`LaCLIPRewrite`.
        n: rewrites per caption (paper: 4).
        filters: optional filters (e.g. ``text.edit-distance``).
    """

    name: ClassVar[str] = "laclip"

    def __init__(self, demonstrations: str | Sequence[str] = DEFAULT_DEMONSTRATIONS, k: int = 3, n: int = 4,
                 model: str = "huggyllama/llama-7b", client: str | None = None, revision: str | None = None,
                 instruction: str = DEFAULT_INSTRUCTION, chat: bool | None = None, do_sample: bool = True,
                 temperature: float = 0.9, top_p: float = 0.95, top_k: int = 0, max_new_tokens: int = 77,
                 batch_size: int = 8, device: str = "auto", dtype: str = "auto", field: str = "text",
                 filters: Sequence[Filter] | None = None) -> None:
        aug = LaCLIPRewrite(demonstrations, k, model, client, revision, instruction, chat, do_sample, temperature,
                            top_p, top_k, max_new_tokens, batch_size, device, dtype, field)
        super().__init__(aug, n=n, filters=filters)
        self.demonstrations, self.k, self.model, self.client = aug.demonstrations, k, model, client
        self.revision, self.instruction, self.chat = revision, instruction, chat
        self.do_sample, self.temperature, self.top_p, self.top_k = do_sample, temperature, top_p, top_k
        self.max_new_tokens, self.batch_size, self.device, self.dtype = max_new_tokens, batch_size, device, dtype
        self.field = field

    def process(self, samples: Sequence[Sample], seeder: Seeder) -> list[list[Sample]]:
        aug: LaCLIPRewrite = self.augmentation  # type: ignore[assignment]
        for s in samples:
            aug.check(s)
        flat = [(s, i) for s in samples for i in range(self.n)]
        outs = aug.rewrite_batch([s for s, _ in flat], [seeder.rng("augment", s.id, i) for s, i in flat],
                                 [i for _, i in flat])
        groups: list[list[Sample]] = []
        for j, s in enumerate(samples):
            cands = []
            for i, o in enumerate(outs[j * self.n:(j + 1) * self.n]):
                o = o.replace(id=f"{s.id}~{i}")
                text = o[self.field].strip()
                if not text:
                    o = o.reject("the model wrote an empty rewrite")
                elif " ".join(text.lower().split()) == " ".join(s[self.field].lower().split()):
                    o = o.reject("the rewrite repeats the caption")
                cands.append(o)
            kept = [c for c in cands if c.kept]
            groups.append(apply_filters(self.filters, kept, [s] * len(kept)) + [c for c in cands if not c.kept])
        return groups


__all__ = ["LaCLIPRewrite", "LaCLIPRecipe", "build_prompt", "load_demonstrations", "DEFAULT_DEMONSTRATIONS",
           "DEFAULT_INSTRUCTION", "SEPARATOR"]
