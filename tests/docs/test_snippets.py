"""Every code block of README.md and docs/*.md runs, so a page that drifts from the code fails here.

Per page, in a fresh temporary directory holding small input files (see ``INPUTS``):

* ``python`` blocks run in order in one namespace (a page reads like one session);
* ``bash``/``console`` commands that start with ``crossaug`` run through the CLI's app, in-process
  (other commands -- ``pip``, ``make`` -- are set-up, not examples, and are not run; only the
  ``crossaug`` part of a pipeline runs);
* a ``yaml``/``json``/``toml`` block preceded by ``<!-- test-file: NAME -->`` is written to
  ``NAME`` so later blocks can use it;
* a hidden ``<!-- test-setup: ... -->`` comment before a block holds Python run first
  (to make inputs that block needs).

Blocks that need a GPU, real weights, a network or a long run are listed in ``ALLOW`` with
the reason. A failure names the page, the block's line and the error; Python tracebacks
carry the page's own line numbers.
"""

from __future__ import annotations

import json
import re
import shlex
import textwrap
import traceback
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
RUNNABLE = ("python", "bash", "console", "sh", "shell")

#: (page, a substring of the block) -> why the block is not run here
ALLOW: dict[tuple[str, str], str] = {
    ("README.md", "make demo"): "set-up commands (make, pip) only, not crossaug examples",
    ("docs/back-captioning.md", "crossaug.create("): "real weights: BLIP captioner and Stable Diffusion",
    ("docs/back-captioning.md", "caption_model=Salesforce"): "real weights: BLIP captioner and Stable Diffusion",
    ("docs/back-imagination.md", "back-imagination"): "real weights: Stable Diffusion and a captioner",
    ("docs/back-speech.md", "crossaug demo -o demo"): "long run: the demo, then back-speech over a dataset four ways",
    ("docs/back-speech.md", '"rms", "awb"'): "long run: 12 TTS + pitch/tempo + ASR candidates",
    ("docs/back-speech.md", "tts=fastspeech2"): "real weights: FastSpeech2 and wav2vec2 from the hub",
    ("docs/back-translation.md", "Helsinki-NLP"): "real weights: MarianMT models from the hub",
    ("docs/cmda.md", "text_features, image_features"): "fragment: placeholders for the user's own features",
    ("docs/cmda.md", "LatentSpace(teacher_dim"): "fragment: placeholders for the user's own model",
    ("docs/cmda.md", "unsupervised_contrastive_loss_np(za"): "fragment: placeholders for the user's embeddings",
    ("docs/culture-mixup.md", "recipe(samples"): "fragment: `samples` stands for the user's pairs with boxes",
    ("docs/lemda.md", "in loader:"): "fragment: the user's task network and data loader",
    ("docs/mixgen.md", "mixgen_pair(img_a"): "fragment: placeholders for the user's images and captions",
    ("docs/mixgen.md", "recipe(samples"): "fragment: `samples` stands for the user's image-text pairs",
    ("docs/paired-stylegan2.md", "load_digits()"): "long run: trains a StyleGAN2 on the digits (minutes)",
    ("docs/image-editing.md", "cat.jpg"): "real weights: Grounding DINO, SD inpainting and BLIP-2 from the hub",
    ("docs/diff-ii.md", "pets/"): "real weights (Stable Diffusion) and the user's image folder",
    ("docs/diff-ii.md", 'device="cuda"'): "GPU and real weights (Stable Diffusion)",
    ("docs/evaluation.md", "crossaug eval"): "long run: a few-shot evaluation (minutes)",
    ("docs/evaluation.md", "evaluate("): "long run: a few-shot evaluation (minutes)",
    ("docs/lemda.md", "checkpoint=lemda.pt"): "needs a trained LeMDA checkpoint and feature file",
    ("docs/lemda.md", "for ...]"): "fragment: placeholders for the user's features",
    ("docs/llm-rewrite.md", "flan-t5"): "real weights: an instruction-tuned LLM from the hub",
    ("docs/offline-models.md", "/models/fastspeech2"): "real weights in local directories",
    ("docs/paired-stylegan2.md", 'device="cuda"'): "GPU and a long training run",
    ("docs/training-loop.md", '"back-speech", seed=0, batch_size=8'): "long run: back-speech (its warm-up "
                                                                      "alone makes 12 candidates)",
    ("docs/scaling.md", "--executor ray"): "a Ray cluster and 16 workers",
    ("docs/scaling.md", 'executor="ray"'): "a Ray cluster (address='auto') with GPUs",
    ("docs/alia.md", "llm_model=Qwen"): "real weights: an LLM, BLIP, Stable Diffusion and CLIP from the hub",
    ("docs/alia.md", "call_my_llm"): "fragment: call_my_llm stands for the user's LLM API",
    ("docs/biaug.md", "call_my_llm"): "fragment: call_my_llm stands for the user's LLM API; real weights: "
                                      "Grounding DINO and SD inpainting",
    ("docs/biaug.md", "Qwen/Qwen2.5"): "real weights: an LLM, Grounding DINO / OWLv2 and SD inpainting from the hub",
    ("docs/seltda.md", "crossaug run seltda"): "real weights: InstructBLIP / BLIP-2 and BLIP from the hub",
    ("docs/llm-synthesize.md", "Qwen/Qwen2.5"): "real weights: an LLM, BLIP and OWLv2 from the hub",
    ("docs/promptmix.md", "google/vit-large-patch16-224"): "real weights: BLIP, Stable Diffusion and a ViT "
                                                           "annotator from the hub",
    ("docs/promptmix.md", "edits.txt"): "real weights and the user's image dataset",
    ("docs/gmda.md", "instructblip-flan-t5-xl-mner"): "real weights: a fine-tuned InstructBLIP and Stable Diffusion; "
                                                      "the user's image",
    ("docs/gmda.md", "twitter2017.jsonl"): "real weights and the user's dataset",
    ("docs/sluma.md", "texts.jsonl -o out/sluma"): "real weights: GLIGEN and CLIP from the hub",
}

