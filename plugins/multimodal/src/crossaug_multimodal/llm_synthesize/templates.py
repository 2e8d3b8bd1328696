"""Synthesis templates: the data files that tell a teacher LLM what training samples to write.

A template is a YAML (or JSON) mapping:

* ``name``, ``source`` (the paper it follows), ``needs`` (context it cannot do without:
  ``captions``, ``boxes``, ``label``, ``question``, ``answer``, ``choices``);
* ``prompt``: the teacher's prompt, with ``${captions}``, ``${boxes}``, ``${label}``,
  ``${question}``, ``${answer}``, ``${choices}``, ``${tools}`` and ``${instruction}``
  (``string.Template`` syntax, so JSON examples need no escaping);
* ``output``: the format check: ``format: json`` with ``shape`` (``list`` or ``object``),
  required string ``keys``, ``min_items``, ``allowed`` (an item value must be a name in a
  context list, e.g. ``tool: tools``) and ``matches`` (an item value must equal a context
  value, e.g. ``answer: answer``); or ``format: text`` with ``min_words``;
* ``turns``: how each output item becomes a (human, gpt) conversation turn, with the
  item's keys (``${text}`` for text output) and the context;
* optional ``instructions`` (one drawn per output as ``${instruction}``) and ``tools``
  (``name``, ``description``, ``arguments``; listed as ``${tools}``).

The bundled templates (``conversation``, ``detailed_description``, ``complex_reasoning``
after LLaVA, ``tool_use`` after GPT4Tools, ``cot_rationale`` after T-SciQ) ship as package
data; a user passes a file path instead of a name.

Example:
    >>> t = load_templates("complex_reasoning")[0]
    >>> t.name, t.output["format"], t.needs
    ('complex_reasoning', 'json', ('captions', 'boxes'))
    >>> sorted(BUILTIN)[:2]
    ['complex_reasoning', 'conversation']
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from crossaug import ConfigError, MissingResource

#: context every prompt may use
CONTEXT_KEYS = ("captions", "boxes", "label", "question", "answer", "choices", "tools", "instruction")
#: context a template may declare it needs
NEEDABLE = ("captions", "boxes", "label", "question", "answer", "choices")
FORMATS = ("json", "text")

_DIR = "templates"
BUILTIN = tuple(sorted(p.name.removesuffix(".yaml") for p in (resources.files(__package__) / _DIR).iterdir()
                       if p.name.endswith(".yaml")))


def placeholders(text: str) -> set[str]:
    """Names used as ``$name`` / ``${name}`` in ``text``."""
    out = set()
    for m in string.Template.pattern.finditer(text):
        name = m.group("named") or m.group("braced")
        if name:
            out.add(name)
        elif m.group("invalid") is not None:
            raise ValueError(f"invalid placeholder at char {m.start('invalid')}: use $$ for a literal $")
    return out


@dataclass(frozen=True)
class SynthesisTemplate:
    """One loaded template (see the module docstring for the fields)."""

    name: str
    prompt: str
    output: Mapping[str, Any]
    turns: Mapping[str, str]
    needs: tuple[str, ...] = ()
    source: str = ""
    instructions: tuple[str, ...] = ()
    tools: tuple[Mapping[str, str], ...] = ()
    origin: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    def item_keys(self) -> tuple[str, ...]:
        """Keys an output item holds: the JSON ``keys``, or ``text`` for text output."""
        return tuple(self.output.get("keys", ())) if self.output["format"] == "json" else ("text",)

    def tools_text(self) -> str:
        """The tools as ``- name: description (arguments: ...)`` lines."""
        return "\n".join(f"- {t['name']}: {t.get('description', '')}" +
                         (f" (arguments: {t['arguments']})" if t.get("arguments") else "") for t in self.tools)

    def render(self, context: Mapping[str, str]) -> str:
        """The teacher's prompt for ``context`` (missing keys render empty)."""
        full = {k: "" for k in CONTEXT_KEYS}
        full.update({k: v for k, v in context.items() if v is not None})
        full["tools"] = self.tools_text()
        return string.Template(self.prompt).substitute(full).strip()


