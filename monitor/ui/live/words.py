"""What the screen says: plain words for alarm kinds, S-unknown reasons and times."""

from __future__ import annotations

from datetime import datetime, timedelta

from monitor.signal.records import (CAMERA_LOST, CRYING, MICROPHONE_LOST, MODEL_ERROR, NO_FACE,
                                    PAIN, PIPELINE_STALLED, POOR_SIGNAL, PROCEDURE, STANDBY,
                                    STORAGE_FAILING, SYMBOL)
from monitor.ui.live.lifecycle import State

TITLE = "FACIAL EXPRESSION ESTIMATE"
DISCLAIMER = "estimate from the face, not a clinical assessment"

KIND = {
    PAIN: "PAIN EXPRESSION",
    CRYING: "CRYING",
    MICROPHONE_LOST: "MICROPHONE LOST",
    CAMERA_LOST: "CAMERA LOST",
    PIPELINE_STALLED: "ANALYSIS STALLED",
    MODEL_ERROR: "MODEL ERROR",
    NO_FACE: "NO FACE IN VIEW",
    POOR_SIGNAL: "FACE NOT CLEAR",
    STORAGE_FAILING: "STORAGE FAILING",
}
# What the nurse should do.
ADVICE = {
    PAIN: "check the infant",
    CRYING: "the infant is heard crying: check the infant",
    MICROPHONE_LOST: "check the microphone cable; crying cannot be heard",
    CAMERA_LOST: "check the camera cable and power",
    PIPELINE_STALLED: "frames wait for a score; the computer is overloaded",
    MODEL_ERROR: "no scores; restart the monitor or call support",
    NO_FACE: "turn the camera to the infant's face",
    POOR_SIGNAL: "improve the light or the camera angle",
    STORAGE_FAILING: "data is kept in memory; call support",
}
UNKNOWN_REASON = {
    "standby": "standby: monitoring paused",
    "no_frames": "no picture from the camera",
    "no_face": "no face in view",
    "poor_quality": "face not clear enough to read",
    "not_started": "starting: waiting for a clear face",
    "ended": "monitoring has ended",
    "stopped": "monitoring stopped: not current",
    "subject_changed": "another face in view: reading it afresh",
    "picture_ended": "the video has ended: the face is not watched",
}
# Short names for the "changed from default" marker (the settings dialog explains each in full).
SETTING = {
    "alarms.t_on": "alarm threshold", "alarms.t_off": "end threshold", "alarms.t_high": "high threshold",
    "alarms.d_on_s": "alarm delay (s)", "alarms.d_off_s": "end delay (s)",
    "alarms.d_high_s": "high delay (s)",
    "alarms.ack_silence_s": "acknowledge silence (s)", "alarms.audio_pause_max_s": "audio pause (s)",
    "alarms.escalate_after_s": "escalation (s)", "alarms.no_face_after_s": "no-face delay (s)",
    "vision.cot_region": "cot region",
}
# What the video says in each state (MONITORING: nothing, or standby; ENDED: why, if it failed).
BANNER = {
    State.STARTING: "Starting: loading the model and opening the source...",
    State.MONITORING: "",
    State.STALLED: "MONITORING STOPPED: this picture is not current",
    State.CRASHED: "MONITORING STOPPED: the analysis crashed; restarting",
    State.RESTARTING: "Restarting: loading the model and opening the source...",
    State.ENDED: "MONITORING ENDED",
    State.CLOSING: "Stopping: saving the log...",
    State.CLOSED: "Stopping: saving the log...",
}
# The alarm bar before the first snapshot (the window's own alarm replaces it where there is one).
BAR_WITHOUT_SNAPSHOT = {
    State.STARTING: "starting: loading the model and opening the source",
    State.MONITORING: "starting: waiting for the first picture",
    State.RESTARTING: "restarting: loading the model and opening the source",
    State.ENDED: "not watching: monitoring has ended",
    State.CLOSING: "not watching: closing",
    State.CLOSED: "not watching: closing",
}
FACE_STATE = {"scored": "face tracked", "no_face": "no face", "poor_quality": "face unclear"}


def symbol(priority: str) -> str:
    return SYMBOL[priority]


def unknown_reason(reason: str | None) -> str:
    return UNKNOWN_REASON.get(reason or "", reason or "unknown")


def countdown(seconds: float) -> str:
    """m:ss, never negative (a countdown that has run out shows 0:00)."""
    whole = max(0, int(seconds + 0.999))
    return f"{whole // 60}:{whole % 60:02d}"


class SessionTime:
    """Session clock -> what a nurse reads: wall-clock time for live sources, m:ss into a file."""

    def __init__(self, origin: datetime | None) -> None:
        self._origin = origin

    def __call__(self, t: float) -> str:
        if self._origin is None:
            whole = int(t)
            return f"{whole // 60}:{whole % 60:02d}"
        return (self._origin + timedelta(seconds=t)).astimezone().strftime("%H:%M:%S")


def setting(key: str) -> str:
    return SETTING.get(key, key.split(".")[-1].replace("_", " "))


def not_watching(state: State, has_snapshot: bool) -> str | None:
    """Why the gauge and the cues show no values whatever the last snapshot said (a key of
    UNKNOWN_REASON); None: they show the snapshot."""
    if state in (State.STALLED, State.CRASHED):
        return "stopped"
    if state in (State.ENDED, State.CLOSING, State.CLOSED):
        return "ended"
    return None if state is State.MONITORING and has_snapshot else "not_started"


def banner(state: State, failure: str, standby: bool) -> str:
    """What the video says over the picture in `state` (`failure`: why nothing could start)."""
    if state is State.ENDED and failure:
        return f"CANNOT MONITOR: {failure}"
    if state is State.MONITORING:
        return "STANDBY: monitoring paused" if standby else ""
    return BANNER[state]


def mode_line(mode: str | None, left_s: float, reason: str) -> tuple[str, str, str]:
    """The mode line and the two mode buttons' texts; `mode` None: nothing is monitored."""
    if mode == PROCEDURE:
        what = f": {reason}" if reason else ""
        return (f"PROCEDURE / CARE{what}, pain alarm sound off, {countdown(left_s)} left",
                "End procedure", "Standby")
    if mode == STANDBY:
        return f"STANDBY: not watching; reminder in {countdown(left_s)}", "Procedure / care...", "End standby"
    return "", "Procedure / care...", "Standby"


def acknowledge_button(silent_s: float | None) -> str:
    return "Acknowledge  [Space]" + ("" if silent_s is None else f"\nsilent {countdown(silent_s)}")


def pause_button(paused_s: float | None) -> str:
    return "Audio pause  [P]" if paused_s is None else f"AUDIO PAUSED\n{countdown(paused_s)} left"


def event_line(when: str, kind: str, transition: str, user: str | None) -> str:
    """The latest event in words: an alarm's names its kind; MODE / AUDIO / SETTINGS name themselves."""
    what = transition.replace("_", " ")
    if kind in KIND:
        what = f"{KIND[kind]} {what}"
    return f"{when}  {what}{f' by {user}' if user else ''}"


def changed_marker(changed: dict) -> tuple[str, str]:
    """The settings that differ from the code's defaults: the marker and its tooltip."""
    if not changed:
        return "", ""
    items = ", ".join(f"{setting(k)} {v:g}" if isinstance(v, float) else f"{setting(k)} {v}"
                      for k, v in sorted(changed.items()))
    return f"* CHANGED FROM DEFAULT: {items}", "\n".join(f"{k} = {v}" for k, v in sorted(changed.items()))
