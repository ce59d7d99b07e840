"""Inputs are checked loudly: bad scores raise with the model and the value."""

from __future__ import annotations

import numpy as np
import pytest

from evalrunner.metrics.compute import compute_all
from evalrunner.metrics.config import ConfigError, MetricsConfig, load_config
from evalrunner.metrics.prepare import MetricsInputError
from evalrunner.metrics.synthetic import build_frames


def _frames(value, task="t"):
    return build_frames([{"family": "f", "model": "m", "task": task, "value": value}],
                        [{"model": "m", "family": "f", "n_fit": 1e9}], [{"family": "f"}],
                        [{"task": "t"}])


@pytest.mark.parametrize("value,words", [
    (np.nan, "not finite"), (np.inf, "not finite"), (53.0, "0.53 rather than 53"),
    (-0.2, "outside"),
])
def test_bad_scores_raise_with_model_and_value(value, words):
    with pytest.raises(MetricsInputError) as err:
        compute_all(_frames(value))
    assert words in str(err.value) and "m/zero-shot/main" in str(err.value)


def test_unknown_task_raises():
    with pytest.raises(MetricsInputError, match="missing from tasks.yaml"):
        compute_all(_frames(0.5, task="nope"))


def test_config_overrides_are_checked(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("d0: 2.0e12\nforecast_fractions: [0.2]\nepoch: 2023-03-01\n")
    config = load_config(path, z=3)
    assert config.d0 == 2e12 and config.forecast_fractions == (0.2,) and config.z == 3.0
    assert str(config.epoch) == "2023-03-01"
    with pytest.raises(ConfigError, match="unknown metrics setting 'd_0'"):
        MetricsConfig().with_overrides({"d_0": 1})
    with pytest.raises(ConfigError, match="expected float"):
        MetricsConfig().with_overrides({"d0": "lots"})
