"""``filter.adaptive-threshold``: SLUMA's self-adaptive threshold for any recipe's candidates.

Each live candidate is one step of the EMA of :mod:`.ema_threshold`: its confidence
updates the threshold, then is compared with it (kept when ``c_t >= tau_t``). The
confidence comes from the candidate itself (``meta:KEY``, ``field:NAME``, or
``lineage:STEP``: the score an earlier filter recorded) or from a model filter named
by its registry name (``model_filter="image.clip-score"``: its score is the confidence,
its own pass/fail is not used). Lineage records the confidence as the score, and the
threshold at decision time, the one before the update, the step number and ``alpha``.

Where the state lives (``scope``):

* ``"run"`` (default, the paper's): one EMA over the whole run, candidates taken in input
  order (then candidate order). The state lives on the filter instance, so it needs every
  input to pass through one process in order: the serial executor (``--workers 1``, any
  batch size). Called from a worker process, a pool thread or a Ray actor it stops with
  a ``ConfigError`` rather than give verdicts that depend on the worker count.
* ``"input"``: the EMA restarts from ``initial`` for each input and runs over its
  candidates: verdicts are the same for any worker count and batch size, and on resume.

Each candidate's verdict is logged by id, so scoring the same candidate again (the
runner's isolation of a failing batch, a contract test's second pass) returns the same
verdict and does not move the EMA twice.

Example:
    >>> from crossaug import Sample
    >>> f = AdaptiveThreshold(confidence="meta:confidence", alpha=0.5)
    >>> p = Sample("p", {"text": "x"})
    >>> cands = [Sample(f"p~{i}", {"text": "x"}, meta={"confidence": c}) for i, c in enumerate([0.4, 0.1, 0.5])]
    >>> [c.kept for c in f(cands, [p] * 3)]
    [True, False, True]
    >>> f(cands, [p] * 3)[1].lineage[-1].params["threshold"]
    0.15
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from crossaug import BadSample, ConfigError, Filter, Sample

from .ema_threshold import ema_step

SCOPES = ("run", "input")
SOURCES = ("meta", "field", "lineage")


def one_ordered_process() -> str | None:
    """``None`` when this call runs where one run's inputs arrive in order, else where it runs."""
    import multiprocessing
    import threading

    if multiprocessing.parent_process() is not None:
        return "a worker process"
    if threading.current_thread() is not threading.main_thread():
        return "a pool thread"
    ray = sys.modules.get("ray")
    try:
        if ray is not None and ray.is_initialized() and ray.get_runtime_context().get_actor_id():
            return "a Ray actor"
    except Exception:  # noqa: BLE001 - a Ray without the runtime context API: not an actor we know of
        return None
    return None


