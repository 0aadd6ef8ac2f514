"""A synthesised NICU bed's sound, and what a cot camera's sound path does to it (issue 22).

One module for the cry detector's training, its evaluation and the tests, so all three hear the
same room. Nothing here is a recording of a NICU: the bed is built from rules and shared clips.

- **Background**: incubator fan (pink noise, mains hum and a blade tone), ventilator or CPAP flow
  (band-passed noise breathing at 30-60 breaths/min) at `BED_DBFS`.
- **Events** over it, 11-14 dB above the background (Krueger et al. 2005: NICU events stand
  11-14 dB over the background): IEC 60601-1-8 alarm melodies (pulse bursts, fundamental
  150-1000 Hz, 4-7 harmonics within 15 dB of it), pulse-oximeter beeps at a neonate's heart rate,
  the project's own alarm tones (assets/sounds), adult speech (the shared speech clip, re-pitched),
  coughs (noise bursts through two formants: ESC-10 has none), doors, and the ESC-10 sounds that
  are not cries (sneezes, a dog, a clock, rain ...).
- **The next cot's cry**: a reverberant cry `NEXT_COT_DB` below this cot's cry level.
- **The sound path**: G.711 mu-law / A-law at 8 kHz (ITU-T G.711 segment tables, in numpy), other
  band limits, level, reverberation, clipping.

Everything is 16 kHz mono float32 in -1..1 and drawn from a numpy Generator, so a seed gives the
same sound on every machine.
"""

from __future__ import annotations

import csv
import math
import wave
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.signal import butter, fftconvolve, resample_poly, sosfilt

RATE = 16_000
BED_DBFS = -48.0  # background of a closed incubator at the cot microphone (RMS)
EVENT_OVER_BED_DB = (11.0, 14.0)
COT_CRY_DBFS = -20.0  # this infant's cry at the cot microphone, 0.3 m (RMS over the cry)
NEXT_COT_DB = -15.0  # the next cot's cry, 1-3 m away, relative to COT_CRY_DBFS
INSTALLED_GATE_DBFS = -28.0  # audio.min_cry_dbfs set between those two, as ALARMS.md asks
NARROW_RATE = 8_000
BANDS = ("full", "mulaw", "alaw", "telephone", "lowpass_4k", "lowpass_7k")
ALARM_ASSETS = ("high", "medium", "low", "reminder", "technical")


# --- levels ------------------------------------------------------------------------------------

def rms_dbfs(x: np.ndarray) -> float:
    rms = math.sqrt(float(np.mean(np.square(x, dtype=np.float64)))) if x.size else 0.0
    return 20 * math.log10(rms) if rms > 0 else -120.0


def at_level(x: np.ndarray, dbfs: float) -> np.ndarray:
    """x scaled so that its RMS is `dbfs` (silence stays silence)."""
    level = rms_dbfs(x)
    return x if level <= -119 else (x * 10 ** ((dbfs - level) / 20)).astype(np.float32)


def active_level(x: np.ndarray, frame: int = 400, within_db: float = 20.0) -> float:
    """RMS (dBFS) over the frames within `within_db` of the loudest: a cry's level without its
    breaths, so a pause does not make a cry quieter."""
    frames = frame_levels(x, frame)
    loud = frames[frames >= frames.max() - within_db]
    return 10 * math.log10(float(np.mean(10 ** (loud / 10))))


