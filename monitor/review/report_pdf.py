"""PDF report: one A4 landscape page per session, for the chart or a handover on paper.

Each page: who/where/when (bed, pseudonymous encounter, times in the display zone, what was
heard), the trend of S and F with the alarm thresholds and the cry cue C, episodes shaded, and
the stretches where the face was not seen or the monitor was not running drawn differently from
calm; under it a movement lane (still / moving / vigorous, blank where unknown); then the episode
table with the cues of each episode, and the nurses' annotations; when the session has events that
change how the trace reads (another face tracked, a procedure, settings changed), a dashed line
marks each on the trend and a table lists them. Drawn with reportlab's own graphics; built
`invariant` so that the same record gives the same bytes.

Text never shrinks below MIN_SCALE of its size to keep a session on one page: a session with more
(many or long annotations) continues on the next page, and a note longer than MAX_TEXT_CHARS is
cut on the page with the count of the characters the CSV export still holds. Names and notes
print in any script from embedded fonts (monitor/review/fonts.py).
"""

from __future__ import annotations

import io
import math
from datetime import tzinfo
from pathlib import Path
from typing import IO

from reportlab.graphics.shapes import Drawing, Line, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    KeepInFrame,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from monitor.review import data
from monitor.review.collect import (
    COLUMN_NOTE,
    MOVEMENT_STATES,
    Progress,
    SessionData,
    cue_words,
    event_name,
    no_progress,
)
from monitor.review.fonts import report_fonts
from monitor.store.files import open_private

PAGE = landscape(A4)
MARGIN = 12 * mm
PLOT_H = 85 * mm
S_COLOUR = colors.HexColor("#1f4e9c")
F_COLOUR = colors.HexColor("#d9822b")
C_COLOUR = colors.HexColor("#7b3fb5")
MOVEMENT_COLOUR = {"still": colors.HexColor("#cfe8df"), "moving": colors.HexColor("#6fb8a0"),
                   "vigorous": colors.HexColor("#2e7d6b")}
LANE_H = 9.0  # points: the movement lane under the trend
EPISODE_COLOUR = colors.HexColor("#f4b6b6")
UNKNOWN_COLOUR = colors.HexColor("#d9d9d9")
NOT_RUNNING_COLOUR = colors.HexColor("#555555")
EVENT_COLOUR = colors.HexColor("#5b2c6f")
TICK_STEPS_S = (5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200)
# PIPP-R-style band of the pain-face share F (ALARMS.md)
FACE_BANDS = {0: "0 (<10%)", 1: "1 (10-39%)", 2: "2 (40-69%)", 3: "3 (70%+)"}
SESSION_ENDS = {"completed": "completed", "stopped_by_user": "stopped by a user",
                "source_ended": "end of video / camera closed",
                "source_failed": "video damaged / camera failed", "crashed": "crashed"}
MIN_SCALE = 0.85  # a page is shrunk to fit at most this far (6 pt labels stay above 5 pt)
MAX_TEXT_CHARS = 2000  # of one note or detail on the page; the CSV export holds all of it
DISCLAIMER = ("painmon estimates facial pain expression from video. It is not a certified medical "
              "device: it supports, and never replaces, clinical pain assessment (e.g. NIPS).")


def write_pdf(sessions: list[SessionData], out: Path, zone: tzinfo,
              progress: Progress = no_progress) -> list[Path]:
    """One page per session (an empty selection gives one page that says so)."""
    styles = _styles()
    with open_private(out, "wb") as fh:
        _build(fh, sessions, zone, styles, progress)
    progress(len(sessions), len(sessions), "report written")
    return [out]


def _build(fh: IO[bytes], sessions: list[SessionData], zone: tzinfo,
           styles: dict[str, ParagraphStyle], progress: Progress) -> None:
    doc = SimpleDocTemplate(fh, pagesize=PAGE, leftMargin=MARGIN, rightMargin=MARGIN,
                            topMargin=MARGIN, bottomMargin=MARGIN, invariant=True,
                            title="painmon pain-expression review", author="painmon")
    frame_w, frame_h = PAGE[0] - 2 * MARGIN, PAGE[1] - 2 * MARGIN - 1
    story: list = []
    for i, d in enumerate(sessions):
        progress(i, len(sessions), f"report page {i + 1}")
        if story:
            story.append(PageBreak())
        content = _page(d, zone, styles, frame_w)
        page = KeepInFrame(frame_w, frame_h, content, mode="shrink")
        page.canv = Canvas(io.BytesIO())  # measured before the document's own canvas exists
        page.wrap(frame_w, frame_h)
        del page.canv
        fits = 1.0 / getattr(page, "_scale", 1.0) >= MIN_SCALE
        story.extend([page] if fits else content)  # else: continued on the next page
    if not sessions:
        story.append(Paragraph("No monitoring sessions in the chosen bed and time range.",
                               styles["Title"]))
    doc.build(story)


