"""A self-contained HTML report of a run (or an evaluation): summary, statistics, plots, gallery.

``report.html`` opens offline (no scripts, no CDN): the run summary, per-recipe
counts, filter statistics with kept/rejected ratios, rejection reasons, quality
metrics (``quality.json`` from ``crossaug metrics``), evaluation results
(``eval.json`` from ``crossaug eval``: accuracy vs k per method and diversity vs
affinity as inline SVG), and a gallery of inputs next to everything produced from
them, paginated over ``report.html``, ``report-2.html``, ... Each field is shown
through its modality's ``render`` (text with the words that changed from the
parent marked, images as thumbnails, audio as players), so third-party
modalities appear too.

Example:
    >>> word_diff("the cat sat", "the dog sat")
    'the <del>cat</del> <ins>dog</ins> sat'
"""

from __future__ import annotations

import difflib
import html
import json
import math
import re
from collections import OrderedDict
from pathlib import Path
from typing import Any

from .runner.manifest import read_manifest
from .sample import modality_of

RESERVED = {"id", "parent_id", "recipe", "kept", "reason", "label", "lineage", "parent", "meta", "source"}
PAGE_RE = re.compile(r"^report-(\d+)\.html$")

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1200px;color:#222;padding:0 1em}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f5f5f5}.num{text-align:right;font-variant-numeric:tabular-nums}
.parent{border:1px solid #ddd;border-radius:6px;margin:1em 0;padding:.5em 1em}
.kept{background:#eef9ee}.rejected{background:#fbeeee;color:#555}
del{background:#f8c9c9;text-decoration:line-through}ins{background:#c9f0c9;text-decoration:none}
.reason{font-size:.85em;color:#933}.id{font-family:monospace;font-size:.85em;color:#666}
.metrics{font-size:.8em;color:#555}.sig{font-weight:bold}
audio{vertical-align:middle;height:32px}
details{font-size:.85em}nav.pages a,nav.pages span{margin-right:.4em}nav.pages span.current{font-weight:bold}
figure{display:inline-block;margin:0 1em 1em 0}
.parent img{min-width:64px;image-rendering:pixelated}
"""

_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>crossaug report: {{ title }}{% if page > 1 %} (page {{ page }}){% endif %}</title>
<style>{{ style }}</style></head><body>
<h1>crossaug report: {{ title }}</h1>
{% if page == 1 %}
<h2 id="summary">Summary</h2>
<table>{% for k, v in overview %}<tr><th>{{ k }}</th><td>{{ v }}</td></tr>{% endfor %}</table>
{% if without %}<h2 id="without">Inputs without output</h2><p>{{ without|length }} input(s) got no kept output; why their candidates were rejected:</p>
<table><tr><th>input</th><th>text</th><th>rejected candidates</th></tr>{% for w in without %}<tr><td class="id">{% if w.anchor %}<a href="{{ w.anchor }}">{{ w.id }}</a>{% else %}{{ w.id }}{% endif %}</td><td>{{ w.text }}</td><td>{% for r, n in w.reasons %}<div class="reason">{{ n }} × {{ r }}</div>{% endfor %}</td></tr>{% endfor %}</table>{% endif %}
{% if recipes %}<h2 id="recipes">Per recipe</h2><table><tr><th>recipe</th><th>inputs</th><th>outputs</th><th>kept</th><th>rejected</th><th>kept ratio</th></tr>
{% for name, r in recipes.items() %}<tr><td>{{ name }}</td><td class="num">{{ r.inputs }}</td><td class="num">{{ r.lines }}</td><td class="num">{{ r.kept }}</td><td class="num">{{ r.rejected }}</td><td class="num">{{ fmt(r.kept / r.lines if r.lines else none) }}</td></tr>{% endfor %}</table>{% endif %}
{% if filters %}<h2 id="filters">Filters</h2><table><tr><th>filter</th><th>scored</th><th>kept</th><th>rejected</th><th>kept ratio</th><th>rejected ratio</th><th>mean score</th></tr>
{% for name, f in filters.items() %}<tr><td>{{ name }}</td><td class="num">{{ f.scored }}</td><td class="num">{{ f.scored - f.rejected }}</td><td class="num">{{ f.rejected }}</td><td class="num">{{ fmt(f.kept_ratio) }}</td><td class="num">{{ fmt(1 - f.kept_ratio if f.kept_ratio is not none else none) }}</td><td class="num">{{ fmt(f.mean_score) }}</td></tr>{% endfor %}</table>{% endif %}
{% if reasons %}<h2 id="reasons">Rejection reasons</h2><table>{% for k, v in reasons.items() %}<tr><td>{{ k }}</td><td class="num">{{ v }}</td></tr>{% endfor %}</table>{% endif %}
{% if quality %}<h2 id="quality">Quality</h2><p>{{ quality.samples }} samples scored{% if quality.label_preservation is not none %}; label preservation by the reference classifier: {{ fmt(quality.label_preservation) }}{% endif %}.</p>
<table><tr><th>field</th>{% for m in quality_cols %}<th>{{ m }}</th>{% endfor %}</tr>
{% for name, stats in quality.fields.items() %}<tr><td>{{ name }}</td>{% for m in quality_cols %}<td class="num">{{ fmt(stats.get(m)) }}</td>{% endfor %}</tr>{% endfor %}</table>{% endif %}
{% if ev %}<h2 id="evaluation">Evaluation</h2>
<p>{{ ev.info.get("samples") }} labelled examples ({{ ev.info.get("test") }} held out for testing), field <code>{{ ev.info.get("field") }}</code>, classifier <code>{{ ev.info.get("classifier") }}</code>;
k-shot sets with k in {{ ev.protocol.shots }} per class, {{ ev.protocol.data_seeds }} data seeds x {{ ev.protocol.train_seeds }} training seeds, {{ ev.protocol.budget }} augmented samples per original for every method.
Intervals are 95% (Student's t over runs); p values are paired tests against <code>none</code> over matched seeds.</p>
{% if ev.skipped %}<table><tr><th>not evaluated</th><th>why</th></tr>{% for k, v in ev.skipped.items() %}<tr><td>{{ k }}</td><td>{{ v }}</td></tr>{% endfor %}</table>{% endif %}
<figure>{{ acc_plot | safe }}</figure><figure>{{ qual_plot | safe }}</figure>
<table><tr><th>method</th><th>k</th><th>runs</th><th>accuracy</th><th>95% interval</th><th>vs none</th><th>p (paired t)</th><th>p (Wilcoxon)</th></tr>
{% for r in ev.table %}<tr><td>{{ r.method }}</td><td class="num">{{ r.k }}</td><td class="num">{{ r.runs }}</td><td class="num">{{ fmt(r.mean) }}</td><td class="num">[{{ fmt(r.ci_low) }}, {{ fmt(r.ci_high) }}]</td><td class="num">{{ sfmt(r.get("delta")) }}</td><td class="num{% if r.get('p_t') is not none and r.get('p_t') < 0.05 %} sig{% endif %}">{{ fmt(r.get("p_t")) }}</td><td class="num">{{ fmt(r.get("p_wilcoxon")) }}</td></tr>{% endfor %}</table>
<table><tr><th>method</th><th>affinity</th><th>diversity</th><th>label preservation</th><th>budget shortfall (inputs)</th></tr>
{% for name, q in ev.quality.items() %}<tr><td>{{ name }}</td><td class="num">{{ fmt(q.get("affinity")) }}</td><td class="num">{{ fmt(q.get("diversity")) }}</td><td class="num">{{ fmt(q.get("label_preservation")) }}</td><td class="num">{{ q.get("shortfall") }}</td></tr>{% endfor %}</table>{% endif %}
{% endif %}
<h2 id="gallery">Gallery</h2>
<p>{{ shown }} of {{ total }} inputs shown{% if pages > 1 %}, page {{ page }} of {{ pages }}{% endif %}.</p>
{% if pages > 1 %}<nav class="pages">{% for p in range(1, pages + 1) %}{% if p == page %}<span class="current">{{ p }}</span>{% else %}<a href="{{ page_name(p) }}">{{ p }}</a>{% endif %}{% endfor %}</nav>{% endif %}
{% for p in parents %}<div class="parent" id="p-{{ p.index }}"><div class="id">input {{ p.id }}{% if p.label is not none %} · label {{ p.label }}{% endif %}</div>
{% for name, value in p.fields %}<div><b>{{ name }}</b>: {{ value | safe }}</div>{% endfor %}
<table>{% for c in p.children %}<tr class="item {{ 'kept' if c.kept else 'rejected' }}"><td class="id">{{ c.id }}<br>{{ 'kept' if c.kept else 'rejected' }}</td>
<td>{% for name, value in c.fields %}<div><b>{{ name }}</b>: {{ value | safe }}</div>{% endfor %}
{% if c.drawn %}<div class="metrics">drawn: {{ c.drawn }}</div>{% endif %}
{% if c.metrics %}<div class="metrics">{{ c.metrics }}</div>{% endif %}
{% if c.reason %}<div class="reason">{{ c.reason }}</div>{% endif %}
<details><summary>lineage</summary><pre>{{ c.lineage }}</pre></details></td></tr>{% endfor %}</table></div>{% endfor %}
{% if pages > 1 %}<nav class="pages">{% if page > 1 %}<a href="{{ page_name(page - 1) }}">previous</a>{% endif %}{% if page < pages %}<a href="{{ page_name(page + 1) }}">next</a>{% endif %}</nav>{% endif %}
</body></html>
"""


#: longest text shown per field (characters) and longest changed region diffed (words): the report
#: stays linear in the size of the run whatever one row holds
SHOW_CHARS = 20_000
DIFF_MAX_WORDS = 2_000


def word_diff(old: str, new: str) -> str:
    """HTML of ``new`` with words removed from / added to ``old`` marked.

    Words are matched ignoring case and punctuation (as the edit-distance filter
    compares them), and shown as they are written in ``new``. The common start and
    end are matched in linear time; a changed region over :data:`DIFF_MAX_WORDS`
    words is not diffed (shown plain, marked ``class="nodiff"``).

    Example:
        >>> word_diff("The cat sat.", "the dog sat")
        'the <del>cat</del> <ins>dog</ins> sat'
    """
    from .builtin.edit_distance import normalise_text

    a, b = old.split(), new.split()
    ka, kb = [normalise_text(w) for w in a], [normalise_text(w) for w in b]
    lo = 0
    while lo < min(len(ka), len(kb)) and ka[lo] == kb[lo]:
        lo += 1
    hi = 0
    while hi < min(len(ka), len(kb)) - lo and ka[-1 - hi] == kb[-1 - hi]:
        hi += 1
    if len(ka) + len(kb) - 2 * (lo + hi) > DIFF_MAX_WORDS:
        return (f'<span class="nodiff" title="over {DIFF_MAX_WORDS} changed words: not diffed">'
                f'{html.escape(" ".join(b))}</span>')
    ops = difflib.SequenceMatcher(a=ka[lo:len(ka) - hi], b=kb[lo:len(kb) - hi], autojunk=False).get_opcodes()
    out = [html.escape(" ".join(b[:lo]))] if lo else []
    for op, i1, i2, j1, j2 in ops:
        i1, i2, j1, j2 = i1 + lo, i2 + lo, j1 + lo, j2 + lo
        if op == "equal":
            out.append(html.escape(" ".join(b[j1:j2])))
            continue
        if i2 > i1:
            out.append(f"<del>{html.escape(' '.join(a[i1:i2]))}</del>")
        if j2 > j1:
            out.append(f"<ins>{html.escape(' '.join(b[j1:j2]))}</ins>")
    if hi:
        out.append(html.escape(" ".join(b[len(b) - hi:])))
    return " ".join(out)


def _cut(text: str) -> str:
    if len(text) <= SHOW_CHARS:
        return text
    return f"{text[:SHOW_CHARS]}\n… {len(text) - SHOW_CHARS} more characters not shown"


def _render_field(name: str, value: Any, parent: dict[str, Any] | None) -> str:
    from .modality import get_modality

    try:
        modality = get_modality(modality_of(name))
    except Exception:
        return html.escape(json.dumps(value))
    if modality.inline:
        more = ""
        if isinstance(value, str) and len(value) > SHOW_CHARS:
            more = f' <span class="cut">… {len(value) - SHOW_CHARS} more characters not shown</span>'
            value = value[:SHOW_CHARS]
        if modality.name == "text" and parent and isinstance(parent.get(name), str) and isinstance(value, str):
            return f'<span class="text">{word_diff(parent[name][:SHOW_CHARS], value)}</span>{more}'
        return modality.render(value) + more
    if isinstance(value, str):
        return modality.render(None, relpath=value)
    return html.escape(json.dumps(value))


def page_name(page: int) -> str:
    """File name of gallery page ``page`` (1 is ``report.html``)."""
    return "report.html" if page == 1 else f"report-{page}.html"


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 1000 else f"{value:.0f}"
    return str(value)


def _sfmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{value:+.3f}"


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
    except (OSError, json.JSONDecodeError):
        return None


def _sample_metrics(out: Path) -> dict[str, str]:
    """``{sample id: "text similarity 0.91 · text edit distance 0.20"}`` from ``quality.jsonl``."""
    path = out / "quality.jsonl"
    if not path.exists():
        return {}
    shown = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        parts = [f"{k.replace('_', ' ').replace('.', ' ')} {_fmt(v)}" for k, v in row.items()
                 if k not in ("id", "parent_id") and v is not None]
        if parts:
            shown[row["id"]] = " · ".join(parts)
    return shown


def _eval_plots(ev: dict[str, Any]) -> tuple[str, str]:
    """The accuracy and quality charts (SVG) that the evaluation plugin stored in ``eval.json``."""
    plots = ev.get("plots") or {}
    return plots.get("accuracy", ""), plots.get("quality", "")


#: how a drawn parameter is shown beside a candidate (others: name=value)
_SHOW_PARAM = {"semitones": lambda v: f"pitch {100 * v:+.0f} cents", "rate": lambda v: f"tempo {v:.3f}",
               "factor": lambda v: f"speed {v:.3f}", "snr_db": lambda v: f"noise {v:.1f} dB SNR"}


def drawn_params(lineage: list[dict[str, Any]] | None) -> str:
    """The parameters the augmentation steps of ``lineage`` drew (H of a round trip), for display.

    Example:
        >>> drawn_params([{"kind": "augmentation", "name": "compose", "params": {"applied": [
        ...     {"name": "audio.pitch-shift", "params": {"semitones": 1.234}},
        ...     {"name": "audio.time-stretch", "params": {"rate": 0.95}}]}}])
        'pitch +123 cents · tempo 0.950'
    """
    parts: list[str] = []

    def show(params: dict[str, Any]) -> None:
        for k, v in params.items():
            if k in ("applied", "seed", "edits"):
                continue
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                parts.append(_SHOW_PARAM[k](float(v)) if k in _SHOW_PARAM else f"{k}={_fmt(v)}")

    for step in lineage or []:
        if step.get("kind") != "augmentation":
            continue
        params = step.get("params") or {}
        for inner in params.get("applied") or []:
            show(inner.get("params") or {})
        show(params)
    return " · ".join(parts)


def _input_rejected(rec: dict[str, Any]) -> bool:
    return not rec.get("lineage") and not rec.get("kept") and "parent" not in rec


def write_report(out_dir: str | Path, max_inputs: int | None = 1000, per_page: int = 50) -> Path:
    """Write ``report.html`` (and ``report-N.html`` gallery pages) for ``out_dir``; return the first page.

    Args:
        out_dir: a run's (or an evaluation's) output directory.
        max_inputs: inputs shown in the gallery at most (``None``: all).
        per_page: inputs per gallery page.
    """
    import jinja2

    out = Path(out_dir)
    per_page = max(1, int(per_page))
    summary = _load_json(out / "summary.json") or {}
    metrics = _sample_metrics(out)
    groups: OrderedDict[str, dict[str, Any]] = OrderedDict()
    recipes: dict[str, dict[str, Any]] = OrderedDict()
    seen_parents: set[str] = set()
    rejections: dict[str, dict[str, int]] = {}
    first_text: dict[str, str] = {}
    total = 0
    if (out / "manifest.jsonl").exists():
        for rec in read_manifest(out):
            pid = rec["parent_id"]
            if not rec.get("kept"):
                why = rejections.setdefault(pid, {})
                key = re.sub(r"\d+\.\d{3}\b", "…", (rec.get("reason") or "?").split(" (")[0])[:90]
                why[key] = why.get(key, 0) + 1
            if pid not in first_text:
                first_text[pid] = str((rec.get("parent") or {}).get("text") or rec.get("text") or "")[:200]
            r = recipes.setdefault(rec.get("recipe") or "?", {"inputs": 0, "lines": 0, "kept": 0, "rejected": 0})
            r["lines"] += 1
            r["kept" if rec.get("kept") else "rejected"] += 1
            if pid not in seen_parents:
                seen_parents.add(pid)
                r["inputs"] += 1
                total += 1
                if max_inputs is None or len(groups) < max_inputs:
                    parent = rec.get("parent") or {}
                    groups[pid] = {"id": pid, "label": rec.get("label"), "children": [], "index": len(groups) + 1,
                                   "fields": [(k, _render_field(k, v, None)) for k, v in parent.items()]}
            group = groups.get(pid)
            if group is None:
                continue
            if _input_rejected(rec):
                fields = [(k, f"<code>{html.escape(json.dumps(v))}</code>") for k, v in rec.items()
                          if k not in RESERVED]
            else:
                fields = [(k, _render_field(k, v, rec.get("parent"))) for k, v in rec.items() if k not in RESERVED]
            group["children"].append({"id": rec["id"], "kept": rec["kept"], "reason": rec.get("reason"),
                                      "fields": fields, "metrics": metrics.get(rec["id"]),
                                      "drawn": drawn_params(rec.get("lineage")),
                                      "lineage": _cut(json.dumps(rec.get("lineage"), indent=1))})
    overview = [(k, _fmt(summary.get(k))) for k in ("recipe", "seed", "inputs", "lines", "kept", "rejected",
                                                     "kept_ratio", "seconds", "workers") if k in summary]
    if summary.get("inputs_without_output"):
        overview.append(("inputs without output", len(summary["inputs_without_output"])))
    ev = _load_json(out / "eval.json")
    acc_plot, qual_plot = _eval_plots(ev) if ev else ("", "")
    quality = _load_json(out / "quality.json")
    quality_cols: list[str] = []
    if quality:
        quality.setdefault("label_preservation", None)
        for stats in quality.get("fields", {}).values():
            quality_cols.extend(c for c in stats if c not in quality_cols)
    parents = list(groups.values())
    pages = max(1, math.ceil(len(parents) / per_page))
    index = {g["id"]: g["index"] for g in parents}
    without = [{"id": pid, "text": first_text.get(pid, ""),
                "anchor": (f"{page_name((index[pid] - 1) // per_page + 1)}#p-{index[pid]}" if pid in index else None),
                "reasons": sorted(rejections.get(pid, {}).items(), key=lambda kv: -kv[1])}
               for pid in summary.get("inputs_without_output") or []]
    env = jinja2.Environment(autoescape=True)
    template = env.from_string(_TEMPLATE)
    for old in out.glob("report-*.html"):  # pages of an earlier, longer report
        m = PAGE_RE.match(old.name)
        if m and int(m.group(1)) > pages:
            old.unlink()
    title = summary.get("recipe") or out.name
    for page in range(1, pages + 1):
        page_html = template.render(
            title=title, style=_STYLE, overview=overview, recipes=recipes, filters=summary.get("filters") or {},
            reasons=summary.get("rejection_reasons") or {}, parents=parents[(page - 1) * per_page: page * per_page],
            shown=len(parents), total=total, page=page, pages=pages, page_name=page_name, fmt=_fmt, sfmt=_sfmt,
            ev=ev, acc_plot=acc_plot, qual_plot=qual_plot, quality=quality, quality_cols=quality_cols,
            without=without)
        (out / page_name(page)).write_text(page_html, encoding="utf-8")
    return out / "report.html"


__all__ = ["write_report", "word_diff", "page_name", "drawn_params"]
