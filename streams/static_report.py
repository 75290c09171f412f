"""`welfare-monitor report`: the static report, as HTML and (through headless Chromium) PDF.

Per province or for one commune, in the chosen language, with the period, the generation
time and the data's freshness at the top of the first page. The figures are the live page's
(the same panel SQL), rendered on the server.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from streams.errors import InputError, WelfareMonitorError
from streams.i18n import Lang
from streams.live_data import PageParams, run_panel, snapshot
from streams.live_page import render_page
from streams.storage.base import Store

PDF_TIMEOUT_S = 120


class PdfError(WelfareMonitorError):
    """Chromium is missing or could not print the report."""


@dataclass(frozen=True)
class Scope:
    """What a report covers: everything, one province (by code) or one commune (by code)."""

    period: str | None = None
    province: int | None = None
    commune: int | None = None


def _code(value: str | None, what: str) -> int | None:
    if value is None:
        return None
    if not value.isdigit():
        raise InputError(f"{what} must be a {what} code (a number), not {value!r}")
    return int(value)


def parse_scope(period: str | None, province: str | None, commune: str | None) -> Scope:
    """The report's scope from the CLI's strings; InputError for a malformed value."""
    if province is not None and commune is not None:
        raise InputError("give --province or --commune, not both")
    PageParams.parse({"period": period} if period else {})  # the period's format
    return Scope(period, _code(province, "province"), _code(commune, "commune"))


def report_data(store: Store, scope: Scope, lang: Lang) -> dict[str, Any]:
    """The snapshot of `scope`, narrowed to it; InputError when it has no data."""
    periods = [r["period"] for r in run_panel(store, "trend", PageParams())]
    if not periods:
        raise InputError("there are no statistics yet: run the pipeline first")
    if scope.period and scope.period not in periods:
        raise InputError(
            f"no data for period {scope.period}; periods with data: {', '.join(periods)}"
        )
    data = snapshot(store, PageParams(period=scope.period, commune=scope.commune))
    panels = data["panels"]
    if scope.province is not None:
        provinces = {r["province_code"]: r for r in panels.get("province_stats", [])}
        row = provinces.get(scope.province)
        if row is None:
            raise InputError(
                f"no data for province {scope.province} in {data['period']}; "
                f"provinces: {', '.join(str(c) for c in sorted(provinces))}"
            )
        panels["province_stats"] = [row]
        panels["commune_table"] = [
            r for r in panels.get("commune_table", []) if r.get("province") == row["province"]
        ]
        panels["coverage_gaps"] = [
            r for r in panels.get("coverage_gaps", []) if r.get("province_code") == scope.province
        ]
        data["scope"] = {
            **row,
            "title": lang.gettext("province {name}").format(name=row["province"]),
        }
    elif scope.commune is not None:
        rows = [
            r for r in panels.get("commune_table", []) if r.get("commune_code") == scope.commune
        ]
        if not rows:
            raise InputError(
                f"no data for commune {scope.commune} in {data['period']}: "
                "check the commune code (`export coverage` lists them)"
            )
        panels["commune_table"] = rows
        panels["province_stats"] = []
        panels["coverage_gaps"] = [
            r for r in panels.get("coverage_gaps", []) if r.get("commune_code") == scope.commune
        ]
        data["scope"] = {**rows[0], "title": f"{rows[0]['commune']} ({rows[0]['province']})"}
    if data.get("scope"):
        codes = {r.get("commune_code") for r in panels["commune_table"]}
        names = {r.get("commune") for r in panels["commune_table"]}
        panels["commune_map"] = [
            r for r in panels.get("commune_map", []) if r.get("commune_name") in names
        ]
        panels["access_point_map"] = [
            r for r in panels.get("access_point_map", []) if r.get("commune_code") in codes
        ]
    return data


def render_report(store: Store, scope: Scope, lang: Lang) -> tuple[str, int]:
    """The report's HTML and the number of communes in its table."""
    data = report_data(store, scope, lang)
    return render_page(data, live=False, lang=lang), len(data["panels"]["commune_table"])


def print_pdf(html_path: Path, pdf_path: Path) -> None:
    """Print `html_path` to `pdf_path` with headless Chromium's print-to-PDF."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        raise PdfError("report --pdf needs Chromium: `make tools` installs it (Debian chromium)")
    pdf_path = pdf_path.resolve()
    with tempfile.TemporaryDirectory(prefix="welfare-pdf-") as profile:
        command = [
            binary,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-pdf-header-footer",
            f"--user-data-dir={profile}",
            f"--print-to-pdf={pdf_path}",
            html_path.resolve().as_uri(),
        ]
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=PDF_TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired as e:
            raise PdfError(f"Chromium did not print {html_path} within {PDF_TIMEOUT_S} s") from e
        except OSError as e:
            raise PdfError(f"cannot start Chromium ({binary}): {e}") from e
    if done.returncode != 0 or not pdf_path.is_file() or pdf_path.stat().st_size == 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise PdfError(f"Chromium could not print the report to {pdf_path}: {last}")
