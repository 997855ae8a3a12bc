"""Cells for files a user opens in a spreadsheet (the audit CSV, report workbooks).

Text typed by someone outside the provider's control (a reveal reason, a token's name, a
customer's words) must never become a formula when the file is opened: Excel, WPS and
LibreOffice run a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and tab or carriage
return, which they skip before looking). Following OWASP's advice on CSV injection, such
text is written with a leading single quote in CSV, and as a text cell marked
``quotePrefix`` in XLSX (so it stays text even when the cell is edited). Numbers, dates
and empty cells stay what they are."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from openpyxl.worksheet.worksheet import Worksheet

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(value: object) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def csv_cell(value: Any) -> Any:
    """A value for ``csv.writer``: text that a spreadsheet would run gets a leading ``'``."""
    return "'" + value if looks_like_formula(value) else value


def csv_row(values: Iterable[Any]) -> list[Any]:
    return [csv_cell(v) for v in values]


def xlsx_append(sheet: Worksheet, values: Iterable[Any]) -> None:
    """``sheet.append(values)`` with every text a text cell: openpyxl would otherwise store
    ``=…`` as a formula and ``#N/A`` as an error."""
    sheet.append(list(values))
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"
            if looks_like_formula(cell.value):
                cell.quotePrefix = True
