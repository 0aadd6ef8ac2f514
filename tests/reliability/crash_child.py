"""Child process for the SIGKILL test: monitors a clip in real time and prints each frame's session
time and each pain transition, flushed, so the parent knows what was processed when it kills."""

from __future__ import annotations

import sys

from monitor.config import AlarmSettings, Settings, StoreSettings
from monitor.pipeline.runner import OneSourcePipeline


def main(clip: str, db: str) -> None:
    settings = Settings(store=StoreSettings(url=f"sqlite:///{db}"), alarms=AlarmSettings(d_on_s=3.0))

    def drained(events, _episodes) -> None:
        for event in events:
            if event.kind == "PAIN":
                print("pain", event.transition, flush=True)

    monitor = OneSourcePipeline(settings, clip, realtime=True, on_drain=drained,
                                on_frame=lambda r: print("frame", r.packet.t, flush=True))
    print("session", monitor.session_id, flush=True)
    monitor.run()


if __name__ == "__main__":
    main(*sys.argv[1:])
