"""CSV that is safe to open in a spreadsheet, for every CSV the program writes.

A cell of text that begins with = + - @, a tab or a carriage return is run as a formula by
Excel and LibreOffice (a bed label `=HYPERLINK(...)` becomes a live link); such text gets a
leading single quote, which spreadsheets show as text (OWASP's CSV-injection rule). Numbers are
written as numbers, so a negative value the program computed is never quoted.
"""

from __future__ import annotations

import csv
from typing import IO, Any, Iterable

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> str:
    """None is an empty cell; repr() of a float round-trips exactly; text is neutralised."""
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, int):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


class SafeWriter:
    """csv.writer over typed values: each one goes through `cell`."""

    def __init__(self, fh: IO[str]) -> None:
        self._writer = csv.writer(fh, lineterminator="\n")

    def writerow(self, values: Iterable[Any]) -> None:
        self._writer.writerow([cell(v) for v in values])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)