def _styles() -> dict[str, ParagraphStyle]:
    base, fonts = getSampleStyleSheet(), report_fonts()
    regular, bold = fonts.regular, fonts.bold
    return {
        "Title": ParagraphStyle("t", parent=base["Title"], fontName=bold, fontSize=15, leading=18,
                                spaceAfter=2, alignment=0),
        "Body": ParagraphStyle("b", parent=base["BodyText"], fontName=regular, fontSize=9,
                               leading=11),
        "Small": ParagraphStyle("s", parent=base["BodyText"], fontName=regular, fontSize=7.5,
                                leading=9, textColor=colors.HexColor("#444444")),
        "Head": ParagraphStyle("h", parent=base["Heading3"], fontName=bold, fontSize=10.5,
                               leading=13, spaceBefore=5, spaceAfter=2),
        "Cell": ParagraphStyle("c", parent=base["BodyText"], fontName=regular, fontSize=8,
                               leading=9.5),
    }


def _page(d: SessionData, zone: tzinfo, st: dict[str, ParagraphStyle], width: float) -> list:
    s = d.session
    start, end = d.wall(0.0), d.wall(d.end_t)
    end_text = f"{end.astimezone(zone):%Y-%m-%d %H:%M:%S}"
    return [
        Paragraph(f"Pain-expression review: bed {_text(s.bed_label)}", st["Title"]),
        Paragraph(
            f"Encounter (pseudonym) <b>{_text(s.encounter_id or '-')}</b> &nbsp; Session "
            f"<b>{start.astimezone(zone):%Y-%m-%d %H:%M:%S}</b> to <b>{end_text}</b> "
            f"({_zone_name(zone, start)}) &nbsp; ended: {_ended(s)} &nbsp; "
            f"model {_text(s.model_name or '-')} on {s.device or '-'}, painmon {s.app_version} "
            f"&nbsp; session {s.uid} &nbsp; sound: <b>{_text(d.heard)}</b>", st["Body"]),
        Spacer(1, 3),
        _trend(d, zone, width),
        _legend(d, width),
        Paragraph(f"Episodes ({len(d.episodes)})", st["Head"]),
        _episode_table(d, zone, st, width),
        Paragraph(COLUMN_NOTE, st["Small"]),
        Paragraph(f"Annotations ({len(d.annotations)})", st["Head"]),
        _annotation_table(d, zone, st, width),
        *_events(d, zone, st, width),
        Spacer(1, 4),
        Paragraph(DISCLAIMER, st["Small"]),
    ]


def _ended(session) -> str:
    if session.end_reason:
        return SESSION_ENDS.get(session.end_reason, session.end_reason)
    return "stopped unexpectedly" if data.crashed(session) else "still running"


def _zone_name(zone: tzinfo, at) -> str:
    local = at.astimezone(zone)
    return f"times in {local.tzname() or 'local time'}, UTC{local:%z}"


def _ticks(span_s: float) -> float:
    return next((step for step in TICK_STEPS_S if span_s / step <= 10), TICK_STEPS_S[-1])


