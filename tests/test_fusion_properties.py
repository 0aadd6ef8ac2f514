"""Property-based checks of the fusion rules (ALARMS.md "Cues beyond the face: fusion") over random
face, cry and movement streams, and over frame rates and audio hops."""

from __future__ import annotations

import random
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.config import AlarmSettings, AudioSettings, MovementSettings
from monitor.signal.cry import CryWindow
from monitor.signal.engine import AlarmEngine
from monitor.signal.records import RANK

AUDIO, MOVEMENT = AudioSettings(cry_rule="yamnet_ema"), MovementSettings()
LOUD = -20.0
STEP = 0.5  # s between cue inputs in the random streams
UNKNOWN = "unknown"  # a movement reading that cannot be told (camera moving)
SOME = settings(max_examples=40, deadline=None)


def rank(priority: str) -> int:
    return RANK.get(priority, -1)  # "none": recorded without an alarm, below low


@dataclass(frozen=True)
class Segment:
    hold: float
    s: float | None  # S fed at the segment's start (None: face unknown)
    cry: float | None  # every window's score (None: no sound)
    m: float | str | None  # every reading (None: no reading, UNKNOWN: unknown reading)
    action: str | None  # a user action at the segment's start


def segments(cry_scores, m_values) -> st.SearchStrategy[list[Segment]]:
    cfg = AlarmSettings()
    s_values = st.one_of(st.none(), st.sampled_from([0.1, cfg.t_off, 0.5, cfg.t_on, 0.7, 0.9]),
                         st.floats(0.0, 1.0))
    holds = st.one_of(st.floats(0.5, 5.0), st.floats(5.0, 40.0),
                      st.sampled_from([cfg.d_on_s, cfg.crying_after_s, cfg.crying_clear_s, cfg.d_off_s]))
    actions = st.sampled_from([None] * 8 + ["ack", "procedure", "procedure_end", "standby", "standby_end"])
    return st.lists(st.builds(Segment, holds, s_values, cry_scores, m_values, actions), min_size=2, max_size=12)


ANY_CRY = st.one_of(st.none(), st.sampled_from([0.0, 0.9]), st.floats(0.0, 1.0))
ANY_M = st.one_of(st.none(), st.just(UNKNOWN), st.sampled_from([0.0, MOVEMENT.vigorous_from * 2]),
                  st.floats(0.0, MOVEMENT.vigorous_from * 4))
# Cues that never corroborate: C stays below cry_on, M below moving_from, or they are unknown.
QUIET_CRY = st.one_of(st.none(), st.floats(0.0, AUDIO.cry_on * 0.99))
STILL_M = st.one_of(st.none(), st.just(UNKNOWN), st.floats(0.0, MOVEMENT.moving_from * 0.99))


@dataclass
class Outcome:
    episodes: dict  # number -> latest EpisodeRecord
    events: list
    checks: list  # (snapshot, episodes as they were then)


def run(cfg: AlarmSettings, plan: list[Segment], cry: bool = True, movement: bool = True) -> Outcome:
    """The plan through one engine; cry/movement False leave that cue out altogether."""
    eng = AlarmEngine(cfg, audio=AUDIO)
    episodes, events, checks = {}, [], []
    t = 0.0

    def collect() -> None:
        new_events, records = eng.drain()
        events.extend(new_events)
        episodes.update((r.number, r) for r in records)
        checks.append((eng.snapshot(), dict(episodes)))

    for seg in plan:
        if seg.action == "ack":
            eng.acknowledge(t, "nurse")
        elif seg.action == "procedure":
            eng.procedure_start(t, 2.0)
        elif seg.action == "procedure_end":
            eng.procedure_end(t)
        elif seg.action == "standby":
            eng.standby_start(t)
        elif seg.action == "standby_end":
            eng.standby_end(t)
        eng.feed_s(t, seg.s)
        collect()
        end = t + seg.hold
        while (t := t + STEP) < end:
            if cry and seg.cry is not None:
                eng.cry_window(CryWindow(t, seg.cry, 0.0, 0.0, LOUD))
            if movement and seg.m is not None:
                eng.movement(t, None if seg.m == UNKNOWN else seg.m, "camera moving")
            collect()
        t = end
    eng.end_session(t)
    collect()
    return Outcome(episodes, events, checks)


