"""The live window's session control runs without a window (issue #21 item 2): a source that
cannot be opened ends it with the reason, the close is audited and finished by the control
alone, and the exit status says "bad input" (2) for the supervisor."""

from __future__ import annotations

import json

from monitor.errors import EXIT_BAD_INPUT
from monitor.store import queries
from monitor.store.database import open_database
from monitor.ui.live.control import SessionControl
from monitor.ui.live.lifecycle import State
from monitor.ui.live.options import WindowOptions


def test_a_missing_source_ends_and_the_close_is_audited_with_exit_2(qtbot, settings, tmp_path):
    control = SessionControl(settings, str(tmp_path / "missing.mp4"), realtime=False,
                             options=WindowOptions(user="RN Lee"))
    states = []
    control.changed.connect(lambda: states.append(control.state))
    control.start()
    qtbot.waitUntil(lambda: control.state is State.ENDED, timeout=120_000)
    assert "video file not found" in control.failure and control.started is None
    assert not control.monitoring and control.ended

    with qtbot.waitSignal(control.closed, timeout=15_000):
        control.close("closed by user", "window_closed", alarms=[])
    assert states == [State.ENDED, State.CLOSING, State.CLOSED]
    assert control.exit_code == EXIT_BAD_INPUT == 2
    (row,) = [a for a in queries.audit(open_database(settings.store.url)) if a.action == "window_closed"]
    assert (row.session_id, row.user, json.loads(row.detail_json)) == (None, "RN Lee", {"alarms": []})
