"""All settings in one typed place: defaults < TOML file < environment < command-line flags.

Every number has a hard safe range (ALARMS.md "Safe settings"); unknown keys are refused so a
typo in a config file never silently leaves a default in force.
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from urllib.parse import urlsplit
from typing import Any, Literal, Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from monitor.errors import MonitorError
from monitor.paths import (DEFAULT_CRY_DETECTOR_DIR, DEFAULT_CRY_MODEL_DIR,
                           DEFAULT_FACE_MESH_DIR, DEFAULT_MODEL_DIR, settings_file)
from monitor.text import text_problem

SCHEMA_VERSION = 1
ENV_PREFIX = "PAINMON_"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    @model_validator(mode="before")
    @classmethod
    def _no_booleans_for_numbers(cls, data: Any) -> Any:
        """pydantic reads `false` into a float field as 0.0: a silently wrong setting."""
        if isinstance(data, dict):
            for name, value in data.items():
                field = cls.model_fields.get(name)
                items = value if isinstance(value, (list, tuple)) else [value]
                if field is not None and field.annotation is not bool and any(
                        isinstance(item, bool) for item in items):
                    raise ValueError(f"{name}: expected a {_kind(field.annotation)}, got {value!r}")
        return data


    @model_validator(mode="after")
    def _plain_text(self) -> Any:
        """Every text setting (a bed label, a choice list, a URL) is free of control and
        text-direction characters (monitor.text)."""
        for name in type(self).model_fields:
            value = getattr(self, name)
            for item in value if isinstance(value, tuple) else (value,):
                problem = text_problem(item) if isinstance(item, str) else None
                if problem is not None:
                    raise ValueError(f"{name} must not contain {problem}")
        return self


def _kind(annotation: Any) -> str:
    return getattr(annotation, "__name__", str(annotation))


class CaptureSettings(_Section):
    """Live sources: how long a silent or frozen camera is tolerated and how reconnects back off."""

    open_timeout_s: float = Field(10.0, ge=1.0, le=60.0, description="give up opening a source")
    reconnect_min_s: float = Field(0.5, ge=0.1, le=10.0, description="first reconnect delay")
    reconnect_max_s: float = Field(10.0, ge=1.0, le=120.0, description="longest reconnect delay")

    @model_validator(mode="after")
    def _check(self) -> "CaptureSettings":
        if self.reconnect_min_s > self.reconnect_max_s:
            raise ValueError("reconnect_min_s must not exceed reconnect_max_s")
        return self


class AudioSettings(_Section):
    """The cot microphone and the cry cue (monitor/signal/cry.py). Thresholds act on the cue C,
    the loudness-gated, smoothed max of YAMNet's "Baby cry, infant cry" and "Crying, sobbing"
    (rule `yamnet_ema`), or the share of cry-like windows over the last `span_s` (rule
    `detector_span`, issue 22; ALARMS.md "The cry cue")."""

    input: str = Field("default", min_length=1, max_length=200,
                       description="microphone: default, a device name or index, or none")
    block_s: float = Field(0.1, ge=0.02, le=0.5, description="microphone block length")
    buffer_s: float = Field(10.0, ge=1.0, le=120.0,
                            description="sound held for a slow reader before blocks are dropped")
    lost_after_s: float = Field(
        2.0, ge=1.0, le=30.0,
        description="no sound (blocks or scored windows) this long: microphone lost, cue unknown")
    tau_s: float = Field(1.5, ge=0.25, le=30.0, description="smoothing time constant of C")
    cry_on: float = Field(0.2, ge=0.02, le=0.95, description="C from which crying may start")
    cry_off: float = Field(0.1, ge=0.01, le=0.9, description="C below which crying ends")
    cry_min_s: float = Field(2.0, ge=0.0, le=30.0,
                             description="C must stay >= cry_on this long before it counts as crying")
    whimper_on: float = Field(
        0.05, ge=0.01, le=0.9,
        description="smoothed cry or whimper score from which a sound counts as whimpering")
    min_cry_dbfs: float = Field(
        -45.0, ge=-90.0, le=-10.0,
        description="loudness gate: quieter windows (RMS, dBFS) never count as crying or "
                    "whimpering; set it between this cot's cries and the next cot's")
    cry_rule: Literal["yamnet_ema", "detector_span"] = Field(
        "detector_span",
        description="yamnet_ema: C = EMA of YAMNet's cry score (sessions stored before issue 22 "
                    "replay with it); detector_span: C = share of cry-like windows over span_s")
    detector_on: float = Field(0.5, ge=0.05, le=0.95,
                               description="detector_span: a window scoring this is cry-like")
    span_s: float = Field(5.0, ge=1.0, le=20.0,
                          description="detector_span: the trailing span C is the share of")
    span_on: float = Field(0.4, ge=0.1, le=1.0,
                           description="detector_span: crying from this share of cry-like time")
    span_off: float = Field(0.15, ge=0.0, le=0.9,
                            description="detector_span: crying ends below this share")
    whose_cry: bool = Field(
        True, description="a cry heard while this infant's face is in view and calm for span_s is "
                          "another infant's ('cry nearby'): no CRYING, no corroboration")

    @property
    def crying_from(self) -> float:
        """The value of C from which the rule calls crying (the cue bar's mark)."""
        return self.span_on if self.cry_rule == "detector_span" else self.cry_on

    @model_validator(mode="after")
    def _check(self) -> "AudioSettings":
        if not self.span_off < self.span_on:
            raise ValueError("span_off must be below span_on")
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in self.input):
            raise ValueError("input must not contain control characters")
        if not self.input.strip():
            raise ValueError("input must not be blank (use default, a device name or index, or none)")
        if not self.whimper_on < self.cry_on:
            raise ValueError("whimper_on must be below cry_on")
        if not self.cry_off < self.cry_on:
            raise ValueError("cry_off must be below cry_on")
        return self


