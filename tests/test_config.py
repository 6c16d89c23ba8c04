"""Config files: the starter template, defaults, and one message listing every mistake."""

from __future__ import annotations

import pytest

from lacgeo.config import config_from_dict, load_config, make_config, replace
from lacgeo.errors import ConfigError
from lacgeo.starter import starter_config


def test_starter_config_round_trips(tmp_path):
    path = tmp_path / "lacgeo.toml"
    path.write_text(starter_config("Wiltshire"))
    config = load_config(path)
    assert config == make_config(la="Wiltshire")
    assert config.patches.target_population == 10_000 and config.recommend.n == 3


def test_unknown_keys_suggest_the_right_one():
    with pytest.raises(ConfigError, match=r"unknown key 'patches.target_populaton'; did you mean 'target_population'"):
        config_from_dict({"area": {"la": "Derby"}, "patches": {"target_populaton": 9000}})


def test_every_problem_is_reported_at_once():
    bad = {"area": {"la": "Derby", "vintage": "2001"}, "patches": {"band": "wide"}, "sed": 3}
    with pytest.raises(ConfigError) as info:
        config_from_dict(bad, source="my.toml")
    msg = str(info.value)
    assert msg.startswith("my.toml: ")
    assert "area.vintage = '2001' is not one of '2021', '2011'" in msg
    assert "patches.band must be a number, found str 'wide'" in msg
    assert "unknown key 'sed'; did you mean 'seed'" in msg


@pytest.mark.parametrize(
    "patch, message",
    [
        ({"need": {"indicators": [{"name": "imd_score", "weight": -1}]}}, "must not be negative"),
        ({"need": {"indicators": [{"name": "imd_score", "weight": 0}]}}, "weights are all zero"),
        ({"need": {"preset": "custom", "indicators": []}}, r'need.preset = "custom" needs \[\[need.indicators'),
        ({"patches": {"band": 1.5}}, "patches.band must be between 0 and 1"),
        ({"patches": {"target_population": 0}}, "target_population must be positive"),
        ({"patches": {"land_weight": 2}}, "patches.land_weight must be between 0 and 1, found 2"),
        ({"recommend": {"n": 0}}, "must be at least 1"),
        ({"need": {"indicators": [{"weight": 1}]}}, r"need.indicators\[0\].name is required"),
        ({"need": {"standardise": "zscores"}}, "did you mean 'zscore'"),
    ],
)
def test_bad_values_are_named(patch, message):
    with pytest.raises(ConfigError, match=message):
        config_from_dict({"area": {"la": "Derby"}, **patch})


def test_load_config_errors_name_the_file(tmp_path):
    with pytest.raises(ConfigError, match=r"nope.toml: config file not found; create one with `lacgeo init"):
        load_config(tmp_path / "nope.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[area\nla = 'x'")
    with pytest.raises(ConfigError, match="broken.toml: not valid TOML"):
        load_config(broken)
    latin = tmp_path / "latin.toml"
    latin.write_bytes("[area]\nla = '£'".encode("cp1252"))
    with pytest.raises(ConfigError, match="latin.toml: config is not UTF-8"):
        load_config(latin)


def test_replace_checks_the_result():
    config = make_config(la="Derby")
    assert replace(config, seed=9).seed == 9
    assert replace(config, area={"vintage": "2011"}).area.la == "Derby"
    with pytest.raises(ConfigError, match="seed must be a whole number"):
        replace(config, seed="nine")


def test_a_folder_given_as_the_config_is_one_clear_error(tmp_path):
    with pytest.raises(ConfigError, match=r"is a folder, not a config file; give the path of the TOML file"):
        load_config(tmp_path)
