"""`OneSourcePipeline`: one source in one session, the common case (`painmon run`, the live
window, tests).

A thin face over `Pipeline` with a single channel; several sources in one process use `Pipeline`
directly (`painmon bench --sources N`), through the same loop and stages.
"""

from __future__ import annotations

from typing import Callable

from monitor.config import Settings
from monitor.capture.sources import Source
from monitor.pipeline.clock import SessionClock
from monitor.pipeline.results import FrameResult, Summary
from monitor.pipeline.assembly import Pipeline
from monitor.scoring.scorer import Scorer
from monitor.signal.actions import UserAction
from monitor.signal.records import AlarmEvent, EpisodeRecord, Snapshot

__all__ = ["FrameResult", "OneSourcePipeline", "Summary"]


class OneSourcePipeline:
    """One monitoring session over one source. `run()` blocks until the source ends or `stop()`."""

    def __init__(
        self,
        settings: Settings,
        source_spec: str | Source,
        realtime: bool = False,
        encounter_id: str | None = None,
        on_frame: Callable[[FrameResult], None] | None = None,
        on_tick: Callable[[Snapshot], None] | None = None,
        on_drain: Callable[[list[AlarmEvent], list[EpisodeRecord]], None] | None = None,
        scorer: Scorer | None = None,
        clock: SessionClock | None = None,
        on_watchdog: Callable[[Snapshot], None] | None = None,
    ) -> None:
        self.settings = settings
        self.pipeline = Pipeline(settings, scorer, clock)
        try:
            self.channel = self.pipeline.add(source_spec, realtime=realtime,
                                             encounter_id=encounter_id, on_frame=on_frame,
                                             on_tick=on_tick, on_drain=on_drain,
                                             on_watchdog=on_watchdog)
        except BaseException:
            self.pipeline.close()
            raise
        self.scorer = self.pipeline.scorer
        self.source = self.channel.source
        self.finder = self.channel.finder
        self.engine = self.channel.engine
        self.writer = self.channel.recorder.writer
        self.database = self.channel.database
        self.recovered = self.channel.recovered
        self.summary = self.channel.summary
        self.session_id = self.summary.session_id
        self.database_description = self.summary.database

    def clock(self) -> float:
        """The session clock (seconds since t = 0)."""
        return self.pipeline.clock.now()

    def stop(self) -> None:
        self.pipeline.stop()

    def act(self, action: UserAction) -> None:
        """A user action (acknowledge, pause, ...), applied on the loop thread, which owns the engine."""
        self.channel.act(action)

    @property
    def stages(self):
        return self.pipeline.loop.stages if self.pipeline.loop else None

    def run(self, on_progress: Callable[[Summary, Snapshot], None] | None = None) -> Summary:
        return self.pipeline.run(on_progress)[0]
