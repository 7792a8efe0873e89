from __future__ import annotations

from pathlib import Path

import pytest

from neighbourhood.errors import InvalidOptionsError, UserError
from neighbourhood.linkage.config import LinkageConfig, load_config


def test_bad_thresholds_and_blocking_columns_are_reported_together() -> None:
    with pytest.raises(InvalidOptionsError) as caught:
        LinkageConfig(match_threshold=1.5, review_from=-0.1, blocking=(("surname",),))
    text = str(caught.value)
    assert "match_threshold must be a probability from 0 to 1 (got 1.5)" in text
    assert "review_from must be a probability" in text
    assert "blocking rule ['surname'] names 'surname'" in text


def test_the_configuration_file_is_read_and_checked(tmp_path: Path) -> None:
    (tmp_path / "linkage.toml").write_text('match_threshold = 0.95\nblocking = [["dob"]]\n')
    config = load_config(tmp_path)
    assert config.match_threshold == 0.95 and config.blocking == (("dob",),)
    (tmp_path / "linkage.toml").write_text("threshold = 2\n")
    with pytest.raises(UserError, match="unknown setting"):
        load_config(tmp_path)


def test_the_rules_that_estimate_and_train_the_model_are_read_and_checked(
    tmp_path: Path,
) -> None:
    (tmp_path / "linkage.toml").write_text(
        'prior_rules = [["given", "family", "postcode"]]\nprior_recall = 0.7\n'
        'training_rules = [["postcode", "family"]]\n'
    )
    config = load_config(tmp_path)
    assert config.prior_rules == (("given", "family", "postcode"),)
    assert config.training_rules == (("postcode", "family"),)
    assert config.prior_recall == 0.7
    with pytest.raises(InvalidOptionsError) as caught:
        LinkageConfig(prior_rules=(), prior_recall=0, training_rules=(("email",),))
    text = str(caught.value)
    assert "prior_rules needs at least one rule" in text
    assert "prior_recall must be above 0 and at most 1 (got 0)" in text
    assert "training rule ['email'] names 'email'" in text
    (tmp_path / "linkage.toml").write_text('prior_rules = ["dob"]\n')
    with pytest.raises(UserError, match="prior_rules must be a list of lists of column names"):
        load_config(tmp_path)