#: (page, a substring of one command line) -> why that command of a shell block is not run
ALLOW_COMMANDS: dict[tuple[str, str], str] = {
    ("README.md", "run back-speech"): "long run: back-speech (flite, sox, pocketsphinx) takes minutes on 2 cores",
    ("docs/training-loop.md", "run back-speech"): "long run: back-speech (flite, sox, pocketsphinx), twice",
}

#: small inputs every page may use (names the docs use for their examples)
TEXTS = ["The birch canoe slid on the smooth planks.", "Glue the sheet to the dark blue background.",
         "It's easy to tell the depth of a well."]
INPUTS: dict[str, str] = {
    "sentences.txt": "\n".join(TEXTS) + "\n",
    "train.jsonl": "".join(json.dumps({"id": f"r{i}", "text": t, "label": i % 2}) + "\n" for i, t in enumerate(TEXTS)),
    "data.jsonl": "".join(json.dumps({"id": f"d{i}", "text": t, "label": i % 2}) + "\n" for i, t in enumerate(TEXTS)),
    "big.jsonl": "".join(json.dumps({"id": f"b{i}", "text": t}) + "\n" for i, t in enumerate(TEXTS)),
    "train.csv": "text,label\n" + "".join(f"\"{t}\",{i % 2}\n" for i, t in enumerate(TEXTS)),
    "recipe.yaml": """recipe: back-modality
params:
  forward: {transform: text.reverse-words}
  augment: {augmentation: text.typo, params: {rate: 0.1, field: text.reversed}}
  backward: {transform: text.reverse-words, params: {in_field: text.reversed, out_field: text}}
seed: 0
""",
}


@dataclass
class Block:
    page: str
    line: int  # line of the opening fence (1-based)
    lang: str
    code: str
    setup: str = ""
    file: str | None = None

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line} ({self.lang} block)"


FENCE = re.compile(r"^```(\w*)\s*$")
DIRECTIVE = re.compile(r"<!--\s*test-(setup|file):(.*?)-->", re.S)


def blocks_of(path: Path, root: Path = ROOT) -> list[Block]:
    lines = path.read_text(encoding="utf-8").splitlines()
    page = path.relative_to(root).as_posix()
    out: list[Block] = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        start, lang = i, m.group(1).lower()
        j = i + 1
        while j < len(lines) and lines[j].rstrip() != "```":
            j += 1
        # directives: the HTML comment(s) just above the fence
        k, above = start - 1, []
        while k >= 0 and lines[k].strip() and not lines[k].startswith("```"):
            above.insert(0, lines[k])
            k -= 1
        setup, file = "", None
        for kind, body in DIRECTIVE.findall("\n".join(above)):
            if kind == "setup":
                setup += textwrap.dedent(body.strip("\n")).strip() + "\n"
            else:
                file = body.strip()
        out.append(Block(page, start + 1, lang, "\n".join(lines[start + 1:j]) + "\n", setup, file))
        i = j + 1
    return out


def allowed(block: Block, command: str | None = None) -> str | None:
    """Why ``block`` (or one ``command`` of a shell block) is not run, or ``None``."""
    table, text = (ALLOW, block.code) if command is None else (ALLOW_COMMANDS, command)
    return next((why for (page, part), why in table.items() if page == block.page and part in text), None)