MIN_COT_FRACTION = 0.1  # a cot region narrower than this share of the frame holds no usable face


class VisionSettings(_Section):
    """Face detection, subject tracking and the quality gate."""

    cot_region: tuple[float, float, float, float] = Field(
        (0.0, 0.0, 1.0, 1.0),
        description="x0, y0, x1, y1 as fractions of the frame; the infant's face must be inside",
    )
    min_face_size: int = Field(20, ge=12, le=400, description="MTCNN smallest face, pixels")
    detect_thresholds: tuple[float, float, float] = Field((0.6, 0.7, 0.7))
    min_detection_prob: float = Field(0.9, ge=0.5, le=1.0)
    track_min_iou: float = Field(0.2, ge=0.0, le=1.0, description="overlap that continues a track")
    track_lost_after_s: float = Field(
        0.25, ge=0.1, le=30.0,
        description="forget a track unseen this long: guards against a face appearing beside the "
                    "subject, and re-acquires an occluded subject quickly")
    reacquire_within_s: float = Field(
        1.0, ge=0.1, le=60.0,
        description="after the subject is lost, only a face near its last place is taken for this "
                    "long (seconds unseen): another face elsewhere does not take over while the "
                    "infant is briefly hidden; after it, the largest face is taken and recorded as "
                    "a subject change (equal to track_lost_after_s: the largest face at once)")
    roi_margin: float = Field(0.6, ge=0.2, le=2.0,
                              description="tracking: search this many face sides around the last box")
    roi_face_px: int = Field(64, ge=24, le=200,
                             description="tracking: the face is scaled down to this size to detect")
    redetect_every_s: float = Field(0.125, ge=0.04, le=0.2,
                                    description="full-frame search cadence while no face is tracked")
    min_face_px: int = Field(24, ge=12, le=400, description="quality gate: shorter box side")
    min_sharpness: float = Field(15.0, ge=0.0, le=1000.0, description="variance of the Laplacian")
    min_brightness: float = Field(25.0, ge=0.0, le=255.0, description="mean grey level of the face")
    max_brightness: float = Field(235.0, ge=0.0, le=255.0)
    max_nose_offset: float = Field(
        1.2, ge=0.1, le=3.0, description="nose off the eye midpoint, in eye distances: beyond is profile")

    @model_validator(mode="after")
    def _check(self) -> "VisionSettings":
        x0, y0, x1, y1 = self.cot_region
        if not (0.0 <= x0 < x1 <= 1.0 and 0.0 <= y0 < y1 <= 1.0):
            raise ValueError("cot_region must be x0 < x1 and y0 < y1, all within 0..1")
        if min(x1 - x0, y1 - y0) < MIN_COT_FRACTION - 1e-9:  # the frame size is known only at start
            raise ValueError(f"cot_region must span at least {MIN_COT_FRACTION:.0%} of the frame's "
                             "width and height: a smaller one cannot hold an infant's face")
        if self.min_brightness >= self.max_brightness:
            raise ValueError("min_brightness must be below max_brightness")
        if self.reacquire_within_s < self.track_lost_after_s:
            raise ValueError("reacquire_within_s must be at least track_lost_after_s")
        return self