def _trend(d: SessionData, zone: tzinfo, width: float) -> Drawing:
    left, axis_h, top_pad = 34.0, 16.0, 6.0
    bottom = axis_h + LANE_H + 4.0  # the movement lane sits between the plot and the time axis
    plot_w, plot_h = width - left - 70.0, PLOT_H - bottom - top_pad
    t_end = max(d.end_t, 1.0)
    drawing = Drawing(width, PLOT_H)

    def x(t: float) -> float:
        return left + plot_w * min(max(t, 0.0), t_end) / t_end

    def y(v: float) -> float:
        return bottom + plot_h * v

    def band(t0: float, t1: float, fill, label: str | None = None, stroke=None) -> None:
        drawing.add(Rect(x(t0), bottom, max(x(t1) - x(t0), 0.6), plot_h, fillColor=fill,
                         strokeColor=stroke, strokeWidth=0.4 if stroke else 0))
        if label:
            drawing.add(String(x(t0) + 2, bottom + plot_h - 9, label, fontSize=7,
                               fillColor=colors.HexColor("#8b1a1a")))

    for e in d.episodes:
        band(e.start_at, e.end_at if e.end_at is not None else t_end, EPISODE_COLOUR,
             f"episode {e.number}")
    for t0, t1 in d.gaps.unknown:
        band(t0, t1, UNKNOWN_COLOUR)
    for t0, t1 in d.gaps.not_running:
        band(t0, t1, NOT_RUNNING_COLOUR)
    drawing.add(Rect(left, bottom, plot_w, plot_h, fillColor=None, strokeColor=colors.black,
                     strokeWidth=0.6))
    for value in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0):
        drawing.add(String(left - 4, y(value) - 2.5, f"{value:.1f}", fontSize=7,
                           textAnchor="end"))
    drawing.add(String(2, bottom + plot_h + 1, "S, F, C", fontSize=7))
    for value, name, colour, dash in (
            (d.thresholds.t_high, "S high", colors.HexColor("#8b1a1a"), [1, 2]),
            (d.thresholds.t_on, "S alarm on", colors.HexColor("#c0392b"), [4, 2]),
            (d.thresholds.t_off, "S episode ends", colors.HexColor("#2e7d32"), [4, 2])):
        drawing.add(Line(left, y(value), left + plot_w, y(value), strokeColor=colour,
                         strokeWidth=0.7, strokeDashArray=dash))
        drawing.add(String(left + plot_w + 3, y(value) - 2.5, f"{name} {value:.2f}", fontSize=7,
                           fillColor=colour))
    for line, colour in ((_series(d, "c"), C_COLOUR), (_series(d, "s"), S_COLOUR),
                         (_series(d, "f"), F_COLOUR)):
        for run in line:
            if len(run) >= 2:
                drawing.add(PolyLine([c for t, v in run for c in (x(t), y(v))],
                                     strokeColor=colour, strokeWidth=1.1))
    for e in d.events:
        drawing.add(Line(x(e.t), bottom, x(e.t), bottom + plot_h, strokeColor=EVENT_COLOUR,
                         strokeWidth=0.9, strokeDashArray=[3, 1.5]))
        drawing.add(String(x(e.t) + 2, bottom + 3, event_name(e), fontSize=6.5,
                           fillColor=EVENT_COLOUR))
    _movement_lane(drawing, d, x, left, plot_w, axis_h + 1.0)
    step = _ticks(t_end)
    origin = d.wall(0.0).astimezone(zone)
    first = math.ceil(origin.timestamp() / step) * step - origin.timestamp()
    fmt = "%H:%M:%S" if step < 60 else "%H:%M"
    t = first
    while t <= t_end + 1e-6:
        drawing.add(Line(x(t), axis_h, x(t), axis_h - 3, strokeWidth=0.5))
        drawing.add(String(x(t), axis_h - 11, f"{d.wall(t).astimezone(zone):{fmt}}",
                           fontSize=7, textAnchor="middle"))
        t += step
    return drawing


def _movement_lane(drawing: Drawing, d: SessionData, x, left: float, plot_w: float,
                   y0: float) -> None:
    """One strip, shaded by movement state; left blank (white) where movement was unknown."""
    drawing.add(Rect(left, y0, plot_w, LANE_H, fillColor=colors.white, strokeColor=colors.grey,
                     strokeWidth=0.4))
    for t0, t1, state in d.movement_runs():
        if state is not None:
            drawing.add(Rect(x(t0), y0, max(x(t1) - x(t0), 0.3), LANE_H,
                             fillColor=MOVEMENT_COLOUR[state], strokeColor=None, strokeWidth=0))
    drawing.add(String(left - 4, y0 + 2, "movement", fontSize=6, textAnchor="end"))


def _series(d: SessionData, column: str) -> list[list[tuple[float, float]]]:
    """Runs of known values, drawn at the end of their second; a gap breaks the line."""
    runs: list[list[tuple[float, float]]] = [[]]
    last_t = None
    for row in d.samples:
        value = row[column]
        if value is None or (last_t is not None and row.t - last_t > 1.5):
            runs.append([])
        if value is not None:
            runs[-1].append((row.t + 1.0, value))
        last_t = row.t
    return [run for run in runs if run]


def _legend(d: SessionData, width: float) -> Drawing:
    items = [("line", S_COLOUR, "S: smoothed pain expression (0-1)"),
             ("line", F_COLOUR, "F: pain-face share of the last 30 s"),
             ("line", C_COLOUR, "C: cry cue (0-1)"),
             *(("box", MOVEMENT_COLOUR[m], f"movement {m}") for m in MOVEMENT_STATES),
             ("box", colors.white, "movement unknown"),
             ("box", EPISODE_COLOUR, "episode"),
             ("box", UNKNOWN_COLOUR, "face not seen / poor image (unknown, not calm)"),
             ("box", NOT_RUNNING_COLOUR, "monitor not running"),
             *([("line", EVENT_COLOUR, "event (listed below)")] if d.events else [])]
    rows: list[list[tuple[str, object, str, float]]] = [[]]
    x = 34.0
    for kind, colour, text in items:  # wrapped onto a second row when the page is too narrow
        step = 26 + len(text) * 3.8
        if rows[-1] and x + step > width:
            rows.append([])
            x = 34.0
        rows[-1].append((kind, colour, text, x))
        x += step
    drawing = Drawing(width, 13 * len(rows))
    for i, row in enumerate(rows):
        y = 13 * (len(rows) - 1 - i)
        for kind, colour, text, x in row:
            if kind == "line":
                drawing.add(Line(x, y + 5, x + 14, y + 5, strokeColor=colour, strokeWidth=1.6))
            else:
                drawing.add(Rect(x, y + 1, 14, 8, fillColor=colour, strokeColor=colors.grey,
                                 strokeWidth=0.3))
            drawing.add(String(x + 18, y + 2.5, text, fontSize=7))
    return drawing


