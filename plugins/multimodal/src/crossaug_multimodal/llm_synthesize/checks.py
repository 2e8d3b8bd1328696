"""Format checks of a teacher's output against its template, and the conversation turns it becomes.

JSON replies are read from the first ``[`` or ``{`` (a Markdown code fence around them is
allowed; text after the JSON value is ignored), then checked: the shape (a single object
where a list is expected counts as a list of one), each required key a non-empty string
(numbers and lists are written as JSON), ``allowed`` values (a tool name among the
template's tools) and ``matches`` (an answer equal to the known one, compared case- and
whitespace-insensitively). Text replies need ``min_words`` words. A failed check raises
:class:`MalformedOutput` with the reason.

Example:
    >>> extract_json('Sure! ```json\\n[{"question": "What?", "answer": "A cat."}]\\n```')
    [{'question': 'What?', 'answer': 'A cat.'}]
    >>> normalise("  The CAT\\n sits. ")
    'the cat sits.'
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Mapping
from typing import Any

from .templates import SynthesisTemplate


class MalformedOutput(ValueError):
    """The teacher's output fails its template's format check (the message is the reason)."""


def normalise(text: str) -> str:
    """Lower case, whitespace collapsed: what duplicates and answer matches compare."""
    return " ".join(str(text).lower().split())


def extract_json(text: str) -> Any:
    """The first JSON value in ``text`` (inside a code fence if there is one)."""
    t = text.strip()
    fence = re.search(r"```(?:json)?\s*(.*?)```", t, re.S)
    if fence:
        t = fence.group(1).strip()
    starts = [i for i in (t.find("["), t.find("{")) if i >= 0]
    if not starts:
        raise MalformedOutput("not JSON: no '[' or '{' in the output")
    try:
        value, _ = json.JSONDecoder().raw_decode(t[min(starts):])
    except json.JSONDecodeError as exc:
        raise MalformedOutput(f"not JSON: {exc.msg} at char {exc.pos}") from None
    return value


def _as_text(v: Any) -> str:
    return v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)


def check_output(template: SynthesisTemplate, text: str, context: Mapping[str, Any]) -> list[dict[str, str]]:
    """The output's items (one per conversation turn) if it passes ``template``'s check."""
    spec = template.output
    if spec["format"] == "text":
        words = len(text.split())
        need = int(spec.get("min_words", 1))
        if words < need:
            raise MalformedOutput(f"{words} words; template {template.name!r} wants at least {need}")
        return [{"text": " ".join(text.split())}]
    value = extract_json(text)
    if spec["shape"] == "list" and isinstance(value, dict):
        value = [value]
    if spec["shape"] == "object" and isinstance(value, list) and len(value) == 1:
        value = value[0]
    items = value if spec["shape"] == "list" else [value]
    if not isinstance(items, list) or not all(isinstance(x, dict) for x in items):
        raise MalformedOutput(f"expected a JSON {'list of objects' if spec['shape'] == 'list' else 'object'}, "
                              f"got {type(value).__name__}")
    need = int(spec.get("min_items", 1))
    if len(items) < need:
        raise MalformedOutput(f"{len(items)} items; template {template.name!r} wants at least {need}")
    tools = {normalise(t["name"]): t["name"] for t in template.tools}
    out = []
    for n, item in enumerate(items, 1):
        row = {}
        for key in spec["keys"]:
            v = item.get(key)
            if v is None or not _as_text(v).strip() or isinstance(v, bool):
                raise MalformedOutput(f"item {n}: missing or empty {key!r}")
            row[key] = " ".join(_as_text(v).split()) if isinstance(v, str) else _as_text(v)
        for key in dict(spec.get("allowed") or {}):
            if normalise(row[key]) not in tools:
                raise MalformedOutput(f"item {n}: {key} {row[key]!r} is not one of the template's tools")
            row[key] = tools[normalise(row[key])]
        for key, ctx in dict(spec.get("matches") or {}).items():
            want = context.get(ctx)
            if want is not None and normalise(row[key]).rstrip(".") != normalise(want).rstrip("."):
                raise MalformedOutput(f"item {n}: {key} {row[key]!r} differs from the known {ctx} {want!r}")
        out.append(row)
    return out


def to_turns(template: SynthesisTemplate, items: list[dict[str, str]], context: Mapping[str, Any],
             image_token: str | None = "<image>") -> list[dict[str, str]]:
    """LLaVA-style turns ``[{"from": "human", "value": ...}, {"from": "gpt", ...}, ...]``.

    ``image_token`` (and a newline) starts the first human turn; ``None`` for none.
    """
    base = {k: "" if v is None else str(v) for k, v in context.items()}
    turns = []
    for item in items:
        values = {**base, **item}
        for who in ("human", "gpt"):
            turns.append({"from": who, "value": string.Template(template.turns[who]).substitute(values).strip()})
    if image_token and turns:
        turns[0]["value"] = f"{image_token}\n{turns[0]['value']}"
    return turns


__all__ = ["MalformedOutput", "check_output", "extract_json", "normalise", "to_turns"]