class AdaptiveThreshold(Filter):
    """Keep candidates whose confidence reaches a running EMA of the confidences so far.

    Args:
        confidence: where each candidate's confidence is read: ``meta:KEY``, ``field:NAME``
            or ``lineage:STEP`` (the score of the last lineage step named STEP); ``None``
            with ``model_filter``.
        model_filter: registry name of a filter whose score is the confidence (e.g.
            ``image.clip-score``, the image-text agreement SLUMA scores generations with).
        model_filter_params: its parameters.
        alpha: EMA momentum (ours 0.999, FreeMatch's; the SLUMA notes lack the value).
        initial: the threshold before the first candidate (ours 0.0: keep everything at
            first, as SLUMA does early in training; FreeMatch starts at 1/C).
        scope: ``run`` (one EMA over the run in input order) or ``input`` (one per input).
    """

    name: ClassVar[str] = "filter.adaptive-threshold"

    def __init__(self, confidence: str | None = None, model_filter: str | None = None,
                 model_filter_params: Mapping[str, Any] | None = None, alpha: float = 0.999,
                 initial: float = 0.0, scope: str = "run") -> None:
        if (confidence is None) == (model_filter is None):
            raise ConfigError(f"{self.name}: give exactly one of confidence (meta:KEY, field:NAME, lineage:STEP) "
                              f"and model_filter (a registered filter name); got {confidence!r}, {model_filter!r}")
        if confidence is not None:
            kind, _, key = str(confidence).partition(":")
            if kind not in SOURCES or not key:
                raise ConfigError(f"{self.name}: confidence must be meta:KEY, field:NAME or lineage:STEP, "
                                  f"got {confidence!r}")
        if not isinstance(alpha, (int, float)) or isinstance(alpha, bool) or not 0.0 <= float(alpha) <= 1.0:
            raise ConfigError(f"{self.name}: alpha must lie in [0, 1], got {alpha!r}")
        if not isinstance(initial, (int, float)) or isinstance(initial, bool) or not math.isfinite(initial):
            raise ConfigError(f"{self.name}: initial must be a finite number, got {initial!r}")
        if scope not in SCOPES:
            raise ConfigError(f"{self.name}: scope must be one of {', '.join(SCOPES)}, got {scope!r}")
        if model_filter_params is not None and not isinstance(model_filter_params, Mapping):
            raise ConfigError(f"{self.name}: model_filter_params must be a mapping")
        self.confidence = confidence
        self.model_filter = model_filter
        self.model_filter_params = dict(model_filter_params or {})
        self.alpha = float(alpha)
        self.initial = float(initial)
        self.scope = scope
        self._scorer: Filter | None = None
        if model_filter is not None:
            from crossaug.registry import create_named

            self._scorer = create_named("filter", model_filter, **self.model_filter_params)
        self.reset()

    def reset(self) -> None:
        """Forget the state: the next candidate is step 1 again, from ``initial``."""
        self._tau: dict[str, float] = {}  # scope key ("" for the run, else the parent id) -> threshold
        self._steps: dict[str, int] = {}
        self._log: dict[str, tuple[float, float, float, int, bool]] = {}  # id -> (c, before, after, step, kept)

    @property
    def model_id(self) -> str | None:
        return self._scorer.model_id if self._scorer is not None else None

    @property
    def model_revision(self) -> str | None:
        return self._scorer.model_revision if self._scorer is not None else None

    def threshold(self, parent_id: str | None = None) -> float:
        """The current threshold (of ``parent_id``'s EMA under ``scope="input"``)."""
        return self._tau.get("" if self.scope == "run" else str(parent_id), self.initial)

    # -- confidences ---------------------------------------------------------------
    def confidences(self, candidates: Sequence[Sample], parents: Sequence[Sample]) -> list[float]:
        """Each candidate's confidence (a finite number), from ``confidence`` or ``model_filter``."""
        if self._scorer is not None:
            raw = list(self._scorer.score_batch(candidates, parents))
            where, fieldname = f"model filter {self.model_filter}", None
        else:
            kind, _, key = str(self.confidence).partition(":")
            raw, fieldname = [], key if kind == "field" else None
            for c in candidates:
                if kind == "meta":
                    raw.append(c.meta.get(key))
                elif kind == "field":
                    raw.append(c.fields.get(key))
                else:
                    raw.append(next((s.score for s in reversed(c.lineage) if s.name == key and s.score is not None),
                                    None))
            where = self.confidence
        out = []
        for c, v in zip(candidates, raw):
            if (isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(float(v))):
                raise BadSample(f"{self.name}: no finite confidence from {where} (got {v!r})", sample_id=c.id,
                                field=fieldname)
            out.append(float(v))
        return out

    def score_batch(self, candidates: Sequence[Sample], parents: Sequence[Sample]) -> list[float]:
        return self.confidences(candidates, parents)

    # -- verdicts ----------------------------------------------------------------
    def __call__(self, candidates: Sequence[Sample], parents: Sequence[Sample]) -> list[Sample]:
        """Score, update the EMA candidate by candidate in order, and keep those at or above it."""
        if len(candidates) != len(parents):
            raise ValueError(f"got {len(candidates)} candidates but {len(parents)} parents")
        for c in list(candidates) + list(parents):
            if not isinstance(c, Sample):
                raise BadSample(f"{self.name}: expected Samples, got {type(c).__name__}")
        if self.scope == "run":
            where = one_ordered_process()
            if where is not None:
                raise ConfigError(f"{self.name}: scope='run' keeps one threshold over the whole run in input "
                                  f"order, but this runs in {where}, which sees only part of the inputs; run "
                                  "with --workers 1 (the serial executor) or use scope='input'")
        live = [i for i, c in enumerate(candidates) if c.kept and c.id not in self._log]
        scores = self.confidences([candidates[i] for i in live], [parents[i] for i in live]) if live else []
        for i, c in zip(live, scores):
            key = "" if self.scope == "run" else parents[i].id
            before = self._tau.get(key, self.initial)
            after = ema_step(before, c, self.alpha)
            step = self._steps.get(key, 0) + 1
            self._tau[key], self._steps[key] = after, step
            self._log[candidates[i].id] = (c, before, after, step, c >= after)
        out = list(candidates)
        for i, cand in enumerate(candidates):
            if not cand.kept or cand.id not in self._log:
                continue
            c, before, after, step, ok = self._log[cand.id]
            params = {"threshold": round(after, 6), "previous_threshold": round(before, 6), "step": step,
                      "alpha": self.alpha, "scope": self.scope,
                      "confidence": self.confidence or f"model_filter:{self.model_filter}"}
            reason = None if ok else (f"{self.name}: confidence {c:.4f} < adaptive threshold {after:.4f} "
                                      f"(EMA step {step}, alpha {self.alpha})")
            lstep = self.lineage_step(params, score=c, kept=ok, reason=reason)
            out[i] = cand.replace(lineage=cand.lineage + (lstep,)) if ok else cand.reject(reason or "", lstep)
        return out

    def get_params(self) -> dict[str, Any]:
        return {"confidence": self.confidence, "model_filter": self.model_filter,
                "model_filter_params": self.model_filter_params, "alpha": self.alpha, "initial": self.initial,
                "scope": self.scope}


__all__ = ["AdaptiveThreshold", "one_ordered_process", "SCOPES"]
