"""``crossaug eval`` and ``crossaug metrics``.

Registered through the ``crossaug_register_commands`` hook (see :mod:`crossaug_eval.hooks`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer


def _ints(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in text.replace(" ", "").split(",") if x)
    except ValueError:
        raise typer.BadParameter(f"expected comma-separated integers, got {text!r}") from None


def eval_command(
        input: Path = typer.Option(..., "--input", "-i", help="labelled JSONL/CSV/folder"),
        output: Path = typer.Option(Path("crossaug-eval"), "--output", "-o", help="output directory"),
        method: list[str] = typer.Option([], "--method", "-m",
                                         help="recipe, augmentation or peer name (repeat); 'none' is always added"),
        param: list[str] = typer.Option([], "--param", "-p", help="METHOD.KEY=VALUE (YAML value)"),
        shots: str = typer.Option("1,2,5,10", help="examples per class, comma-separated"),
        data_seeds: int = typer.Option(5, "--data-seeds", help="k-shot draws per k (S)"),
        train_seeds: int = typer.Option(1, "--train-seeds", help="trainings per draw (T)"),
        budget: int = typer.Option(5, help="augmented samples per original, same for every method"),
        test_per_class: int = typer.Option(100, "--test-per-class", help="held-out test examples per class"),
        affinity_per_class: int = typer.Option(
            20, "--affinity-per-class", help="validation examples per class for affinity (0: skip)"),
        field: Optional[str] = typer.Option(None, help="field to classify (default: first text/image/audio field)"),
        classifier: Optional[str] = typer.Option(
            None, help="text-embed-lr, text-finetune, image-cnn, audio-cnn or module:attr"),
        seed: int = typer.Option(0, help="root seed"),
        limit: Optional[int] = typer.Option(None, help="use only the first LIMIT rows of the dataset")) -> None:
    """Does augmentation help? Few-shot accuracy per method and k with 95% intervals and paired tests."""
    import itertools

    from crossaug.cli import console, fail, out, parse_param
    from crossaug.errors import CrossaugError

    from .evaluation import evaluate, load_samples
    from .protocol import Protocol

    try:
        params: dict[str, dict[str, Any]] = {}
        for p in param:
            key, value = parse_param(p)
            if "." not in key:
                raise CrossaugError(f"--param needs METHOD.KEY=VALUE, got {p!r}")
            name, _, k = key.rpartition(".")
            params.setdefault(name, {})[k] = value
        proto = Protocol(shots=_ints(shots), data_seeds=data_seeds, train_seeds=train_seeds, budget=budget,
                         test_per_class=test_per_class, seed=seed, affinity_per_class=affinity_per_class)
        data: Any = input
        if limit is not None:
            data = list(itertools.islice(load_samples(input), limit))
        res = evaluate(data, ["none", *method], field=field, classifier=classifier, protocol=proto,
                       out_dir=output, method_params=params, on_progress=lambda m: console.print(m, highlight=False))
    except CrossaugError as exc:
        fail(exc)
    out.print(res.format_table(), highlight=False)
    for name, reason in res.skipped.items():
        console.print(f"[yellow]skipped[/] {name}: {reason}", highlight=False)
    console.print(f"open {(output / 'report.html').resolve()} in a browser")


def metrics_command(directory: Path = typer.Argument(..., help="a run's output directory"),
                    similarity: bool = typer.Option(True, "--similarity/--no-similarity",
                                                    help="embedding similarity for text (loads a model)")) -> None:
    """Per-sample and per-run quality metrics of a run (quality.jsonl, quality.json); refreshes report.html."""
    import json

    from crossaug.cli import fail, out
    from crossaug.errors import CrossaugError
    from crossaug.report import write_report

    from .metrics.run import quality_metrics

    if not (directory / "manifest.jsonl").exists():
        fail(CrossaugError(f"{directory} has no manifest.jsonl"))
    try:
        run = quality_metrics(directory, similarity=similarity)
    except CrossaugError as exc:
        fail(exc)
    write_report(directory)
    out.print_json(json.dumps(run))


def register(app: Any) -> None:
    """Add ``eval`` and ``metrics`` to the ``crossaug`` command line (idempotent)."""
    names = {getattr(c, "name", None) or getattr(c.callback, "__name__", "") for c in app.registered_commands}
    if "eval" not in names:
        app.command("eval")(eval_command)
    if "metrics" not in names:
        app.command("metrics")(metrics_command)


__all__ = ["register", "eval_command", "metrics_command"]
