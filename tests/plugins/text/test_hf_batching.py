"""Batched generation of the transformers backend (crossaug_text/hf.py) with tiny random models.

Counts ``generate`` calls, compares batched outputs with one-at-a-time runs (counted
flips, bounded as the reproducibility contract does), pins the Gumbel-max sampler
against softmax probabilities computed in a plain loop, and checks chat templates,
stop strings, the NaN guard and the device/dtype policy.
"""

from __future__ import annotations

import math
import shutil

import crossaug
import numpy as np
import pytest
from crossaug import BadSample, ConfigError, Sample, Seeder
from crossaug_testing.contract import _StepContract

from .conftest import CORPUS

pytestmark = pytest.mark.model
#: share of texts allowed to differ between batchings (greedy flips where a float tolerance moves an argmax)
MAX_FLIPS = _StepContract.max_text_flips
WORDS = " ".join(CORPUS).split()


def mixed(n: int) -> list[Sample]:
    """``n`` sentences of 1 to 12 words: prompts of many token lengths."""
    return [Sample(f"m{i}", {"text": " ".join(WORDS[i % 30:i % 30 + 1 + (i * 7) % 12])}) for i in range(n)]


def count_generate(monkeypatch, gen) -> list[int]:
    """Batch sizes of the model's ``generate`` calls (restored after the test)."""
    sizes: list[int] = []
    real = gen.model.generate

    def counting(*args, **kwargs):
        sizes.append(int(kwargs["input_ids"].shape[0]))
        return real(*args, **kwargs)

    monkeypatch.setattr(gen.model, "generate", counting)
    return sizes


def flips(a: list[str], b: list[str]) -> int:
    assert len(a) == len(b)
    return sum(x != y for x, y in zip(a, b))


@pytest.mark.slow
@pytest.mark.parametrize("model,do_sample", [("tiny_gpt2", True), ("tiny_gpt2", False), ("tiny_t5", True)])
def test_40_rewrites_of_mixed_lengths_take_3_generate_calls(model, do_sample, request, monkeypatch):
    from crossaug_text.hf import get_generator
    from crossaug_text.llm_rewrite import LLMRewrite

    path = request.getfixturevalue(model)
    samples = mixed(40)
    assert len({len(s["text"].split()) for s in samples}) >= 10
    gen = get_generator(path)
    outs, sizes = {}, {}
    for batch_size in (16, 1):
        sizes[batch_size] = count_generate(monkeypatch, gen)
        aug = LLMRewrite(model=path, batch_size=batch_size, max_new_tokens=6, do_sample=do_sample)
        outs[batch_size] = [o["text"] for o in aug(samples, [np.random.default_rng(i) for i in range(40)])]
        monkeypatch.undo()
    assert sizes[16] == [16, 16, 8] and sizes[1] == [1] * 40
    n = flips(outs[16], outs[1])
    assert n <= MAX_FLIPS * 40, f"{n} of 40 rewrites differ between batch sizes 16 and 1"
    if do_sample:  # sampling still varies: the rows did not share one stream
        assert len(set(outs[16])) > 20


@pytest.mark.slow
def test_back_translation_of_20_inputs_takes_at_most_4_calls_per_direction(tiny_marian, monkeypatch):
    from crossaug_text.hf import get_generator

    samples = mixed(20)
    groups, sizes = {}, {}
    for batch_size in (8, 1):
        sizes[batch_size] = [count_generate(monkeypatch, get_generator(m)) for m in tiny_marian]
        recipe = crossaug.create("recipe", "back-translation", forward_model=tiny_marian[0],
                                 backward_model=tiny_marian[1], fan_out=[1, 1, 1], max_new_tokens=6,
                                 num_beams=2, batch_size=batch_size)
        groups[batch_size] = [[(c.fields.get("text.de"), c["text"]) for c in g]
                              for g in recipe.process(samples, Seeder(0))]
        monkeypatch.undo()
    forward, backward = sizes[8]
    assert len(forward) <= 4 and len(backward) <= 4 and sum(forward) == sum(backward) == 20
    assert sizes[1] == [[1] * 20, [1] * 20]
    pivots = [[p for p, _ in g] for g in groups[8]], [[p for p, _ in g] for g in groups[1]]
    backs = [[t for _, t in g] for g in groups[8]], [[t for _, t in g] for g in groups[1]]
    n = flips(sum(pivots[0], []), sum(pivots[1], [])) + flips(sum(backs[0], []), sum(backs[1], []))
    assert n <= MAX_FLIPS * 40, f"{n} of 40 translations differ between batch sizes 8 and 1"


