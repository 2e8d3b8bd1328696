"""The local ESPnet model directory lookup shared by ``audio.asr.espnet`` and ``audio.tts.espnet``."""

from __future__ import annotations

import pytest
from crossaug import ConfigError
from crossaug_audio.espnet_files import local_espnet_files


def test_a_zoo_tag_is_no_directory(tmp_path):
    assert local_espnet_files(str(tmp_path / "kan-bayashi" / "ljspeech_fastspeech2")) is None


def test_the_first_config_and_weights_below_the_directory(tmp_path):
    (tmp_path / "exp" / "tts" / "b").mkdir(parents=True)
    (tmp_path / "exp" / "tts" / "config.yaml").write_text("x: 1\n")
    (tmp_path / "exp" / "tts" / "b" / "train.loss.best.pth").write_bytes(b"")
    (tmp_path / "exp" / "tts" / "a.pth").write_bytes(b"")
    config, weights = local_espnet_files(str(tmp_path))
    assert config == str(tmp_path / "exp" / "tts" / "config.yaml")
    assert weights == str(tmp_path / "exp" / "tts" / "a.pth")  # sorted: a.pth before b/...


@pytest.mark.parametrize("present", ["config.yaml", "model.pth", None])
def test_a_directory_without_both_files_is_a_config_error(tmp_path, present):
    if present:
        (tmp_path / present).write_bytes(b"")
    with pytest.raises(ConfigError, match=r"has no config.yaml and \*.pth ESPnet model files"):
        local_espnet_files(str(tmp_path))
