"""Colours and sizes of the bedside screen: IEC 60601-1-8 priority colours, dark background."""

from __future__ import annotations

from PyQt6.QtGui import QColor, QFont

from monitor.signal.records import HIGH, LOW, MEDIUM

BACKGROUND = QColor("#0b0e13")
PANEL = QColor("#151a22")
TEXT = QColor("#e8ecf1")
DIM_TEXT = QColor("#8a94a3")
UNKNOWN = QColor("#5d6573")

# Alarm priority: colour (IEC 60601-1-8: red high, yellow medium, cyan low) and text on it.
PRIORITY_COLOUR = {HIGH: QColor("#e8231f"), MEDIUM: QColor("#ffd400"), LOW: QColor("#00c8e6")}
PRIORITY_TEXT = {HIGH: QColor("#ffffff"), MEDIUM: QColor("#000000"), LOW: QColor("#000000")}
FLASH_HZ = {HIGH: 2.0, MEDIUM: 0.6, LOW: 0.0}  # IEC: high 1.4-2.8 Hz, medium 0.4-0.8 Hz, low steady

# Gauge bands of S (calm, watch, pain): deliberately not the alarm colours, so a coloured gauge
# is never mistaken for an alarm.
BAND_COLOUR = (QColor("#35c46a"), QColor("#ff9f1c"), QColor("#ff4fa0"))

CRY_COLOUR = QColor("#b48cff")  # the cry cue C on the trend: neither a band nor an alarm colour
FACE_COLOUR = {"scored": QColor("#35c46a"), "poor_quality": QColor("#ff9f1c"), "no_face": UNKNOWN}
COT_COLOUR = QColor("#c8d0dc")
MODE_COLOUR = QColor("#7aa7ff")  # procedure / standby banners
MARKER_COLOUR = QColor("#ffb000")  # "settings differ from default"

STYLESHEET = f"""
QWidget {{ background: {BACKGROUND.name()}; color: {TEXT.name()}; font-size: 15px; }}
QPushButton {{ background: #263040; border: 1px solid #3a4658; border-radius: 6px;
               padding: 8px 14px; font-size: 16px; }}
QPushButton:hover {{ background: #303c50; }}
QPushButton:disabled {{ color: #5d6573; background: #1a2029; }}
QLabel#status {{ color: {DIM_TEXT.name()}; font-size: 14px; }}
QLabel#header {{ font-size: 20px; font-weight: 600; }}
QLabel#mode {{ font-size: 18px; font-weight: 600; color: {MODE_COLOUR.name()}; }}
QLabel#marker {{ font-size: 15px; color: {MARKER_COLOUR.name()}; }}
QDialog QLabel, QDialog QDoubleSpinBox, QDialog QLineEdit, QDialog QComboBox {{ font-size: 14px; }}
QDoubleSpinBox:disabled {{ color: #8a94a3; }}
"""


def font(pixels: int, bold: bool = False) -> QFont:
    """Sizes in pixels, so the screen reads the same from two metres whatever the DPI setting."""
    result = QFont()
    result.setPixelSize(max(8, int(pixels)))
    result.setBold(bold)
    return result
