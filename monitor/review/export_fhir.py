"""FHIR R4 export: a `collection` Bundle with one Device per model and one Observation per episode
(plus one per nurse's NIPS score, and one per event that changes how the record reads, e.g. the
tracked face changed), checked with fhir.resources before it is written. An episode's cues (face,
cry, movement) are components of its Observation, each on its own: not a pain score.

The infant is named only by the pseudonymous encounter id the monitor was given, as a Reference
identifier: no name, birth date or other identifying data leaves the store. fhir.resources ships
FHIR 4.3 (R4B), which leaves R4's Bundle, Observation and Device unchanged.

Resource ids are name-based UUIDs of the session uid and episode number, so the same record gives
the same bundle from a bedside file or from the central store, and a re-export replaces rather
than duplicates in a receiving system.
"""

from __future__ import annotations

import json
import uuid
from datetime import tzinfo
from pathlib import Path
from typing import Any

from monitor import __version__
from monitor.review.collect import (
    Progress,
    SessionData,
    cue_words,
    event_name,
    iso,
    no_progress,
)
from monitor.store.files import open_private
from monitor.store.queries import Record

NAMESPACE = uuid.UUID("5b0c1c77-6a43-4e4a-9d8f-7f2a0c3f9e11")  # painmon's own, fixed forever
CODES = "urn:painmon:codes"
ENCOUNTER_SYSTEM = "urn:painmon:encounter"
SESSION_SYSTEM = "urn:painmon:session"
UCUM = "http://unitsofmeasure.org"
NOT_A_DEVICE = ("Estimate of facial pain expression by painmon (not a certified medical device); "
                "supports, never replaces, clinical pain assessment.")


def _urn(*parts: object) -> str:
    return f"urn:uuid:{uuid.uuid5(NAMESPACE, '/'.join(str(p) for p in parts))}"


def _code(code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": CODES, "code": code, "display": display}], "text": display}


def _infant(session: Record) -> dict[str, Any]:
    """The patient, by pseudonymous encounter id only."""
    return {"type": "Patient", "identifier": {"system": ENCOUNTER_SYSTEM,
                                              "value": session.encounter_id or session.uid},
            "display": f"infant of encounter {session.encounter_id or session.uid}"}


def _device(session: Record) -> dict[str, Any]:
    return {
        "resourceType": "Device",
        "identifier": [{"system": f"{CODES}:model-sha256", "value": session.model_sha256 or ""}],
        "deviceName": [{"name": session.model_name or "unknown model", "type": "model-name"}],
        "version": [{"value": session.app_version}],
        "note": [{"text": NOT_A_DEVICE}],
    }


def _component(code: str, display: str, **value: Any) -> dict[str, Any]:
    return {"code": _code(code, display), **value}


def _quantity(value: float, unit: str = "1", code: str = "1") -> dict[str, Any]:
    return {"valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": code}}


def _episode(d: SessionData, e: Record, zone: tzinfo, device_url: str) -> dict[str, Any]:
    session = d.session
    period = {"start": iso(d.wall(e.start_at), zone)}
    if e.end_at is not None:
        period["end"] = iso(d.wall(e.end_at), zone)
    components = []
    if e.end_at is not None:
        components.append(_component("duration", "Episode duration",
                                     **_quantity(round(e.end_at - e.start_at, 3), "s", "s")))
    for name, display, value in (("peak-s", "Peak smoothed pain expression S (0-1)", e.peak_s),
                                 ("mean-s", "Mean smoothed pain expression S (0-1)", e.mean_s),
                                 ("max-share", "Largest pain-face time share F (0-1)", e.max_share)):
        if value is not None:
            components.append(_component(name, display, **_quantity(value)))
    if e.max_band is not None:
        components.append(_component("max-band", "Highest band reached (0 calm, 1 watch, 2 pain)",
                                     valueInteger=e.max_band))
    if e.max_priority:
        components.append(_component("priority", "Alarm priority reached",
                                     valueString=e.max_priority))
    if e.cues:
        components.append(_component("cues", "Cues that carried the alarm (face, cry, movement)",
                                     valueString=cue_words(e.cues)))
    peak_c = d.peak_c(e)
    if peak_c is not None:
        components.append(_component("peak-c", "Peak cry cue C (0-1)", **_quantity(peak_c)))
    components.append(_component("sound", "Sound heard for the cry cue", valueString=d.heard))
    if e.alarm_at is not None:
        components.append(_component("alarm-at", "Alarm raised",
                                     valueDateTime=iso(d.wall(e.alarm_at), zone)))
    if e.ack_at is not None:
        components.append(_component("acknowledged-at", "Acknowledged",
                                     valueDateTime=iso(d.wall(e.ack_at), zone)))
    if e.ack_by:
        components.append(_component("acknowledged-by", "Acknowledged by", valueString=e.ack_by))
    if e.end_reason:
        components.append(_component("end-reason", "Episode ended because",
                                     valueString=e.end_reason))
    notes = [{"authorString": a.author, "time": iso(d.wall(a.t), zone), "text": _note_text(a)}
             for a in d.annotations_of(e)]
    observation = {
        "resourceType": "Observation",
        "identifier": [{"system": SESSION_SYSTEM, "value": f"{session.uid}/episode/{e.number}"}],
        "status": "final" if e.end_at is not None else "preliminary",
        "code": _code("pain-expression-episode", "Sustained infant pain-expression episode"),
        "subject": _infant(session),
        "encounter": {"type": "Encounter",
                      "identifier": {"system": ENCOUNTER_SYSTEM,
                                     "value": session.encounter_id or session.uid}},
        "effectivePeriod": period,
        "device": {"reference": device_url},
        "component": components,
    }
    if notes:
        observation["note"] = notes
    return observation


