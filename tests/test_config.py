"""Settings: layers in order, safe ranges, unknown keys refused, clear messages."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from monitor.config import Settings, load
from monitor.errors import MonitorError


def test_defaults_are_valid_and_match_alarms_md():
    s = load(environ={})
    assert (s.alarms.t_on, s.alarms.t_off, s.alarms.t_high) == (0.6, 0.4, 0.85)
    assert (s.alarms.d_on_s, s.alarms.d_off_s, s.alarms.tau_s) == (10.0, 15.0, 3.0)
    assert s.non_defaults() == {}


def test_layers_apply_file_then_environment_then_flags(tmp_path: Path):
    f = tmp_path / "s.toml"
    f.write_text('bed_label = "NICU-3"\n[alarms]\nt_on = 0.7\nd_on_s = 12\n')
    s = load(f, flags={"alarms.d_on_s": 20}, environ={"PAINMON_ALARMS__T_ON": "0.65"})
    assert s.bed_label == "NICU-3"
    assert s.alarms.t_on == 0.65  # environment beats file
    assert s.alarms.d_on_s == 20  # flag beats file
    assert s.non_defaults() == {"bed_label": "NICU-3", "alarms.t_on": 0.65, "alarms.d_on_s": 20.0}


@pytest.mark.parametrize("toml, words", [
    ("[alarms]\nt_on = 0.95\n", "alarms.t_on"),
    ("[alarms]\nt_off = 0.7\n", "t_off < t_on < t_high"),
    ("[alarms]\nack_silence_s = 600\n", "alarms.ack_silence_s"),
    ("[alarms]\ntonn = 1\n", "unknown setting"),
    ("[vision]\ncot_region = [0.5, 0, 0.2, 1]\n", "cot_region"),
    ("[scoring]\ndevice = 'tpu'\n", "scoring.device"),
    ("schema_version = 9\n", "schema_version 9"),
    ("[alarms\n", "not valid TOML"),
    ("[vision]\ntrack_min_iou = false\n", "expected a float"),
    ('[store]\nurl = "postgresql://nurse:secret@ward/db"\n', "must not carry a password"),
])
def test_bad_values_name_the_key(tmp_path: Path, toml: str, words: str):
    f = tmp_path / "bad.toml"
    f.write_text(toml)
    with pytest.raises(MonitorError) as err:
        load(f, environ={})
    assert words in str(err.value)


def test_missing_config_file_is_a_clear_error(tmp_path: Path):
    with pytest.raises(MonitorError, match="config file not found"):
        load(tmp_path / "nope.toml", environ={})


def test_environment_list_values():
    s = load(environ={"PAINMON_VISION__COT_REGION": "[0.1, 0, 0.9, 1]"})
    assert s.vision.cot_region == (0.1, 0.0, 0.9, 1.0)


def test_settings_are_immutable():
    with pytest.raises(ValidationError, match="Instance is frozen"):
        Settings().alarms.t_on = 0.1
