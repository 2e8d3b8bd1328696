"""PyTorch integration: augmentation inside DataLoader workers, worker-aware and epoch-aware seeding."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the PyTorch integration needs torch")
from crossaug import BadSample, Sample  # noqa: E402
from crossaug.builtin.typo_recipe import TypoRecipe  # noqa: E402
from crossaug.errors import ConfigError  # noqa: E402
from crossaug_integrations.torch_dataset import (  # noqa: E402
    AugmentedDataset,
    AugmentedIterableDataset,
    collate_samples,
    sample_to_dict,
    seed_worker,
)
from torch.utils.data import DataLoader, Dataset  # noqa: E402

SAME = ["the quick brown fox jumps over the lazy dog"] * 16  # identical rows: only seeding tells them apart


def texts(loader: DataLoader) -> list[tuple[str, str]]:
    return [(s.parent_id, s.fields["text"]) for batch in loader for s in batch]


def iterable(seed: int = 0, **kw) -> AugmentedIterableDataset:
    return AugmentedIterableDataset(SAME, TypoRecipe(rate=0.3), seed=seed, batch_size=3, **kw)


def test_two_workers_draw_distinct_streams_and_runs_repeat() -> None:
    ds = iterable()
    loader = DataLoader(ds, batch_size=4, num_workers=2, collate_fn=collate_samples)
    first = texts(loader)
    assert sorted(pid for pid, _ in first) == sorted(str(i) for i in range(16))  # every row once
    by_pos = dict(first)
    worker0 = [by_pos[str(i)] for i in range(0, 16, 2)]
    worker1 = [by_pos[str(i)] for i in range(1, 16, 2)]
    assert worker0 != worker1  # a shared random stream would give both workers the same sequence
    assert len(set(by_pos.values())) >= 14 and SAME[0] not in by_pos.values()
    assert texts(DataLoader(iterable(), batch_size=4, num_workers=2, collate_fn=collate_samples)) == first
    other_seed = dict(texts(DataLoader(iterable(seed=1), batch_size=4, num_workers=2, collate_fn=collate_samples)))
    assert sum(other_seed[k] != v for k, v in by_pos.items()) >= 14


def test_results_do_not_depend_on_worker_count() -> None:
    alone = dict(texts(DataLoader(iterable(), batch_size=4, num_workers=0, collate_fn=collate_samples)))
    pair = dict(texts(DataLoader(iterable(), batch_size=4, num_workers=2, collate_fn=collate_samples)))
    assert alone == pair


def test_distributed_ranks_split_the_rows() -> None:
    single = dict(texts(DataLoader(iterable(), batch_size=4, num_workers=0, collate_fn=collate_samples)))
    merged: dict[str, str] = {}
    for rank in (0, 1):
        part = texts(DataLoader(iterable(rank=rank, world_size=2), batch_size=4, num_workers=2,
                                collate_fn=collate_samples))
        assert len(part) == 8 and not set(dict(part)) & set(merged)  # no row on two ranks
        merged.update(part)
    assert merged == single
    with pytest.raises(ConfigError, match="rank"):
        iterable(rank=2, world_size=2)


def test_epochs_draw_new_augmentations_even_with_persistent_workers() -> None:
    ds = iterable()
    loader = DataLoader(ds, batch_size=4, num_workers=2, collate_fn=collate_samples, persistent_workers=True)
    epochs = []
    for epoch in range(2):
        ds.set_epoch(epoch)
        epochs.append(dict(texts(loader)))
    assert sum(epochs[0][k] != epochs[1][k] for k in epochs[0]) >= 14
    fresh = iterable()
    fresh.set_epoch(1)
    assert dict(texts(DataLoader(fresh, batch_size=4, num_workers=0, collate_fn=collate_samples))) == epochs[1]


def test_map_style_dataset_in_workers() -> None:
    ds = AugmentedDataset(SAME, TypoRecipe(rate=0.3, n=3), seed=4)
    in_workers = texts(DataLoader(ds, batch_size=5, num_workers=2, collate_fn=collate_samples))
    in_main = [(ds[i].parent_id, ds[i].fields["text"]) for i in range(len(ds))]
    assert in_workers == in_main
    assert len({t for _, t in in_main}) >= 14
    ds.set_epoch(3)
    assert sum(ds[i].fields["text"] != t for i, (_, t) in enumerate(in_main)) >= 14
    chosen = {ds[0].id for _ in range(3)}
    assert len(chosen) == 1 and chosen.pop() in {"0~0", "0~1", "0~2"}


def test_p_zero_returns_originals_and_dict_format_collates() -> None:
    ds = AugmentedDataset([{"text": "a b c", "label": 1}, {"text": "d e f", "label": 0}], TypoRecipe(rate=1.0),
                          p=0.0, format=sample_to_dict)
    batch = next(iter(DataLoader(ds, batch_size=2)))
    assert batch["text"] == ["a b c", "d e f"]
    assert batch["label"].tolist() == [1, 0]
    assert batch["id"] == ["0", "1"]


def test_mode_all_with_originals() -> None:
    ds = AugmentedIterableDataset(["one two three", "four five six"], TypoRecipe(rate=0.5, n=3),
                                  mode="all", include_original=True, batch_size=2)
    out = list(ds)
    assert [s.id for s in out] == ["0", "0~0", "0~1", "0~2", "1", "1~0", "1~1", "1~2"]
    assert out[0].fields["text"] == "one two three"


def test_seed_worker_makes_global_generators_distinct_and_reproducible() -> None:
    class GlobalNumpy(Dataset):
        def __len__(self) -> int:
            return 4

        def __getitem__(self, i: int) -> float:
            return float(np.random.random())

    def run() -> list[float]:
        loader = DataLoader(GlobalNumpy(), batch_size=2, num_workers=2, worker_init_fn=seed_worker,
                            generator=torch.Generator().manual_seed(7))
        return [x for batch in loader for x in batch.tolist()]

    a, b = run(), run()
    assert a == b
    assert a[:2] != a[2:]  # worker 0 made items 0-1, worker 1 items 2-3


def test_bad_arguments() -> None:
    with pytest.raises(ConfigError, match="one-shot iterator"):
        AugmentedIterableDataset(iter(SAME), TypoRecipe())
    with pytest.raises(ConfigError, match="p must be"):
        AugmentedDataset(SAME, TypoRecipe(), p=2)
    with pytest.raises(ConfigError, match="sequence"):
        AugmentedDataset((s for s in SAME), TypoRecipe())


def test_undecodable_row_names_the_sample() -> None:
    rows = [Sample("ok", {"text": "fine words here"}), {"id": "bad", "image": np.zeros((16, 16, 3), np.uint8)}]
    ds = AugmentedDataset(rows, TypoRecipe(rate=0.5), on_error="original")
    assert ds[0].id == "ok~0"
    with pytest.raises(BadSample, match="sample 'bad' field 'text'"):
        ds[1]


_LOADS: list[int] = []  # stands for a lazily loaded resource (WordNet, a model): filled on first use
_LOG: list[str] = []


class _ResourceRecipe(TypoRecipe):
    """TypoRecipe that 'loads a resource' once per process and logs the loading process's pid."""

    def process(self, samples, seeder):
        import os

        if not _LOADS:
            _LOADS.append(os.getpid())
            with open(_LOG[0], "a") as fh:
                fh.write(f"{os.getpid()}\n")
        return super().process(samples, seeder)


@pytest.mark.parametrize("warm_up, loads", [(True, 1), (False, 4)])
def test_warm_up_loads_resources_once_for_all_workers_and_epochs(tmp_path, warm_up: bool, loads: int) -> None:
    import multiprocessing

    if multiprocessing.get_start_method() != "fork":
        pytest.skip("inheriting the parent's resources needs forked workers")
    _LOADS.clear()
    _LOG[:] = [str(tmp_path / "loads.txt")]
    ds = AugmentedDataset(SAME[:4], _ResourceRecipe(rate=0.3), seed=0, warm_up=warm_up)
    loader = DataLoader(ds, batch_size=2, num_workers=2, collate_fn=collate_samples)
    for epoch in range(2):  # no persistent_workers: new workers each epoch
        ds.set_epoch(epoch)
        assert len(texts(loader)) == 4
    pids = (tmp_path / "loads.txt").read_text().split()
    assert len(pids) == loads  # warm: the parent only; cold: each of 2 workers in each of 2 epochs
    _LOADS.clear()
