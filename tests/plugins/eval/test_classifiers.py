"""Built-in classifiers learn what they should, deterministically; user models plug in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from crossaug import Audio, ConfigError, Sample
from crossaug_eval.classifiers import CallableClassifier, get_classifier
from crossaug_eval.classifiers.audio_cnn import SpectrogramCNN
from crossaug_eval.classifiers.image_cnn import ImageCNN
from crossaug_eval.classifiers.text_embed import EmbeddingLogReg


class LetterCounts:
    """A deterministic text embedder (letter counts) so logistic regression is tested without a model."""

    def encode(self, texts: list[str]) -> np.ndarray:
        return np.array([[t.count(c) for c in "abcdefghijklmnopqrstuvwxyz"] for t in texts], dtype=float)


def test_logistic_regression_on_embeddings_separates_and_reports_loss() -> None:
    train = [Sample(f"a{i}", {"text": "aaaa " * (i + 1)}, label="A") for i in range(4)] + \
            [Sample(f"z{i}", {"text": "zzzz " * (i + 1)}, label="Z") for i in range(4)]
    clf = EmbeddingLogReg(embedder=LetterCounts()).fit(train, seed=0)
    assert clf.predict([Sample("q", {"text": "aaa"}), Sample("r", {"text": "zz zz"})]) == ["A", "Z"]
    assert clf.train_loss_ is not None and 0 < clf.train_loss_ < np.log(2)
    fresh = clf.fresh()
    assert fresh.train_loss_ is None and fresh.embedder is clf.embedder  # shares the frozen encoder
    one_class = EmbeddingLogReg(embedder=LetterCounts()).fit(train[:2], seed=0)
    assert one_class.predict([Sample("q", {"text": "zzz"})]) == ["A"] and one_class.train_loss_ == 0.0


def _images(n: int, seed: int) -> list[Sample]:
    from PIL import Image

    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        label = i % 2
        x = rng.integers(0, 60, (16, 16)).astype(np.uint8)
        if label:  # a bright vertical bar
            x[:, 6:10] = 255
        else:      # a bright horizontal bar
            x[6:10, :] = 255
        out.append(Sample(f"im{seed}-{i}", {"image": Image.fromarray(x, mode="L")}, label=label))
    return out


@pytest.mark.model
@pytest.mark.slow
def test_image_cnn_learns_bars_deterministically() -> None:
    train, test = _images(16, 0), _images(20, 1)
    clf = ImageCNN(size=8, epochs=20, lr=1e-2).fit(train, seed=3)
    pred = clf.predict(test)
    assert np.mean([p == s.label for p, s in zip(pred, test)]) >= 0.9
    again = ImageCNN(size=8, epochs=20, lr=1e-2).fit(train, seed=3)
    assert again.predict(test) == pred and again.train_loss_ == clf.train_loss_
    assert clf.features(test[:3]).shape == (3, 32)


@pytest.mark.model
@pytest.mark.slow
def test_spectrogram_cnn_tells_low_from_high_tones() -> None:
    t = np.arange(8000) / 8000
    rng = np.random.default_rng(0)

    def clip(i: int, label: int) -> Sample:
        f = (300 if label == 0 else 2500) * (1 + 0.05 * rng.standard_normal())
        x = 0.4 * np.sin(2 * np.pi * f * t) + 0.01 * rng.standard_normal(t.size)
        return Sample(f"c{i}", {"audio": Audio(x.astype(np.float32), 8000)}, label=label)

    train = [clip(i, i % 2) for i in range(12)]
    test = [clip(100 + i, i % 2) for i in range(10)]
    clf = SpectrogramCNN(seconds=1.0, epochs=25, lr=1e-2).fit(train, seed=0)
    assert clf.predict(test) == [s.label for s in test]
    assert np.isfinite(clf.train_loss_)


def test_user_models_plug_in() -> None:
    data = [Sample("a", {"text": "x"}, label=1), Sample("b", {"text": "y"}, label=2)]

    class Memorise:
        def fit(self, samples: list[Sample], seed: int) -> None:
            self.table = {s["text"]: s.label for s in samples}
            self.train_loss_ = 0.25

        def predict(self, samples: list[Sample]) -> list[Any]:
            return [self.table.get(s["text"]) for s in samples]

    wrapped = get_classifier(Memorise())
    assert wrapped.fit(data, 0).predict(data) == [1, 2] and wrapped.train_loss_ == 0.25
    fresh = wrapped.fresh()
    assert fresh.obj is not wrapped.obj  # type: ignore[attr-defined]
    fn = get_classifier(lambda train, seed: ((lambda xs: [seed] * len(xs)), 1.5))
    assert isinstance(fn, CallableClassifier) and fn.fit(data, 7).predict(data) == [7, 7] and fn.train_loss_ == 1.5
    assert type(get_classifier("crossaug_eval.classifiers.image_cnn:ImageCNN")).__name__ == "ImageCNN"
    with pytest.raises(ConfigError, match="unknown classifier"):
        get_classifier("resnet-9000")
    with pytest.raises(ConfigError, match="no built-in classifier"):
        get_classifier(None, field="video")
    with pytest.raises(ConfigError, match="fit"):
        CallableClassifier(lambda t, s: None).predict(data)


def _tiny_bert(path: Path) -> Path:
    from transformers import BertConfig, BertModel, BertTokenizerFast

    path.mkdir(parents=True)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "good", "great", "fine", "bad", "awful", "poor", "movie", "a"]  # noqa: E501
    BertTokenizerFast(vocab={w: i for i, w in enumerate(vocab)}).save_pretrained(path)
    cfg = BertConfig(vocab_size=len(vocab), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                     intermediate_size=32, max_position_embeddings=32)
    import torch

    torch.manual_seed(0)
    BertModel(cfg).save_pretrained(path)
    return path


@pytest.mark.model
@pytest.mark.slow
def test_fine_tuned_encoder_from_a_local_tiny_model(tmp_path: Path) -> None:
    pytest.importorskip("transformers")

    model = _tiny_bert(tmp_path / "bert")
    pos, neg = ["good movie", "great movie", "a fine movie"], ["bad movie", "awful movie", "a poor movie"]
    train = [Sample(f"p{i}", {"text": t}, label="pos") for i, t in enumerate(pos)] + \
            [Sample(f"n{i}", {"text": t}, label="neg") for i, t in enumerate(neg)]
    clf = get_classifier("text-finetune", model=str(model), epochs=40, lr=5e-3, max_length=8)
    clf.fit(train, seed=1)
    assert clf.predict(train) == [s.label for s in train]
    assert clf.train_loss_ is not None and clf.train_loss_ < 0.3
    again = clf.fresh().fit(train, seed=1)
    assert again.train_loss_ == pytest.approx(clf.train_loss_, rel=1e-5)


def test_spectrograms_are_computed_once_per_distinct_clip(monkeypatch: pytest.MonkeyPatch) -> None:
    import crossaug_eval.classifiers.audio_cnn as audio_cnn

    calls: list[int] = []
    real = audio_cnn.log_mel
    monkeypatch.setattr(audio_cnn, "log_mel", lambda x, *a, **k: calls.append(len(x)) or real(x, *a, **k))
    t = np.arange(8000) / 8000
    low, high = np.sin(2 * np.pi * 300 * t).astype(np.float32), np.sin(2 * np.pi * 2000 * t).astype(np.float32)
    clips = [Sample("a", {"audio": Audio(low, 8000)}), Sample("b", {"audio": Audio(high, 8000)}),
             Sample("a-copy", {"audio": Audio(low.copy(), 8000)})]
    clf = SpectrogramCNN(seconds=1.0)
    first = clf._spectrograms(clips)
    assert len(calls) == 2  # the copy of clip a is the same content
    assert np.array_equal(first[0], first[2]) and not np.array_equal(first[0], first[1])
    again = clf.fresh()._spectrograms(clips[::-1])
    assert len(calls) == 2 and np.array_equal(again[::-1], first)
    expected = real(high, 8000, 1.0, n_mels=40)
    assert np.array_equal(first[1, 0], expected)
