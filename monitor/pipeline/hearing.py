"""The cry stage: sound blocks on the session clock in, scored 0.975 s windows every 0.48 s out.

Blocks from a file's sound track or the microphone are contiguous; a gap (a microphone that came
back) starts the windows afresh at the new block's time, so no window spans the silence of a
loss. Windows are scored in one batched pass per call, so analysing a recording at full speed
costs a few milliseconds per second of sound. A fault of the cry model loses the windows it was
scoring (never retried: a broken device must not hoard sound) and is raised as a RuntimeFault,
which the channel turns into MODEL_ERROR.
"""

from __future__ import annotations

import numpy as np

from monitor.errors import MODEL_FAULTS, RuntimeFault
from monitor.packets import AudioBlock
from monitor.scoring.cry import CryScorer
from monitor.signal.cry import CryWindow, loudness_dbfs

GAP_TOLERANCE_S = 0.02  # blocks further apart than this are not contiguous


class Hearing:
    def __init__(self, scorer: CryScorer) -> None:
        spec = scorer.card.input
        self._scorer = scorer
        self._rate = spec.sample_rate_hz
        self._size = spec.window_samples
        self._hop = round(spec.hop_s * spec.sample_rate_hz)
        self._buffer = np.zeros(0, dtype=np.float32)
        self._t0: float | None = None  # session time of the buffer's first sample

    def hear(self, block: AudioBlock) -> list[CryWindow]:
        """Take one block; the windows it completed, scored (usually none or one)."""
        if block.rate != self._rate:
            raise ValueError(f"sound at {block.rate} Hz: the cry stage takes {self._rate} Hz")
        end = None if self._t0 is None else self._t0 + self._buffer.size / self._rate
        if end is None or abs(block.t - end) > GAP_TOLERANCE_S:
            self._buffer, self._t0 = np.zeros(0, dtype=np.float32), block.t
        self._buffer = np.concatenate([self._buffer, block.samples.astype(np.float32, copy=False)])
        if self._buffer.size < self._size:
            return []
        starts, windows = self._scorer.windows(self._buffer)  # every whole window, hop apart
        try:
            scores, detected = self._scorer.score_cry(windows)
        except MODEL_FAULTS as exc:
            self._buffer, self._t0 = np.zeros(0, dtype=np.float32), None
            raise RuntimeFault(f"cry model failed: {exc}") from exc
        t0, length = self._t0, self._size / self._rate
        found = [CryWindow(t0 + start + length, float(c20), float(c19), float(c21),
                           loudness_dbfs(window), None if detected is None else float(detected[i]))
                 for i, (start, window, (c20, c19, c21)) in enumerate(zip(starts, windows, scores))]
        used = len(starts) * self._hop
        self._buffer = self._buffer[used:]
        self._t0 = t0 + used / self._rate
        return found
