"""Sweep T_on, D_on and tau over recorded sessions: false alarms per hour against sensitivity and
time to alarm, so a unit chooses its settings from its own recordings."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from monitor.config import AlarmSettings, TuningSettings
from monitor.errors import MonitorError
from monitor.tuning.metrics import Recording, Scores, score
from monitor.tuning.replay import StoredSession, replay


@dataclass(frozen=True)
class Point:
    tau_s: float
    t_on: float
    d_on_s: float
    scores: Scores
    current: bool


def sweep(sessions: list[tuple[StoredSession, Recording]], base: AlarmSettings,
          tuning: TuningSettings) -> list[Point]:
    """Every grid combination (the current settings always included), scored over all sessions."""
    grid = [sorted(set(values) | {now}) for values, now in (
        (tuning.tau_grid_s, base.tau_s), (tuning.t_on_grid, base.t_on), (tuning.d_on_grid_s, base.d_on_s))]
    points = []
    for tau, t_on, d_on in itertools.product(*grid):
        try:
            settings = AlarmSettings.model_validate(base.model_dump() | {"tau_s": tau, "t_on": t_on, "d_on_s": d_on})
        except ValidationError as exc:
            raise MonitorError(f"sweep point tau {tau:g} s, T_on {t_on:g}, D_on {d_on:g} s is not a "
                               f"valid setting: {exc.errors()[0]['msg']}") from None
        scores = score([(rec, replay(stored, settings)) for stored, rec in sessions],
                       tuning.match_after_s, tuning.count_from)
        points.append(Point(tau, t_on, d_on, scores,
                            (tau, t_on, d_on) == (base.tau_s, base.t_on, base.d_on_s)))
    return points


def table(points: list[Point]) -> str:
    """Plain-text table, one row per setting, the current one marked."""
    lines = [f"{'tau s':>5} {'T_on':>5} {'D_on s':>6} {'hits':>7} {'sens':>5} {'false':>5} "
             f"{'false/h':>7} {'median s':>8} {'p90 s':>6} {'in alarm':>8}"]
    for p in points:
        s = p.scores
        sens = "-" if s.sensitivity is None else f"{s.sensitivity:.0%}"
        med, p90 = (_seconds(s.delay_s(q)) for q in (50, 90))
        lines.append(f"{p.tau_s:5g} {p.t_on:5.2f} {p.d_on_s:6g} {f'{s.hits}/{s.truth_events}':>7} "
                     f"{sens:>5} {s.false_alarms:5d} {s.false_alarms_per_hour:7.1f} {med:>8} {p90:>6} "
                     f"{s.alarm_s / s.monitored_s:8.0%}{'  <- current' if p.current else ''}")
    return "\n".join(lines)


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def plot(points: list[Point], path: Path, title: str) -> None:
    """Two panels sharing the x axis (false alarms per hour), at the current tau: sensitivity, and
    median time to alarm; one line per T_on through its D_on values, the current setting starred."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    current = next(p for p in points if p.current)
    shown = [p for p in points if p.tau_s == current.tau_s]
    fig, axes = plt.subplots(1, 2, figsize=(12, 5.2), sharex=True)
    panels = ((axes[0], "Sensitivity (pain episodes alarmed)", lambda s: s.sensitivity),
              (axes[1], "Median time from pain start to alarm (s)", lambda s: s.delay_s(50)))
    for t_on in sorted({p.t_on for p in shown}):
        line = sorted((p for p in shown if p.t_on == t_on), key=lambda p: p.d_on_s)
        for ax, _, value in panels:
            xy = [(p.scores.false_alarms_per_hour, value(p.scores), p.d_on_s) for p in line
                  if value(p.scores) is not None]
            if not xy:
                continue
            ax.plot([x for x, _, _ in xy], [y for _, y, _ in xy], "o-", label=f"T_on {t_on:.2f}", alpha=0.8)
            for x, y, d_on in xy:
                ax.annotate(f"{d_on:g}s", (x, y), textcoords="offset points", xytext=(5, 4), fontsize=8)
    for ax, ylabel, value in panels:
        y = value(current.scores)
        if y is not None:
            ax.plot(current.scores.false_alarms_per_hour, y, "*", color="black", markersize=18,
                    zorder=5, label=f"current (T_on {current.t_on:g}, D_on {current.d_on_s:g} s)")
        ax.set_xlabel("False alarms per hour of monitoring")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    rates = [p.scores.false_alarms_per_hour for p in shown]
    axes[0].set_xlim(-0.02 * max(max(rates), 1.0), max(max(rates) * 1.1, 1.0))  # never below 0
    if not any(rates):
        axes[0].text(0.5, 0.5, "no false alarms at any of these settings", transform=axes[0].transAxes,
                     ha="center", fontsize=11, color="dimgray")
    axes[0].set_ylim(-0.05, 1.05)
    axes[0].legend(fontsize=9, loc="lower right")
    fig.suptitle(f"{title}\nlabels at points: D_on (seconds above T_on before the alarm); tau "
                 f"{current.tau_s:g} s. Better is up-left (left) and down-left (right).", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
