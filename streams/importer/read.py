"""Reading CSV and Excel (.xlsx, through openpyxl) into numbered rows of cells."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from schemas.i18n import _
from streams.errors import InputError
from streams.importer.mapping import Mapping

HEADER_SEARCH_ROWS = 20  # title lines above the header ("DANH SÁCH CHI TRẢ ...") are skipped


@dataclass
class Sheet:
    """A table: its header row, the fields it maps, and its data rows (1-based row numbers
    as a spreadsheet program shows them)."""

    header_row: int
    headers: list[str]
    columns: dict[str, int]
    rows: Iterator[tuple[int, list[Any]]]
    total: int  # data rows at most (blank rows are skipped as they come)


def _raw_rows(path: Path, sheet: str | None) -> tuple[Iterator[tuple[int, list[Any]]], int]:
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return _xlsx_rows(path, sheet)
    if suffix in (".csv", ".txt"):
        if sheet:
            raise InputError(_("--sheet applies to .xlsx files only"))
        return _csv_rows(path)
    raise InputError(
        _(
            "{name}: unsupported file type {suffix}; "
            "import reads .csv and .xlsx (save .xls files as .xlsx first)"
        ).format(name=path.name, suffix=suffix or "(none)")
    )


def _csv_rows(path: Path) -> tuple[Iterator[tuple[int, list[Any]]], int]:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InputError(
            _("cannot read {path}: {reason}").format(path=path, reason=e.strerror or e)
        ) from e
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(
            _("{name} is not UTF-8 text; save it as CSV UTF-8").format(name=path.name)
        ) from e
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)

    def rows() -> Iterator[tuple[int, list[Any]]]:
        try:
            for record in reader:
                yield reader.line_num, list(record)
        except csv.Error as e:
            raise InputError(
                _("{name} line {line}: {reason}").format(
                    name=path.name, line=reader.line_num, reason=e
                )
            ) from e

    return rows(), text.count("\n") + 1


def _xlsx_rows(path: Path, sheet: str | None) -> tuple[Iterator[tuple[int, list[Any]]], int]:
    from zipfile import BadZipFile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (OSError, InvalidFileException, BadZipFile, KeyError, ValueError) as e:
        raise InputError(
            _("cannot open {name} as an Excel workbook: {reason}").format(name=path.name, reason=e)
        ) from e
    if sheet is not None and sheet not in book.sheetnames:
        book.close()
        raise InputError(
            _("{name} has no sheet {sheet}; sheets: {sheets}").format(
                name=path.name, sheet=repr(sheet), sheets=", ".join(book.sheetnames)
            )
        )
    ws = book[sheet] if sheet else book.worksheets[0]
    total = ws.max_row or 0

    def rows() -> Iterator[tuple[int, list[Any]]]:
        try:
            for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
                yield number, list(values)
        finally:
            book.close()

    return rows(), total


def _blank(cells: list[Any]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def open_sheet(
    path: Path, mapping: Mapping, required: tuple[str, ...], sheet: str | None = None
) -> Sheet:
    """The file's rows under its header: the first row, within the first 20, that holds a
    header for every required field. InputError names the missing headers otherwise."""
    rows, total = _raw_rows(path, sheet)
    best: tuple[int, list[str], dict[str, int]] | None = None
    for number, cells in rows:
        headers = ["" if c is None else str(c).strip() for c in cells]
        columns = mapping.locate(headers)
        if best is None or len(columns) > len(best[2]):
            best = (number, headers, columns)
        if all(f in columns for f in required):
            data = ((n, c) for n, c in rows if not _blank(c))
            return Sheet(number, headers, columns, data, max(0, total - number))
        if number >= HEADER_SEARCH_ROWS:
            break
    missing = [f for f in required if best is None or f not in best[2]]
    wanted = "; ".join(" or ".join(repr(n) for n in mapping.columns.get(f, [f])) for f in missing)
    raise InputError(
        _(
            "{name}: no header row with the columns {wanted} in its first {n} rows; "
            "give --mapping FILE for another layout"
        ).format(name=path.name, wanted=wanted, n=HEADER_SEARCH_ROWS)
    )
