"""The one exception hierarchy of crossaug.

Plugins raise these (never bare ``ValueError``) so the runner's error policy can
record them against the sample that caused them.

Example:
    >>> err = BadSample("sample rate 0 Hz; expected > 0", sample_id="s17", field="audio")
    >>> str(err)
    "sample 's17' field 'audio': sample rate 0 Hz; expected > 0"
"""

from __future__ import annotations


class CrossaugError(Exception):
    """Base class of every error crossaug raises on purpose."""


class BadSample(CrossaugError):
    """A sample (or one of its fields) cannot be processed.

    Args:
        reason: what is wrong and, where useful, what was expected.
        sample_id: id of the offending sample, if known.
        field: the field (``text``, ``audio``, ``image`` ...) at fault, if any.
        source: a file the value came from, if any.
    """

    def __init__(
        self,
        reason: str,
        *,
        sample_id: str | None = None,
        field: str | None = None,
        source: str | None = None,
    ) -> None:
        self.reason = reason
        self.sample_id = sample_id
        self.field = field
        self.source = source
        super().__init__(self._render())

    def _render(self) -> str:
        where = []
        if self.sample_id is not None:
            where.append(f"sample {self.sample_id!r}")
        if self.field is not None:
            where.append(f"field {self.field!r}")
        text = " ".join(where)
        text = f"{text}: {self.reason}" if text else self.reason
        if self.source:
            text += f" (file {self.source})"
        return text

    def located(self, *, sample_id: str | None = None, field: str | None = None,
                source: str | None = None) -> BadSample:
        """Return a copy with missing location details filled in."""
        return BadSample(
            self.reason,
            sample_id=self.sample_id if self.sample_id is not None else sample_id,
            field=self.field if self.field is not None else field,
            source=self.source or source,
        )


class MissingDependency(CrossaugError):
    """An optional Python package or system program is not installed.

    The message is the command that installs it, e.g.
    ``MissingDependency("pip install 'crossaug-audio[transformers]'")``.
    """

    def __init__(self, install_hint: str, *, what: str | None = None) -> None:
        self.install_hint = install_hint
        self.what = what
        msg = f"{what} is not available; install it with: {install_hint}" if what else install_hint
        super().__init__(msg)


class MissingResource(CrossaugError):
    """Model weights, a corpus or a lexicon cannot be found offline.

    Args:
        what: the resource (``"WordNet 3.0"``, ``"model 'facebook/wav2vec2-base-960h'"``).
        hint: the command or download that provides it.
    """

    def __init__(self, what: str, hint: str) -> None:
        self.what = what
        self.hint = hint
        super().__init__(f"{what} not found; {hint}")


class PluginLoadError(CrossaugError):
    """A plugin's entry point failed to import or is not the expected kind."""


class ConfigError(CrossaugError):
    """A recipe, parameter or configuration file is invalid."""


__all__ = [
    "CrossaugError",
    "BadSample",
    "MissingDependency",
    "MissingResource",
    "PluginLoadError",
    "ConfigError",
]
