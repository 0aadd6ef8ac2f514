"""The live window's lifecycle table, walked whole: every listed step leads where the table says,
every other step is refused; and the crash-restart policy and the window's own watchdog on their
own clock (issue #21: the states, the restart after 5 s, exit after 3 crashes in 10 minutes,
MONITORING STOPPED after watchdog_after_s + 1 s)."""

from __future__ import annotations

import pytest

from monitor.config import AlarmSettings
from monitor.ui.live.lifecycle import (CRASH_WINDOW_S, TRANSITIONS, Lifecycle, LoopWatch, RefusedStep,
                                       RestartPolicy, State, Step, stall_limit)
from monitor.ui.live.options import WindowOptions


@pytest.mark.parametrize("state", list(State))
def test_every_step_from_every_state_follows_the_table(state):
    for step in Step:
        machine = Lifecycle(state)
        following = TRANSITIONS[state].get(step)
        if following is None:
            assert not machine.allows(step)
            with pytest.raises(RefusedStep, match=f"{step.value} is not allowed while {state.value}"):
                machine.step(step)
            assert machine.state is state  # a refused step changes nothing
        else:
            assert machine.allows(step) and machine.step(step) is following
            assert machine.state is following


def test_the_table_names_every_state_and_each_is_reachable_from_the_start():
    assert set(TRANSITIONS) == set(State)
    reached, frontier = {State.STARTING}, [State.STARTING]
    while frontier:
        for following in TRANSITIONS[frontier.pop()].values():
            if following not in reached:
                reached.add(following)
                frontier.append(following)
    assert reached == set(State)
    assert TRANSITIONS[State.CLOSED] == {}  # the end: nothing follows a finished close
    # closing is always possible until it has begun, and then only finishing it is
    assert all(Step.CLOSE in TRANSITIONS[s] for s in State if s not in (State.CLOSING, State.CLOSED))
    assert TRANSITIONS[State.CLOSING] == {Step.DONE: State.CLOSED}


def test_a_crash_restart_and_a_stall_walk_as_a_night_would():
    machine = Lifecycle()
    path = [Step.READY, Step.STALL, Step.RESUME, Step.CRASH, Step.RESTART, Step.READY, Step.END,
            Step.RESTART, Step.READY, Step.CLOSE, Step.DONE]
    states = [machine.step(step) for step in path]
    assert states == [State.MONITORING, State.STALLED, State.MONITORING, State.CRASHED,
                      State.RESTARTING, State.MONITORING, State.ENDED, State.RESTARTING,
                      State.MONITORING, State.CLOSING, State.CLOSED]
    watched = Lifecycle(State.STALLED)
    assert watched.watched and not Lifecycle(State.CRASHED).watched and Lifecycle(State.CLOSED).closing


def test_the_restart_policy_gives_up_at_the_third_crash_within_ten_minutes():
    options = WindowOptions()
    policy = RestartPolicy(options.restart_after_crash_s, options.crashes_before_exit)
    assert (options.restart_after_crash_s, options.crashes_before_exit, CRASH_WINDOW_S) == (5.0, 3, 600.0)
    assert policy.after_crash(0.0) == 5.0
    assert policy.after_crash(300.0) == 5.0
    assert policy.after_crash(599.0) is None  # three within 10 minutes: exit for the supervisor
    spaced = RestartPolicy(5.0, 3)
    assert [spaced.after_crash(t) for t in (0.0, 400.0, 800.0, 1200.0)] == [5.0] * 4  # never 3 in 600 s
    assert spaced.recent == 2


def test_the_window_watchdog_says_stopped_after_the_pipeline_watchdog_plus_one_second():
    alarms = AlarmSettings()
    limit = stall_limit(alarms)
    assert limit == alarms.watchdog_after_s + 1.0
    watch = LoopWatch()
    assert not watch.overdue(1000.0, limit)  # nothing started: nothing to be late
    watch.pulse(10.0)
    assert not watch.overdue(10.0 + limit, limit) and watch.overdue(10.0 + limit + 0.01, limit)
    assert watch.silent_for(14.5) == pytest.approx(4.5)
    watch.forget()
    assert not watch.overdue(1000.0, limit)