@given(st.sampled_from(["low", "none"]), segments(QUIET_CRY, STILL_M))
@SOME
def test_no_medium_or_high_pain_without_corroboration(face_only, plan):
    out = run(AlarmSettings(face_only_priority=face_only), plan)
    for e in out.events:
        if e.kind == "PAIN":
            assert e.priority == "low" and face_only == "low", e
    for record in out.episodes.values():
        assert (record.max_priority, record.cues) == (face_only, "face"), record


@given(segments(ANY_CRY, ANY_M))
@SOME
def test_medium_pain_names_its_corroboration_and_crying_never_doubles_a_cry_carried_pain(plan):
    out = run(AlarmSettings(), plan)
    for record in out.episodes.values():
        assert (rank(record.max_priority) >= RANK["medium"]) == (record.cues != "face"), record
    for snap, episodes in out.checks:
        active = {a.kind: a for a in snap.alarms if a.active}
        if "CRYING" in active and "PAIN" in active:
            assert "cry" not in episodes[active["PAIN"].episode].cues, snap
    for snap, _ in out.checks:
        if snap.cry_state == "no_microphone":
            assert snap.c is None and snap.cry_reason
        if snap.movement_state == "unknown":
            assert snap.m is None and snap.movement_reason


@given(segments(ANY_CRY, ANY_M))
@SOME
def test_removing_a_cue_never_raises_priority(plan):
    cfg = AlarmSettings()
    full = run(cfg, plan)
    fewer = {"no cry": run(cfg, plan, cry=False), "no movement": run(cfg, plan, movement=False),
             "face only": run(cfg, plan, cry=False, movement=False)}
    for name, out in fewer.items():
        assert sorted(out.episodes) == sorted(full.episodes), "the face alone times the episodes"
        for number, record in out.episodes.items():
            assert rank(record.max_priority) <= rank(full.episodes[number].max_priority), (name, record)
            assert set(record.cues.split("+")) <= set(full.episodes[number].cues.split("+"))
            assert (record.start, record.alarm_at, record.end) == (
                full.episodes[number].start, full.episodes[number].alarm_at, full.episodes[number].end)
    for name in ("no cry", "face only"):
        assert not any(e.kind == "CRYING" for e in fewer[name].events), name


# --- frame rate and audio hop do not change the outcome ---------------------------------------------
#
# The same underlying face score p(t), cry sound and movement, sampled at 10, 24 or 30 fps (frames
# and movement readings, jittered) and with cry windows every 0.24 or 0.48 s, must give the same
# episodes (times within 0.5 s, same priority and cues) and the same CRYING alarms (within 1 s).
# Sampling moves each crossing by about one frame or hop, so the plan keeps every cue change a few
# seconds away from the instants where an outcome could flip: cries and movement start >= 3 s
# into a segment and stop >= 4 s before its end (crying outlasts the sound by ~3.5 s), only in
# segments where the face is high (the run is on), or hidden for long (the episode, or CRYING).

RAMP = 1.5
LEVEL = {"low": (0.10, 0.15), "mid": (0.48, 0.52), "high": (0.74, 0.78)}
HOLD = {"low_start": (5.0, 10.0), "high": (18.0, 30.0), "mid_short": (2.0, 4.0), "low_short": (6.0, 11.0),
        "low_apart": (40.0, 60.0), "face_long": (14.0, 40.0), "face_lost": (75.0, 95.0)}
CUE_KINDS = ("high", "face_long", "face_lost")


@dataclass(frozen=True)
class Part:
    kind: str
    hold: float
    level: float  # p while held (hidden face: the p when it returns)
    cry: bool
    move: bool