class MovementSettings(_Section):
    """The movement cue (monitor/vision/movement.py, monitor/signal/movement.py). Speeds are in
    cot-region widths per second, so they hold at any resolution and frame rate; m and M are the
    cot region's mean of the residual speeds above the noise floor, in the same unit."""

    noise_floor: float = Field(
        0.05, ge=0.005, le=0.5,
        description="residual speed below this is not movement: sensor noise, and breathing (a chest "
                    "wall at 1-2 cm/s is 0.02-0.03 of a 60 cm cot region per second)")
    max_camera_speed: float = Field(
        0.15, ge=0.02, le=2.0,
        description="faster camera motion (drift, zoom, roll at the region's corners): m unknown")
    min_camera_fit: float = Field(
        0.5, ge=0.2, le=0.95,
        description="share of the textured flow vectors one camera motion must explain, else the "
                    "picture is changing as a whole: m unknown")
    max_brightness_step: float = Field(
        0.15, ge=0.02, le=1.0,
        description="brightness jump between compared frames (|ln ratio| of mean grey): m unknown")
    window_s: float = Field(4.0, ge=1.0, le=30.0, description="trailing window of M")
    sustained_share: float = Field(
        0.5, ge=0.2, le=0.9,
        description="M is the level m reached during at least this share of the window's known "
                    "time: a brief twitch does not raise it")
    moving_from: float = Field(0.0002, ge=0.0001, le=0.05,
                               description="M from this: moving (e.g. 0.2 % of the region at 0.1)")
    vigorous_from: float = Field(0.006, ge=0.0005, le=0.5,
                                 description="M from this: vigorous (e.g. 3 % of the region at 0.2)")
    every_s: float = Field(
        0.1, ge=0.0, le=0.5,
        description="measure m at most this often (0: every frame): M is a level over seconds, "
                    "and the meter compares frames about 0.1 s apart anyway")

    @model_validator(mode="after")
    def _check(self) -> "MovementSettings":
        if not self.moving_from < self.vigorous_from:
            raise ValueError("moving_from must be below vigorous_from")
        return self


class FaceSettings(_Section):
    """The face mesh and the face-state cue (monitor/scoring/face_actions.py,
    monitor/signal/face_state.py; ALARMS.md "Face state"). Geometry is in inter-ocular
    distances (IOD), so it holds at any face size."""

    landmarks: bool = Field(True, description="run the face mesh on scored faces")
    mesh_dir: Path = Field(DEFAULT_FACE_MESH_DIR, description="face mesh folder (card, weights)")
    every_s: float = Field(
        0.5, ge=0.0, le=1.0,
        description="fit the mesh at most this often per face (0: every frame): the states are "
                    "smoothed over tau_s and a reading stands hold_s, so two a second suffice")
    min_p: float = Field(
        0.3, ge=0.0, le=1.0,
        description="fit only faces whose expression score reaches this: below it no face run "
                    "can start, and the mesh costs more than the face CNN")
    tau_s: float = Field(1.0, ge=0.1, le=10.0, description="smoothing of the geometry")
    hold_s: float = Field(1.0, ge=0.2, le=5.0,
                          description="a reading stands this long; then the face state is unknown")
    mouth_open_from: float = Field(0.10, ge=0.02, le=0.5,
                                   description="inner-lip gap (IOD) from which the mouth is open")
    eyes_closed_below: float = Field(0.05, ge=0.01, le=0.2,
                                     description="lid gap (IOD) below which the eyes are closed")
    eyes_narrow_below: float = Field(
        0.10, ge=0.02, le=0.3,
        description="lid gap (IOD) below which eyes with the brow lowered are squeezed")
    brow_lowered_below: float = Field(
        0.38, ge=0.1, le=0.8, description="inner brow to eye centre (IOD) below this: brow lowered")
    covered_from: float = Field(
        0.5, ge=0.05, le=0.9,
        description="share of the lip region unlike skin and lips from which the mouth is covered "
                    "(shared photos: 0.27 at most for lips under a white moustache, 0.74 at least "
                    "under a drawn pacifier or taped tube)")
    min_face_score: float = Field(0.5, ge=0.0, le=1.0, description="mesh face score: fit trusted")
    max_eye_offset: float = Field(0.35, ge=0.05, le=1.0,
                                  description="mesh eyes vs MTCNN's (IOD): further is a poor fit")
    max_scale_change: float = Field(1.4, ge=1.05, le=3.0,
                                    description="mesh eye distance vs MTCNN's, either way")
    max_eye_asymmetry: float = Field(2.0, ge=1.1, le=5.0,
                                     description="wider eye over narrower: more is a turned face")
    relaxed_after_s: float = Field(
        5.0, ge=1.0, le=60.0,
        description="eyes closed, mouth closed, brow not lowered this long: 'eyes closed, "
                    "relaxed', and a face-only PAIN is not raised while it lasts")
    draw_outlines: bool = Field(False, description="live video: draw the eye and mouth outlines")

    @model_validator(mode="after")
    def _check(self) -> "FaceSettings":
        if not self.eyes_closed_below < self.eyes_narrow_below:
            raise ValueError("eyes_closed_below must be below eyes_narrow_below")
        return self


