"""The ``crossaug`` command line.

Commands: ``list``, ``describe``, ``run``, ``validate``, ``doctor``, ``demo``,
``report``; plugins add more through the ``crossaug_register_commands`` hook.
The CLI records bad samples and goes on (``--on-error skip``) unless told otherwise.
Output is plain text that never cuts a name or a command (see :mod:`crossaug.cli_render`).
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
from typer.core import TyperGroup

from .cli_params import check_n, check_params, did_you_mean, parse_param, prepare_output, split_args
from .cli_render import plain_doc, table, width, wrap
from .errors import ConfigError, CrossaugError


class _Group(TyperGroup):
    """Lists each command with its whole first paragraph (click would cut it with "...")."""

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        for name in self.list_commands(ctx):
            cmd = self.get_command(ctx, name)
            if cmd is not None and not cmd.short_help and cmd.help:
                cmd.short_help = " ".join(cmd.help.split("\n\n")[0].split())
        super().format_commands(ctx, formatter)


app = typer.Typer(cls=_Group, add_completion=True, no_args_is_help=True, rich_markup_mode=None,
                  context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 10_000},
                  help="crossaug: cross-modal data augmentation (Back-Modality and friends).")
console = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)


def fail(exc: BaseException, code: int = 2) -> None:
    """Print ``exc`` as a one-line error on stderr and exit with ``code`` (for plugins' commands too)."""
    console.print(f"[bold red]error:[/] {escape(f'{type(exc).__name__}: {exc}')}", highlight=False)
    raise typer.Exit(code)


_fail = fail
_parse_param = parse_param  # plugins' commands import parse_param, fail, out and console from here


def echo(lines: str | list[str]) -> None:
    """Plain lines on stdout, never read as markup."""
    for line in [lines] if isinstance(lines, str) else lines:
        typer.echo(line)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"crossaug {version('crossaug')}")
        raise typer.Exit()


@app.callback()
def _main(_: bool = typer.Option(False, "--version", "-V", callback=_version, is_eager=True,
                                 help="print the version and exit")) -> None:
    """crossaug: cross-modal data augmentation (Back-Modality and friends)."""


_KINDS = ("recipe", "transform", "augmentation", "filter", "modality")


def _names(incomplete: str, kinds: tuple[str, ...]) -> list[str]:
    from . import registry

    return sorted({n for k in kinds for n in registry.names(k) if n.startswith(incomplete)})


def complete_recipe(incomplete: str) -> list[str]:
    """Recipe names that start with ``incomplete`` (shell completion of ``crossaug run``)."""
    return _names(incomplete, ("recipe",))


def complete_name(incomplete: str) -> list[str]:
    """Registered step names that start with ``incomplete`` (shell completion of ``crossaug describe``)."""
    return _names(incomplete, _KINDS)


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
    echo(table(("kind", "name", "plugin", "version", "status"),
               [(r.kind, r.name, r.plugin, r.version,
                 "loaded" if r.status == "loaded" else f"failed: {r.error} → {r.hint}") for r in rows], width()))


@app.command()
def describe(name: str = typer.Argument(..., help="a registered name, e.g. back-speech or text.typo",
                                        autocompletion=complete_name),
             as_json: bool = typer.Option(False, "--json", help="print JSON")) -> None:
    """Parameters, modalities in/out and documentation of a registered step."""
    from . import registry

    found = [k for k in _KINDS if name in registry.names(k)]
    if not found:
        _fail(CrossaugError(f"nothing registered as {name!r}{did_you_mean(name, complete_name(''))} "
                            "(see `crossaug list`)"))
    kind = found[0]
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
    cols = width()
    echo(f"{name} ({kind})")
    echo([f"{attr}: {info[attr]}" for attr in ("source", "target", "modalities") if attr in info])
    if info.get("params"):
        echo(["", *table(("parameter", "default", "type"), [
            (p["name"], "(required)" if p["required"] else json.dumps(p["default"]), str(p["type"]))
            for p in info["params"]], cols), ""])
    echo(plain_doc(info["doc"]))


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


