"""LLM rewriting (crossaug_text/llm_rewrite.py, llm_clients.py, hf.py) with tiny random models."""

from __future__ import annotations

import sys
import types

import crossaug
import numpy as np
import pytest
from crossaug import ConfigError, Sample, Seeder
from crossaug_testing import AugmentationContract, RecipeContract
from crossaug_text.llm_clients import get_client, register_client, unregister_client
from crossaug_text.llm_rewrite import DEFAULT_PROMPT, LLMRewrite

pytestmark = pytest.mark.model
BAD = [(Sample("empty", {"text": ""}), "empty"), (Sample("ws", {"text": " "}), "whitespace")]


def good():
    return [Sample("c1", {"text": "the cat sits on the mat"}), Sample("c2", {"text": "a dog runs in the park"})]


class TestLLMRewriteT5Contract(AugmentationContract):
    name = "text.llm-rewrite"

    @pytest.fixture(autouse=True)
    def _model(self, tiny_t5):
        self.params = {"model": tiny_t5, "max_new_tokens": 6}

    def good_samples(self):
        return good()

    def bad_samples(self):
        return BAD


class TestCaptionRewriteRecipeContract(RecipeContract):
    name = "caption-rewrite"

    @pytest.fixture(autouse=True)
    def _model(self, tiny_gpt2):
        self.params = {"model": tiny_gpt2, "n": 2, "max_new_tokens": 5}

    def good_samples(self):
        return good()


def test_default_prompt_is_the_papers():
    assert DEFAULT_PROMPT == ("Maintain the nouns in the following sentence intact and generate "
                              "semantically diverse sentences.")
    prompt = LLMRewrite().build_prompt("a cat")
    assert prompt.startswith(DEFAULT_PROMPT) and "a cat" in prompt


@pytest.mark.slow
def test_causal_and_seq2seq_models_through_public_path(tiny_t5, tiny_gpt2):
    for path in (tiny_t5, tiny_gpt2):
        aug = crossaug.create("augmentation", "text.llm-rewrite", model=path, max_new_tokens=6)
        outs = aug(good(), [np.random.default_rng(i) for i in range(2)])
        for s, o in zip(good(), outs, strict=False):
            p = o.lineage[-1].params
            assert o.lineage[-1].model == path
            assert p["prompt"] == aug.build_prompt(s.fields["text"])
            assert o.fields["text"] == p["output"] and o.fields["text"].strip()
        # batch call equals one-by-one (per-sample seeds)
        one = [aug.augment(s, np.random.default_rng(i)) for i, s in enumerate(good())]
        assert [o.fields for o in one] == [o.fields for o in outs]
    # greedy decoding: replay by regenerating from the seed gives the same text
    greedy = LLMRewrite(model=tiny_gpt2, do_sample=False, max_new_tokens=6)
    out = greedy.augment(good()[0], np.random.default_rng(0))
    regen = greedy.replay(good()[0], {"seed": out.lineage[-1].params["seed"]})
    assert regen.fields == out.fields


def test_gpt2_sampling_varies_with_seed(tiny_gpt2):
    aug = LLMRewrite(model=tiny_gpt2, max_new_tokens=8)
    outs = {aug.rewrite(["the cat sits on the mat"], [seed])[0] for seed in range(4)}
    assert len(outs) > 1


def test_plugged_in_client_receives_prompts_seeds_and_options():
    seen = {}

    def client(prompts, seeds, **options):
        seen.update(prompts=prompts, seeds=seeds, options=options)
        return [f"rewritten {i}" for i in range(len(prompts))]

    register_client("test-client", client)
    try:
        recipe = crossaug.create("recipe", "caption-rewrite", client="test-client", n=3, temperature=0.7)
        groups = recipe.process(good(), Seeder(0))
        assert [[o.fields["text"] for o in g] for g in groups] == [["rewritten 0", "rewritten 1", "rewritten 2"],
                                                                  ["rewritten 3", "rewritten 4", "rewritten 5"]]
        assert len(seen["prompts"]) == 6 and len(set(seen["seeds"])) == 6  # one batched call
        assert seen["options"]["temperature"] == 0.7
        assert groups[0][0].lineage[-1].model == "client:test-client"
    finally:
        unregister_client("test-client")


