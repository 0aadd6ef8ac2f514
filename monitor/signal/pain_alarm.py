"""PAIN (ALARMS.md "Physiological alarm" and "PAIN: the face run, corroborated"): the face's
signals S and F, the face run, its episodes and its alarm signal.

An engine part: its timers are the run's (D_on, dips, D_high, D_off, resume_within) and S going
stale; it collects the cues that corroborate the run while it lasts. The upgrade of a face-only
episode by a later cue is the fusion part's (fusion.py).
"""

from __future__ import annotations

from collections.abc import Callable

from monitor.config import AlarmSettings
from monitor.packets import FaceStatus
from monitor.signal.book import AlarmBook
from monitor.signal.clockwork import Bench, Part
from monitor.signal.cues import FACE, cue_label
from monitor.signal.episode import Episode
from monitor.signal.hysteresis import IDLE, Ended, HighReached, Raised, RunChange, SignalLost
from monitor.signal.modes import Modes
from monitor.signal.pain import PainRun
from monitor.signal.records import (HIGH, LOW, MEDIUM, MONITORING, NO_SIGNAL, PAIN, PROCEDURE,
                                    RANK, RESOLVED, EpisodeRecord, Transition)
from monitor.signal.smoothing import FaceShare, Smoother, face_band, s_band
from monitor.signal.technical import TechnicalWatch
from monitor.signal.timing import earliest

SUBJECT_CHANGED_REASON = "subject_changed"
PICTURE_ENDED_REASON = "picture_ended"
FACE_ONLY = {"none": NO_SIGNAL, "low": LOW, "medium": MEDIUM}  # alarms.face_only_priority