@st.composite
def smooth_plans(draw) -> list[Part]:
    def part(kind: str) -> Part:
        lo, hi = HOLD[kind]
        level_kind = "high" if kind.startswith("face") else kind.split("_")[0]
        cue_ok = kind in CUE_KINDS
        return Part(kind, draw(st.floats(lo, hi)), draw(st.floats(*LEVEL[level_kind])),
                    cue_ok and draw(st.booleans()), kind == "high" and draw(st.booleans()))

    parts = [part("low_start")]
    for _ in range(draw(st.integers(1, 3))):
        parts.append(part("high"))
        parts.append(part(draw(st.sampled_from(["mid_short", "low_short", "low_apart", "face_long"]))))
    parts.append(part("high"))
    parts.append(part(draw(st.sampled_from(["low_apart", "face_lost"]))))
    return parts


def at(parts: list[Part], t: float) -> tuple[Part, float, float]:
    """The part at t, the time into it, and p there (ramping from the previous level)."""
    start, previous = 0.0, parts[0].level
    for part in parts:
        if t < start + part.hold or part is parts[-1]:
            into = t - start
            return part, into, previous + (part.level - previous) * min(1.0, into / RAMP)
        start += part.hold
        previous = part.level
    raise AssertionError("unreachable")


def cue_on(part: Part, into: float, wanted: bool) -> bool:
    return wanted and 3.0 <= into < part.hold - 4.0


def sampled(parts: list[Part], fps: float, hop: float, seed: int):
    rng = random.Random(seed)
    duration = sum(p.hold for p in parts)
    inputs = []
    t = rng.uniform(0.0, 1.0 / fps)
    while t < duration:
        part, into, p = at(parts, t)
        inputs.append((t, "frame", None if part.kind.startswith("face") else p))
        inputs.append((t, "movement", MOVEMENT.vigorous_from * 2 if cue_on(part, into, part.move) else 0.0))
        t += rng.uniform(0.6, 1.4) / fps
    t = rng.uniform(hop / 2, hop)
    while t < duration:
        part, into, _ = at(parts, t)
        inputs.append((t, "cry", 0.9 if cue_on(part, into, part.cry) else 0.0))
        t += hop
    eng = AlarmEngine(AlarmSettings(escalate_after_s=600.0), audio=AUDIO)
    for t, kind, value in sorted(inputs, key=lambda x: x[0]):
        if kind == "frame":
            eng.frame(t, "no_face" if value is None else "scored", value)
        elif kind == "movement":
            eng.movement(t, value)
        else:
            eng.cry_window(CryWindow(t, value, 0.0, 0.0, LOUD))
    eng.end_session(duration)
    events, episodes = eng.drain()
    crying = [e.t for e in events if e.kind == "CRYING" and e.transition == "raised"]
    return episodes, crying


@given(smooth_plans(), st.integers(0, 2**32 - 1))
@settings(max_examples=10, deadline=None)
def test_frame_rate_and_audio_hop_do_not_change_the_outcome(parts, seed):
    runs = {(fps, hop): sampled(parts, fps, hop, seed + fps)
            for fps, hop in ((30, 0.48), (30, 0.24), (10, 0.48), (24, 0.24))}
    reference_episodes, reference_crying = runs[(30, 0.48)]
    assert reference_episodes, "every plan has a sustained pain face"
    for key, (episodes, crying) in runs.items():
        assert len(episodes) == len(reference_episodes), (key, episodes, reference_episodes)
        for got, want in zip(episodes, reference_episodes):
            for field in ("end_reason", "max_priority", "cues"):
                assert getattr(got, field) == getattr(want, field), (key, field, got, want)
            for field in ("start", "alarm_at", "end"):
                assert abs(getattr(got, field) - getattr(want, field)) <= 0.5, (key, field, got, want)
        assert len(crying) == len(reference_crying), (key, crying, reference_crying)
        assert all(abs(a - b) <= 1.0 for a, b in zip(crying, reference_crying)), (key, crying)