class ScoringSettings(_Section):
    model_dir: Path = Field(DEFAULT_MODEL_DIR, description="folder with model card and weights")
    cry_model_dir: Path = Field(DEFAULT_CRY_MODEL_DIR, description="cry model folder (card, weights)")
    cry_detector_dir: Path | None = Field(
        DEFAULT_CRY_DETECTOR_DIR,
        description="cry detector head trained for the cot (issue 22) on cry_model_dir's embedding; "
                    "unset: windows carry no detector score (audio.cry_rule 'detector_span' then "
                    "reads YAMNet's cry score)")
    device: Literal["auto", "cpu", "cuda", "mps"] = "auto"
    batch_size: int = Field(16, ge=1, le=256)


class AlarmSettings(_Section):
    """ALARMS.md, one field per named setting; times in seconds."""

    tau_s: float = Field(3.0, ge=0.5, le=30.0, description="smoothing time constant of S")
    stale_after_s: float = Field(5.0, ge=1.0, le=60.0, description="S becomes unknown")
    window_s: float = Field(30.0, ge=5.0, le=300.0, description="face time share window W")
    p_face: float = Field(0.5, ge=0.1, le=0.9, description="p counted as a pain face in F")
    band_watch: float = Field(0.3, ge=0.05, le=0.9, description="gauge: calm below this")
    band_pain: float = Field(0.6, ge=0.1, le=0.95, description="gauge: pain from this")
    band_labels: tuple[str, str, str] = ("calm", "watch", "pain")
    t_on: float = Field(0.6, ge=0.4, le=0.9)
    t_off: float = Field(0.4, ge=0.1, le=0.85)
    t_high: float = Field(0.85, ge=0.5, le=0.99)
    d_on_s: float = Field(10.0, ge=3.0, le=60.0)
    d_off_s: float = Field(15.0, ge=3.0, le=120.0)
    d_high_s: float = Field(30.0, ge=5.0, le=300.0)
    dip_tolerance_s: float = Field(5.0, ge=0.0, le=30.0)
    merge_within_s: float = Field(30.0, ge=0.0, le=300.0)
    escalate_after_s: float = Field(120.0, ge=30.0, le=600.0)
    ack_silence_s: float = Field(120.0, ge=10.0, le=300.0)
    reminder_every_s: float = Field(120.0, ge=30.0, le=600.0)
    audio_pause_max_s: float = Field(120.0, ge=10.0, le=300.0)
    resume_within_s: float = Field(60.0, ge=5.0, le=600.0)
    camera_lost_after_s: float = Field(2.0, ge=0.5, le=30.0)
    frozen_after_s: float = Field(2.5, ge=1.0, le=60.0, description="identical images: camera lost")
    stalled_after_s: float = Field(2.0, ge=0.5, le=30.0, description="a live frame this old: stalled")
    watchdog_after_s: float = Field(
        3.0, ge=1.0, le=10.0,
        description="the analysis loop not moving this long: PIPELINE_STALLED, 'monitoring stopped'")
    no_face_after_s: float = Field(10.0, ge=2.0, le=120.0)
    poor_signal_after_s: float = Field(10.0, ge=2.0, le=120.0)
    blind_escalate_s: float = Field(300.0, ge=30.0, le=3600.0)
    storage_failing_after_s: float = Field(5.0, ge=1.0, le=60.0)
    procedure_default_min: float = Field(10.0, ge=1.0, le=30.0)
    procedure_max_min: float = Field(30.0, ge=1.0, le=30.0)
    standby_max_min: float = Field(60.0, ge=5.0, le=240.0)
    tick_interval_s: float = Field(0.25, ge=0.05, le=0.25, description="live watchdog tick")
    face_only_priority: Literal["none", "low", "medium"] = Field(
        "low",
        description="a sustained pain face that neither crying nor movement corroborates: its "
                    "alarm's priority (none: recorded, no alarm). Choose medium for infants who "
                    "cannot cry aloud or move (intubated, sedated)")
    crying_after_s: float = Field(10.0, ge=3.0, le=60.0,
                                  description="crying this long (dips allowed) raises CRYING when "
                                              "the face does not show pain")
    crying_clear_s: float = Field(15.0, ge=3.0, le=120.0,
                                  description="CRYING clears after this long without crying")

    @model_validator(mode="after")
    def _check(self) -> "AlarmSettings":
        if not self.t_off < self.t_on < self.t_high:
            raise ValueError(
                f"thresholds must satisfy t_off < t_on < t_high "
                f"(got {self.t_off} / {self.t_on} / {self.t_high})"
            )
        if not self.band_watch < self.band_pain:
            raise ValueError("band_watch must be below band_pain")
        if self.procedure_default_min > self.procedure_max_min:
            raise ValueError("procedure_default_min must not exceed procedure_max_min")
        return self


