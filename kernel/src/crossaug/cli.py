"""The ``crossaug`` command line.

Commands: ``list``, ``describe``, ``run``, ``validate``, ``doctor``, ``demo``,
``report``; plugins add more through the ``crossaug_register_commands`` hook.
The CLI records bad samples and goes on (``--on-error skip``) unless told otherwise.
"""

from __future__ import annotations

import inspect
import json
import sys
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .errors import CrossaugError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="crossaug: cross-modal data augmentation (Back-Modality and friends).")
console = Console(stderr=True, soft_wrap=True)
out = Console()


def fail(exc: BaseException, code: int = 2) -> None:
    """Print ``exc`` as a one-line error on stderr and exit with ``code`` (for plugins' commands too)."""
    console.print(f"[bold red]error:[/] {escape(f'{type(exc).__name__}: {exc}')}", highlight=False)
    raise typer.Exit(code)


_fail = fail


@app.command("list")
def list_cmd(as_json: bool = typer.Option(False, "--json", help="print a JSON list"),
             kind: Optional[str] = typer.Option(None, help="only this kind (recipe, transform, ...)")) -> None:
    """Every modality, transform, augmentation, filter, recipe and hook, with its plugin and status."""
    from . import registry

    try:
        rows = registry.list_plugins([kind] if kind else None)
    except CrossaugError as exc:
        _fail(exc)
    if as_json:
        out.print_json(json.dumps([r.to_dict() for r in rows]))
        return
    table = Table(title="crossaug plugins")
    for col in ("kind", "name", "plugin", "version", "status"):
        table.add_column(col)
    for r in rows:
        status = "[green]loaded[/]" if r.status == "loaded" else f"[red]failed[/]: {escape(f'{r.error} → {r.hint}')}"
        table.add_row(escape(r.kind), escape(r.name), escape(r.plugin), escape(r.version), status)
    out.print(table)


@app.command()
def describe(name: str = typer.Argument(..., help="a registered name, e.g. back-speech or text.typo"),
             as_json: bool = typer.Option(False, "--json")) -> None:
    """Parameters, modalities in/out and documentation of a registered step."""
    from . import registry

    found = [(k, n) for k in ("recipe", "transform", "augmentation", "filter", "modality")
             for n in registry.names(k) if n == name]
    if not found:
        _fail(CrossaugError(f"nothing registered as {name!r}; see `crossaug list`"))
    kind, _ = found[0]
    try:
        obj = registry.load(kind, name)
    except CrossaugError as exc:
        _fail(exc)
    info: dict[str, Any] = {"name": name, "kind": kind, "doc": inspect.getdoc(obj) or ""}
    if hasattr(obj, "param_info"):
        info["params"] = obj.param_info()
    for attr in ("source", "target", "modalities"):
        if hasattr(obj, attr) and not callable(getattr(obj, attr)):
            info[attr] = getattr(obj, attr)
    if as_json:
        out.print_json(json.dumps(info, default=str))
        return
    out.print(f"[bold]{name}[/] ({kind})")
    for attr in ("source", "target", "modalities"):
        if attr in info:
            out.print(f"{attr}: {info[attr]}")
    if info.get("params"):
        table = Table("parameter", "default", "type")
        for p in info["params"]:
            table.add_row(p["name"], "(required)" if p["required"] else json.dumps(p["default"]), str(p["type"]))
        out.print(table)
    out.print(info["doc"])


