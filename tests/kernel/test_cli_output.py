"""What the command line prints: never a cut name or command at any width, plain lines to a file,
docstrings as plain text, help and completion, and no test-only plugin outside the test run."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest
from crossaug import registry
from crossaug.cli import app
from crossaug.cli_render import plain_doc, table
from typer.testing import CliRunner

runner = CliRunner()
CLI = str(Path(sys.executable).with_name("crossaug"))
LONG = [("transform", "audio.asr.faster-whisper", "crossaug-audio", "0.1.0", "loaded"),
        ("transform", "broken.missing-dep", "crossaug-broken-example", "0.0.1",
         "failed: ModuleNotFoundError: No module named 'not_a_real_crossaug_dependency' → "
         "pip install 'crossaug-broken-example[fancy]'")]
HEAD = ("kind", "name", "plugin", "version", "status")


def on_tty(args: list[str], columns: int) -> str:
    """Run the real ``crossaug`` with stdout on a terminal ``columns`` wide; what it printed there."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    proc = subprocess.Popen([CLI, *args], stdout=slave, stderr=subprocess.DEVNULL,
                            env={**os.environ, "COLUMNS": str(columns)})
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 1 << 16)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert proc.wait(timeout=120) == 0
    return b"".join(chunks).decode().replace("\r\n", "\n")


def assert_whole(text: str, cols: int | None, tokens: list[str]) -> None:
    """No ellipsis, no line over ``cols`` unless it is one token, every token whole on some line."""
    assert "…" not in text and "..." not in text
    words = set(text.split())
    for token in tokens:
        assert token in words, f"{token!r} cut or missing"
    for line in text.splitlines():
        assert cols is None or len(line) <= cols or len(line.split()) == 1, line


@pytest.mark.parametrize("cols", [60, 80, None])
def test_table_wraps_whole_tokens_never_cuts(cols: int | None) -> None:
    lines = table(HEAD, LONG, cols)
    tokens = [t for row in LONG for cell in row for t in cell.split()]
    assert_whole("\n".join(lines), cols, tokens)
    if cols is None:  # to a file: one line per row, whatever the width
        assert len(lines) == 3 and lines[2].endswith("'crossaug-broken-example[fancy]'")
    else:
        assert len(lines) > 3
        assert lines[1].startswith("transform  audio.asr.faster-whisper")  # kind and name stay aligned


def test_table_wraps_a_row_whole_when_no_column_fits() -> None:
    lines = table(("a", "b"), [("x" * 50, "y " * 10)], 30)
    assert lines[1] == "x" * 50 and all(len(line) <= 30 for line in lines[2:])


def test_list_and_doctor_to_a_file_are_plain_lines() -> None:
    res = runner.invoke(app, ["list"], env={"COLUMNS": "60"})  # stdout is not a terminal: COLUMNS is ignored
    assert res.exit_code == 0, res.output
    rows = json.loads(runner.invoke(app, ["list", "--json"]).stdout)
    lines = res.stdout.splitlines()
    assert len(lines) == len(rows) + 1 and not set("┃│━┏") & set(res.stdout)
    for r, line in zip(rows, lines[1:]):
        assert line.split()[:4] == [r["kind"], r["name"], r["plugin"], r["version"]]
    res = runner.invoke(app, ["doctor"], env={"COLUMNS": "60"})
    checks = json.loads(runner.invoke(app, ["doctor", "--json"]).stdout)
    assert res.exit_code == 0 and len(res.stdout.splitlines()) == len(checks) + 1
    for c in checks:
        if not c["ok"]:
            assert any(line.endswith(f"→ {c['hint']}") for line in res.stdout.splitlines()), c