class StoreSettings(_Section):
    url: str | None = Field(None, description="SQLAlchemy URL; default SQLite in the user data dir")
    queue_size: int = Field(10000, ge=100, le=1_000_000)
    flush_interval_s: float = Field(1.0, ge=0.1, le=2.0, description="longest delay before a write")
    trace_span_s: float = Field(10.0, ge=1.0, le=60.0, description="seconds per frame_trace row")

    @model_validator(mode="after")
    def _no_password(self) -> "StoreSettings":
        if self.url and urlsplit(self.url).password:
            raise ValueError("store.url must not carry a password: set PGPASSWORD, a PGPASSFILE or "
                             "the keyring instead (a settings file is plain text)")
        return self


DEFAULT_INTERVENTIONS = ("non-nutritive sucking", "sucrose", "swaddling", "skin-to-skin",
                         "repositioning", "analgesic", "other")


class ReviewSettings(_Section):
    """Clinician review, export and forwarding to the ward's central store."""

    interventions: tuple[str, ...] = Field(
        DEFAULT_INTERVENTIONS, min_length=1, max_length=30,
        description="choices for an annotation's intervention, in the order shown")
    timezone: str | None = Field(
        None, description="IANA zone for times on screen and in exports (default: this computer's)")
    not_running_after_s: float = Field(
        3.0, ge=1.5, le=600.0,
        description="seconds without a stored sample inside a session shown as 'monitor not running'")
    forward_batch_rows: int = Field(2000, ge=10, le=100_000,
                                    description="rows per forwarding transaction")
    keyring_service: str = Field("painmon", min_length=1,
                                 description="keyring service holding the central store's password")

    @model_validator(mode="after")
    def _check(self) -> "ReviewSettings":
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        if any(not item.strip() for item in self.interventions):
            raise ValueError("interventions must not be empty strings")
        if self.timezone is not None:
            try:
                ZoneInfo(self.timezone)
            except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a path
                raise ValueError(f"unknown time zone {self.timezone!r} (e.g. Europe/London)") from None
        return self