class PainAlarm(Part):
    """S, F, the face run and its episodes; PAIN raised, escalated by T_high, lost, ended."""

    def __init__(self, bench: Bench, book: AlarmBook, modes: Modes, watch: TechnicalWatch,
                 corroborating: Callable[[float], frozenset[str]]) -> None:
        self.bench, self._book, self._modes, self._watch = bench, book, modes, watch
        self._corroborating = corroborating  # the cues beside the face that corroborate at t
        self.smoother = Smoother(bench.settings)
        self.share = FaceShare(bench.settings)
        self.run = PainRun(bench.settings, bench.now)
        self.open: Episode | None = None
        self._last_resolved: Episode | None = None
        self._run_cues: set[str] = set()  # cues seen since the face run in progress began
        self._cues_for: float | None = None  # that run's start
        self._subject_reset = False  # S unknown because the face is another person's
        self.face_relaxed: Callable[[float], bool] = lambda now: False  # face_rule.py's, when wired

    # --- inputs -----------------------------------------------------------------------------

    def frame(self, p: float | None) -> None:
        now = self.bench.now
        self.share.frame(now, p)
        if p is not None:
            self.smoother.scored(now, p)
            self._subject_reset = False
            self.s_changed()
        self.share.trim(now)
        self.run.note_f(self.share.value(now))

    def feed_s(self, s: float | None) -> None:
        self.smoother.feed(self.bench.now, s)
        self.s_changed()

    def forget_face(self, subject_changed: bool = False) -> None:
        """Standby or another person's face: S and F restart from the next scored frame."""
        self.smoother.forget()
        self.share.clear()
        if subject_changed:
            self.run.forget_subject()
            self._last_resolved = None
            self._subject_reset = True
        self.s_changed()

    def note_procedure(self) -> None:
        """A procedure started: the open episode is recorded as one during a procedure."""
        if self.open is not None and self.open.mode != PROCEDURE:
            self.open.mode = PROCEDURE
            self.bench.changed.add(self.open.number)

    def use(self, settings: AlarmSettings) -> None:
        for part in (self.smoother, self.share, self.run):
            part.settings = settings
        self.s_changed()  # the same S against the new thresholds

    def finish(self) -> None:
        for change in self.run.finish(self.bench.now):
            self._on_run(change)

    def tidy(self) -> None:
        """After an input: the face share's window moves on (so snapshot() only reads)."""
        self.share.trim(self.bench.now)

    # --- the clockwork ----------------------------------------------------------------------

    def integrate(self, t: float) -> None:
        self.run.integrate(t)

    def next_due(self) -> float | None:
        return earliest(self.smoother.stale_at(), self.run.next_due())

    def fire(self) -> None:
        self.note_cues()
        for change in self.run.fire():
            self._on_run(change)
        if self.smoother.expire(self.bench.now):
            self.s_changed()

    # --- the run ----------------------------------------------------------------------------

    def s_changed(self) -> None:
        for change in self.run.set_s(self.bench.now, self.smoother.value):
            self._on_run(change)

    def note_cues(self) -> None:
        """Collect the cues corroborating now into the face run's window and the open episode."""
        start = self.run.start if self.run.phase != IDLE else None
        if start != self._cues_for:
            self._cues_for, self._run_cues = start, set()
        if start is None and self.open is None:
            return
        cues = frozenset() if self._modes.in_standby else self._corroborating(self.bench.now)
        if start is not None:
            self._run_cues |= cues
        if self.open is not None and not cues <= self.open.cues:
            self.open.cues |= cues
            self.bench.changed.add(self.open.number)

    def _on_run(self, change: RunChange) -> None:
        if isinstance(change, Raised):
            self.note_cues()
            self._raised(change)
            return
        episode = self.open
        alarm = self._book.get(PAIN, episode.number)  # None: face-only, face_only_priority none
        if isinstance(change, HighReached):
            if alarm is not None and RANK[alarm.priority] >= RANK[MEDIUM]:
                self._book.escalate(alarm, HIGH, f"S >= T_high for {self.bench.settings.d_high_s:g} s")
            else:
                episode.high_reached = True  # kept for an upgrade by a later corroboration
        elif isinstance(change, Ended):
            self._ended(episode, change)
        elif alarm is not None:
            lost = isinstance(change, SignalLost)
            alarm.signal_lost = lost
            transition = Transition.SIGNAL_LOST if lost else Transition.SIGNAL_RESUMED
            self.bench.emit(PAIN, alarm.priority, transition, episode=episode.number,
                            detail=self.s_reason() if lost else "")

    def _raised(self, change: Raised) -> None:
        bench = self.bench
        if change.merged:  # the run re-opens the episode it last resolved
            episode = self._last_resolved
            episode.end = episode.end_reason = episode.stats = None
            detail = "re-opened: onset within merge_within of its end"
        else:
            number = len(bench.episodes) + 1
            in_procedure = self._modes.in_procedure or self._modes.last_procedure_end >= change.start
            episode = Episode(number, change.start, change.t, PROCEDURE if in_procedure else MONITORING)
            episode.max_priority = NO_SIGNAL
            bench.episodes[number] = episode
            detail = ""
        self.open, self._last_resolved = episode, None
        if self._modes.in_procedure:
            episode.mode = PROCEDURE
        episode.cues |= self._run_cues
        bench.changed.add(episode.number)
        priority = _higher(episode.max_priority, self.priority(episode))
        if priority == NO_SIGNAL:
            return  # recorded, no alarm signal (ALARMS.md face_only_priority none)
        episode.max_priority = priority
        self.raise_alarm(episode, priority, change.t, detail)

    def priority(self, episode: Episode) -> str:
        """Medium when a cue beside the face corroborates, else the face-only setting (none
        while the face is relaxed, face_rule.py); high at once when T_high was held for D_high
        while the alarm stayed below medium."""
        if episode.cues - {FACE}:
            base = MEDIUM
        elif self.face_relaxed(self.bench.now):
            return NO_SIGNAL
        else:
            base = FACE_ONLY[self.bench.settings.face_only_priority]
        return HIGH if base == MEDIUM and episode.high_reached else base

    def raise_alarm(self, episode: Episode, priority: str, t: float, detail: str) -> None:
        alarm = self._book.get(PAIN, episode.number)
        if alarm is None:
            alarm = self._book.add(PAIN, priority, t, episode.number)
        alarm.raise_(t, priority)
        alarm.signal_lost = self.run.s is None
        alarm.cues = cue_label(episode.cues)
        self.bench.emit(PAIN, alarm.priority, Transition.RAISED, episode=episode.number, detail=detail)

    def _ended(self, episode: Episode, change: Ended) -> None:
        episode.end, episode.end_reason, episode.stats = change.end, change.reason, change.stats
        self.open = None
        self._last_resolved = episode if change.reason == RESOLVED else None
        self.bench.changed.add(episode.number)
        alarm = self._book.get(PAIN, episode.number)
        if alarm is not None:
            self._book.end(alarm, change.reason, (episode.start, change.end))

    # --- what the screen and the store see --------------------------------------------------

    def s_reason(self) -> str:
        if self._modes.in_standby:
            return "standby"
        if self._subject_reset:
            return SUBJECT_CHANGED_REASON
        if self._watch.picture_ended:
            return PICTURE_ENDED_REASON
        if self._watch.camera_lost(self.bench.now):
            return "no_frames"
        status = self._watch.last_status
        if status is not None and status is not FaceStatus.SCORED:
            return status.value
        return "no_frames" if self.smoother.ever_known else "not_started"

    def face_view(self) -> dict:
        """The snapshot's face fields: S, F, their bands, and why S is unknown. Only reads."""
        cfg, s = self.bench.settings, self.smoother.value
        band = s_band(s, cfg)
        f = None if self._modes.in_standby else self.share.value(self.bench.now)
        return dict(s=s, s_reason=None if s is not None else self.s_reason(), s_band=band,
                    s_label=None if band is None else cfg.band_labels[band], f=f, f_band=face_band(f))

    def record(self, number: int) -> EpisodeRecord:
        return self.bench.episodes[number].record(self.run.stats)


def _higher(a: str, b: str) -> str:
    """The higher of two priorities, NO_SIGNAL below low: priority never drops in an episode."""
    return a if RANK.get(a, -1) >= RANK.get(b, -1) else b
