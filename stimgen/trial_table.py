"""Reading an experiment's data file (PsychoPy or jsPsych CSV) as a table of trials, for the fits
of discrimination tasks and adaptive runs, without importing what :mod:`stimgen.data` needs
(torch among it): a fit stays quick to start.

Examples
--------
>>> cell_text(3.0), cell_text(float("nan")), cell_text(" b ")
('3', '', 'b')
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from stimgen.errors import StimgenError


def read_trials(file: Path, text_columns: Iterable[str]) -> pd.DataFrame:
    """A data file as a table, ``text_columns`` read as text; one error naming it where it is
    missing, unreadable or empty."""
    if not file.is_file():
        raise StimgenError("no such data file", path=file)
    try:
        table = pd.read_csv(file, encoding="utf-8-sig", dtype=dict.fromkeys(text_columns, str))
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise StimgenError(f"not a readable CSV table ({str(exc).splitlines()[0]})", path=file) from None
    if table.empty:
        raise StimgenError("holds no trials", path=file)
    return table


def cell_text(value) -> str:
    """A cell as text: "" for an empty one, whole numbers without ".0"."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