def frame_levels(x: np.ndarray, frame: int = 400) -> np.ndarray:
    n = max(1, x.size // frame)
    power = np.mean(np.square(x[:n * frame].reshape(n, frame), dtype=np.float64), axis=1)
    return 10 * np.log10(np.maximum(power, 1e-12))


def activity(x: np.ndarray, frame: int = 400, within_db: float = 20.0) -> np.ndarray:
    """Per sample: is this part of the sound (within `within_db` of its loudest 25 ms frames),
    not a pause? The cry labels of training and evaluation come from it."""
    levels = frame_levels(x, frame)
    on = levels >= levels.max() - within_db
    mask = np.repeat(on, frame)
    return np.pad(mask, (0, x.size - mask.size), constant_values=bool(on[-1]))


# --- the sound path: G.711 and other band limits -----------------------------------------------

_MU_BIAS, _MU_CLIP = 0x84, 32635
_A_SEGMENT_ENDS = np.array([0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF])


def _int16(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(np.asarray(x, np.float64) * 32768), -32768, 32767).astype(np.int32)


def mulaw_encode(x: np.ndarray) -> np.ndarray:
    """ITU-T G.711 mu-law bytes of float samples (the 16-bit segment algorithm)."""
    pcm = _int16(x)
    sign = np.where(pcm < 0, 0x80, 0)
    mag = np.minimum(np.abs(pcm), _MU_CLIP) + _MU_BIAS
    exponent = np.clip(np.floor(np.log2(np.maximum(mag >> 7, 1))), 0, 7).astype(np.int32)
    mantissa = (mag >> (exponent + 3)) & 0x0F
    return (~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8)


def mulaw_decode(codes: np.ndarray) -> np.ndarray:
    u = ~codes.astype(np.int32) & 0xFF
    exponent, mantissa = (u >> 4) & 0x07, u & 0x0F
    mag = (((mantissa << 3) + _MU_BIAS) << exponent) - _MU_BIAS
    return (np.where(u & 0x80, -mag, mag) / 32768).astype(np.float32)


def alaw_encode(x: np.ndarray) -> np.ndarray:
    """ITU-T G.711 A-law bytes of float samples (13-bit segments, even bits inverted)."""
    pcm = _int16(x) >> 3
    mask = np.where(pcm >= 0, 0xD5, 0x55)
    mag = np.where(pcm >= 0, pcm, -pcm - 1)
    segment = np.searchsorted(_A_SEGMENT_ENDS, mag, side="left")
    shift = np.where(segment < 2, 1, segment)
    value = (np.minimum(segment, 7) << 4) | ((mag >> np.minimum(shift, 7)) & 0x0F)
    value = np.where(segment >= 8, 0x7F, value)
    return ((value ^ mask) & 0xFF).astype(np.uint8)


def alaw_decode(codes: np.ndarray) -> np.ndarray:
    a = codes.astype(np.int32) ^ 0x55
    t = (a & 0x0F) << 4
    segment = (a & 0x70) >> 4
    t = np.where(segment == 0, t + 8, t + 0x108)
    t = np.where(segment > 1, t << np.maximum(segment - 1, 0), t)
    return (np.where(a & 0x80, t, -t) / 32768).astype(np.float32)


def g711(x: np.ndarray, law: str) -> np.ndarray:
    """16 kHz sound as a G.711 camera sends it: down to 8 kHz, coded, decoded, back to 16 kHz."""
    narrow = resample_poly(x, 1, 2)
    coded = mulaw_decode(mulaw_encode(narrow)) if law == "mulaw" else alaw_decode(alaw_encode(narrow))
    return resample_poly(coded, 2, 1)[:x.size].astype(np.float32)


def band_limited(x: np.ndarray, band: str) -> np.ndarray:
    """One of BANDS: full band, G.711 (mulaw/alaw), a telephone band (300-3400 Hz) or a low pass."""
    if band == "full":
        return x
    if band in ("mulaw", "alaw"):
        return g711(x, band)
    sos = (butter(6, (300, 3400), "bandpass", fs=RATE, output="sos") if band == "telephone" else
           butter(8, 4000 if band == "lowpass_4k" else 7000, "lowpass", fs=RATE, output="sos"))
    return sosfilt(sos, x).astype(np.float32)


def reverberant(x: np.ndarray, rng: np.random.Generator, rt60_s: float, wet: float) -> np.ndarray:
    """x in a room: convolved with exponentially decaying noise (RT60), mixed `wet` with x."""
    n = int(rt60_s * RATE)
    tail = rng.standard_normal(n) * np.exp(-6.9 * np.arange(n) / n)
    tail /= np.sqrt(np.sum(tail ** 2))
    out = (1 - wet) * x + wet * fftconvolve(x, tail)[:x.size]
    return out.astype(np.float32)


def clipped(x: np.ndarray, ceiling: float) -> np.ndarray:
    return np.clip(x, -ceiling, ceiling).astype(np.float32)


# --- the shared clips the bed is made from -------------------------------------------------------

def read_audio(path: Path) -> np.ndarray:
    """Any shared clip as 16 kHz mono float32 (PyAV decodes, scipy resamples, as the tests do)."""
    import av  # decoding only where files are read

    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        to_mono = av.AudioResampler(format="flt", layout="mono", rate=stream.rate)
        chunks = [o.to_ndarray().reshape(-1) for f in container.decode(stream)
                  for o in to_mono.resample(f)]
        chunks += [o.to_ndarray().reshape(-1) for o in to_mono.resample(None)]
        rate = stream.rate
    samples = np.concatenate(chunks).astype(np.float64)
    g = math.gcd(rate, RATE)
    return resample_poly(samples, RATE // g, rate // g).astype(np.float32)


def _read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as f:
        data = np.frombuffer(f.readframes(f.getnframes()), "<i2").astype(np.float64) / 32768
        rate = f.getframerate()
    g = math.gcd(rate, RATE)
    return resample_poly(data, RATE // g, rate // g).astype(np.float32)


@dataclass(frozen=True)
class CryClip:
    name: str
    group: str  # donateacry: the app installation; ESC-10: the Freesound recording
    samples: np.ndarray
    source: str  # "donateacry" or "esc10"


@dataclass
class BedSounds:
    """The recorded sounds a bed is made of: speech, ESC-10 non-cries, the app's alarm tones."""

    speech: np.ndarray
    others: list[np.ndarray]
    alarm_tones: list[np.ndarray]
    next_cot_cries: list[np.ndarray] = field(default_factory=list)


def donateacry(shared: Path) -> list[CryClip]:
    folder = shared / "audio" / "donateacry"
    with open(folder / "clips.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return [CryClip(r["file"], r["instance"], read_audio(folder / r["file"]), "donateacry")
            for r in rows]


def esc10(shared: Path, folds: Sequence[int], infant_cry: bool) -> list[CryClip]:
    folder = shared / "audio" / "esc10"
    with open(folder / "clips.csv", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if int(r["fold"]) in folds
                and (r["is_infant_cry"].strip() == "1") == infant_cry]
    return [CryClip(r["filename"], r["filename"].rsplit("-", 2)[0], read_audio(folder / r["filename"]),
                    "esc10") for r in rows]


def bed_sounds(shared: Path, assets: Path, other_folds: Sequence[int],
               next_cot: Sequence[CryClip] = ()) -> BedSounds:
    others = [c.samples for c in esc10(shared, other_folds, infant_cry=False)]
    tones = [_read_wav(assets / "sounds" / f"{name}.wav") for name in ALARM_ASSETS]
    return BedSounds(read_audio(shared / "audio" / "speech.wav"), others, tones,
                     [c.samples for c in next_cot])


# --- synthesised sounds -----------------------------------------------------------------------

def _t(seconds: float) -> np.ndarray:
    return np.arange(int(seconds * RATE)) / RATE


def _envelope(n: int, rise: int) -> np.ndarray:
    env = np.ones(n)
    rise = max(1, min(rise, n // 2))
    ramp = np.linspace(0, 1, rise)
    env[:rise], env[-rise:] = ramp, ramp[::-1]
    return env


def harmonic_pulse(f0: float, seconds: float, harmonics_db: Sequence[float]) -> np.ndarray:
    t = _t(seconds)
    tone = sum(10 ** (db / 20) * np.sin(2 * np.pi * f0 * (k + 1) * t)
               for k, db in enumerate(harmonics_db) if f0 * (k + 1) < RATE / 2)
    return tone * _envelope(t.size, int(0.15 * t.size))


def alarm_melody(rng: np.random.Generator, seconds: float) -> np.ndarray:
    """IEC 60601-1-8 medium (3 pulses) or high (3 + 2 pulses) bursts repeated over `seconds`:
    each pulse 75-250 ms, 10-20 % rise and fall, fundamental 150-1000 Hz with 4-7 harmonics
    within 15 dB of it; a melody changes pitch from pulse to pulse."""
    high = rng.random() < 0.4
    pulses = 5 if high else 3
    f0s = rng.uniform(150, 1000) * 2 ** (rng.integers(0, 8, pulses) / 12)
    harmonics = [0.0, *rng.uniform(-15, 0, int(rng.integers(3, 7)))]
    width = rng.uniform(0.075, 0.2 if high else 0.25)
    spacing = width + rng.uniform(0.05, 0.15)
    burst = np.zeros(int((pulses * spacing + (0.3 if high else 0)) * RATE))
    for i, f0 in enumerate(f0s):
        start = int((i * spacing + (0.3 if high and i >= 3 else 0)) * RATE)
        pulse = harmonic_pulse(f0, width, harmonics)
        burst[start:start + pulse.size] += pulse[:burst.size - start]
    period = rng.uniform(2.5, 5) if high else rng.uniform(3, 10)
    return _repeat(burst, period, seconds)


def oximeter_beeps(rng: np.random.Generator, seconds: float) -> np.ndarray:
    """Short beeps at a neonate's heart rate (110-180 /min), pitch 400-1000 Hz."""
    beep = harmonic_pulse(rng.uniform(400, 1000), rng.uniform(0.04, 0.1), [0.0, -12.0, -20.0])
    return _repeat(beep, 60 / rng.uniform(110, 180), seconds)


def _repeat(sound: np.ndarray, period_s: float, seconds: float) -> np.ndarray:
    out = np.zeros(int(seconds * RATE))
    step = max(1, int(period_s * RATE))
    for start in range(0, out.size, step):
        piece = sound[:out.size - start]
        out[start:start + piece.size] += piece
    return out


def pink_noise(rng: np.random.Generator, n: int) -> np.ndarray:
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / RATE)
    spectrum /= np.sqrt(np.maximum(f, 20.0))
    return np.fft.irfft(spectrum, n)


def incubator_noise(rng: np.random.Generator, seconds: float) -> np.ndarray:
    """Fan hiss (pink, low-passed), mains hum with harmonics, a blade tone, and a ventilator or
    CPAP's flow noise breathing at 30-60 /min."""
    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    fan = sosfilt(butter(2, rng.uniform(2000, 6000), "lowpass", fs=RATE, output="sos"),
                  pink_noise(rng, n))
    fan = at_level(fan, 0.0)
    mains = rng.choice([50.0, 60.0])
    hum = sum(rng.uniform(0.02, 0.15) * np.sin(2 * np.pi * mains * k * t + rng.uniform(0, 6))
              for k in (1, 2, 3, 4))
    blade = rng.uniform(0.01, 0.08) * np.sin(2 * np.pi * rng.uniform(150, 400) * t)
    flow = sosfilt(butter(2, (rng.uniform(300, 800), rng.uniform(1500, 4000)), "bandpass", fs=RATE,
                          output="sos"), rng.standard_normal(n))
    breath = np.clip(np.sin(2 * np.pi * rng.uniform(0.5, 1.0) * t), 0, None) ** 2
    vent = at_level(flow * breath, 0.0) * rng.uniform(0.2, 0.8)
    return (fan + hum + blade + vent).astype(np.float32)


def cough(rng: np.random.Generator) -> np.ndarray:
    """One to three coughs: noise bursts (sharp attack, 0.1-0.3 s decay) through two formants."""
    out = []
    for _ in range(int(rng.integers(1, 4))):
        n = int(rng.uniform(0.15, 0.35) * RATE)
        burst = rng.standard_normal(n) * np.exp(-np.arange(n) / (rng.uniform(0.04, 0.1) * RATE))
        shaped = sum(sosfilt(butter(2, (f * 0.8, f * 1.25), "bandpass", fs=RATE, output="sos"), burst)
                     for f in (rng.uniform(400, 900), rng.uniform(1200, 2800)))
        out += [shaped, np.zeros(int(rng.uniform(0.1, 0.4) * RATE))]
    return np.concatenate(out)


def door(rng: np.random.Generator) -> np.ndarray:
    """A door: a low thump (decaying 50-150 Hz) and a latch click."""
    t = _t(0.6)
    thump = np.sin(2 * np.pi * rng.uniform(50, 150) * t) * np.exp(-t / 0.08)
    click = np.zeros_like(t)
    at = int(rng.uniform(0.05, 0.3) * RATE)
    click[at:at + 200] = rng.standard_normal(200) * np.exp(-np.arange(200) / 40)
    return thump + 0.5 * click


def speech(rng: np.random.Generator, clip: np.ndarray, seconds: float) -> np.ndarray:
    """Adults talking at the cot: the shared speech clip re-pitched (x0.8-1.25), repeated."""
    out, n = [], 0
    while n < seconds * RATE:
        factor = rng.uniform(0.8, 1.25)
        up, down = 20, int(round(20 * factor))
        piece = resample_poly(clip, up, down)
        out += [piece, np.zeros(int(rng.uniform(0.2, 1.5) * RATE))]
        n += piece.size + out[-1].size
    return np.concatenate(out)[:int(seconds * RATE)]


# --- the bed ----------------------------------------------------------------------------------

EVENT_KINDS = ("alarm", "beeps", "app_tone", "speech", "cough", "door", "other", "next_cot_cry")
EVENT_SECONDS = {"alarm": (10, 60), "beeps": (20, 120), "speech": (5, 30)}


@dataclass(frozen=True)
class Event:
    kind: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class Scene:
    samples: np.ndarray
    events: tuple[Event, ...]


def _event_sound(kind: str, rng: np.random.Generator, sounds: BedSounds) -> np.ndarray:
    if kind == "next_cot_cry":
        clip = sounds.next_cot_cries[int(rng.integers(len(sounds.next_cot_cries)))]
        return reverberant(clip, rng, rng.uniform(0.3, 0.8), 0.5)
    lo, hi = EVENT_SECONDS.get(kind, (0, 0))
    return EVENT_BUILDERS[kind](rng, rng.uniform(lo, hi), sounds)


EVENT_BUILDERS = {
    "alarm": lambda rng, seconds, sounds: alarm_melody(rng, seconds),
    "beeps": lambda rng, seconds, sounds: oximeter_beeps(rng, seconds),
    "speech": lambda rng, seconds, sounds: speech(rng, sounds.speech, seconds),
    "cough": lambda rng, seconds, sounds: cough(rng),
    "door": lambda rng, seconds, sounds: door(rng),
    "app_tone": lambda rng, seconds, sounds: sounds.alarm_tones[int(rng.integers(len(sounds.alarm_tones)))],
    "other": lambda rng, seconds, sounds: sounds.others[int(rng.integers(len(sounds.others)))],
}


def bed(rng: np.random.Generator, seconds: float, sounds: BedSounds,
        events_per_minute: float = 4.0, kinds: Sequence[str] = EVENT_KINDS,
        background_dbfs: float = BED_DBFS) -> Scene:
    """`seconds` of a NICU bed without this infant's cry: the background at `background_dbfs`
    and, at random times (Poisson, `events_per_minute`), events of `kinds`; a next-cot cry at
    COT_CRY_DBFS + NEXT_COT_DB (its level does not follow the background), the others 11-14 dB
    over the background."""
    n = int(seconds * RATE)
    out = at_level(incubator_noise(rng, seconds), background_dbfs).astype(np.float64)
    kinds = [k for k in kinds if k != "next_cot_cry" or sounds.next_cot_cries]
    events = []
    t = rng.exponential(60 / events_per_minute) if kinds and events_per_minute > 0 else seconds
    while t < seconds:
        kind = kinds[int(rng.integers(len(kinds)))]
        sound = _event_sound(kind, rng, sounds)
        level = (active_level(sound) if kind == "next_cot_cry" else None)
        target = (COT_CRY_DBFS + NEXT_COT_DB if kind == "next_cot_cry"
                  else background_dbfs + rng.uniform(*EVENT_OVER_BED_DB))
        gain = 10 ** ((target - (level if level is not None else rms_dbfs(sound))) / 20)
        start = int(t * RATE)
        piece = sound[:n - start] * gain
        out[start:start + piece.size] += piece
        events.append(Event(kind, t, t + piece.size / RATE))
        t += piece.size / RATE + rng.exponential(60 / events_per_minute)
    return Scene(out.astype(np.float32), tuple(events))


def cry_track(rng: np.random.Generator, clips: Sequence[np.ndarray], seconds: float
              ) -> tuple[np.ndarray, np.ndarray]:
    """Sustained crying for `seconds`: the clips in turn (each at the same active level), joined
    by 0.3-1.5 s breaths. Returns (samples at COT_CRY_DBFS active level, activity per sample)."""
    pieces, n, i = [], 0, int(rng.integers(len(clips)))
    while n < seconds * RATE:
        clip = clips[i % len(clips)]
        i += 1
        clip = clip * 10 ** ((COT_CRY_DBFS - active_level(clip)) / 20)
        pieces += [clip, np.zeros(int(rng.uniform(0.3, 1.5) * RATE))]
        n += clip.size + pieces[-1].size
    track = np.concatenate(pieces)[:int(seconds * RATE)].astype(np.float32)
    return track, activity(track)


def mixed(cry: np.ndarray, background: np.ndarray, snr_db: float) -> np.ndarray:
    """The cry over the background scaled so that cry (active level) / background (RMS) is
    `snr_db`."""
    gain = 10 ** ((active_level(cry) - snr_db - rms_dbfs(background)) / 20)
    return (cry + background[:cry.size] * gain).astype(np.float32)
