"""`welfare-monitor report`: HTML that reads without scripts, and its PDF, in vi and en.

The figures are checked against the simulator's ground truth of the alerts-drill run (sent
with duplicates, reordering, malformed lines and redelivery through the real broker). The PDF
is printed by headless Chromium and read back with pdftotext (Debian poppler-utils).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from schemas.i18n import Lang
from streams.cli.main import main
from tests.support.html_text import visible_text
from tests.support.runs import Run

pytestmark = pytest.mark.integration

FIRST_PAGE = {
    "vi": [
        "Chi trả an sinh xã hội không dùng tiền mặt",
        "Kỳ 06/2023",
        "lập lúc",
        "dữ liệu đến",
        "đối tượng nhận không dùng tiền mặt / đối tượng phải chi trả",
    ],
    "en": [
        "Cashless welfare payments",
        "Period 2023-06",
        "generated",
        "data up to",
        "beneficiaries paid cashless / beneficiaries due",
    ],
}
TABLE_TITLE = {"vi": "Các xã", "en": "Communes"}


def pdf_text(pdf: Path, first_page_only: bool = False) -> str:
    tool = shutil.which("pdftotext")
    assert tool, "pdftotext is missing: `make tools` installs Debian poppler-utils"
    pages = ["-f", "1", "-l", "1"] if first_page_only else []
    done = subprocess.run(
        [tool, "-layout", *pages, str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout


def collapse(text: str) -> str:
    return " ".join(text.split())


def june(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if r["period"] == "2023-06"]


def commune_rows(lang: Lang, communes: list[dict[str, Any]]) -> list[str]:
    """Each commune's row as its cells read: code, due, paid, cashless, rate."""
    return [
        f"{c['commune_code']} {lang.number(c['beneficiaries_due'])} "
        f"{lang.number(c['beneficiaries_paid'])} {lang.number(c['beneficiaries_paid_cashless'])} "
        f"{lang.percent(c['beneficiaries_paid_cashless'] / c['beneficiaries_due'])}"
        for c in communes
    ]


def report(run: Run, out: Path, *args: str) -> int:
    """`welfare-monitor report --data-dir RUN --out OUT [ARGS]`; its exit code."""
    return main(["report", "--data-dir", str(run.data_dir), "--out", str(out), *args])


@pytest.mark.parametrize("code", ["vi", "en"])
def test_the_report_and_its_pdf_read_without_scripts(
    drill_run: Run, tmp_path: Path, code: str, capsys: pytest.CaptureFixture[str]
) -> None:
    html_path, pdf_path = tmp_path / "report.html", tmp_path / "report.pdf"
    assert report(drill_run, html_path, "--pdf", str(pdf_path), "--lang", code) == 0
    lang, truth = Lang(code), drill_run.truth
    total = june(truth["periods"])[0]
    headline = lang.counts(total["beneficiaries_paid_cashless"], total["beneficiaries_due"])
    rows = commune_rows(lang, june(truth["communes"]))
    said = capsys.readouterr().out
    assert f"{len(rows)} " + ("xã" if code == "vi" else "communes") in said

    html_text = visible_text(html_path.read_text(encoding="utf-8"))
    pdf_all, pdf_first = collapse(pdf_text(pdf_path)), collapse(pdf_text(pdf_path, True))
    for text in (html_text, pdf_all):
        assert headline in text
        assert TABLE_TITLE[code] in text
        missing = [row for row in rows if row not in text]
        assert not missing, f"commune rows missing: {missing[:3]}"
    for piece in [headline, *FIRST_PAGE[code]]:
        assert piece in pdf_first, piece
    other = "en" if code == "vi" else "vi"
    assert (
        Lang(other).counts(total["beneficiaries_paid_cashless"], total["beneficiaries_due"])
        not in html_text
    )


def test_a_report_per_province_and_per_commune(drill_run: Run, tmp_path: Path) -> None:
    truth, lang = drill_run.truth, Lang("vi")
    province = june(truth["provinces"])[0]
    out = tmp_path / "province.html"
    assert (
        report(drill_run, out, "--province", str(province["province_code"]), "--period", "2023-06")
        == 0
    )
    text = visible_text(out.read_text(encoding="utf-8"))
    assert (
        lang.counts(province["beneficiaries_paid_cashless"], province["beneficiaries_due"]) in text
    )
    communes = [
        c for c in june(truth["communes"]) if c["province_code"] == province["province_code"]
    ]
    assert all(row in text for row in commune_rows(lang, communes))

    commune = min(june(truth["communes"]), key=lambda c: c["commune_code"])
    out = tmp_path / "commune.html"
    assert report(drill_run, out, "--commune", str(commune["commune_code"]), "--lang", "en") == 0
    text = visible_text(out.read_text(encoding="utf-8"))
    english = Lang("en")
    assert (
        english.counts(commune["beneficiaries_paid_cashless"], commune["beneficiaries_due"]) in text
    )
    assert commune_rows(english, [commune])[0] in text
    others = [c for c in june(truth["communes"]) if c["commune_code"] != commune["commune_code"]]
    assert not any(row in text for row in commune_rows(english, others))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--period", "2031-01"],
            "lỗi: không có số liệu cho kỳ 2031-01; các kỳ có số liệu: 2023-05",
        ),
        (["--period", "2031-01", "--lang", "en"], "error: no data for period 2031-01; periods"),
        (["--period", "June"], "kỳ phải có dạng 2023-06 (YYYY-MM), không phải June"),
        (["--province", "99"], "không có số liệu của tỉnh 99 trong kỳ 2023-06"),
        (["--commune", "99999"], "không có số liệu của xã 99999"),
        (["--commune", "xã"], "--commune cần mã xã"),
        (["--province", "11", "--commune", "3127", "--lang", "en"], "not both"),
    ],
)
def test_bad_report_arguments_are_one_line_errors(
    drill_run: Run,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    out = tmp_path / "r.html"
    assert report(drill_run, out, *args) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not out.exists()
