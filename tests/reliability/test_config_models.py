"""Configuration files fuzzed with hypothesis, and corrupt or mismatched model files: always one
clear MonitorError, never another exception, never a setting other than the one written."""

from __future__ import annotations

import hashlib
import json
import math
import shutil
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.config import Settings, from_stored, load
from monitor.errors import MonitorError
from monitor.scoring.scorer import Scorer

DEFAULTS = Settings().model_dump(mode="json")
KEYS = [(section, key) for section, fields in DEFAULTS.items() if isinstance(fields, dict)
        for key in fields]
VALUES = st.one_of(st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=False),
                   st.text(max_size=12), st.lists(st.integers(0, 9), max_size=3))


def _toml(value) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if isinstance(value, str):
        return '"' + value.encode("unicode_escape").decode().replace('"', '\\"') + '"'
    return repr(value)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(entries=st.dictionaries(st.sampled_from(KEYS), VALUES, min_size=1, max_size=4))
def test_fuzzed_config_is_a_clear_error_or_exactly_what_was_written(tmp_path: Path, entries):
    path = tmp_path / "fuzz.toml"
    lines = []
    for (section, key), value in entries.items():
        lines += [f"[{section}]", f"{key} = {_toml(value)}"]
    path.write_text("\n".join(lines) + "\n")
    try:
        loaded = load(path, environ={}).model_dump(mode="json")
    except MonitorError as exc:
        assert str(exc)
        return
    for (section, key), value in entries.items():
        got = loaded[section][key]
        same = got == value or (isinstance(got, list) and list(got) == value)
        assert same and (type(got) is bool) == (type(value) is bool), \
            f"{section}.{key} = {value!r} was read as {got!r}"


def test_a_boolean_for_a_number_is_refused(tmp_path: Path):
    path = tmp_path / "b.toml"
    path.write_text("[vision]\ntrack_min_iou = false\n")
    with pytest.raises(MonitorError):
        load(path, environ={})


@given(raw=st.binary(max_size=200))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_config_bytes_are_a_clear_error_or_valid(tmp_path: Path, raw: bytes):
    path = tmp_path / "raw.toml"
    path.write_bytes(raw)
    try:
        load(path, environ={})
    except MonitorError as exc:
        assert str(exc)


def _reseal(model: Path) -> None:
    """The card's sha256 made to agree with the weights now there: the damage must then be
    found by the loader itself, not by the hash."""
    card = json.loads((model / "card.json").read_text())
    card["weights"]["sha256"] = hashlib.sha256((model / "weights.pt").read_bytes()).hexdigest()
    (model / "card.json").write_text(json.dumps(card))


@pytest.mark.parametrize("damage, reseal, message", [
    ("truncated weights", False, r"do not match the card: sha256"),
    ("other weights", False, r"do not match the card: sha256"),
    ("truncated weights", True, r"are corrupt or truncated"),
    ("other weights", True, r"do not fit .*2 unexpected \(e\.g\. fc\.bias\)"),
    ("NaN weights", True, r"contain NaN or infinite values"),
    ("bad card", False, r"card .* is not readable JSON"),
    ("no card", False, r"model card missing"),
])
def test_corrupt_or_mismatched_model_is_a_clear_error(tmp_path: Path, damage: str, reseal: bool,
                                                      message: str):
    model = tmp_path / "model"
    shutil.copytree(Settings().scoring.model_dir, model)
    weights, card = model / "weights.pt", model / "card.json"
    if damage == "truncated weights":
        weights.write_bytes(weights.read_bytes()[:5000])
    elif damage == "other weights":
        torch.save({"fc.weight": torch.zeros(3, 3), "fc.bias": torch.zeros(3)}, weights)
    elif damage == "NaN weights":
        state = torch.load(weights, weights_only=True)
        first = next(k for k, v in state.items() if v.is_floating_point())
        state[first] = torch.full_like(state[first], float("nan"))
        torch.save(state, weights)
    elif damage == "bad card":
        card.write_text("{not json")
    else:
        card.unlink()
    if reseal:
        _reseal(model)
    scoring = Settings().scoring.model_copy(update={"model_dir": model})
    with pytest.raises(MonitorError, match=message):
        Scorer(scoring)


def test_a_huge_settings_file_gives_a_short_error(tmp_path: Path):
    """10 MB of unknown keys once made a 42 MB 'one line' error: the first problems, a count."""
    path = tmp_path / "huge.toml"
    keys = 400_000
    path.write_text("[alarms]\n" + "".join(f"typo_{i} = 1\n" for i in range(keys)))
    assert path.stat().st_size > 5_000_000
    with pytest.raises(MonitorError) as caught:
        load(path, environ={})
    message = str(caught.value)
    assert len(message) < 2000 and "\n" not in message
    assert "alarms.typo_0: unknown setting (check the spelling)" in message
    assert f"and {keys - 5} more problem(s)" in message
    path.write_text(f'bed_label = "{"x" * 1_000_000}"\n')
    with pytest.raises(MonitorError, match=r"bed_label: String should have at most 64 characters "
                                           r"\(got 'x{10,}\.\.\.\)") as caught:
        load(path, environ={})
    assert len(str(caught.value)) < 300
    path.write_text(f'[review]\ntimezone = "{"x" * 1_000_000}"\n')  # a rule that quotes the value
    with pytest.raises(MonitorError, match="review: unknown time zone 'xxx") as caught:
        load(path, environ={})
    assert len(str(caught.value)) < 400


def test_there_is_no_setting_to_store_images(tmp_path: Path):
    """No video frame or face image is ever stored, so no setting pretends to switch that on."""
    path = tmp_path / "media.toml"
    path.write_text("[store]\nstore_media = true\n")
    with pytest.raises(MonitorError, match=r"store\.store_media: unknown setting"):
        load(path, environ={})


def test_settings_stored_by_an_older_version_still_replay():
    """Sessions recorded while store.store_media existed carry it in their settings_json."""
    old = Settings().model_dump(mode="json")
    old["store"]["store_media"] = False
    old["alarms"]["t_on"] = 0.7
    assert from_stored(json.dumps(old)).alarms.t_on == 0.7
    with pytest.raises(MonitorError, match=r"stored settings are not readable: alarms\.t_on"):
        from_stored(json.dumps({"alarms": {"t_on": 2.0}}))


@pytest.mark.parametrize("bad", ["\x00", "\u202e", "\x1b[2J", "\x85", "\u2066", "\u200f"])
@pytest.mark.parametrize("toml, field", [
    ('bed_label = "NICU{bad}3"', "bed_label"),
    ('[review]\ninterventions = ["sucrose", "swaddling{bad}"]', "review: interventions"),
    ('[review]\nkeyring_service = "painmon{bad}"', "review: keyring_service"),
    ('[store]\nurl = "sqlite:////tmp/p{bad}.db"', "store: url"),
    ('[training]\npain_classes = ["pain{bad}"]', "training: pain_classes"),
])
def test_control_and_direction_characters_are_refused_in_settings(tmp_path: Path, bad: str,
                                                                  toml: str, field: str):
    """A right-to-left override can make one bed's label display as another's."""
    path = tmp_path / "s.toml"
    escaped = "".join(f"\\u{ord(char):04x}" for char in bad)  # TOML's escape
    path.write_text(toml.format(bad=escaped) + "\n")
    with pytest.raises(MonitorError, match=rf"{field} must not contain a (control|text-direction) "
                                           rf"character \(U\+{ord(bad[0]):04X}, position \d+\)"):
        load(path, environ={})