class TrainingSettings(_Section):
    """`painmon train` defaults; its flags override them and the values used go into the card."""

    pain_classes: tuple[str, ...] = Field(
        ("pain", "pain_post_sucrose"), min_length=1,
        description="labels (COPE stimuli, folder or CSV labels) that count as pain")
    exclude_classes: tuple[str, ...] = Field(
        (), description="labels left out altogether (e.g. the non-pain stressors air, friction)")
    protocol: Literal["subjects", "random"] = Field(
        "subjects", description="headline protocol; the other is reported beside it when possible")
    folds: int = Field(5, ge=2, le=20, description="outer folds of both protocols")
    arch: Literal["mini_xception", "resnet18", "mobilenet_v3_small"] = "mini_xception"
    init: str = Field("expression", min_length=1,
                      description="expression (mini_xception only), scratch, or a state_dict file")
    epochs: int = Field(40, ge=1, le=1000, description="most epochs per fit")
    patience: int = Field(8, ge=1, le=200, description="early stopping: epochs without a better "
                                                      "validation loss")
    batch_size: int = Field(32, ge=2, le=1024)
    learning_rate: float = Field(1e-3, gt=0.0, le=1.0)
    weight_decay: float = Field(1e-4, ge=0.0, le=1.0)
    val_fraction: float = Field(0.2, ge=0.05, le=0.5,
                                description="inner validation share: early stopping, temperature")
    seed: int = Field(0, ge=0)
    keep_poor_quality: bool = Field(
        False, description="also train on faces the bedside quality gate would not score")
    ece_bins: int = Field(10, ge=2, le=50, description="equal-width bins of expected calibration error")
    cache_dir: Path | None = Field(None, description="face-box cache; default: the user cache folder")


class TuningSettings(_Section):
    """Defaults of `painmon evaluate-*` (docs/TUNING.md): how truth is matched, what is swept."""

    match_after_s: float = Field(15.0, ge=0.0, le=120.0,
                                 description="an alarm this long after a truth interval still hits it")
    t_on_grid: tuple[float, ...] = Field((0.5, 0.6, 0.7, 0.8), min_length=1)
    d_on_grid_s: tuple[float, ...] = Field((5.0, 10.0, 20.0, 30.0), min_length=1)
    tau_grid_s: tuple[float, ...] = Field((3.0,), min_length=1)
    count_from: Literal["low", "medium"] = Field(
        "low", description="the lowest PAIN priority that counts as an alarm: low counts face-only "
                           "alarms too; medium only those a corroborating cue carried")


class Settings(_Section):
    schema_version: int = SCHEMA_VERSION
    bed_label: str = Field("bed-1", min_length=1, max_length=64)
    capture: CaptureSettings = CaptureSettings()
    audio: AudioSettings = AudioSettings()
    vision: VisionSettings = VisionSettings()
    movement: MovementSettings = MovementSettings()
    face: FaceSettings = FaceSettings()
    scoring: ScoringSettings = ScoringSettings()
    alarms: AlarmSettings = AlarmSettings()
    store: StoreSettings = StoreSettings()
    review: ReviewSettings = ReviewSettings()
    training: TrainingSettings = TrainingSettings()
    tuning: TuningSettings = TuningSettings()

    @model_validator(mode="after")
    def _check_version(self) -> "Settings":
        if self.schema_version != SCHEMA_VERSION:
            raise ValueError(f"schema_version {self.schema_version} is not supported "
                             f"(this program reads version {SCHEMA_VERSION})")
        return self

    def bedside(self) -> dict[str, Any]:
        """What a bedside session runs with and stores beside its rows (not the tools' sections)."""
        return self.model_dump(mode="json", exclude={"training", "tuning", "review"})

    def non_defaults(self) -> dict[str, Any]:
        """Settings that differ from the defaults, as dotted keys (marked on screen, audited)."""
        return _diff(self.model_dump(mode="json"), Settings().model_dump(mode="json"))


# Settings that older versions stored with each session (settings_json) and this one dropped.
RETIRED = (("store", "store_media"),)
# Settings added later whose default changed what an older session would do: a stored session
# without them gets the value it ran with, so it replays to the same episodes.
BEFORE_ADDED = (("audio", "cry_rule", "yamnet_ema"), ("audio", "whose_cry", False))


