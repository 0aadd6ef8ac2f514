"""The alarm engine of ALARMS.md: frames, ticks and user actions in; snapshots, events, episodes out.

Pure and deterministic: it runs only on the session clock `t` its caller passes (non-decreasing;
a late input is handled at the current time instead of rewriting the past). Between inputs S is
held, and every timer fires at its own instant, so a replay at any speed or frame rate gives the
same episodes.
"""

from __future__ import annotations

import math

from monitor.config import AlarmSettings, AudioSettings, MovementSettings
from monitor.errors import MonitorError
from monitor.packets import FaceStatus
from monitor.signal import pain as run
from monitor.signal.alarm import AlarmSignal
from monitor.signal.cry import CryWindow
from monitor.signal.fusion import (CRY, FACE, STANDBY_REASON, CryChange, CryRun, Cues,
                                   checked_movement, cue_label, dated)
from monitor.signal.records import (ALARM_KINDS, CRYING, HIGH, LOW, MEDIUM, MONITORING, NO_FACE,
                                    NO_SIGNAL, PAIN, PATIENT_KINDS, POOR_SIGNAL, PROCEDURE, RANK,
                                    REPORTED_KINDS, RESOLVED, SESSION_ENDED, SIGNAL_LOST, STANDBY,
                                    TECHNICAL_KINDS, AlarmEvent, AlarmKind, AlarmState,
                                    EpisodeRecord, EventKind, Priority, Snapshot, Tone, Transition)
from monitor.signal.smoothing import FaceShare, Smoother, face_band, s_band
from monitor.signal.technical import TechnicalWatch
from monitor.signal.timing import earliest, is_due

BLIND_KINDS = (NO_FACE, POOR_SIGNAL)
SECONDS_PER_MINUTE = 60.0
SUBJECT_CHANGED_REASON = "subject_changed"
PICTURE_ENDED_REASON = "picture_ended"
CARRIED_BY_PAIN = "carried by PAIN"
FACE_ONLY = {"none": NO_SIGNAL, "low": LOW, "medium": MEDIUM}  # alarms.face_only_priority


class _Episode:
    """Bookkeeping for one episode number; records are built from it on drain."""

    def __init__(self, number: int, start: float, alarm_at: float, mode: str) -> None:
        self.number, self.start, self.alarm_at, self.mode = number, start, alarm_at, mode
        self.end: float | None = None
        self.end_reason: str | None = None
        self.stats: run.RunStats | None = None  # set when ended; open episodes read the run
        self.max_priority: str = MEDIUM  # or NO_SIGNAL: a face-only episode without an alarm
        self.ack_at: float | None = None
        self.ack_by: str | None = None
        self.cues: set[str] = {FACE}
        self.high_reached = False  # T_high held D_high while the alarm stayed below medium