def _table(rows: list[list], widths: list[float]) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1)
    fonts = report_fonts()
    table.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, 0), fonts.bold, 8),
        ("FONT", (0, 1), (-1, -1), fonts.regular, 8),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8edf5")),
        ("GRID", (0, 0), (-1, -1), 0.3, colors.HexColor("#9aa5b5")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
    ]))
    return table


def _episode_table(d: SessionData, zone: tzinfo, st: dict, width: float) -> Table:
    def clock(t: float | None) -> str:
        return "-" if t is None else f"{d.wall(t).astimezone(zone):%H:%M:%S}"

    rows: list[list] = [["#", "start", "duration", "alarm", "peak S", "mean S", "F band",
                         "priority", "cues", "acknowledged", "ended", "annotations"]]
    for e in d.episodes:
        duration = "open" if e.end_at is None else _duration(e.end_at - e.start_at)
        ack = ("not acknowledged" if e.ack_at is None
               else f"{clock(e.ack_at)} by {_text(e.ack_by or '?')}")
        rows.append([str(e.number), clock(e.start_at), duration, clock(e.alarm_at),
                     _num(e.peak_s), _num(e.mean_s), FACE_BANDS.get(e.max_band, "-"),
                     e.max_priority or "-", cue_words(e.cues) or "-",
                     Paragraph(ack, st["Cell"]),
                     (e.end_reason or "open").replace("_", " "),
                     str(len(d.annotations_of(e)))])
    if len(rows) == 1:
        rows.append(["", Paragraph("no episode in this session", st["Cell"])] + [""] * 10)
    fractions = [0.04, 0.09, 0.08, 0.09, 0.07, 0.07, 0.08, 0.07, 0.12, 0.13, 0.08, 0.08]
    return _table(rows, [f * width for f in fractions])


def _annotation_table(d: SessionData, zone: tzinfo, st: dict, width: float) -> Table:
    rows: list[list] = [["episode", "written", "by", "intervention", "NIPS", "comment"]]
    for a in d.annotations:
        rows.append([str(a.episode_number), f"{d.wall(a.t).astimezone(zone):%Y-%m-%d %H:%M}",
                     Paragraph(_text(a.author), st["Cell"]),
                     Paragraph(_text(a.intervention or "-"), st["Cell"]),
                     "-" if a.nips is None else f"{a.nips}/7",
                     Paragraph(_text(a.comment or ""), st["Cell"])])
    if len(rows) == 1:
        rows.append(["", Paragraph("no annotations yet", st["Cell"]), "", "", "", ""])
    fractions = [0.07, 0.13, 0.13, 0.15, 0.06, 0.46]
    return _table(rows, [f * width for f in fractions])


def _events(d: SessionData, zone: tzinfo, st: dict, width: float) -> list:
    """The heading and table of the session's events; nothing when it has none."""
    if not d.events:
        return []
    rows: list[list] = [["time", "event", "by", "detail"]]
    for e in d.events:
        rows.append([f"{d.wall(e.t).astimezone(zone):%Y-%m-%d %H:%M:%S}", event_name(e),
                     Paragraph(_text(e.user or "-"), st["Cell"]),
                     Paragraph(_text(e.detail or ""), st["Cell"])])
    fractions = [0.13, 0.17, 0.12, 0.58]
    return [Paragraph(f"Events ({len(d.events)})", st["Head"]),
            _table(rows, [f * width for f in fractions])]


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def _text(text: str) -> str:
    """Text someone wrote (a name, a note), as markup in fonts that have its characters; cut at
    MAX_TEXT_CHARS with the count of the rest, which the CSV export holds."""
    fonts = report_fonts()
    if len(text) <= MAX_TEXT_CHARS:
        return fonts.markup(text)
    rest = len(text) - MAX_TEXT_CHARS
    return (fonts.markup(text[:MAX_TEXT_CHARS])
            + f" <i>… {rest:,} more characters, see the CSV export</i>")