def from_stored(text: str) -> Settings:
    """A session's stored settings, written by this version or an older one (for replays)."""
    try:
        tree = json.loads(text)
        for section, key in RETIRED:
            tree.get(section, {}).pop(key, None)
        for section, key, value in BEFORE_ADDED:
            tree.setdefault(section, {}).setdefault(key, value)
        return Settings.model_validate(tree)
    except (ValueError, AttributeError) as exc:  # ValidationError is a ValueError
        detail = describe(exc) if isinstance(exc, ValidationError) else str(exc)
        raise MonitorError(f"stored settings are not readable: {detail}") from None


def _diff(current: dict, default: dict, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in current.items():
        if isinstance(value, dict):
            out.update(_diff(value, default[key], f"{prefix}{key}."))
        elif value != default.get(key):
            out[f"{prefix}{key}"] = value
    return out


def _merge(base: dict, override: Mapping) -> dict:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _set_dotted(tree: dict, dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    for part in parents:
        tree = tree.setdefault(part, {})
    tree[leaf] = value


def env_overrides(environ: Mapping[str, str] | None = None) -> dict:
    """PAINMON_ALARMS__T_ON=0.7 -> {"alarms": {"t_on": "0.7"}}; pydantic converts the text."""
    environ = os.environ if environ is None else environ
    tree: dict = {}
    for name, value in environ.items():
        if name.startswith(ENV_PREFIX) and name not in ("PAINMON_CONFIG", "PAINMON_HOME"):
            _set_dotted(tree, name[len(ENV_PREFIX):].lower().replace("__", "."), _parse_env(value))
    return tree


def _parse_env(value: str) -> Any:
    if value.startswith(("[", "(")):
        return [item.strip() for item in value.strip("[]()").split(",") if item.strip()]
    return value


def read_toml(path: Path) -> dict:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise MonitorError(f"config file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise MonitorError(f"config file {path} is not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MonitorError(f"cannot read config file {path}: {exc}") from None


def build(layers: list[tuple[str, Mapping]]) -> Settings:
    """Validate the merged layers; a failure names the key, the layer it came from and the rule."""
    merged: dict = {}
    for _, layer in layers:
        merged = _merge(merged, layer)
    try:
        return Settings.model_validate(merged)
    except ValidationError as exc:
        origin = ", ".join(name for name, layer in layers if layer) or "defaults"
        raise MonitorError(f"invalid settings (from {origin}): {describe(exc)}") from None


MAX_PROBLEMS = 5  # a file of a million typos must still give a message one can read
MAX_GOT_CHARS = 60
MAX_MESSAGE_CHARS = 200  # a rule's own message may quote the value (e.g. an unknown time zone)


def describe(exc: ValidationError) -> str:
    """The first few problems, each with a shortened copy of the value given, and a count of the rest."""
    errors = exc.errors()
    parts = []
    for err in errors[:MAX_PROBLEMS]:
        where = ".".join(str(p) for p in err["loc"]) or "settings"
        message = _shorten(err["msg"].removeprefix("Value error, "), MAX_MESSAGE_CHARS)
        if err["type"] == "extra_forbidden":
            message = "unknown setting (check the spelling)"
        if "input" in err and not isinstance(err["input"], dict):
            message += f" (got {_shorten(repr(err['input']), MAX_GOT_CHARS)})"
        parts.append(f"{where}: {message}")
    if len(errors) > MAX_PROBLEMS:
        parts.append(f"and {len(errors) - MAX_PROBLEMS} more problem(s)")
    return "; ".join(parts)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def settings_source(environ: Mapping[str, str] | None = None) -> Path | None:
    """The TOML file read when no --config is given, or None for defaults and environment only."""
    environ = os.environ if environ is None else environ
    if environ.get("PAINMON_CONFIG"):
        return Path(environ["PAINMON_CONFIG"])
    user_file = settings_file()
    return user_file if user_file.is_file() else None


def load(
    config_file: Path | None = None,
    flags: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Effective settings: defaults, then the TOML file, then PAINMON_* variables, then flags.

    The file is --config, else $PAINMON_CONFIG, else the user's settings file if there is one."""
    environ = os.environ if environ is None else environ
    if config_file is None:
        config_file = settings_source(environ)
    file_layer = read_toml(config_file) if config_file else {}
    flag_layer: dict = {}
    for dotted, value in (flags or {}).items():
        if value is not None:
            _set_dotted(flag_layer, dotted, value)
    return build([
        (f"file {config_file}", file_layer),
        ("environment", env_overrides(environ)),
        ("command line", flag_layer),
    ])