class AlarmEngine:
    """One monitoring session's alarm state machine."""

    def __init__(self, settings: AlarmSettings, start_t: float = 0.0,
                 audio: AudioSettings | None = None, movement: MovementSettings | None = None) -> None:
        start_t = _time(start_t)
        self._settings = settings
        self._now = start_t
        self._smoother = Smoother(settings)
        self._share = FaceShare(settings)
        self._run = run.PainRun(settings, start_t)
        self._watch = TechnicalWatch(settings)
        self._cues = Cues(audio or AudioSettings(), movement or MovementSettings())
        self._cry_run = CryRun(settings, start_t)
        self._cry_since: float | None = None  # start of the active cry run
        self._run_cues: set[str] = set()  # cues seen since the face run in progress began
        self._cues_for: float | None = None  # that run's start
        self._subject_reset = False  # S unknown because the face is another person's
        self._mode = MONITORING
        self._mode_until: float | None = None
        self._standby_reminder: float | None = None
        self._last_procedure_end = -math.inf
        self._paused_until: float | None = None
        self._alarms: dict[tuple[str, int | None], AlarmSignal] = {}
        self._episodes: dict[int, _Episode] = {}
        self._open: _Episode | None = None
        self._last_resolved: _Episode | None = None
        self._events: list[AlarmEvent] = []
        self._changed: set[int] = set()
        self._reminder_due = False
        self._ended = False
        self._emit(EventKind.SESSION, None, Transition.STARTED)

    # --- inputs -----------------------------------------------------------------------------

    def frame(self, t: float, status: FaceStatus | str, p: float | None = None) -> None:
        """One processed frame; p in [0, 1] only when scored. A frame is also a tick."""
        status = FaceStatus(status)
        if (status is FaceStatus.SCORED) != (p is not None):
            raise ValueError(f"p must be given exactly for scored frames (status {status.value}, p {p})")
        if p is not None:
            p = _unit(p, "p")
        now = self._enter(t)
        self._watch.frame(now, status)
        if self._mode != STANDBY:
            self._share.frame(now, p)
            if p is not None:
                self._smoother.scored(now, p)
                self._subject_reset = False
                self._s_changed()
            self._run.note_f(self._share.value(now))
        self._settle()

    def feed_s(self, t: float, s: float | None) -> None:
        """S given directly (tests, replays); it holds until the next feed. None = unknown."""
        s = None if s is None else _unit(s, "S")
        now = self._enter(t)
        if self._mode != STANDBY:
            self._smoother.feed(now, s)
            self._s_changed()
        self._settle()

    def sound(self, t: float, available: bool, reason: str = "") -> None:
        """Whether a sound source exists and works; without one the cry cue is unknown, with the
        reason ("no microphone", "microphone lost"), never quiet."""
        now = self._enter(t)
        if self._mode != STANDBY:
            self._cues.sound(now, bool(available), reason)
        self._settle()

    def cry_window(self, w: CryWindow) -> None:
        """One scored sound window, dated by its end (a late one counts now)."""
        now = self._enter(self._cues.window_time(_time(w.t), self._now))
        if self._mode != STANDBY:
            self._cues.window(dated(w, now))
        self._settle()

    def movement(self, t: float, m: float | None, reason: str = "") -> None:
        """One frame's movement reading m (None, with the reason, when it cannot be told)."""
        m = checked_movement(m)
        now = self._enter(t)
        if self._mode != STANDBY:
            self._cues.movement(now, m, reason)
        self._settle()

    def subject_changed(self, t: float, detail: str) -> None:
        """The tracked face is now another person's: S and F restart, an onset is dropped."""
        self._enter(t)
        self._emit(EventKind.SUBJECT, None, Transition.SUBJECT_CHANGED, detail=detail)
        self._smoother.forget()
        self._share.clear()
        self._run.forget_onset()
        self._subject_reset = True
        self._s_changed()
        self._settle()

    def picture_ended(self, t: float, detail: str) -> None:
        """A file's picture is over while its sound goes on: no frame is missing (no CAMERA_LOST,
        NO_FACE or POOR_SIGNAL), the face is unknown from here on, the cry cue still counts."""
        self._enter(t)
        if not self._watch.picture_ended:
            self._watch.picture_ended = True
            self._emit(EventKind.SESSION, None, Transition.PICTURE_ENDED, detail=detail)
        self._settle()

    def tick(self, t: float) -> None:
        """Watchdog: time passed, maybe without frames (this also starts the camera watchdog)."""
        self._watch.heartbeat(self._enter(t))
        self._settle()

    def technical(self, t: float, kind: str, active: bool, detail: str = "",
                  reporter: str = "") -> None:
        """A stage reports a technical condition it sees (see technical.py for who times what)."""
        if kind not in REPORTED_KINDS:
            raise ValueError(f"unknown technical report {kind!r} (expected one of {REPORTED_KINDS})")
        self._watch.report(self._enter(t), kind, bool(active), detail, reporter)
        self._settle()

    def acknowledge(self, t: float, user: str = "bedside", kind: str | None = None) -> None:
        """Acknowledge one kind, or every active or latched alarm (kind None)."""
        if kind is not None and kind not in ALARM_KINDS:
            raise ValueError(f"unknown alarm kind {kind!r}")
        now, user = self._enter(t), user or "bedside"
        for key, alarm in list(self._alarms.items()):
            if kind is not None and alarm.kind != kind:
                continue
            self._emit(alarm.kind, alarm.priority, Transition.ACKNOWLEDGED, user, alarm.episode)
            episode = self._episodes.get(alarm.episode)
            if episode is not None and episode.ack_at is None:
                episode.ack_at, episode.ack_by = now, user
                self._changed.add(episode.number)
            if alarm.latched:
                del self._alarms[key]
                self._emit(alarm.kind, alarm.priority, Transition.CLEARED, user, alarm.episode, "latch acknowledged")
            else:
                alarm.unacked = False
                alarm.silenced_until = now + self._settings.ack_silence_s
                alarm.escalate_ref = now
        self._settle()

    def audio_pause(self, t: float, user: str = "bedside") -> None:
        """Silence all audio for audio_pause_max_s from now; visual signals stay."""
        now = self._enter(t)
        self._paused_until = now + self._settings.audio_pause_max_s
        self._emit(EventKind.AUDIO, None, Transition.AUDIO_PAUSED, user or "bedside", detail=f"until {self._paused_until:.1f}")
        self._settle()

    def procedure_start(self, t: float, minutes: float | None = None, reason: str = "",
                        user: str = "bedside") -> None:
        """Procedure / care: pain alarm audio suppressed for `minutes`; technical alarms stay on."""
        cfg = self._settings
        minutes = cfg.procedure_default_min if minutes is None else minutes
        if not (isinstance(minutes, (int, float)) and 0 < minutes <= cfg.procedure_max_min):
            raise MonitorError(f"procedure duration must be more than 0 and at most "
                               f"{cfg.procedure_max_min:g} minutes (got {minutes})")
        now, user = self._enter(t), user or "bedside"
        if self._mode == STANDBY:
            self._end_standby(user)
        self._mode = PROCEDURE
        self._mode_until = now + minutes * SECONDS_PER_MINUTE
        self._emit(EventKind.MODE, None, Transition.PROCEDURE_STARTED, user, detail=f"{reason}; {minutes:g} min".lstrip("; "))
        if self._open is not None and self._open.mode != PROCEDURE:
            self._open.mode = PROCEDURE
            self._changed.add(self._open.number)
        self._settle()

    def procedure_end(self, t: float, user: str = "bedside") -> None:
        self._enter(t)
        if self._mode == PROCEDURE:
            self._end_procedure(user or "bedside", "by_user")
        self._settle()

    def standby_start(self, t: float, user: str = "bedside") -> None:
        """Infant out of the cot: monitoring paused, S unknown ("standby"), reminder after standby_max."""
        now, user = self._enter(t), user or "bedside"
        if self._mode != STANDBY:
            if self._mode == PROCEDURE:
                self._end_procedure(user, "standby")
            self._mode = STANDBY
            overdue = now + self._settings.standby_max_min * SECONDS_PER_MINUTE
            self._mode_until = self._standby_reminder = overdue
            self._emit(EventKind.MODE, None, Transition.STANDBY_STARTED, user)
            self._smoother.forget()
            self._share.clear()
            self._cues.pause()
            self._s_changed()
        self._settle()

    def standby_end(self, t: float, user: str = "bedside") -> None:
        self._enter(t)
        if self._mode == STANDBY:
            self._end_standby(user or "bedside")
        self._settle()

    def update_settings(self, t: float, settings: AlarmSettings, user: str) -> None:
        """Audited change: one event naming each changed key; takes effect from t."""
        now = self._enter(t)
        old, new = self._settings.model_dump(), settings.model_dump()
        changed = [f"{key}: {old[key]!r} -> {new[key]!r}" for key in new if new[key] != old[key]]
        if changed:
            self._emit(EventKind.SETTINGS, None, Transition.SETTINGS_CHANGED, user or "bedside", detail="; ".join(changed))
            self._settings = settings
            for part in (self._smoother, self._share, self._run, self._watch, self._cry_run):
                part.settings = settings
            if self._paused_until is not None:
                self._paused_until = min(self._paused_until, now + settings.audio_pause_max_s)
            for alarm in self._alarms.values():
                if alarm.silenced_until is not None:
                    alarm.silenced_until = min(alarm.silenced_until, now + settings.ack_silence_s)
            self._s_changed()  # the same S against the new thresholds
        self._settle()

    def end_session(self, t: float, reason: str = "session_ended") -> None:
        """Close the session; an open episode ends now with reason session_ended."""
        self._enter(t)
        for change in self._run.finish(self._now):
            self._on_pain(change)
        for change in self._cry_run.finish(self._now):
            self._on_cry(change)
        self._emit(EventKind.SESSION, None, Transition.ENDED, detail=reason)
        self._ended = True

    # --- outputs ----------------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        now, cfg = self._now, self._settings
        s = self._smoother.value
        band = s_band(s, cfg)
        f = None if self._mode == STANDBY else self._share.value(now)
        alarms = sorted(self._alarms.values(), key=lambda a: (-RANK[a.priority], a.since, a.kind))
        states = tuple(AlarmState(a.kind, a.priority, a.active, a.latched, a.signal_lost,
                                  self._audible(a), a.silenced_until, a.since, a.episode, a.text())
                       for a in alarms)
        sounding = [a for a in states if a.audible]
        tone = None
        if sounding:
            top = max(sounding, key=lambda a: (RANK[a.priority], a.kind in PATIENT_KINDS, a.kind == PAIN))
            tone = Tone(top.kind, top.priority, top.kind not in PATIENT_KINDS)
        cry, motion = self._cues.cry_at(now), self._cues.movement_at(now)
        return Snapshot(
            t=now, s=s, s_reason=None if s is not None else self._s_reason(),
            s_band=band, s_label=None if band is None else cfg.band_labels[band],
            f=f, f_band=face_band(f), mode=self._mode, mode_until=self._mode_until,
            audio_paused_until=self._paused_until, alarms=states, tone=tone,
            reminder_due=self._reminder_due,
            c=cry.c_smooth, cry_state=cry.state.value, cry_reason=cry.reason,
            m=motion.value, movement_state=motion.state.value,
            movement_reason=STANDBY_REASON if self._mode == STANDBY else motion.reason,
        )

    def drain(self) -> tuple[list[AlarmEvent], list[EpisodeRecord]]:
        """Events since the last drain, and the latest copy of every episode that changed."""
        events, self._events = self._events, []
        records = [self._record(self._episodes[n]) for n in sorted(self._changed)]
        self._changed = set()
        return events, records

    # --- time -------------------------------------------------------------------------------

    def _enter(self, t: float) -> float:
        if self._ended:
            raise MonitorError("the monitoring session has ended")
        t = max(_time(t), self._now)
        self._reminder_due = False
        self._run_until(t)
        self._integrate(t)
        return t

    def _settle(self) -> None:
        self._fire()
        self._run_until(self._now)

    def _run_until(self, t: float) -> None:
        """Fire every timer due up to t, each at its own instant, in time order."""
        while (due := self._next_due()) is not None and due <= t:
            self._integrate(max(due, self._now))
            self._fire()

    def _integrate(self, t: float) -> None:
        self._run.integrate(t)
        self._cry_run.integrate(t)
        self._now = t

    def _next_due(self) -> float | None:
        now, cfg = self._now, self._settings
        alarm_timers = []
        for alarm in self._alarms.values():
            alarm_timers += [alarm.silenced_until if alarm.active else None,
                             self._escalate_at(alarm), self._reminder_at(alarm)]
            if alarm.kind in BLIND_KINDS and alarm.priority == LOW:
                alarm_timers.append(alarm.since + cfg.blind_escalate_s)
        return earliest(
            self._smoother.stale_at(), self._run.next_due(),
            self._cues.next_due(), self._cry_run.next_due(),
            self._watch.next_due(now, self._mode != STANDBY),
            self._paused_until, self._mode_until if self._mode == PROCEDURE else None,
            self._standby_reminder_at(), *alarm_timers,
        )

    def _fire(self) -> None:
        """Act on everything due now; in this order so that same-instant events read naturally."""
        now = self._now
        self._note_cues()
        for change in self._run.fire():
            self._on_pain(change)
        if self._smoother.expire(now):
            self._s_changed()
        self._sync_cry()
        self._fuse()
        self._sync_technical()
        if is_due(self._paused_until, now):
            self._paused_until = None
            self._emit(EventKind.AUDIO, None, Transition.AUDIO_RESUMED)
        if self._mode == PROCEDURE and is_due(self._mode_until, now):
            self._end_procedure(None, "expired")
        if is_due(self._standby_reminder_at(), now):
            self._standby_reminder = now + self._settings.reminder_every_s
            self._reminder_due = True
            self._emit(EventKind.MODE, None, Transition.STANDBY_OVERDUE)
        for alarm in list(self._alarms.values()):
            self._alarm_timers(alarm)

    # --- pain -------------------------------------------------------------------------------

    def _s_changed(self) -> None:
        for change in self._run.set_s(self._now, self._smoother.value):
            self._on_pain(change)

    def _on_pain(self, change: run.PainChange) -> None:
        if isinstance(change, run.Raised):
            self._note_cues()
            self._pain_raised(change)
            return
        episode = self._open
        alarm = self._alarms.get((PAIN, episode.number))  # None: face-only, face_only_priority none
        if isinstance(change, run.HighReached):
            if alarm is not None and RANK[alarm.priority] >= RANK[MEDIUM]:
                self._escalate(alarm, HIGH, f"S >= T_high for {self._settings.d_high_s:g} s")
            else:
                episode.high_reached = True  # kept for an upgrade by a later corroboration
        elif isinstance(change, run.Ended):
            self._pain_ended(episode, alarm, change)
        elif alarm is not None:
            lost = isinstance(change, run.SignalLost)
            alarm.signal_lost = lost
            transition = Transition.SIGNAL_LOST if lost else Transition.SIGNAL_RESUMED
            self._emit(PAIN, alarm.priority, transition, episode=episode.number,
                       detail=self._s_reason() if lost else "")

    def _pain_raised(self, change: run.Raised) -> None:
        if change.merged:  # the run re-opens the episode it last resolved
            episode = self._last_resolved
            episode.end = episode.end_reason = episode.stats = None
            detail = "re-opened: onset within merge_within of its end"
        else:
            number = len(self._episodes) + 1
            in_procedure = self._mode == PROCEDURE or self._last_procedure_end >= change.start
            episode = _Episode(number, change.start, change.t, PROCEDURE if in_procedure else MONITORING)
            episode.max_priority = NO_SIGNAL
            self._episodes[number] = episode
            detail = ""
        self._open, self._last_resolved = episode, None
        if self._mode == PROCEDURE:
            episode.mode = PROCEDURE
        episode.cues |= self._run_cues
        self._changed.add(episode.number)
        priority = _higher(episode.max_priority, self._pain_priority(episode))
        if priority == NO_SIGNAL:
            return  # recorded, no alarm signal (ALARMS.md face_only_priority none)
        episode.max_priority = priority
        self._raise_pain(episode, priority, change.t, detail)

    def _pain_priority(self, episode: _Episode) -> str:
        """Medium when a cue beside the face corroborates, else the face-only setting; high at
        once when T_high was held for D_high while the alarm stayed below medium."""
        base = MEDIUM if episode.cues - {FACE} else FACE_ONLY[self._settings.face_only_priority]
        return HIGH if base == MEDIUM and episode.high_reached else base

    def _raise_pain(self, episode: _Episode, priority: str, t: float, detail: str) -> None:
        key = (PAIN, episode.number)
        alarm = self._alarms.get(key)
        if alarm is None:
            alarm = self._alarms[key] = AlarmSignal(PAIN, priority, t, episode.number)
        alarm.raise_(t, priority)
        alarm.signal_lost = self._run.s is None
        alarm.cues = cue_label(episode.cues)
        self._emit(PAIN, alarm.priority, Transition.RAISED, episode=episode.number, detail=detail)

    def _pain_ended(self, episode: _Episode, alarm: AlarmSignal | None, change: run.Ended) -> None:
        episode.end, episode.end_reason, episode.stats = change.end, change.reason, change.stats
        self._open = None
        self._last_resolved = episode if change.reason == RESOLVED else None
        self._changed.add(episode.number)
        if alarm is not None:
            self._end_alarm(alarm, change.reason, (episode.start, change.end))

    def _end_alarm(self, alarm: AlarmSignal, reason: str, span: tuple[float, float]) -> None:
        """A patient alarm's condition is over: it latches (ALARMS.md) or clears."""
        self._emit(alarm.kind, alarm.priority, Transition.ENDED, episode=alarm.episode, detail=reason)
        alarm.active = False
        must_latch = reason == SIGNAL_LOST or alarm.unacked
        if must_latch and reason != SESSION_ENDED and self._mode != PROCEDURE:
            alarm.latched = True
            alarm.latch_span = span
            alarm.next_reminder = self._now + self._settings.reminder_every_s
            self._emit(alarm.kind, alarm.priority, Transition.LATCHED, episode=alarm.episode)
        else:
            del self._alarms[(alarm.kind, alarm.episode)]
            self._emit(alarm.kind, alarm.priority, Transition.CLEARED, episode=alarm.episode)

    # --- fusion -----------------------------------------------------------------------------

    def _corroborating(self) -> frozenset[str]:
        if self._mode == STANDBY:
            return frozenset()
        return self._cues.corroborating(self._now)

    def _note_cues(self) -> None:
        """Collect the cues corroborating now into the face run's window and the open episode."""
        start = self._run.start if self._run.phase != run.IDLE else None
        if start != self._cues_for:
            self._cues_for, self._run_cues = start, set()
        if start is None and self._open is None:
            return
        cues = self._corroborating()
        if start is not None:
            self._run_cues |= cues
        if self._open is not None and not cues <= self._open.cues:
            self._open.cues |= cues
            self._changed.add(self._open.number)

    def _fuse(self) -> None:
        """Upgrade a face-only episode that is now corroborated; raise or hand over CRYING."""
        self._note_cues()
        episode = self._open
        if episode is not None:
            target = self._pain_priority(episode)
            if RANK.get(episode.max_priority, -1) < RANK[MEDIUM] <= RANK.get(target, -1):
                self._upgrade(episode, target)
            alarm = self._alarms.get((PAIN, episode.number))
            if alarm is not None:
                alarm.cues = cue_label(episode.cues)
        crying = self._alarms.get((CRYING, None))
        crying_active = crying is not None and crying.active
        carried = self._pain_carries_cry()
        if crying_active and carried:
            del self._alarms[(CRYING, None)]
            self._emit(CRYING, crying.priority, Transition.CLEARED, detail=CARRIED_BY_PAIN)
        elif (not crying_active and not carried and self._cry_run.phase == run.ACTIVE
              and self._mode != STANDBY and self._face_quiet()):
            self._raise_crying()

    def _upgrade(self, episode: _Episode, priority: str) -> None:
        others = cue_label(episode.cues).removeprefix(FACE).removeprefix("+").replace("+", " + ")
        detail = f"corroborated by {others}" if others else "face_only_priority changed"
        alarm = self._alarms.get((PAIN, episode.number))
        episode.max_priority = priority
        self._changed.add(episode.number)
        if alarm is None:
            self._raise_pain(episode, priority, self._now, detail)
            return
        alarm.escalate_ref = self._now
        self._escalate(alarm, priority, detail)

    def _pain_carries_cry(self) -> bool:
        episode = self._open
        if episode is None or CRY not in episode.cues:
            return False
        alarm = self._alarms.get((PAIN, episode.number))
        return alarm is not None and alarm.active

    def _face_quiet(self) -> bool:
        """The face does not show pain: S unknown or below T_on."""
        s = self._smoother.value
        return s is None or s < self._settings.t_on

    def _sync_cry(self) -> None:
        """Feed the cry state to the cry run, then act on its timers."""
        crying = None if self._mode == STANDBY else self._cues.crying(self._now)
        if crying != self._cry_run.crying:
            for change in self._cry_run.set_state(self._now, crying):
                self._on_cry(change)
        for change in self._cry_run.fire():
            self._on_cry(change)

    def _on_cry(self, change: CryChange) -> None:
        if isinstance(change, run.Raised):
            self._cry_since = change.start
            return  # _fuse raises CRYING when the face does not carry the cry
        alarm = self._alarms.get((CRYING, None))
        if alarm is None or not alarm.active:
            return
        if isinstance(change, run.Ended):
            self._end_alarm(alarm, change.reason, (self._cry_since, change.end))
        else:
            lost = isinstance(change, run.SignalLost)
            alarm.signal_lost = lost
            self._emit(CRYING, alarm.priority, Transition.SIGNAL_LOST if lost else Transition.SIGNAL_RESUMED,
                       detail="no sound" if lost else "")

    def _raise_crying(self) -> None:
        key = (CRYING, None)
        alarm = self._alarms.get(key)
        if alarm is None:
            alarm = self._alarms[key] = AlarmSignal(CRYING, MEDIUM, self._now)
        alarm.raise_(self._now, MEDIUM)
        alarm.signal_lost = self._cry_run.crying is None
        self._emit(CRYING, alarm.priority, Transition.RAISED)

    # --- alarms -----------------------------------------------------------------------------

    def _sync_technical(self) -> None:
        now = self._now
        held = self._watch.conditions(now, self._mode != STANDBY)
        for kind in TECHNICAL_KINDS:
            key = (kind, None)
            alarm = self._alarms.get(key)
            if kind not in held:
                if alarm is not None:
                    del self._alarms[key]
                    self._emit(kind, alarm.priority, Transition.CLEARED)
                continue
            priority = held[kind]
            if alarm is None:
                self._alarms[key] = AlarmSignal(kind, priority, now)
                self._emit(kind, priority, Transition.RAISED, detail=self._watch.detail(kind))
            else:
                if kind in BLIND_KINDS and is_due(alarm.since + self._settings.blind_escalate_s, now):
                    priority = MEDIUM
                if RANK[priority] > RANK[alarm.priority]:
                    self._escalate(alarm, priority, self._watch.detail(kind))

    def _escalate(self, alarm: AlarmSignal, priority: str, detail: str) -> None:
        alarm.escalate(priority)
        if alarm.episode is not None:
            self._episodes[alarm.episode].max_priority = priority
            self._changed.add(alarm.episode)
        self._emit(alarm.kind, priority, Transition.ESCALATED, episode=alarm.episode, detail=detail)

    def _alarm_timers(self, alarm: AlarmSignal) -> None:
        now = self._now
        if alarm.active and is_due(alarm.silenced_until, now):
            alarm.silenced_until = None
            self._emit(alarm.kind, alarm.priority, Transition.SILENCE_ENDED, episode=alarm.episode)
        if is_due(self._escalate_at(alarm), now):
            self._escalate(alarm, HIGH, f"unacknowledged for {self._settings.escalate_after_s:g} s")
        if is_due(self._reminder_at(alarm), now):
            alarm.next_reminder = now + self._settings.reminder_every_s
            self._reminder_due = True
            self._emit(alarm.kind, alarm.priority, Transition.REMINDER, episode=alarm.episode)

    def _pain_audio_suppressed(self) -> bool:
        return self._mode in (PROCEDURE, STANDBY)

    def _escalate_at(self, alarm: AlarmSignal) -> float | None:
        """Unattended patient alarms at medium go high; a face-only low one stays low."""
        if (alarm.kind not in PATIENT_KINDS or not alarm.active or alarm.priority != MEDIUM
                or self._pain_audio_suppressed()):
            return None
        return alarm.escalate_ref + self._settings.escalate_after_s

    def _reminder_at(self, alarm: AlarmSignal) -> float | None:
        """A reminder silenced by audio pause sounds when the pause ends, not never."""
        if not alarm.latched or self._pain_audio_suppressed():
            return None
        return max(alarm.next_reminder, self._paused_until or -math.inf)

    def _standby_reminder_at(self) -> float | None:
        if self._mode != STANDBY:
            return None
        return max(self._standby_reminder, self._paused_until or -math.inf)

    def _audible(self, alarm: AlarmSignal) -> bool:
        if not alarm.active or alarm.silenced_until is not None or self._paused_until is not None:
            return False
        return not (alarm.kind in PATIENT_KINDS and self._pain_audio_suppressed())

    # --- modes ------------------------------------------------------------------------------

    def _end_procedure(self, user: str | None, detail: str) -> None:
        self._mode, self._mode_until = MONITORING, None
        self._last_procedure_end = self._now
        self._pain_audio_back()
        self._emit(EventKind.MODE, None, Transition.PROCEDURE_ENDED, user, detail=detail)

    def _end_standby(self, user: str) -> None:
        self._mode = MONITORING
        self._mode_until = self._standby_reminder = None
        self._watch.restart(self._now)
        self._cues.resume()
        self._pain_audio_back()
        self._emit(EventKind.MODE, None, Transition.STANDBY_ENDED, user)

    def _pain_audio_back(self) -> None:
        """Pain audio returns: the unattended-time escalation counts afresh from now."""
        for alarm in self._alarms.values():
            if alarm.kind in PATIENT_KINDS and alarm.active:
                alarm.escalate_ref = self._now

    # --- helpers ----------------------------------------------------------------------------

    def _s_reason(self) -> str:
        if self._mode == STANDBY:
            return "standby"
        if self._subject_reset:
            return SUBJECT_CHANGED_REASON
        if self._watch.picture_ended:
            return PICTURE_ENDED_REASON
        if self._watch.camera_lost(self._now):
            return "no_frames"
        status = self._watch.last_status
        if status is not None and status is not FaceStatus.SCORED:
            return status.value
        return "no_frames" if self._smoother.ever_known else "not_started"

    def _record(self, episode: _Episode) -> EpisodeRecord:
        stats = episode.stats if episode.stats is not None else self._run.stats
        return EpisodeRecord(
            number=episode.number, start=episode.start, alarm_at=episode.alarm_at,
            end=episode.end, end_reason=episode.end_reason, peak_s=stats.peak, mean_s=stats.mean,
            max_share=stats.max_f, max_band=face_band(stats.max_f), max_priority=episode.max_priority,
            ack_at=episode.ack_at, ack_by=episode.ack_by, mode=episode.mode,
            cues=cue_label(episode.cues),
        )

    def _emit(self, kind: AlarmKind | EventKind, priority: Priority | None, transition: Transition,
              user: str | None = None,
              episode: int | None = None, detail: str = "") -> None:
        self._events.append(AlarmEvent(self._now, kind, priority, transition, user, episode, detail))


def _higher(a: str, b: str) -> str:
    """The higher of two priorities, NO_SIGNAL below low: priority never drops in an episode."""
    return a if RANK.get(a, -1) >= RANK.get(b, -1) else b


def _time(t: float) -> float:
    t = float(t)
    if not math.isfinite(t):
        raise ValueError(f"session time must be a finite number of seconds (got {t})")
    return t


def _unit(value: float, name: str) -> float:
    value = float(value)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be within 0..1 (got {value})")
    return value
