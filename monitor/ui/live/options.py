"""Typed settings of the live window itself (how it shows and sounds, not what it decides).

Alarm decisions live in monitor.config; these only shape the screen, so they come from the
command line of `painmon live` and have safe ranges like every other setting.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from monitor.pipeline.assembly import WRITER_STOP_S
from monitor.text import text_problem


class WindowOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    user: str = Field("bedside", min_length=1, max_length=64,
                      description="name or badge of the shift; recorded with acknowledgements")
    kiosk: bool = Field(False, description="full screen, no window frame, Escape does not leave")
    repaint_hz: float = Field(30.0, ge=5.0, le=60.0,
                              description="screen refresh: flashing, countdowns, newest frame")
    trend_minutes: float = Field(15.0, ge=1.0, le=60.0, description="span of the trend strip")
    trend_refresh_s: float = Field(0.5, ge=0.1, le=5.0, description="trend strip redraw interval")
    self_test_step_s: float = Field(0.5, ge=0.2, le=2.0, description="each alarm colour at start")
    close_timeout_s: float = Field(
        WRITER_STOP_S + 3.0, ge=WRITER_STOP_S + 1.0, le=30.0,
        description="longest wait for the pipeline to flush on close: covers the store writer's "
                    "own flush budget, so a slow database never cuts a clean close short")
    restart_after_crash_s: float = Field(5.0, ge=1.0, le=60.0,
                                         description="wait before restarting a crashed pipeline")
    crashes_before_exit: int = Field(
        3, ge=1, le=20,
        description="crashes within 10 minutes after which the window exits non-zero so that the "
                    "supervisor restarts the whole process")
    repeat_high_s: float = Field(5.0, ge=2.5, le=15.0, description="high-priority tone repeats")
    repeat_medium_s: float = Field(10.0, ge=2.5, le=30.0, description="medium-priority tone repeats")
    repeat_low_s: float = Field(30.0, ge=10.0, le=120.0, description="low-priority tone repeats")

    @field_validator("user")
    @classmethod
    def _plain_user(cls, user: str) -> str:
        problem = text_problem(user)
        if problem is not None:
            raise ValueError(f"user must not contain {problem}")
        return user
