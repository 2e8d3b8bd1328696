"""Plain-text rendering for the command line: tables that never cut a token, docstrings as text.

Tables are aligned columns; on a terminal narrower than a row, the row wraps at whole
tokens (a name or a ``pip install`` argument is never cut or ellipsised); written to a
file or a pipe (``width=None``), every row is one line whatever ``COLUMNS`` says.

Example:
    >>> print("\\n".join(table(["kind", "name"], [["transform", "audio.asr.espnet"]])))
    kind       name
    transform  audio.asr.espnet
    >>> plain_doc("Draws ``k`` of the :func:`~crossaug.rng.stream` outputs, shape [l, m, n].")
    'Draws k of the stream outputs, shape [l, m, n].'
"""

from __future__ import annotations

import re
import shutil
import sys
import textwrap
from collections.abc import Sequence
from typing import Any

#: a continuation line starts this far in when a row wraps
INDENT = 4
#: the fewest characters a table leaves for the cells that wrap
MIN_TAIL = 24


def width(stream: Any = None) -> int | None:
    """The terminal's width when ``stream`` (stdout) is a terminal, else ``None`` (no wrapping: plain lines)."""
    isatty = getattr(stream or sys.stdout, "isatty", None)
    return shutil.get_terminal_size().columns if isatty is not None and isatty() else None


def wrap(text: str, cols: int | None, indent: int = INDENT) -> list[str]:
    """``text`` as lines of at most ``cols`` characters, broken only between tokens."""
    if cols is None or len(text) <= cols:
        return [text]
    return textwrap.wrap(text, cols, subsequent_indent=" " * indent, break_long_words=False,
                         break_on_hyphens=False) or [text]


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], cols: int | None = None) -> list[str]:
    """Aligned columns; the cells that do not fit in ``cols`` wrap under the last aligned one, whole tokens only.

    As many leading columns stay aligned as leave :data:`MIN_TAIL` characters for the rest;
    when not even the first does, each row wraps whole, continuation lines indented by :data:`INDENT`.
    """
    all_rows = [list(headers), *[list(r) for r in rows]]
    widths = [max(len(r[i]) for r in all_rows) + 2 for i in range(len(headers) - 1)]
    keep = len(widths)
    while cols is not None and keep and sum(widths[:keep]) + MIN_TAIL > cols:
        keep -= 1
    lead = sum(widths[:keep])
    lines: list[str] = []
    for r in all_rows:
        head = "".join(f"{c:<{w}}" for c, w in zip(r[:keep], widths))
        tail = "  ".join(c for c in r[keep:] if c) if keep < len(widths) else r[-1]
        if cols is None or len(head + tail) <= cols:
            lines.append((head + tail).rstrip())
        elif keep:
            body = textwrap.wrap(tail, cols - lead, break_long_words=False, break_on_hyphens=False) or [""]
            lines += [(head + body[0]).rstrip(), *(" " * lead + b for b in body[1:])]
        else:
            lines.extend(wrap("  ".join(c for c in r if c), cols))
    return lines


_ROLE = re.compile(r":[\w:.-]+:`~?(?:[^`<]*<)?([^`>]+)>?`")  # :func:`~a.b` / :ref:`text <target>`
_LITERAL = re.compile(r"``(.+?)``|(?<![\w`])`([^`\n]+)`(?![\w`])")
_LINK = re.compile(r"\[([^\]\n]+)\]\(([^)\s]+)\)|`([^`<]+?)\s*<([^>`]+)>`_{1,2}")
_EMPH = re.compile(r"(?<![\w*])(\*\*|\*)(?=\S)(.+?)(?<=\S)\1(?![\w*])")


def _role(match: re.Match[str]) -> str:
    target = match.group(1).strip()
    return target.rsplit(".", 1)[-1] if match.group(0).split("`", 1)[1].startswith("~") else target


def plain_doc(text: str) -> str:
    """reST/Markdown inline markup as plain text: roles, literals, links and emphasis lose their marks.

    Square brackets and everything else are kept verbatim (print the result without markup).
    """
    text = _ROLE.sub(_role, text)
    text = _LINK.sub(lambda m: f"{m.group(1)} ({m.group(2)})" if m.group(1) else f"{m.group(3)} ({m.group(4)})",
                     text)
    text = _LITERAL.sub(lambda m: m.group(1) if m.group(1) is not None else m.group(2), text)
    text = _EMPH.sub(lambda m: m.group(2), text)
    return re.sub(r"::$", ":", text, flags=re.M)


__all__ = ["width", "wrap", "table", "plain_doc", "INDENT", "MIN_TAIL"]
