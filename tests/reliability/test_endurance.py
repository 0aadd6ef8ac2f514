"""A 2-minute endurance run of the real pipeline (the 30-minute one is `benchmarks/soak.py
--minutes 30`): memory, threads and open files stay put while one session runs on and on."""

import pytest

from benchmarks.soak import run_soak

pytestmark = pytest.mark.slow


def test_two_minutes_of_monitoring_leak_nothing(capsys):
    result = run_soak(minutes=2.0)
    start, end = result["start"], result["end"]
    with capsys.disabled():
        print(f"\nendurance 2 min: {result['frames']} frames, {result['episodes']} episodes; RSS "
              f"{start['rss_mb']:.0f} -> {end['rss_mb']:.0f} MB ({result['rss_growth']:+.2%}), "
              f"threads {start['os_threads']} -> {end['os_threads']}, "
              f"open files {start['open_files']} -> {end['open_files']}")
    assert result["end_reason"] == "source_ended" and result["frames"] > 1125  # looped at least once
    assert result["episodes"] >= 1
    assert result["rss_growth"] < 0.05
    assert end["os_threads"] <= start["os_threads"]
    assert end["open_files"] <= start["open_files"] + 1
