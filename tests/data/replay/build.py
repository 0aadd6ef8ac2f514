"""Rebuild the stored sessions and the replay outputs that tests/test_replay_golden.py compares.

    .venv/bin/python tests/data/replay/build.py sessions   # the two databases (real pipeline)
    .venv/bin/python tests/data/replay/build.py outputs    # the replay outputs kept beside them

Run `sessions` only when the store's format changes: the databases are the frozen inputs.
`outputs` writes what the alarm engine makes of them NOW: run it only when a change of the
engine's behaviour is intended (and say so in the commit), never to make the golden test pass.

- demo.db: `painmon demo --headless` (the embedded demo clip: face and cry, movement measured).
- cues.db: a clip with every cue, built from the shared material as tests/cue_clips.py builds
  clips: the crying infant photo with a limb-sized part of the picture moving over 20-35 s and
  an infant crying (ESC-10) over 30-45 s, then the laughing infant's photo with crying again
  over 62-78 s (a cry the face does not carry); then NURSE's actions are added to its record
  (acknowledge, audio pause, standby, a procedure), which the replay re-applies.
"""

from __future__ import annotations

import dataclasses
import json
import math
import sqlite3
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
sys.path.insert(0, str(REPO))

FPS = 10
SAD_S, HAPPY_S = 50.0, 30.0
LIMB_BOX = (0, 220, 110, 296)  # bottom-left corner of the prepared crying-infant photo
MOVING = (20.0, 35.0)
CRIES = ((30.0, 45.0), (62.0, 78.0))
SETTINGS = {  # name -> TOML for the replays with other settings ("stored": the session's own)
    "stored": None,
    "face_only_medium": "[alarms]\nface_only_priority = \"medium\"\n",
    "strict": "[alarms]\nt_on = 0.7\nt_off = 0.5\nd_on_s = 5.0\nd_off_s = 5.0\nmerge_within_s = 60.0\n"
              "crying_after_s = 5.0\ncrying_clear_s = 5.0\nescalate_after_s = 30.0\n"
              "face_only_priority = \"none\"\n",
}
SESSIONS = ("demo", "cues")
NURSE = [(15.0, "PAIN", "low", "acknowledged", "nurse_a", ""),
         (40.0, "AUDIO", None, "audio_paused", "nurse_a", "until 160.0"),
         (56.0, "MODE", None, "standby_started", "nurse_b", ""),
         (58.0, "MODE", None, "standby_ended", "nurse_b", ""),
         (60.0, "MODE", None, "procedure_started", "nurse_b", "heel lance; 1 min")]


def build_sessions() -> None:
    import numpy as np

    from monitor.config import Settings, StoreSettings
    from monitor.pipeline.runner import OneSourcePipeline
    from tests import photo_clips
    from tests.cue_clips import RATE, cries, room, write_clip

    shared = REPO.parent / "shared" / "data"
    for name in SESSIONS:
        (HERE / f"{name}.db").unlink(missing_ok=True)
    subprocess.run([sys.executable, "-m", "monitor.cli", "demo", "--headless",
                    "--db", f"sqlite:///{HERE / 'demo.db'}"], check=True, cwd=REPO)

    def limb(t: float) -> float:
        return 30.0 * math.sin(2.0 * math.pi * 1.3 * t) if MOVING[0] <= t < MOVING[1] else 0.0

    sad = [f for _, f in photo_clips.frames(photo_clips.SAD, fps=FPS, seconds=SAD_S, seed=4,
                                            limb=limb, limb_box=LIMB_BOX)]
    happy = [f for _, f in photo_clips.frames(photo_clips.HAPPY, fps=FPS, seconds=HAPPY_S, seed=5)]
    seconds = SAD_S + HAPPY_S
    track = room(seconds)
    for start, end in CRIES:
        cry = cries(shared, end - start)
        track[int(start * RATE): int(start * RATE) + cry.size] += cry
    clip = write_clip(HERE / "cues.mp4", sad + happy, FPS, np.clip(track, -1.0, 1.0))
    try:
        OneSourcePipeline(Settings(store=StoreSettings(url=f"sqlite:///{HERE / 'cues.db'}")), str(clip)).run()
    finally:
        clip.unlink()
    with sqlite3.connect(HERE / "cues.db") as db:  # what a nurse did, replayed as user actions
        db.executemany("INSERT INTO alarm_event (session_id, t, kind, priority, transition, user, "
                       "detail) VALUES (1, ?, ?, ?, ?, ?, ?)", NURSE)


def replay_json(session: str, settings: str) -> str:
    """`painmon replay --json` of one stored session, as the command prints it."""
    import contextlib
    import io
    import tempfile

    from monitor.cli import main

    with tempfile.TemporaryDirectory() as tmp:
        args = ["replay", "--db", f"sqlite:///{HERE / f'{session}.db'}", "--session", "1", "--json"]
        if SETTINGS[settings] is not None:
            toml = Path(tmp) / "settings.toml"
            toml.write_text(SETTINGS[settings], encoding="utf-8")
            args += ["--settings", str(toml)]
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = main(args)
        assert code == 0, code
        return out.getvalue()


INPUTS = ("frame", "feed_s", "sound", "cry_window", "movement", "subject_changed", "tick",
          "technical", "acknowledge", "audio_pause", "procedure_start", "procedure_end",
          "standby_start", "standby_end", "update_settings", "end_session")


# Snapshot fields added after the golden files were made; a stored session without landmark
# readings leaves them None, and they are left out so that every older line stays byte for byte.
LATER_FIELDS = ("face_state", "eyes_state", "mouth_state")


def engine_lines(session: str, snapshots: bool) -> list[str]:
    """Every event and episode record the engine hands out over the stored session's replay
    (stored settings), in order; with `snapshots`, also the snapshot after every input."""
    from monitor.signal.engine import AlarmEngine
    from monitor.store.database import open_database
    from monitor.tuning import replay as replay_module

    lines: list[str] = []

    def line(what: str, value) -> str:  # floats as repr: exact
        fields = dataclasses.asdict(value)
        for later in LATER_FIELDS:  # added after these sessions were recorded: None throughout
            if fields.get(later, 0) is None:
                del fields[later]
        return json.dumps({what: fields}, sort_keys=True)

    class Observed(AlarmEngine):
        def drain(self):
            events, records = super().drain()
            lines.extend(line("event", e) for e in events)
            lines.extend(line("episode", r) for r in records)
            return events, records

    def observed(name):
        def call(self, *args, **kwargs):
            getattr(AlarmEngine, name)(self, *args, **kwargs)
            if snapshots and name != "end_session":
                lines.append(line("snapshot", self.snapshot()))
        return call

    for name in INPUTS:
        setattr(Observed, name, observed(name))
    stored = replay_module.load_session(open_database(f"sqlite:///{HERE / f'{session}.db'}",
                                                      create=False), 1)
    real = replay_module.AlarmEngine
    replay_module.AlarmEngine = Observed
    try:
        replay_module.replay(stored, stored.settings.alarms)
    finally:
        replay_module.AlarmEngine = real
    return lines


def build_outputs() -> None:
    import gzip

    for session in SESSIONS:
        for settings in SETTINGS:
            (HERE / f"{session}.{settings}.json").write_text(replay_json(session, settings),
                                                            encoding="utf-8")
        text = "\n".join(engine_lines(session, snapshots=True)) + "\n"
        (HERE / f"{session}.engine.txt.gz").write_bytes(gzip.compress(text.encode(), mtime=0))


if __name__ == "__main__":
    {"sessions": build_sessions, "outputs": build_outputs}[sys.argv[1]]()