@pytest.mark.parametrize("cols", [60, 80])
def test_list_and_doctor_on_a_narrow_terminal(cols: int) -> None:
    names = [r.name for r in registry.list_plugins()]
    assert_whole(on_tty(["list"], cols), cols, names)
    hints = [c["hint"] for c in json.loads(runner.invoke(app, ["doctor", "--json"]).stdout) if c["hint"]]
    text = on_tty(["doctor"], cols)
    assert_whole(text, cols, [t for h in hints for t in h.split()])
    assert "pip install" in text or not hints


def test_plain_doc_drops_rest_and_markdown_marks_keeps_brackets() -> None:
    doc = ("Uses ``fan_out`` = [l, m, n] (default [len(voices), 1, 1]); see :func:`~crossaug.rng.stream`,\n"
           ":class:`crossaug.Sample`, `inline`, **bold**, *it* and [the paper](https://x.org/p).\n"
           "Example::\n\n    >>> 2*3*4\n    24")
    assert plain_doc(doc) == ("Uses fan_out = [l, m, n] (default [len(voices), 1, 1]); see stream,\n"
                              "crossaug.Sample, inline, bold, it and the paper (https://x.org/p).\n"
                              "Example:\n\n    >>> 2*3*4\n    24")


def test_describe_keeps_brackets_and_prints_no_markup() -> None:
    if "back-speech" not in registry.names("recipe"):
        pytest.skip("crossaug-audio (back-speech) is not installed")
    res = runner.invoke(app, ["describe", "back-speech"])
    assert res.exit_code == 0, res.output
    assert "[l, m, n]" in res.stdout and "[len(voices), 4, 1]" in res.stdout
    assert "``" not in res.stdout and not re.search(r":(func|class|mod|meth):", res.stdout)


def test_version_help_flags_and_suggestions() -> None:
    from importlib.metadata import version

    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0 and res.stdout.strip() == f"crossaug {version('crossaug')}"
    short, long = runner.invoke(app, ["run", "-h"]), runner.invoke(app, ["run", "--help"])
    assert short.exit_code == 0 and short.stdout == long.stdout
    assert "-n, --n" in short.stdout and "--overwrite" in short.stdout
    assert "<bool>" not in short.stdout and re.search(r"^\s+--resume\s+continue", short.stdout, re.M)
    top = runner.invoke(app, ["--help"]).stdout
    assert "..." not in top.split("Commands:")[1] and "--install-completion" in top and "--show-completion" in top
    res = runner.invoke(app, ["describe", "typoo"])
    assert res.exit_code == 2 and "did you mean typo?" in res.output


def test_shell_completion_completes_names() -> None:
    env = {**os.environ, "_CROSSAUG_COMPLETE": "complete_bash", "COMP_WORDS": "crossaug run ty", "COMP_CWORD": "2"}
    done = subprocess.run([CLI], capture_output=True, text=True, env=env, timeout=60)
    assert done.stdout.split() == ["typo"], done.stderr
    env["COMP_WORDS"] = "crossaug describe text.ty"
    assert "text.typo" in subprocess.run([CLI], capture_output=True, text=True, env=env, timeout=60).stdout.split()
    shown = subprocess.run([CLI, "--show-completion", "bash"], capture_output=True, text=True, timeout=60,
                           env={k: v for k, v in os.environ.items() if not k.startswith(("_CROSSAUG", "COMP_"))})
    assert "_CROSSAUG_COMPLETE=complete_bash" in shown.stdout, shown.stderr  # the script a user sources


def test_test_only_plugins_stay_out_of_the_users_environment() -> None:
    """Outside the test run (no PYTHONPATH from conftest.py), `crossaug list` shows no fixture plugin."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "CROSSAUG_PLUGINS")}
    done = subprocess.run([CLI, "list", "--json"], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert rows and not [r for r in rows if r["plugin"] in ("crossaug-example-plugin", "crossaug-broken-example")]
    assert all(r["status"] == "loaded" for r in rows), [r for r in rows if r["status"] != "loaded"]
    # inside the test run they are there, through their entry points
    assert "example.pig-latin" in registry.names("transform")
