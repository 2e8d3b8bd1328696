"""A self-contained HTML page of a run: summary, filter statistics and a gallery.

Each field is shown through its modality's ``render`` (text with the words that
changed from the parent marked, images as thumbnails, audio as players), so
third-party modalities appear too.

Example:
    >>> word_diff("the cat sat", "the dog sat")
    'the <del>cat</del> <ins>dog</ins> sat'
"""

from __future__ import annotations

import difflib
import html
import json
from collections import OrderedDict
from pathlib import Path
from typing import Any

from .runner.manifest import read_manifest
from .sample import modality_of

RESERVED = {"id", "parent_id", "recipe", "kept", "reason", "label", "lineage", "parent", "meta", "source"}

_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>crossaug report: {{ title }}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
.parent{border:1px solid #ddd;border-radius:6px;margin:1em 0;padding:.5em 1em}
.kept{background:#eef9ee}.rejected{background:#fbeeee;color:#555}
del{background:#f8c9c9;text-decoration:line-through}ins{background:#c9f0c9;text-decoration:none}
.reason{font-size:.85em;color:#933}.id{font-family:monospace;font-size:.85em;color:#666}
details{font-size:.85em}
</style></head><body>
<h1>crossaug report: {{ title }}</h1>
<h2>Summary</h2>
<table>{% for k, v in overview %}<tr><th>{{ k }}</th><td>{{ v }}</td></tr>{% endfor %}</table>
{% if filters %}<h2>Filters</h2><table><tr><th>filter</th><th>scored</th><th>rejected</th><th>kept ratio</th><th>mean score</th></tr>
{% for name, f in filters.items() %}<tr><td>{{ name }}</td><td>{{ f.scored }}</td><td>{{ f.rejected }}</td><td>{{ f.kept_ratio }}</td><td>{{ f.mean_score }}</td></tr>{% endfor %}</table>{% endif %}
{% if reasons %}<h2>Rejection reasons</h2><table>{% for k, v in reasons.items() %}<tr><td>{{ k }}</td><td>{{ v }}</td></tr>{% endfor %}</table>{% endif %}
<h2>Gallery</h2><p>{{ shown }} of {{ total }} inputs shown.</p>
{% for p in parents %}<div class="parent" id="p-{{ loop.index }}"><div class="id">input {{ p.id }}{% if p.label is not none %} · label {{ p.label }}{% endif %}</div>
{% for name, value in p.fields %}<div><b>{{ name }}</b>: {{ value | safe }}</div>{% endfor %}
<table>{% for c in p.children %}<tr class="{{ 'kept' if c.kept else 'rejected' }}"><td class="id">{{ c.id }}<br>{{ 'kept' if c.kept else 'rejected' }}</td>
<td>{% for name, value in c.fields %}<div><b>{{ name }}</b>: {{ value | safe }}</div>{% endfor %}
{% if c.reason %}<div class="reason">{{ c.reason }}</div>{% endif %}
<details><summary>lineage</summary><pre>{{ c.lineage }}</pre></details></td></tr>{% endfor %}</table></div>{% endfor %}
</body></html>
"""


def word_diff(old: str, new: str) -> str:
    """HTML of ``new`` with words removed from / added to ``old`` marked."""
    a, b = old.split(), new.split()
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(html.escape(" ".join(a[i1:i2])))
            continue
        if i2 > i1:
            out.append(f"<del>{html.escape(' '.join(a[i1:i2]))}</del>")
        if j2 > j1:
            out.append(f"<ins>{html.escape(' '.join(b[j1:j2]))}</ins>")
    return " ".join(out)


def _render_field(name: str, value: Any, parent: dict[str, Any] | None) -> str:
    from .modality import get_modality

    try:
        modality = get_modality(modality_of(name))
    except Exception:
        return html.escape(json.dumps(value))
    if modality.inline:
        if modality.name == "text" and parent and isinstance(parent.get(name), str) and isinstance(value, str):
            return f'<span class="text">{word_diff(parent[name], value)}</span>'
        return modality.render(value)
    if isinstance(value, str):
        return modality.render(None, relpath=value)
    return html.escape(json.dumps(value))


def write_report(out_dir: str | Path, max_inputs: int = 200) -> Path:
    """Write ``report.html`` for the run in ``out_dir`` and return its path."""
    import jinja2

    out = Path(out_dir)
    summary = json.loads((out / "summary.json").read_text()) if (out / "summary.json").exists() else {}
    groups: OrderedDict[str, dict[str, Any]] = OrderedDict()
    total = 0
    for rec in read_manifest(out):
        pid = rec["parent_id"]
        if pid not in groups:
            total += 1
            if len(groups) >= max_inputs:
                continue
            parent = rec.get("parent") or {}
            groups[pid] = {"id": pid, "label": rec.get("label"), "children": [],
                           "fields": [(k, _render_field(k, v, None)) for k, v in parent.items()]}
        group = groups[pid]
        fields = [(k, _render_field(k, v, rec.get("parent"))) for k, v in rec.items() if k not in RESERVED]
        group["children"].append({"id": rec["id"], "kept": rec["kept"], "reason": rec.get("reason"),
                                  "fields": fields, "lineage": json.dumps(rec.get("lineage"), indent=1)})
    overview = [(k, summary.get(k)) for k in ("recipe", "seed", "inputs", "lines", "kept", "rejected",
                                               "kept_ratio", "seconds") if k in summary]
    env = jinja2.Environment(autoescape=True)
    page = env.from_string(_TEMPLATE).render(
        title=summary.get("recipe", out.name), overview=overview, filters=summary.get("filters") or {},
        reasons=summary.get("rejection_reasons") or {}, parents=list(groups.values()),
        shown=len(groups), total=total)
    path = out / "report.html"
    path.write_text(page, encoding="utf-8")
    return path


__all__ = ["write_report", "word_diff"]
