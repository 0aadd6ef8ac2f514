"""`painmon bench`: the real pipeline's speed on a recording, beside the naive way on the same input.

The baseline is what most projects do: MTCNN with its defaults on every full frame and one forward
pass per face. Both run in this process, one after the other, so their ratio is fair on a noisy
shared machine; absolute times from different runs are not.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from monitor.config import Settings, StoreSettings, load


def register(sub: argparse._SubParsersAction) -> None:
    bench = sub.add_parser("bench", help="measure the pipeline on a recording (and the naive baseline)")
    bench.add_argument("--source", required=True, help="a video file")
    bench.add_argument("--baseline", action="store_true", help="also run the naive baseline")
    bench.add_argument("--sources", type=_count, default=1, help="analyse N copies together (batched)")
    bench.add_argument("--realtime", action="store_true", help="pace the file like a 30 fps camera")
    bench.add_argument("--json", type=Path, help="write the figures as one JSON object here")
    bench.add_argument("--config", type=Path, help="TOML settings file")
    bench.set_defaults(handler=cmd_bench)


def _count(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 64:
        raise argparse.ArgumentTypeError(f"must be 1..64 (got {value})")
    return value


def cmd_bench(args: argparse.Namespace) -> int:
    settings = load(args.config)
    result = run_bench(settings, args.source, args.sources, args.realtime, args.baseline)
    print(format_table(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


def run_bench(settings: Settings, source: str, sources: int = 1, realtime: bool = False,
              baseline: bool = False) -> dict[str, Any]:
    from monitor.pipeline.assembly import Pipeline
    from monitor.scoring.scorer import Scorer

    scorer = Scorer(settings.scoring)
    seen: list[dict[int, bool]] = [{} for _ in range(sources)]
    with tempfile.TemporaryDirectory(prefix="painmon-bench-") as tmp:
        pipeline = Pipeline(settings, scorer)
        for k in range(sources):
            db = StoreSettings(url=f"sqlite:///{Path(tmp) / f'bed{k}.db'}")
            pipeline.add(source, settings.model_copy(update={"store": db}), realtime=realtime,
                         on_frame=lambda r, k=k: seen[k].__setitem__(r.packet.index,
                                                                     r.observation.faces_seen))
        cpu0, wall0 = time.process_time(), time.perf_counter()
        summaries = pipeline.run()
        wall = time.perf_counter() - wall0
        cpu = time.process_time() - cpu0
    frames = sum(s.frames for s in summaries)
    latencies = np.array([x for ch in pipeline.channels for x in ch.latencies]) * 1000
    totals = pipeline.loop.stages.total
    stages = {name: 1000 * totals.get(name, 0.0) / max(frames, 1)
              for name in ("decode", "detect", "score", "landmarks", "movement", "audio",
                           "signal+store")}
    result: dict[str, Any] = {
        "source": source, "sources": sources, "realtime": realtime,
        "device": scorer.device_description,
        "frames": frames,
        "frames_with_face": sum(seen[0].values()),
        "fps": frames / wall,
        "fps_per_source": frames / wall / sources,
        "latency_ms_p50": float(np.percentile(latencies, 50)) if latencies.size else None,
        "latency_ms_p95": float(np.percentile(latencies, 95)) if latencies.size else None,
        "dropped_frames": sum(ch.source.status().dropped for ch in pipeline.channels),
        "stages_ms": stages,
        "cpu_percent": 100.0 * cpu / wall,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    if baseline:
        base = run_baseline(source, scorer)
        ours = {i for i, face in seen[0].items() if face}
        result["baseline"] = {"fps": base["fps"], "frames_with_face": len(base["faces"])}
        result["speedup"] = result["fps_per_source"] / base["fps"]
        result["recall"] = len(ours & base["faces"]) / max(len(base["faces"]), 1)
    return result


def run_baseline(source: str, scorer) -> dict[str, Any]:
    """MTCNN defaults on every full frame; every face scored in its own forward pass."""
    import cv2
    import torch
    from facenet_pytorch import MTCNN

    mtcnn = MTCNN(keep_all=True, device=scorer.device)
    cap = cv2.VideoCapture(source)
    faces: set[int] = set()
    index = 0
    start = time.perf_counter()
    while True:
        ok, image = cap.read()
        if not ok:
            break
        with torch.inference_mode():
            boxes, _ = mtcnn.detect(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
        if boxes is not None:
            faces.add(index)
            for box in boxes:
                scorer.score([(image, tuple(float(v) for v in box))])
        index += 1
    cap.release()
    return {"fps": index / (time.perf_counter() - start), "faces": faces}


def format_table(r: dict[str, Any]) -> str:
    rows = [
        ("source", f"{r['source']} x{r['sources']}{' (real time)' if r['realtime'] else ''}"),
        ("device", r["device"]),
        ("frames", r["frames"]),
        ("frames with a face", r["frames_with_face"]),
        ("frames/s (all sources)", f"{r['fps']:.1f}"),
        ("frames/s per source", f"{r['fps_per_source']:.1f}"),
        ("latency p50 / p95 ms", f"{r['latency_ms_p50']:.1f} / {r['latency_ms_p95']:.1f}"),
        ("dropped frames", r["dropped_frames"]),
        ("ms per frame: " + ", ".join(r["stages_ms"]),
         " / ".join(f"{v:.1f}" for v in r["stages_ms"].values())),
        ("CPU % (100 = one core)", f"{r['cpu_percent']:.0f}"),
        ("peak RSS MB", f"{r['peak_rss_mb']:.0f}"),
    ]
    if "baseline" in r:
        rows += [
            ("baseline frames/s", f"{r['baseline']['fps']:.1f}"),
            ("baseline frames with a face", r["baseline"]["frames_with_face"]),
            ("speedup", f"{r['speedup']:.2f}x"),
            ("recall of baseline's face frames", f"{r['recall']:.3f}"),
        ]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)
