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

from schemas.i18n import Lang, _
from streams.errors import InputError, WelfareMonitorError
from streams.storage.base import Store
from streams.web.live_data import _PERIOD, PageParams, run_panel, snapshot
from streams.web.live_page import render_page

PDF_TIMEOUT_S = 120


class PdfError(WelfareMonitorError):
    """Chromium is missing or could not print the report."""


@dataclass(frozen=True)
class Scope:
    """What a report covers: everything, one province (by code) or one commune (by code)."""

    period: str | None = None
    province: int | None = None
    commune: int | None = None


def _code(value: str | None, message: str) -> int | None:
    if value is None:
        return None
    if not (value.isascii() and value.isdigit()):
        raise InputError(message.format(value=value))
    return int(value)


def parse_scope(period: str | None, province: str | None, commune: str | None) -> Scope:
    """The report's scope from the CLI's strings; InputError for a malformed value."""
    if province is not None and commune is not None:
        raise InputError(_("give --province or --commune, not both"))
    if period is not None and not _PERIOD.match(period):
        raise InputError(
            _("the period must look like 2023-06 (YYYY-MM), not {value}").format(value=period)
        )
    return Scope(
        period,
        _code(province, _("--province takes a province code (a number), not {value}")),
        _code(commune, _("--commune takes a commune code (a number), not {value}")),
    )


def report_data(store: Store, scope: Scope, lang: Lang) -> dict[str, Any]:
    """The snapshot of `scope`, narrowed to it; InputError when it has no data."""
    periods = [r["period"] for r in run_panel(store, "trend", PageParams())]
    if not periods:
        raise InputError(_("there are no statistics yet: run the pipeline first"))
    if scope.period and scope.period not in periods:
        raise InputError(
            _("no data for period {period}; periods with data: {periods}").format(
                period=scope.period, periods=", ".join(periods)
            )
        )
    data = snapshot(store, PageParams(period=scope.period, commune=scope.commune))
    panels = data["panels"]
    if scope.province is not None:
        provinces = {r["province_code"]: r for r in panels.get("province_stats", [])}
        row = provinces.get(scope.province)
        if row is None:
            raise InputError(
                _(
                    "no data for province {province} in {period}; provinces with data: {codes}"
                ).format(
                    province=scope.province,
                    period=data["period"],
                    codes=", ".join(str(c) for c in sorted(provinces)),
                )
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
                _(
                    "no data for commune {commune} in {period}: check the commune "
                    "code (`export coverage` lists them)"
                ).format(commune=scope.commune, period=data["period"])
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
        raise PdfError(_("report --pdf needs Chromium: `make tools` installs it (Debian chromium)"))
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
            raise PdfError(
                _("Chromium did not print {path} within {seconds} s").format(
                    path=html_path, seconds=PDF_TIMEOUT_S
                )
            ) from e
        except OSError as e:
            raise PdfError(
                _("cannot start Chromium ({binary}): {reason}").format(binary=binary, reason=e)
            ) from e
    if done.returncode != 0 or not pdf_path.is_file() or pdf_path.stat().st_size == 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise PdfError(
            _("Chromium could not print the report to {path}: {reason}").format(
                path=pdf_path, reason=last
            )
        )
