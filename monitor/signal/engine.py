"""The alarm engine of ALARMS.md: frames, ticks and user actions in; snapshots, events, episodes out.

Pure and deterministic on the session clock its caller passes (a late input counts now), every
timer firing at its own instant, so a replay at any speed gives the same episodes. The parts
(docs/ARCHITECTURE.md "The alarm engine") do the work; this facade hands them their inputs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from monitor.config import AlarmSettings, AudioSettings, FaceSettings, MovementSettings
from monitor.packets import FaceActions, FaceStatus
from monitor.signal.book import AlarmBook
from monitor.signal.clockwork import Bench, Clockwork, session_time
from monitor.signal.cry import CryWindow
from monitor.signal.crying import CryingAlarm
from monitor.signal.cues import (STANDBY_REASON, CorroboratingCues, checked_frame, checked_kind,
                                 checked_movement, checked_unit, dated)
from monitor.signal.face_rule import FaceStateRule
from monitor.signal.face_state import FaceState
from monitor.signal.fusion import Fusion
from monitor.signal.modes import Modes
from monitor.signal.pain_alarm import PainAlarm
from monitor.signal.records import (ALARM_KINDS, REPORTED_KINDS, AlarmEvent, EpisodeRecord,
                                    EventKind, Snapshot, Transition)
from monitor.signal.technical import TechnicalWatch
from monitor.signal.technical_alarms import TechnicalAlarms
from monitor.signal.whose_cry import WhoseCry, mouth_of


class AlarmEngine:
    """One monitoring session's alarm state machine."""

    def __init__(self, settings: AlarmSettings, start_t: float = 0.0,
                 audio: AudioSettings | None = None, movement: MovementSettings | None = None,
                 face: FaceSettings | None = None) -> None:
        bench = self._bench = Bench(session_time(start_t), settings)
        self._watch = TechnicalWatch(settings)
        self._cues = CorroboratingCues(bench, audio or AudioSettings(), movement or MovementSettings())
        self._modes = Modes(bench, self._watch, self._cues)
        self._book = AlarmBook(bench, self._modes)
        self._clock = Clockwork(bench)
        self._pain = PainAlarm(bench, self._book, self._modes, self._watch, self._clock.corroborating)
        self._crying = CryingAlarm(bench, self._book, self._modes, self._cues)
        self._face = FaceStateRule(bench, self._book, self._pain, face)
        self._whose = WhoseCry(bench, audio or AudioSettings())
        self._whose.hear(self._cues)
        self._clock.parts = [  # the order in which they act at one instant
            self._cues, self._whose, self._pain, self._crying, self._face,
            Fusion(bench, self._book, self._modes, self._pain, self._crying),
            TechnicalAlarms(bench, self._book, self._modes, self._watch), self._modes, self._book]
        self._ended = False
        bench.emit(EventKind.SESSION, None, Transition.STARTED)

    def frame(self, t: float, status: FaceStatus | str, p: float | None = None) -> None:
        """One processed frame; p in [0, 1] only when scored. A frame is also a tick."""
        status, p = checked_frame(status, p)
        with self._input(t) as now:
            self._watch.frame(now, status)
            if not self._modes.in_standby:
                self._pain.frame(p)
                self._whose.frame(now, status, p, mouth_of(self._face.state(now)))

    def feed_s(self, t: float, s: float | None) -> None:
        """S given directly (tests, replays); it holds until the next feed. None = unknown."""
        s = None if s is None else checked_unit(s, "S")
        self._patient(t, lambda now: self._pain.feed_s(s))

    def sound(self, t: float, available: bool, reason: str = "") -> None:
        """Whether a sound source exists and works; without one the cry cue is unknown, with the
        reason ("no microphone", "microphone lost"), never quiet."""
        self._patient(t, lambda now: self._cues.sound(now, bool(available), reason))

    def cry_window(self, w: CryWindow) -> None:
        """One scored sound window, dated by its end (a late one counts now)."""
        t = self._cues.window_time(session_time(w.t), self._bench.now)
        self._patient(t, lambda now: self._cues.window(dated(w, now)))

    def movement(self, t: float, m: float | None, reason: str = "") -> None:
        """One frame's movement reading m (None, with the reason, when it cannot be told)."""
        m = checked_movement(m)
        self._patient(t, lambda now: self._cues.movement(now, m, reason))

    def face_actions(self, t: float, actions: FaceActions) -> None:
        """One face mesh reading of the tracked face (ALARMS.md "Face state")."""
        self._patient(t, lambda now: self._face.reading(actions))

    def face_state(self) -> FaceState:
        """The face state now (eyes, mouth, relaxed). Only reads."""
        return self._face.state(self._bench.now)

    def subject_changed(self, t: float, detail: str) -> None:
        """The tracked face is now another person's: S and F restart, an onset is dropped."""
        with self._input(t):
            self._bench.emit(EventKind.SUBJECT, None, Transition.SUBJECT_CHANGED, detail=detail)
            self._pain.forget_face(subject_changed=True)
            self._face.forget()
            self._whose.forget()

    def picture_ended(self, t: float, detail: str) -> None:
        """A file's picture is over while its sound goes on: no frame is missing (no CAMERA_LOST,
        NO_FACE or POOR_SIGNAL), the face is unknown from here on, the cry cue still counts."""
        with self._input(t):
            if not self._watch.picture_ended:
                self._watch.picture_ended = True
                self._bench.emit(EventKind.SESSION, None, Transition.PICTURE_ENDED, detail=detail)

    def tick(self, t: float) -> None:
        """Watchdog: time passed, maybe without frames (this also starts the camera watchdog)."""
        self._at(t, self._watch.heartbeat)

    def technical(self, t: float, kind: str, active: bool, detail: str = "",
                  reporter: str = "") -> None:
        """A stage reports a technical condition it sees (see technical.py for who times what)."""
        checked_kind(kind, REPORTED_KINDS, "technical report")
        self._at(t, lambda now: self._watch.report(now, kind, bool(active), detail, reporter))

    def acknowledge(self, t: float, user: str = "bedside", kind: str | None = None) -> None:
        """Acknowledge one kind, or every active or latched alarm (kind None)."""
        if kind is not None:
            checked_kind(kind, ALARM_KINDS, "alarm kind")
        self._at(t, lambda now: self._book.acknowledge(user or "bedside", kind))

    def audio_pause(self, t: float, user: str = "bedside") -> None:
        """Silence all audio for audio_pause_max_s from now; visual signals stay."""
        self._at(t, lambda now: self._modes.audio_pause(user or "bedside"))

    def procedure_start(self, t: float, minutes: float | None = None, reason: str = "",
                        user: str = "bedside") -> None:
        """Procedure / care: patient alarm audio suppressed for `minutes`; technical alarms stay on."""
        minutes = self._modes.procedure_minutes(minutes)
        with self._input(t):
            self._modes.procedure_start(minutes, reason, user or "bedside")
            self._pain.note_procedure()

    def procedure_end(self, t: float, user: str = "bedside") -> None:
        self._at(t, lambda now: self._modes.procedure_end(user or "bedside"))

    def standby_start(self, t: float, user: str = "bedside") -> None:
        """Infant out of the cot: monitoring paused, S unknown ("standby"), reminder after standby_max."""
        with self._input(t):
            if self._modes.standby_start(user or "bedside"):
                self._pain.forget_face()
                self._face.forget()

    def standby_end(self, t: float, user: str = "bedside") -> None:
        self._at(t, lambda now: self._modes.standby_end(user or "bedside"))

    def update_settings(self, t: float, settings: AlarmSettings, user: str) -> None:
        """Audited change: one event naming each changed key; takes effect from t."""
        self._at(t, lambda now: self._clock.change(settings, user or "bedside"))

    def end_session(self, t: float, reason: str = "session_ended") -> None:
        """Close the session; an open episode ends now with reason session_ended."""
        self._enter(t)
        self._clock.finish()
        self._bench.emit(EventKind.SESSION, None, Transition.ENDED, detail=reason)
        self._ended = True

    def snapshot(self) -> Snapshot:
        """What the screen shows now. Only reads: taking one changes nothing."""
        bench, modes, now = self._bench, self._modes, self._bench.now
        alarms, tone = self._book.states()
        cry, motion = self._cues.cry_reading(now), self._cues.movement_at(now)
        return Snapshot(
            t=now, **self._pain.face_view(), mode=modes.mode, mode_until=modes.mode_until,
            audio_paused_until=modes.paused_until, alarms=alarms, tone=tone,
            reminder_due=bench.reminder_due,
            c=cry.c_smooth, cry_state=cry.state.value, cry_reason=cry.reason,
            m=motion.value, movement_state=motion.state.value,
            movement_reason=STANDBY_REASON if modes.in_standby else motion.reason,
            **self._face.view(now),
        )

    def drain(self) -> tuple[list[AlarmEvent], list[EpisodeRecord]]:
        """Events since the last drain, and the latest copy of every episode that changed."""
        return self._bench.drain(self._pain.record)

    def _enter(self, t: float) -> float:
        if self._ended:
            raise RuntimeError("an input after the monitoring session ended (the caller's bug)")
        return self._clock.enter(t)

    @contextmanager
    def _input(self, t: float) -> Iterator[float]:
        """Run time up to t, apply the input, and let the parts act at t."""
        yield self._enter(t)
        self._clock.settle()  # not after an input that raised

    def _at(self, t: float, act: Callable[[float], object]) -> None:
        with self._input(t) as now:
            act(now)

    def _patient(self, t: float, act: Callable[[float], object]) -> None:
        """An input about the infant: time runs up to t, but in standby nothing else is taken."""
        self._at(t, lambda now: None if self._modes.in_standby else act(now))