def _check(raw: Any, where: str) -> SynthesisTemplate:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"template {where}: expected a mapping, got {type(raw).__name__}")
    for key in ("name", "prompt", "output", "turns"):
        if key not in raw:
            raise ConfigError(f"template {where}: missing {key!r}")
    name, prompt, output, turns = raw["name"], raw["prompt"], raw["output"], raw["turns"]
    where = f"{where} ({name})"
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise ConfigError(f"template {where}: name must be a word of letters, digits, '_', '.', '-'")
    if not isinstance(prompt, str) or not prompt.strip():
        raise ConfigError(f"template {where}: prompt must be a non-empty string")
    if not isinstance(output, Mapping) or output.get("format") not in FORMATS:
        raise ConfigError(f"template {where}: output.format must be one of {', '.join(FORMATS)}")
    if output["format"] == "json":
        if output.get("shape") not in ("list", "object"):
            raise ConfigError(f"template {where}: output.shape must be 'list' or 'object'")
        keys = output.get("keys")
        if not isinstance(keys, list) or not keys or not all(isinstance(k, str) and k for k in keys):
            raise ConfigError(f"template {where}: output.keys must be a non-empty list of names")
    needs = tuple(raw.get("needs") or ())
    bad = [n for n in needs if n not in NEEDABLE]
    if bad:
        raise ConfigError(f"template {where}: needs {bad} not among {', '.join(NEEDABLE)}")
    tools = tuple(raw.get("tools") or ())
    if not all(isinstance(t, Mapping) and isinstance(t.get("name"), str) and t["name"].strip() for t in tools):
        raise ConfigError(f"template {where}: each tool needs a name")
    instructions = tuple(raw.get("instructions") or ())
    if not all(isinstance(i, str) and i.strip() for i in instructions):
        raise ConfigError(f"template {where}: instructions must be non-empty strings")
    if not isinstance(turns, Mapping) or not all(isinstance(turns.get(k), str) for k in ("human", "gpt")):
        raise ConfigError(f"template {where}: turns needs 'human' and 'gpt' strings")
    tpl = SynthesisTemplate(name=name, prompt=prompt, output=dict(output), turns={"human": turns["human"],
                            "gpt": turns["gpt"]}, needs=needs, source=str(raw.get("source", "")),
                            instructions=instructions, tools=tools, origin=where,
                            extra={k: v for k, v in raw.items() if k not in {"name", "prompt", "output", "turns",
                                                                            "needs", "source", "instructions",
                                                                            "tools"}})
    try:
        used = placeholders(prompt)
        turn_used = placeholders(tpl.turns["human"]) | placeholders(tpl.turns["gpt"])
    except ValueError as exc:
        raise ConfigError(f"template {where}: {exc}") from None
    unknown = used - set(CONTEXT_KEYS)
    if unknown:
        raise ConfigError(f"template {where}: prompt uses unknown placeholder(s) {sorted(unknown)}; "
                          f"known: {', '.join(CONTEXT_KEYS)}")
    unknown = turn_used - set(CONTEXT_KEYS) - set(tpl.item_keys())
    if unknown:
        raise ConfigError(f"template {where}: turns use unknown placeholder(s) {sorted(unknown)}")
    if "instruction" in used | (turn_used - set(tpl.item_keys())) and not instructions:
        raise ConfigError(f"template {where}: uses ${{instruction}} but lists no instructions")
    for key, ctx in dict(output.get("allowed") or {}).items():
        if ctx != "tools" or not tools:
            raise ConfigError(f"template {where}: output.allowed.{key} must be 'tools' and the template must "
                              "list tools")
    for key, ctx in dict(output.get("matches") or {}).items():
        if ctx not in NEEDABLE or key not in tpl.item_keys():
            raise ConfigError(f"template {where}: output.matches.{key}: {ctx!r} must be a context key and {key!r} "
                              "an output key")
    return tpl


def _read(text: str, where: str) -> Any:
    import yaml

    try:
        return json.loads(text) if where.endswith(".json") else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"template file {where}: cannot parse: {exc}") from None


def load_templates(spec: str) -> list[SynthesisTemplate]:
    """The template(s) of ``spec``: a bundled name (:data:`BUILTIN`) or a YAML/JSON file.

    A file holds one template mapping or a list of them.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ConfigError(f"expected a template name or file, got {spec!r}")
    if spec in BUILTIN:
        res = resources.files(__package__) / _DIR / f"{spec}.yaml"
        raw = _read(res.read_text(encoding="utf-8"), f"builtin:{spec}.yaml")
        return [_check(raw, f"builtin:{spec}")]
    path = Path(spec).expanduser()
    if not path.is_file():
        if "/" not in spec and "." not in spec:
            import difflib

            close = difflib.get_close_matches(spec, BUILTIN, n=2)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise ConfigError(f"unknown synthesis template {spec!r}{hint} (bundled: {', '.join(BUILTIN)}; or give "
                              "a YAML file)")
        raise MissingResource(f"synthesis template file {spec!r}", "write a YAML file (see docs/llm-synthesize.md)")
    raw = _read(path.read_text(encoding="utf-8"), str(path))
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise ConfigError(f"template file {path} holds no templates")
    return [_check(item, f"{path}[{i}]" if isinstance(raw, list) else str(path)) for i, item in enumerate(items)]


def load_all(specs: Sequence[str]) -> list[SynthesisTemplate]:
    """All templates of ``specs``; two with one name are a ``ConfigError``."""
    out: list[SynthesisTemplate] = []
    for spec in specs:
        out.extend(load_templates(spec))
    names = [t.name for t in out]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ConfigError(f"templates named {dup} appear twice")
    if not out:
        raise ConfigError("no synthesis templates given")
    return out


__all__ = ["SynthesisTemplate", "load_templates", "load_all", "placeholders", "BUILTIN", "CONTEXT_KEYS",
           "NEEDABLE"]