def softmax_loop(logits: list[float], temperature: float, top_k: int = 0) -> list[float]:
    """Reference: the probabilities sampling draws from, written as a plain loop."""
    keep = sorted(range(len(logits)), key=lambda j: -logits[j])[:top_k] if top_k else range(len(logits))
    weights = [math.exp(logits[j] / temperature) if j in keep else 0.0 for j in range(len(logits))]
    total = sum(weights)
    return [w / total for w in weights]


@pytest.mark.parametrize("top_k", [0, 2])
def test_gumbel_max_draws_from_the_warped_softmax(top_k):
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    from crossaug_text.hf import _processors

    _, gumbel = _processors(transformers)
    logits, temperature, rows = [2.0, 1.0, 0.5, 0.0, -1.0], 0.7, 6000
    warpers = [transformers.TemperatureLogitsWarper(temperature)]
    if top_k:
        warpers.append(transformers.TopKLogitsWarper(top_k))
    scores = torch.tensor([logits] * rows)
    ids = torch.zeros((rows, 1), dtype=torch.long)
    for w in warpers:
        scores = w(ids, scores)
    noise = gumbel([torch.Generator().manual_seed(1000 + i) for i in range(rows)])
    picks = noise(ids, scores).argmax(dim=-1).tolist()
    want = softmax_loop(logits, temperature, top_k)
    for j, p in enumerate(want):
        seen = picks.count(j) / rows
        sigma = math.sqrt(max(p * (1 - p), 1e-12) / rows)
        assert abs(seen - p) <= 4 * sigma + 1e-9, (j, seen, p)
    # row i's noise comes from its own generator: the same draw alone or in another batch
    alone = gumbel([torch.Generator().manual_seed(1003)])(ids[:1], scores[:1])
    pair = gumbel([torch.Generator().manual_seed(7), torch.Generator().manual_seed(1003)])(ids[:2], scores[:2])
    assert torch.equal(pair[1], alone[0])


@pytest.fixture(scope="module")
def chat_gpt2(tiny_gpt2, tmp_path_factory) -> str:
    """The tiny GPT-2 with a chat template on its tokenizer."""
    from transformers import AutoTokenizer

    d = tmp_path_factory.mktemp("chat-gpt2")
    shutil.copytree(tiny_gpt2, d, dirs_exist_ok=True)
    tok = AutoTokenizer.from_pretrained(d)
    tok.chat_template = ("{% for m in messages %}<pad> user : {{ m['content'] }} </s>{% endfor %}"
                         "{% if add_generation_prompt %} assistant :{% endif %}")
    tok.save_pretrained(d)
    return str(d)


def test_chat_template_is_used_when_the_tokenizer_has_one(chat_gpt2, tiny_gpt2, tiny_t5):
    from crossaug_text.hf import BASE_LM_STOP, get_generator
    from crossaug_text.llm_rewrite import LLMRewrite

    chat, base, t5 = get_generator(chat_gpt2), get_generator(tiny_gpt2), get_generator(tiny_t5)
    assert chat.has_chat_template and not base.has_chat_template and not t5.has_chat_template
    templated = chat.tokenizer.apply_chat_template([{"role": "user", "content": "a dog"}], tokenize=False,
                                                   add_generation_prompt=True)
    assert templated.endswith("assistant :")
    assert chat.encode("a dog", 64) == chat.tokenizer(templated, add_special_tokens=False)["input_ids"]
    assert chat.encode("a dog", 64, chat=False) == base.encode("a dog", 64)
    # chat models stop at the end of their turn (EOS); base LMs also at the first newline; seq2seq at EOS
    assert chat.stop_strings(None, None) == () and base.stop_strings(None, None) == BASE_LM_STOP
    assert t5.stop_strings(None, None) == () and chat.stop_strings(None, False) == BASE_LM_STOP
    out = LLMRewrite(model=chat_gpt2, max_new_tokens=5)(mixed(3), [np.random.default_rng(i) for i in range(3)])
    assert all(o["text"] for o in out)
    with pytest.raises(ConfigError, match="chat template"):
        LLMRewrite(model=tiny_gpt2, chat=True).rewrite(["a dog"], [0])