def commands(block: Block) -> list[str]:
    """The ``crossaug ...`` command lines of a shell block (comments and prompts dropped)."""
    out = []
    for raw in block.code.replace("\\\n", " ").splitlines():  # join continued lines
        line = raw.strip()
        if block.lang == "console":
            if not line.startswith("$ "):
                continue
            line = line[2:]
        words = shlex.split(line, comments=True) if line else []
        for i, w in enumerate(words):  # the crossaug part of a pipeline: `crossaug list --json | jq ...`
            if w in ("|", ">", ">>", "&&", ";", "2>&1"):
                words = words[:i]
                break
        if words and words[0] == "crossaug":
            out.append(shlex.join(words))
    return out


def run_python(block: Block, namespace: dict, code: str, first_line: int) -> None:
    source = "\n" * (first_line - 1) + code  # tracebacks show the page's own line numbers
    exec(compile(source, block.page, "exec"), namespace)


def run_block(block: Block, namespace: dict) -> None:
    if block.setup:
        run_python(block, namespace, block.setup, block.line)
    if block.file:
        Path(block.file).write_text(block.code, encoding="utf-8")
        return
    if block.lang == "python":
        run_python(block, namespace, block.code, block.line + 1)
    elif block.lang in RUNNABLE:
        for cmd in commands(block):
            if not allowed(block, cmd):
                run_cli(cmd)


def run_cli(cmd: str) -> None:
    """Run one ``crossaug ...`` command with the CLI's own app, in-process (no interpreter start-up)."""
    from crossaug.cli import app
    from typer.testing import CliRunner

    result = CliRunner().invoke(app, shlex.split(cmd)[1:])
    if result.exit_code != 0:
        detail = result.output[-1500:]
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            detail += "".join(traceback.format_exception(result.exception)[-3:])
        raise AssertionError(f"`{cmd}` exited {result.exit_code}:\n{detail}")


#: pages whose blocks take more than ~10 s on 2 busy cores (WordNet loads, DataLoader workers, CMDA fits)
SLOW_PAGES = {"README.md", "docs/training-loop.md", "docs/cmda.md"}
PAGE_IDS = [pytest.param(page, marks=pytest.mark.slow) if page in SLOW_PAGES else page
            for page in (p.relative_to(ROOT).as_posix() for p in PAGES)]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("page", PAGE_IDS)
def test_page_snippets_run(page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = [b for b in blocks_of(ROOT / page) if b.lang in RUNNABLE or b.file]
    todo = [b for b in blocks if not allowed(b)]
    if not todo:
        pytest.skip("no runnable blocks" if not blocks else "; ".join(f"{b.where}: {allowed(b)}" for b in blocks))
    for name, text in INPUTS.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    from PIL import Image

    Image.new("RGB", (64, 48), (200, 120, 40)).save(tmp_path / "cat.jpg")
    import numpy as np
    from crossaug import Audio, get_modality

    tone = (0.3 * np.sin(2 * np.pi * 220 * np.arange(16000) / 16000)).astype(np.float32)
    get_modality("audio").save(Audio(tone, 16000), tmp_path / "clip")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CROSSAUG_NO_PROGRESS", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace: dict = {"__name__": "__snippet__"}
    for block in todo:
        try:
            run_block(block, namespace)
        except BaseException as exc:  # noqa: BLE001 - reported with the block's place
            if isinstance(exc, (KeyboardInterrupt, pytest.skip.Exception)):
                raise
            tb = "".join(traceback.format_exception(exc)[-3:]) if block.lang == "python" else str(exc)
            pytest.fail(f"{block.where}: {type(exc).__name__}: {exc}\n{tb}", pytrace=False)


def test_the_runner_finds_blocks_and_reports_places(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("# t\n\n<!-- test-setup: x = 2 -->\n```python\ny = x + 1\n```\n\n```bash\n"
                    "crossaug list   # comment\npip install foo\n```\n", encoding="utf-8")
    py, sh = blocks_of(page, tmp_path)
    assert (py.line, py.lang, py.setup.strip(), py.code) == (4, "python", "x = 2", "y = x + 1\n")
    assert commands(sh) == ["crossaug list"]
    ns: dict = {}
    run_block(py, ns)
    assert ns["y"] == 3
    bad = Block("page.md", 4, "python", "1 / 0\n")
    with pytest.raises(ZeroDivisionError) as err:
        run_block(bad, {})
    assert any(f.filename == "page.md" and f.lineno == 5 for f in traceback.extract_tb(err.value.__traceback__))


def test_a_failing_command_is_reported_with_its_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    block = Block("page.md", 9, "bash", "crossaug run no-such-recipe -i in.txt -o out   # fails\n")
    with pytest.raises(AssertionError, match=r"`crossaug run no-such-recipe -i in.txt -o out` exited [1-9]"):
        run_block(block, {})
