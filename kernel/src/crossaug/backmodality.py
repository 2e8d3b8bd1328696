"""Back-Modality: ``X_aug = G(H(F(X)))``.

Send each sample to an intermediate modality with ``forward`` (F), augment it
there with ``augment`` (H), bring it back with ``backward`` (G), score the
results with ``filters``, drop duplicates, and keep a uniform random sample of
``keep`` of the up to ``l*m*n`` candidates (Back-Modality, Fig. 2 and Sec. 2.2:
``l`` outputs of F per input, ``m`` of H per F output, ``n`` of G per H output;
Sec. 3.1: k = 5 sampled). ``crossaug run --n N`` sets ``keep`` (:attr:`n_param`).
Inputs left with fewer than ``keep`` distinct passing candidates are run again
with new seed keys up to ``top_up`` more times.

When ``forward``/``augment``/``backward`` is a list, candidate ``i`` of a stage
uses member ``i mod len(list)`` (e.g. one TTS voice per candidate), each with its
own seed derived from the sample id and candidate index.

Example:
    >>> from crossaug import Sample
    >>> from crossaug.builtin.reverse import ReverseWords
    >>> from crossaug.builtin.typo import Typo
    >>> rm = BackModality(forward=ReverseWords(), augment=Typo(rate=0.0, field="text.reversed"),
    ...                   backward=ReverseWords(in_field="text.reversed", out_field="text"),
    ...                   fan_out=(1, 2, 1))
    >>> [c.fields["text"] for c in rm([Sample("s", {"text": "a b c"})])]
    ['a b c', 'a b c']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from .augmentation import Augmentation
from .errors import ConfigError
from .filter import Filter
from .recipe import Recipe, apply_filters, check_filters
from .rng import Seeder
from .sample import LineageStep, Sample
from .transform import Transform


def _as_list(value: Any, cls: type, what: str, allow_none: bool = False) -> list[Any]:
    if value is None:
        if allow_none:
            return []
        raise ConfigError(f"BackModality needs a {what}")
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    if not items and not allow_none:
        raise ConfigError(f"BackModality needs at least one {what}")
    for item in items:
        if not isinstance(item, cls):
            raise ConfigError(f"BackModality {what} must be a {cls.__name__}, got {type(item).__name__}")
    return items


class BackModality(Recipe):
    """The generic round trip through another modality.

    Args:
        forward: F, a transform (or list: one per candidate, cycled) into the
            intermediate modality.
        augment: H, an augmentation (or list, cycled) in the intermediate
            modality; ``None`` for none.
        backward: G, a transform (or list, cycled) back to the input modality.
        filters: filters scoring each candidate against its input.
        fan_out: ``(l, m, n)``; ``None`` entries default to the list lengths.
        keep: how many of the passing candidates to keep per input, sampled
            uniformly without replacement (``None``: keep all that pass).
        keep_intermediate: keep the intermediate payloads as fields of the output,
            for reports and inspection: F's output as ``<field>.forward`` (e.g. the
            synthesised speech, ``audio.forward``) and H's output as ``<field>``
            (the augmented speech, ``audio``).
        dedupe: reject a passing candidate whose :meth:`candidate_key` equals that of
            an earlier passing candidate of the same input (reason ``duplicate``).
        top_up: extra rounds (new seed keys) for inputs with fewer than ``keep``
            distinct passing candidates; 0 for none. Needs ``keep``.
    """

    name: ClassVar[str] = "back-modality"
    #: the recipe parameter that ``crossaug run --n N`` sets: k, the outputs kept per input
    n_param: ClassVar[str] = "keep"

    def __init__(self, forward: Transform | Sequence[Transform],
                 backward: Transform | Sequence[Transform],
                 augment: Augmentation | Sequence[Augmentation] | None = None,
                 filters: Sequence[Filter] | None = None,
                 fan_out: Sequence[int | None] | None = None,
                 keep: int | None = None,
                 keep_intermediate: bool = True, dedupe: bool = False, top_up: int = 0) -> None:
        self.forward = _as_list(forward, Transform, "forward transform")
        self.augment = _as_list(augment, Augmentation, "augmentation", allow_none=True)
        self.backward = _as_list(backward, Transform, "backward transform")
        self.filters = check_filters(filters, "BackModality")
        fan = list(fan_out) if fan_out is not None else [None, None, None]
        if len(fan) != 3:
            raise ConfigError(f"fan_out must be (l, m, n), got {fan_out!r}")
        defaults = (len(self.forward), max(1, len(self.augment)), len(self.backward))
        resolved = tuple(d if f is None else f for f, d in zip(fan, defaults))
        for v in resolved:
            if not isinstance(v, (int, np.integer)) or v < 1:
                raise ConfigError(f"fan_out entries must be positive integers, got {fan_out!r}")
        self.fan_out = [int(v) for v in resolved]
        if keep is not None and (not isinstance(keep, int) or keep < 1):
            raise ConfigError(f"keep must be a positive integer or None, got {keep!r}")
        self.keep = keep
        self.keep_intermediate = keep_intermediate
        if not isinstance(top_up, int) or top_up < 0:
            raise ConfigError(f"top_up must be a non-negative integer, got {top_up!r}")
        self.dedupe = bool(dedupe)
        self.top_up = top_up

    def get_params(self) -> dict[str, Any]:
        params = super().get_params()
        for key in ("forward", "augment", "backward"):
            items = params[key]
            params[key] = items[0] if len(items) == 1 else (items or None)
        return params

    def required_fields(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t.input_field for t in self.forward))

    # -- stages ---------------------------------------------------------
    @staticmethod
    def _run_transforms(transforms: list[Transform], items: list[tuple[Sample, int, int]]) -> list[Sample]:
        """Run ``items`` (sample, member index, seed) grouped by member, keeping order."""
        out: list[Sample | None] = [None] * len(items)
        for member, transform in enumerate(transforms):
            idx = [i for i, (_, m, _) in enumerate(items) if m == member]
            if not idx:
                continue
            results = transform([items[i][0] for i in idx], [items[i][2] for i in idx])
            for i, r in zip(idx, results):
                out[i] = r
        return out  # type: ignore[return-value]

    def candidate_key(self, candidate: Sample) -> Any:
        """What makes two candidates the same output (for ``dedupe``): the backward fields' values.

        Text is compared lower-cased without punctuation; recipes override this
        (back-speech compares spoken forms).
        """
        from .builtin.edit_distance import normalise_text

        key = []
        for t in self.backward:
            value = candidate.get(t.output_field)
            key.append(normalise_text(value) if isinstance(value, str) else repr(value))
        return tuple(key)

    def process(self, samples: Sequence[Sample], seeder: Seeder) -> list[list[Sample]]:
        self.check(samples)
        results = self._round(samples, seeder, 0)
        for cands in results:
            self._dedupe(cands)
        for r in range(1, self.top_up + 1 if self.keep else 1):
            short = [si for si, cands in enumerate(results) if sum(c.kept for c in cands) < (self.keep or 0)]
            if not short:
                break
            extra = self._round([samples[si] for si in short], seeder, r)
            for si, more in zip(short, extra):
                results[si] = self._dedupe(results[si] + more)
        return [self._keep(parent, cands, seeder) for parent, cands in zip(samples, results)]

    def _dedupe(self, cands: list[Sample]) -> list[Sample]:
        if not self.dedupe:
            return cands
        seen: dict[Any, str] = {}
        step = LineageStep(name="dedupe", kind="recipe", params={})
        for idx, c in enumerate(cands):
            if not c.kept:
                continue
            key = self.candidate_key(c)
            if key in seen:
                cands[idx] = c.reject(f"duplicate: same output as {seen[key]}", step)
            else:
                seen[key] = c.id
        return cands

    def _round(self, samples: Sequence[Sample], seeder: Seeder, rnd: int) -> list[list[Sample]]:
        """One pass of F, H, G and the filters; round ``r`` > 0 uses forward indices from ``r*l``."""
        l, m, n = self.fan_out  # noqa: E741 - the paper's l, m, n
        # F: l intermediate samples per input
        f_items = [(s, i % len(self.forward), seeder.integer_seed("F", s.id, i))
                   for s in samples for i in range(rnd * l, rnd * l + l)]
        f_keys = [(si, i) for si in range(len(samples)) for i in range(rnd * l, rnd * l + l)]
        f_out = self._run_transforms(self.forward, f_items)
        if self.keep_intermediate and self.augment:  # keep F's output as it was before H changes it
            f_out = [s.replace(fields={**s.fields, f"{t.output_field}.forward": s.fields[t.output_field]})
                     for s, t in zip(f_out, (self.forward[m] for _, m, _ in f_items))]
        # H: m augmented versions per intermediate
        h_out: list[Sample] = []
        h_keys: list[tuple[int, int, int]] = []
        for (si, i), mid in zip(f_keys, f_out):
            sid = samples[si].id
            for j in range(m):
                if self.augment:
                    aug = self.augment[j % len(self.augment)]
                    h_out.append(aug.augment(mid, seeder.rng("H", sid, i, j)))
                else:
                    h_out.append(mid)
                h_keys.append((si, i, j))
        # G: n back-translations per augmented intermediate
        g_items = [(h, k % len(self.backward), seeder.integer_seed("G", samples[si].id, i, j, k))
                   for h, (si, i, j) in zip(h_out, h_keys) for k in range(n)]
        g_keys = [(si, i, j, k) for (si, i, j) in h_keys for k in range(n)]
        skipped, reserve = self._preselect(samples, g_keys, seeder)
        run = [x for x, key in enumerate(g_keys) if key not in skipped]
        g_out: list[Sample] = [g_items[x][0] for x in range(len(g_items))]  # skipped: the H output, no G
        position = {key: x for x, key in enumerate(g_keys)}
        while run:
            for x, r in zip(run, self._run_transforms(self.backward, [g_items[x] for x in run])):
                g_out[x] = r
            run = []  # G rejected some of the chosen (e.g. nsfw): draw replacements from each reserve
            for order in reserve.values():
                short = self.keep - sum(g_out[position[key]].kept for key in order["chosen"])  # type: ignore[operator]
                more, order["rest"] = order["rest"][:max(0, short)], order["rest"][max(0, short):]
                order["chosen"] += more
                for key in more:
                    del skipped[key]
                    run.append(position[key])
        # assemble candidates per input
        per_input: list[list[Sample]] = [[] for _ in samples]
        g_keys_of: list[list[tuple[int, int, int, int]]] = [[] for _ in samples]
        keep_fields = {s.id: set(s.fields) for s in samples}
        out_fields = {t.output_field for t in self.backward}
        mid_fields = {t.output_field for t in self.forward}
        mid_fields |= {f"{f}.forward" for f in mid_fields}
        for cand, (si, i, j, k) in zip(g_out, g_keys):
            parent = samples[si]
            drop = tuple(f for f in cand.fields
                         if (f not in keep_fields[parent.id] and f not in out_fields
                             and (not self.keep_intermediate or f not in mid_fields))
                         or ((si, i, j, k) in skipped and f in out_fields))  # G never ran: no output
            fields = {f: v for f, v in cand.fields.items() if f not in drop}
            per_input[si].append(cand.replace(id=f"{parent.id}~{i}.{j}.{k}", fields=fields,
                                              parent_id=parent.id))
            g_keys_of[si].append((si, i, j, k))
        for si, cands in enumerate(per_input):
            for x, c in enumerate(cands):
                if skipped.get(g_keys_of[si][x]) is not None:
                    cands[x] = c.reject(*skipped[g_keys_of[si][x]])
        return [apply_filters(self.filters, cands, [parent] * len(cands))
                for parent, cands in zip(samples, per_input)]

    def _preselect(self, samples: Sequence[Sample], g_keys: list[tuple[int, int, int, int]], seeder: Seeder
                   ) -> tuple[dict[tuple[int, int, int, int], tuple[str, LineageStep]],
                              dict[int, dict[str, list[Any]]]]:
        """Candidates that keep-k would drop, decided before G runs (G is then skipped for them).

        Only when no filter and no ``dedupe`` follow G: :meth:`_keep`'s uniform draw of
        ``keep`` of the candidates (same RNG stream, same indices) is made up front, so with
        every candidate passing the chosen ones and the lineage of the dropped ones are
        exactly those of running G on all and sampling afterwards. The others wait in a
        reserve in random order: when G itself rejects a chosen candidate (a safety checker,
        a non-finite output), the next ones in the reserve are generated in its place, which
        keeps the result a uniform draw of ``keep`` of the candidates G lets pass.
        """
        skipped: dict[tuple[int, int, int, int], tuple[str, LineageStep]] = {}
        reserve: dict[int, dict[str, list[Any]]] = {}
        if self.keep is None or self.filters or self.dedupe:
            return skipped, reserve
        per: dict[int, list[tuple[int, int, int, int]]] = {}
        for key in g_keys:
            per.setdefault(key[0], []).append(key)
        for si, keys in per.items():
            if len(keys) <= self.keep:
                continue
            rng = seeder.rng("keep", samples[si].id)
            chosen = [int(i) for i in rng.choice(list(range(len(keys))), size=self.keep, replace=False)]
            rest = [x for x in range(len(keys)) if x not in set(chosen)]
            rest = [rest[int(x)] for x in seeder.rng("keep-reserve", samples[si].id).permutation(len(rest))]
            step = LineageStep(name="keep", kind="recipe", params={"keep": self.keep, "of": len(keys)})
            reason = f"not sampled: keep={self.keep} of {len(keys)} passing candidates"
            skipped.update({keys[x]: (reason, step) for x in rest})
            reserve[si] = {"chosen": [keys[x] for x in chosen], "rest": [keys[x] for x in rest]}
        return skipped, reserve

    def _keep(self, parent: Sample, cands: list[Sample], seeder: Seeder) -> list[Sample]:
        passing = [i for i, c in enumerate(cands) if c.kept]
        if self.keep is None or len(passing) <= self.keep:
            return cands
        rng = seeder.rng("keep", parent.id)
        chosen = set(int(i) for i in rng.choice(passing, size=self.keep, replace=False))
        step = LineageStep(name="keep", kind="recipe", params={"keep": self.keep, "of": len(passing)})
        return [c if (i in chosen or not c.kept) else
                c.reject(f"not sampled: keep={self.keep} of {len(passing)} passing candidates", step)
                for i, c in enumerate(cands)]


__all__ = ["BackModality"]