def parse_param(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` from ``-p`` into ``(key, value)``, the value read as YAML (for plugins' commands too).

    Example:
        >>> parse_param("n=4"), parse_param("lang=de")
        (('n', 4), ('lang', 'de'))
    """
    import yaml

    if "=" not in text:
        raise typer.BadParameter(f"expected KEY=VALUE, got {text!r}")
    key, value = text.split("=", 1)
    return key.strip(), yaml.safe_load(value)


_parse_param = parse_param


def _set_limits(max_bytes: list[str], max_text_chars: int | None) -> None:
    """``--max-bytes``/``--max-text-chars`` into the environment, where every worker reads them."""
    import os

    from .io.limits import MAX_BYTES, parse_size

    for item in max_bytes:
        kind, _, size = item.partition("=")
        if kind.strip() not in MAX_BYTES or not size:
            raise CrossaugError(f"--max-bytes {item!r}: write KIND=SIZE with KIND one of {sorted(MAX_BYTES)}")
        os.environ[f"CROSSAUG_MAX_BYTES_{kind.strip().upper()}"] = str(parse_size(size))
    if max_text_chars is not None:
        os.environ["CROSSAUG_MAX_TEXT_CHARS"] = str(max_text_chars)


@app.command()
def run(recipe: Optional[str] = typer.Argument(None, help="recipe name (or use --config)"),
        input: Path = typer.Option(..., "--input", "-i", help="JSONL/CSV/TXT file or folder"),
        output: Path = typer.Option(..., "--output", "-o", help="output directory"),
        n: Optional[int] = typer.Option(None, "--n", help="outputs per input (recipe parameter n)"),
        seed: Optional[int] = typer.Option(None, help="root seed (default 0)"),
        workers: Optional[int] = typer.Option(None, help="parallel workers"),
        batch_size: Optional[int] = typer.Option(None, "--batch-size", help="inputs per batch"),
        config: Optional[Path] = typer.Option(None, "--config", "-c", help="recipe YAML/JSON"),
        param: list[str] = typer.Option([], "--param", "-p", help="recipe parameter KEY=VALUE (YAML value)"),
        resume: bool = typer.Option(False, "--resume", help="continue an interrupted run"),
        on_error: Optional[str] = typer.Option(None, "--on-error", help="raise or skip (default skip)"),
        executor: Optional[str] = typer.Option(None, help="auto, serial, process, thread or ray"),
        address: Optional[str] = typer.Option(None, "--address",
                                              help="Ray cluster address (with --executor ray)"),
        cache_dir: Optional[Path] = typer.Option(None, "--cache-dir", envvar="CROSSAUG_CACHE_DIR",
                                                 help="reuse cached transform outputs from this directory"),
        limit: Optional[int] = typer.Option(None, help="only the first LIMIT inputs"),
        progress: bool = typer.Option(True, "--progress/--no-progress"),
        no_report: bool = typer.Option(False, "--no-report", help="do not write report.html"),
        deterministic: bool = typer.Option(False, "--deterministic",
                                           help="strict mode: exact results on this machine, slower"),
        trust_code: bool = typer.Option(False, "--trust-code",
                                        help="allow parameters naming Python code (module:function)"),
        max_bytes: list[str] = typer.Option([], "--max-bytes", help="file size cap KIND=SIZE "
                                            "(audio, image, text or row; e.g. image=64MB)"),
        max_text_chars: Optional[int] = typer.Option(None, "--max-text-chars",
                                                     help="longest text accepted (default 1000000)")) -> None:
    """Run a recipe over a dataset and write manifest.jsonl, media, summary.json and report.html."""
    from . import registry
    from .runner.run import run as run_recipe
    from .serialization import load_config

    if trust_code:  # before the recipe is built: its parameters may name code
        import os

        from .importing import TRUST_ENV

        os.environ[TRUST_ENV] = "1"
    try:
        opts: dict[str, Any] = {"deterministic": deterministic, "trust_code": trust_code}
        if config is not None:
            cfg = load_config(config)
            if recipe is not None and recipe != cfg.recipe.name:
                raise CrossaugError(f"recipe {recipe!r} on the command line but {cfg.recipe.name!r} in {config}")
            recipe_obj = cfg.recipe
            opts.update(cfg.run)
            opts.setdefault("seed", cfg.seed)
            if param or n is not None:
                d = recipe_obj.to_dict()
                params = dict(d["params"])
                params.update(dict(_parse_param(p) for p in param))
                if n is not None:
                    params[getattr(type(recipe_obj), "n_param", "n")] = n
                from .serialization import from_dict

                recipe_obj = from_dict({"recipe": d["recipe"], "params": params})
        else:
            if recipe is None:
                raise CrossaugError("give a recipe name or --config FILE")
            params = dict(_parse_param(p) for p in param)
            if n is not None:  # BackModality recipes: --n sets keep (k, outputs per input)
                params[getattr(registry.load("recipe", recipe), "n_param", "n")] = n
            recipe_obj = registry.create("recipe", recipe, **params)
        opts.pop("n", None)
        for key, value in (("seed", seed), ("workers", workers), ("batch_size", batch_size),
                           ("on_error", on_error), ("executor", executor), ("limit", limit),
                           ("cache_dir", cache_dir)):
            if value is not None:
                opts[key] = value
        opts.setdefault("on_error", "skip")
        if address is not None:
            opts.setdefault("executor_options", {})["address"] = address
        _set_limits(max_bytes, max_text_chars)
        result = run_recipe(recipe_obj, input, output, resume=resume, progress=progress,
                            report=not no_report, **opts)
    except CrossaugError as exc:
        _fail(exc)
    s = result.summary
    labels = s.get("labels") or {}
    per_label = ", ".join(f"{k} {v}" for k, v in labels.get("outputs", {}).items())
    console.print(f"{s['inputs']} inputs → {s['kept']} kept, {s['rejected']} rejected "
                  f"in {s['seconds']:.1f} s" + (f" · kept per label: {per_label}" if per_label else ""))
    if labels.get("warning"):
        console.print(f"[yellow]warning:[/] {escape(labels['warning'])}")
    out.print(str(result.output_dir))


@app.command()
def validate(input: Path = typer.Option(..., "--input", "-i"),
             recipe: Optional[str] = typer.Option(None, help="also check the fields this recipe needs"),
             as_json: bool = typer.Option(False, "--json")) -> None:
    """Check a dataset: decode every row and report the bad ones (exit 1 if any)."""
    from . import registry
    from .errors import BadSample
    from .io.datasets import iter_records, to_sample

    try:
        required = registry.create("recipe", recipe).required_fields() if recipe else ()
        bad, total, seen = [], 0, set()
        for rec in iter_records(input):
            total += 1
            try:
                if rec.id in seen:
                    raise BadSample(f"duplicate id {rec.id!r}", sample_id=rec.id)
                seen.add(rec.id)
                to_sample(rec, required)
            except BadSample as exc:
                bad.append({"id": rec.id, "source": rec.source, "reason": str(exc)})
    except CrossaugError as exc:
        _fail(exc)
    if as_json:
        out.print_json(json.dumps({"rows": total, "bad": bad}))
    else:
        for b in bad:
            out.print(f"[red]bad[/] {escape(b['reason'])}", highlight=False)
        out.print(f"{total} rows, {len(bad)} bad")
    if bad:
        raise typer.Exit(1)


@app.command()
def doctor(as_json: bool = typer.Option(False, "--json")) -> None:
    """Which optional backends and offline resources are available, and how to get the rest."""
    from .doctor import run_checks

    checks = run_checks()
    if as_json:
        out.print_json(json.dumps([c.to_dict() for c in checks]))
        return
    table = Table("plugin", "check", "status", "detail / how to get it")
    for c in checks:
        table.add_row(escape(c.plugin), escape(c.name), "[green]ok[/]" if c.ok else "[yellow]missing[/]",
                      escape(c.detail if c.ok else f"{c.detail} → {c.hint}"))
    out.print(table)


@app.command()
def demo(output: Path = typer.Option(Path("crossaug-demo"), "--output", "-o"),
         workers: Optional[int] = typer.Option(None),
         seed: Optional[int] = typer.Option(None),
         progress: bool = typer.Option(True, "--progress/--no-progress")) -> None:
    """Run the main job offline on bundled data and write a report you can open."""
    import shutil

    from .hooks import get_plugin_manager
    from .runner.run import run as run_recipe

    spec = get_plugin_manager().hook.crossaug_demo()
    console.print(spec.description)
    if output.exists() and (output / "manifest.jsonl").exists():
        shutil.rmtree(output)
    try:
        result = run_recipe(spec.recipe, spec.inputs, output, seed=spec.seed if seed is None else seed,
                            workers=workers or spec.workers, batch_size=spec.batch_size,
                            on_error="skip", progress=progress)
    except CrossaugError as exc:
        _fail(exc)
    s = result.summary
    console.print(f"{s['inputs']} inputs → {s['kept']} kept, {s['rejected']} rejected in {s['seconds']:.1f} s")
    console.print(f"open {result.report_path.resolve()} in a browser")
    out.print(str(result.output_dir.resolve()))


@app.command()
def report(directory: Path = typer.Argument(..., help="a run's output directory"),
           max_inputs: int = typer.Option(200, help="inputs shown in the gallery")) -> None:
    """(Re)write report.html for a run directory."""
    from .report import write_report

    if not (directory / "manifest.jsonl").exists():
        _fail(CrossaugError(f"{directory} has no manifest.jsonl"))
    out.print(str(write_report(directory, max_inputs=max_inputs)))


#: commands that a separate distribution provides: name -> (distribution, pip argument, what it does)
OPTIONAL_COMMANDS: dict[str, tuple[str, str, str]] = {
    "eval": ("crossaug-eval", "crossaug[eval]", "few-shot evaluation: does augmentation help?"),
    "metrics": ("crossaug-eval", "crossaug[eval]", "quality metrics of a run"),
}


def add_install_hints(cli: typer.Typer) -> None:
    """List each missing :data:`OPTIONAL_COMMANDS` entry with how to install it; running it says the same."""
    have = {c.name or getattr(c.callback, "__name__", "") for c in cli.registered_commands}
    for name, (dist, pip_arg, what) in OPTIONAL_COMMANDS.items():
        if name in have:
            continue
        hint = f"install {dist}: pip install '{pip_arg}'"
        cli.command(name, help=escape(f"({what}) {hint}"),
                    context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(
            _missing_command(f"`crossaug {name}` comes with {dist}, which is not installed; {hint}"))


def _missing_command(message: str) -> Any:
    def missing(ctx: typer.Context) -> None:
        fail(CrossaugError(message))

    return missing


def main() -> None:
    """Entry point of the ``crossaug`` script."""
    import logging

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from .hooks import get_plugin_manager

    get_plugin_manager().hook.crossaug_register_commands(cli=app)
    add_install_hints(app)
    try:
        app()
    except CrossaugError as exc:  # pragma: no cover - commands handle their own
        console.print(f"error: {exc}")
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    main()