def test_client_through_the_pluggy_hook_and_dotted_path():
    module = types.ModuleType("fake_llm_plugin")

    @crossaug.hookimpl
    def crossaug_text_llm_client(name):
        return (lambda prompts, seeds, **kw: ["hooked"] * len(prompts)) if name == "hooked" else None

    module.crossaug_text_llm_client = crossaug_text_llm_client
    module.reverse = lambda prompts, seeds, **kw: [p[::-1] for p in prompts]
    pm = crossaug.get_plugin_manager()
    pm.register(module, name="fake_llm_plugin")
    sys.modules["fake_llm_plugin"] = module
    try:
        assert get_client("hooked")(["x"], [0]) == ["hooked"]
        assert LLMRewrite(client="fake_llm_plugin:reverse", template="{text}").rewrite(["abc"], [0]) == ["cba"]
        with pytest.raises(ConfigError, match="unknown LLM client"):
            get_client("nobody")
    finally:
        pm.unregister(name="fake_llm_plugin")
        del sys.modules["fake_llm_plugin"]


def test_empty_model_output_keeps_input():
    register_client("silent", lambda prompts, seeds, **kw: [""] * len(prompts))
    try:
        out = LLMRewrite(client="silent").augment(good()[0], np.random.default_rng(0))
        assert out.fields["text"] == good()[0].fields["text"] and out.lineage[-1].params["empty_output"]
    finally:
        unregister_client("silent")


def test_config_errors():
    with pytest.raises(ConfigError, match="text"):
        LLMRewrite(template="{prompt} only")
    with pytest.raises(ConfigError):
        LLMRewrite(template="{prompt} {text} {other}")
    with pytest.raises(ConfigError):
        LLMRewrite(temperature=0)


def test_missing_model_is_missing_resource(tmp_path):
    with pytest.raises(crossaug.MissingResource, match="huggingface-cli download"):
        LLMRewrite(model="nobody/no-such-model-xyz").rewrite(["a"], [0])


def test_too_long_input_is_bad_sample(tiny_gpt2):
    aug = LLMRewrite(model=tiny_gpt2, max_input_tokens=200)
    with pytest.raises(crossaug.BadSample, match="tokens"):
        aug.augment(Sample("big", {"text": "a dog runs in the park " * 4500}), np.random.default_rng(0))


def test_batch_rewrite_refuses_a_prompt_it_would_cut(tiny_gpt2):
    """`.rewrite()` (the API recipes call) must not silently drop the end of a long prompt."""
    aug = LLMRewrite(model=tiny_gpt2, max_input_tokens=200)
    long = "a dog runs in the park " * 60
    with pytest.raises(crossaug.BadSample, match="tokens") as err:
        aug.rewrite(["a cat", long], [0, 1])
    assert err.value.sample_id == "#1"
    with pytest.raises(crossaug.BadSample) as err:
        aug.rewrite([long], [0], ids=["caption-7"])
    assert err.value.sample_id == "caption-7"
    assert len(aug.rewrite(["a cat sits"], [0])) == 1  # short prompts still run


def test_a_client_named_by_path_is_found_without_reading_every_package_each_call(monkeypatch):
    """Reading the clients' entry points parses every installed distribution (about 10 ms); a
    rewrite asks for its client per output. They are read once (again only for an unknown name)."""
    from crossaug_text import llm_clients

    reads = []
    real = llm_clients.metadata.entry_points
    monkeypatch.setattr(llm_clients.metadata, "entry_points",  # the module's own: count its group's reads
                        lambda **kw: (kw.get("group") == llm_clients.GROUP and reads.append(kw)) or real(**kw))
    monkeypatch.setattr(llm_clients, "_entry_points", (None, {}))
    for _ in range(5):
        assert llm_clients.get_client("json:dumps") is __import__("json").dumps
    assert len(reads) == 1
    with pytest.raises(ConfigError, match="unknown LLM client 'nope'"):
        llm_clients.get_client("nope")
    assert len(reads) == 2  # read again before saying a name is unknown