def _note_text(a: Record) -> str:
    parts = []
    if a.intervention:
        parts.append(f"Intervention: {a.intervention}")
    if a.nips is not None:
        parts.append(f"NIPS (nurse): {a.nips}/7")
    if a.comment:
        parts.append(a.comment)
    return "; ".join(parts)


def _nips(d: SessionData, a: Record, zone: tzinfo, episode_url: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": _code("nips-nurse", "Neonatal Infant Pain Scale (NIPS) score, nurse-assessed"),
        "subject": _infant(d.session),
        "effectiveDateTime": iso(d.wall(a.t), zone),
        "performer": [{"display": a.author}],
        "valueInteger": a.nips,
        "derivedFrom": [{"reference": episode_url}],
    }


def _event(d: SessionData, e: Record, zone: tzinfo, device_url: str) -> dict[str, Any]:
    """An event (e.g. `subject_changed`: S and F after it belong to another face) as an
    Observation of its own, coded by its transition, with its detail as the value."""
    name = event_name(e)
    observation: dict[str, Any] = {
        "resourceType": "Observation",
        "identifier": [{"system": SESSION_SYSTEM,
                        "value": f"{d.session.uid}/event/{e.t}/{e.transition}"}],
        "status": "final",
        "code": _code(e.transition.replace("_", "-"), name[:1].upper() + name[1:]),
        "subject": _infant(d.session),
        "effectiveDateTime": iso(d.wall(e.t), zone),
        "device": {"reference": device_url},
    }
    if e.detail:
        observation["valueString"] = e.detail
    if e.user:
        observation["performer"] = [{"display": e.user}]
    return observation


def build_bundle(sessions: list[SessionData], zone: tzinfo) -> dict[str, Any]:
    entries: list[dict[str, Any]] = []
    devices: dict[str, str] = {}
    for d in sessions:
        s = d.session
        key = f"{s.model_name}/{s.model_sha256}/{s.app_version}"
        if key not in devices:
            devices[key] = _urn("device", key)
            entries.append({"fullUrl": devices[key], "resource": _device(s)})
        for e in d.episodes:
            url = _urn("episode", s.uid, e.number)
            entries.append({"fullUrl": url, "resource": _episode(d, e, zone, devices[key])})
            for a in d.annotations_of(e):
                if a.nips is not None:
                    entries.append({"fullUrl": _urn("nips", s.uid, e.number, a.t, a.author),
                                    "resource": _nips(d, a, zone, url)})
        for e in d.events:
            entries.append({"fullUrl": _urn("event", s.uid, e.t, e.transition),
                            "resource": _event(d, e, zone, devices[key])})
    return {"resourceType": "Bundle", "type": "collection",
            "meta": {"tag": [{"system": CODES, "code": f"painmon-{__version__}"}]},
            "entry": entries}


def write_fhir(sessions: list[SessionData], out: Path, zone: tzinfo,
               progress: Progress = no_progress) -> list[Path]:
    """Validate the bundle with fhir.resources, then write it as JSON."""
    from fhir.resources.R4B.bundle import Bundle

    bundle = build_bundle(sessions, zone)
    progress(0, 1, "validating the FHIR bundle")
    Bundle.model_validate(bundle)
    with open_private(out, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(bundle, indent=2, ensure_ascii=False) + "\n")
    progress(1, 1, "bundle written")
    return [out]