#: run options a config file's ``run:`` block may hold that the CLI reads itself (paths: from the file's folder)
CONFIG_PATHS = ("input", "output")


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def run(ctx: typer.Context,
        recipe: Optional[str] = typer.Argument(None, help="recipe name (or use --config)",
                                               autocompletion=complete_recipe),
        input: Optional[Path] = typer.Option(None, "--input", "-i",
                                             help="JSONL/CSV/TXT file or folder (or run.input in --config)"),
        output: Optional[Path] = typer.Option(None, "--output", "-o",
                                              help="output directory (or run.output in --config)"),
        n: Optional[int] = typer.Option(None, "--n", "-n", help="outputs per input (recipe parameter n)"),
        seed: Optional[int] = typer.Option(None, help="root seed (default 0)"),
        workers: Optional[int] = typer.Option(None, help="parallel workers"),
        batch_size: Optional[int] = typer.Option(
            None, "--batch-size", help="inputs per batch (default: about 50 ms of work per batch for recipes "
                                       "without neural steps, 8 for the others)"),
        config: Optional[Path] = typer.Option(None, "--config", "-c",
                                              help="run file (YAML/JSON): recipe, params, seed, run options"),
        param: list[str] = typer.Option([], "--param", "-p", help="recipe parameter KEY=VALUE (YAML value); "
                                        "repeat -p or give several pairs after one"),
        resume: bool = typer.Option(False, "--resume", help="continue an interrupted run"),
        overwrite: bool = typer.Option(False, "--overwrite", help="replace an existing run in --output"),
        on_error: Optional[str] = typer.Option(None, "--on-error", help="raise or skip (default skip)"),
        executor: Optional[str] = typer.Option(None, help="auto, serial, process, thread, or ray (crossaug[ray])"),
        address: Optional[str] = typer.Option(None, "--address",
                                              help="Ray cluster address (with --executor ray)"),
        cache_dir: Optional[Path] = typer.Option(None, "--cache-dir", envvar="CROSSAUG_CACHE_DIR",
                                                 help="reuse cached transform outputs from this directory"),
        limit: Optional[int] = typer.Option(None, help="only the first LIMIT inputs"),
        progress: bool = typer.Option(True, "--progress/--no-progress", help="show a progress bar"),
        no_report: bool = typer.Option(False, "--no-report", help="do not write report.html"),
        deterministic: bool = typer.Option(False, "--deterministic",
                                           help="strict mode: exact results on this machine, slower"),
        trust_code: bool = typer.Option(False, "--trust-code",
                                        help="allow parameters naming Python code (module:function)"),
        max_bytes: list[str] = typer.Option([], "--max-bytes", help="file size cap KIND=SIZE "
                                            "(audio, image, text or row; e.g. image=64MB)"),
        max_text_chars: Optional[int] = typer.Option(None, "--max-text-chars",
                                                     help="longest text accepted (default 1000000)")) -> None:
    """Run a recipe over a dataset and write manifest.jsonl, media, summary.json and report.html.

    Flags override what a --config run file says.
    """
    from . import registry
    from .runner.run import run as run_recipe
    from .serialization import from_dict, load_config

    if trust_code:  # before the recipe is built: its parameters may name code
        import os

        from .importing import TRUST_ENV

        os.environ[TRUST_ENV] = "1"
    try:
        recipe, pairs = split_args(recipe, ctx.args, param)
        opts: dict[str, Any] = {"deterministic": deterministic, "trust_code": trust_code}
        if config is not None:
            cfg = load_config(config)
            if recipe is not None and recipe != cfg.recipe.name:
                raise CrossaugError(f"recipe {recipe!r} on the command line but {cfg.recipe.name!r} in {config}")
            recipe, base = cfg.recipe.name, cfg.recipe.to_dict()["params"]
            opts.update(cfg.run)
            opts.setdefault("seed", cfg.seed)
            for key in CONFIG_PATHS:
                if opts.get(key) is not None:
                    opts[key] = config.parent / Path(opts[key]).expanduser()
        elif recipe is None:
            raise CrossaugError("give a recipe name or --config FILE")
        else:
            base = {}
        cls = registry.load("recipe", recipe)
        given = check_params(recipe, cls, pairs)
        n_param = getattr(cls, "n_param", "n")  # BackModality recipes: --n sets keep (k, outputs per input)
        n_cli, n = n, n if n is not None else opts.get("n")
        opts.pop("n", None)
        params = {**base, **given, **({n_param: n} if n is not None else {})}
        recipe_obj = from_dict({"recipe": recipe, "params": params}) if config else registry.create(
            "recipe", recipe, **params)
        if n_cli is not None:
            check_n(recipe_obj, n_cli, given, n_param)
        from_file = opts.pop("input", None), opts.pop("output", None)
        input, output = input or from_file[0], output or from_file[1]
        if input is None or output is None:
            raise ConfigError("give --input and --output (or run: {input: ..., output: ...} in --config)")
        for key, value in (("seed", seed), ("workers", workers), ("batch_size", batch_size),
                           ("on_error", on_error), ("executor", executor), ("limit", limit),
                           ("cache_dir", cache_dir)):
            if value is not None:
                opts[key] = value
        opts.setdefault("on_error", "skip")
        if address is not None:
            opts.setdefault("executor_options", {})["address"] = address
        _set_limits(max_bytes, max_text_chars)
        prepare_output(Path(output), resume, overwrite)
        result = run_recipe(recipe_obj, input, output, resume=resume, progress=progress,
                            report=not no_report, **opts)
    except CrossaugError as exc:
        _fail(exc)
    except KeyboardInterrupt:  # what is committed stays: say how to continue
        typer.echo(f"interrupted: the lines committed so far are in {output}; run the same command with "
                   "--resume to continue", err=True)
        raise typer.Exit(130) from None
    closing_lines(result.summary)
    out.print(str(result.output_dir), highlight=False)