def test_stop_string_cuts_the_rewrite_and_ends_generation(tiny_gpt2, monkeypatch):
    from crossaug_text.hf import get_generator
    from crossaug_text.llm_rewrite import LLMRewrite

    gen = get_generator(tiny_gpt2)
    free = LLMRewrite(model=tiny_gpt2, do_sample=False, max_new_tokens=10, stop=[])
    for s in mixed(12):
        text = free.rewrite([s["text"]], [0])[0]
        words = text.split()
        cut = next((w for k, w in enumerate(words) if k and text.index(w) > 0 and w not in words[:k]), None)
        if cut is not None:
            break
    assert cut is not None, "no greedy rewrite with two distinct words"
    lengths: list[int] = []
    real = gen.model.generate

    def measured(**kwargs):
        out = real(**kwargs)
        lengths.append(int(out.shape[1] - kwargs["input_ids"].shape[1]))
        return out

    monkeypatch.setattr(gen.model, "generate", measured)
    stopped = LLMRewrite(model=tiny_gpt2, do_sample=False, max_new_tokens=10, stop=[cut]).rewrite([s["text"]], [0])[0]
    assert stopped == text[:text.index(cut)].strip()
    assert lengths[0] < 10  # generation ended at the stop string, not at max_new_tokens


def test_nan_logits_are_a_bad_sample_of_that_row(tiny_gpt2, tmp_path):
    torch = pytest.importorskip("torch")
    from crossaug_text.llm_rewrite import LLMRewrite
    from transformers import AutoTokenizer, GPT2LMHeadModel

    d = tmp_path / "poisoned"
    shutil.copytree(tiny_gpt2, d)
    model, tok = GPT2LMHeadModel.from_pretrained(d), AutoTokenizer.from_pretrained(d)
    model.config.tie_word_embeddings = False  # else the tied output row gives every row a NaN logit
    model.lm_head.weight = torch.nn.Parameter(model.transformer.wte.weight.detach().clone())
    with torch.no_grad():
        model.transformer.wte.weight[tok.convert_tokens_to_ids("katze")] = float("nan")
    model.save_pretrained(d)
    samples = [Sample("ok1", {"text": "the cat sits on the mat"}), Sample("bad", {"text": "die katze sitzt"}),
               Sample("ok2", {"text": "a dog runs"})]
    aug = LLMRewrite(model=str(d), do_sample=False, max_new_tokens=2, batch_size=8)
    rngs = [np.random.default_rng(i) for i in range(3)]
    assert [o["text"] for o in aug([samples[0], samples[2]], [rngs[0], rngs[2]])]  # the others are fine
    with pytest.raises(BadSample) as info:
        aug(samples, [np.random.default_rng(i) for i in range(3)])
    assert info.value.sample_id == "bad" and "text.llm-rewrite" in str(info.value) and "NaN" in str(info.value)


def test_device_and_dtype_follow_the_kernel_policy(tiny_marian):
    torch = pytest.importorskip("torch")
    from crossaug.models import pick_device
    from crossaug_text.hf import get_generator
    from crossaug_text.llm_rewrite import LLMRewrite
    from crossaug_text.translate import Translate

    assert (LLMRewrite().device, LLMRewrite().dtype) == ("auto", "auto")
    recipe = crossaug.create("recipe", "back-translation", forward_model="a", backward_model="b", dtype="fp16")
    assert recipe.forward[0].dtype == recipe.backward[0].dtype == "fp16" and recipe.forward[0].device == "auto"
    assert crossaug.create("recipe", "caption-rewrite", dtype="bfloat16").augmentation.dtype == "bfloat16"
    out = Translate(model=tiny_marian[0], max_new_tokens=4)([Sample("t", {"text": "a dog runs"})], [0])[0]
    assert out.lineage[-1].runtime["device"] == pick_device("auto") == "cpu"  # no GPU here
    assert out.lineage[-1].runtime["dtype"] == "float32"
    half = Translate(model=tiny_marian[0], max_new_tokens=4, dtype="bf16", device="cpu")
    out = half([Sample("t", {"text": "a dog runs"})], [0])[0]
    assert next(get_generator(tiny_marian[0], None, "cpu", "bf16").model.parameters()).dtype == torch.bfloat16
    assert out.lineage[-1].runtime["dtype"] == "bfloat16" and out["text.de"].strip()
    with pytest.raises(ConfigError, match="dtype"):
        Translate(model="m", dtype="int8")
    with pytest.raises(ConfigError, match="dtype"):
        LLMRewrite(dtype="float8")


def test_strict_mode_runs_one_prompt_per_call(tiny_gpt2, monkeypatch):
    from crossaug.models import strict_mode
    from crossaug_text.hf import get_generator
    from crossaug_text.llm_rewrite import LLMRewrite

    sizes = count_generate(monkeypatch, get_generator(tiny_gpt2))
    aug = LLMRewrite(model=tiny_gpt2, batch_size=8, max_new_tokens=3)
    loose = aug.rewrite([s["text"] for s in mixed(3)], [0, 1, 2])
    with strict_mode():
        strict = aug.rewrite([s["text"] for s in mixed(3)], [0, 1, 2])
    assert sizes == [3, 1, 1, 1] and strict == loose