def closing_lines(s: dict[str, Any]) -> None:
    """The run's closing lines on stderr: counts, rejections by stage and reason, inputs without output."""
    labels = s.get("labels") or {}
    per_label = ", ".join(f"{k} {v}" for k, v in labels.get("outputs", {}).items())
    by_stage = "; ".join(
        f"{stage} {sum(why.values())}" + ("" if stage.startswith("duplicate") else " [" + (
            next(iter(why)) if len(why) == 1 else ", ".join(f"{r} {c}" for r, c in why.items())) + "]")
        for stage, why in (s.get("rejections") or {}).items())
    lines = [f"{s['inputs']} inputs → {s['kept']} kept, {s['rejected']} rejected"
             + (f" ({by_stage})" if by_stage else "") + f" in {s['seconds']:.1f} s"
             + (f" · kept per label: {per_label}" if per_label else "")]
    none = s.get("inputs_without_output") or []
    if none:
        lines.append(f"{len(none)} input(s) without output: {', '.join(none[:10])}"
                     + (f" and {len(none) - 10} more (summary.json)" if len(none) > 10 else ""))
    if labels.get("warning"):
        lines.append(f"warning: {labels['warning']}")
    for line in lines:
        for part in wrap(line, width(sys.stderr)):
            typer.echo(part, err=True)


@app.command()
def validate(input: Path = typer.Option(..., "--input", "-i", help="JSONL/CSV/TXT file or folder"),
             recipe: Optional[str] = typer.Option(None, help="also check the fields this recipe needs"),
             as_json: bool = typer.Option(False, "--json", help="print JSON")) -> None:
    """Check a dataset: decode every row and report the bad ones (exit 1 if any).

    Rows are named as ``crossaug run`` names them (a repeated id ``r1`` is ``r1#dup2``).
    """
    from . import registry
    from .errors import BadSample
    from .io.datasets import dedupe, iter_records, to_sample

    try:
        required = registry.create("recipe", recipe).required_fields() if recipe else ()
        bad, total = [], 0
        for rec in dedupe(iter_records(input)):
            total += 1
            try:
                to_sample(rec, required)
            except BadSample as exc:
                bad.append({"id": rec.id, "source": rec.source, "reason": str(exc)})
    except CrossaugError as exc:
        _fail(exc)
    if as_json:
        out.print_json(json.dumps({"rows": total, "bad": bad}))
    else:
        cols = width()
        for b in bad:
            echo(wrap(f"bad {b['id']}: {b['reason']}", cols))
        echo(f"{total} rows, {len(bad)} bad")
    if bad:
        raise typer.Exit(1)


@app.command()
def doctor(as_json: bool = typer.Option(False, "--json", help="print JSON")) -> None:
    """Which optional backends and offline resources are available, and how to get the rest."""
    from .doctor import run_checks

    checks = run_checks()
    if as_json:
        out.print_json(json.dumps([c.to_dict() for c in checks]))
        return
    echo(table(("plugin", "check", "status", "detail / how to get it"),
               [(c.plugin, c.name, c.status, c.detail if c.ok else f"{c.detail} → {c.hint}") for c in checks],
               width()))


@app.command()
def demo(output: Path = typer.Option(Path("crossaug-demo"), "--output", "-o", help="output directory"),
         workers: Optional[int] = typer.Option(None, help="parallel workers"),
         seed: Optional[int] = typer.Option(None, help="root seed"),
         progress: bool = typer.Option(True, "--progress/--no-progress", help="show a progress bar")) -> None:
    """Run the main job offline on bundled data and write a report you can open."""
    import shutil

    from .hooks import get_plugin_manager
    from .runner.run import run as run_recipe

    spec = get_plugin_manager().hook.crossaug_demo()
    echo(wrap(spec.description, width()))
    if output.exists() and (output / "manifest.jsonl").exists():
        shutil.rmtree(output)
    try:
        result = run_recipe(spec.recipe, spec.inputs, output, seed=spec.seed if seed is None else seed,
                            workers=workers or spec.workers, batch_size=spec.batch_size,
                            on_error="skip", progress=progress)
    except CrossaugError as exc:
        _fail(exc)
    closing_lines(result.summary)
    typer.echo(f"open {result.report_path.resolve()} in a browser", err=True)
    typer.echo(str(result.output_dir.resolve()))


@app.command()
def report(directory: Path = typer.Argument(..., help="a run's output directory"),
           max_inputs: int = typer.Option(200, help="inputs shown in the gallery")) -> None:
    """(Re)write report.html for a run directory."""
    from .report import write_report

    if not (directory / "manifest.jsonl").exists():
        _fail(CrossaugError(f"{directory} has no manifest.jsonl"))
    typer.echo(str(write_report(directory, max_inputs=max_inputs)))


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
        cli.command(name, help=f"({what}) {hint}",
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
