"""Writes the synthetic Vietnamese sample spreadsheets beside this file (CSV and .xlsx).

    python -m simulators.samples.make_samples

Everyone in them is invented: names from a short list, CCCDs built by simulators.cccd from
made-up serials. Three former Binh Dinh units (a ward, a mountain commune, a plain commune),
June 2023. The same rows go into the CSV and the .xlsx of each kind; the .xlsx has a title
line above the header, real dates and numbers, and some CCCDs typed as numbers (which drops
their leading zero, as Excel does). Rows meant to be rejected say so in "Ghi chú" ("SAI: ...").
"""

from __future__ import annotations

import csv
import random
from datetime import date, datetime
from pathlib import Path
from typing import Any

from simulators.cccd import make_cccd

HERE = Path(__file__).parent
COMMUNES = ((21583, "Phường Quy Nhơn", 14), (21609, "Xã An Lão", 10), (21952, "Xã Tuy Phước", 12))
NAMES = (
    "Nguyễn Văn An",
    "Trần Thị Bình",
    "Lê Văn Cường",
    "Phạm Thị Dung",
    "Hoàng Văn Em",
    "Võ Thị Hoa",
    "Đặng Văn Hùng",
    "Bùi Thị Lan",
    "Đinh Văn Minh",
    "Huỳnh Thị Nga",
)
PROGRAMMES = (("Trợ cấp xã hội", 500_000), ("Người có công", 2_055_000))
ROSTER_HEADERS = (
    "STT",
    "Họ và tên",
    "Số CCCD",
    "Mã xã",
    "Tên xã",
    "Chế độ",
    "Số tiền",
    "Hình thức chi trả",
    "Kỳ chi trả",
    "Ghi chú",
)
PAYMENT_HEADERS = (
    "STT",
    "Họ và tên",
    "Số CCCD",
    "Mã xã",
    "Tên xã",
    "Chế độ",
    "Số tiền",
    "Hình thức chi trả",
    "Ngày chi trả",
    "Lần chi trả",
    "Lý do",
    "Ghi chú",
)
ACCESS_HEADERS = (
    "Mã điểm",
    "Loại điểm",
    "Đơn vị",
    "Vĩ độ",
    "Kinh độ",
    "Mã xã",
    "Tên xã",
    "Ngày hoạt động",
    "Ghi chú",
)


def _money(amount: int) -> str:
    return f"{amount:,}".replace(",", ".")


def build() -> dict[str, tuple[tuple[str, ...], list[list[Any]]]]:
    """The sample tables: kind -> (headers, rows with Python values)."""
    rng = random.Random(2023_06)
    roster: list[list[Any]] = []
    payments: list[list[Any]] = []
    for commune, name, size in COMMUNES:
        urban = name.startswith("Phường")
        for i in range(size):
            cccd = make_cccd(
                52,
                rng.randint(1935, 1965),
                rng.random() < 0.55,
                (commune * 37 + i * 7919) % 1_000_000,
            )
            programme, amount = PROGRAMMES[0] if rng.random() < 0.75 else PROGRAMMES[1]
            cashless = rng.random() < (0.45 if urban else 0.12)
            planned = (
                ("Chuyển khoản" if rng.random() < 0.7 else "Ví điện tử")
                if cashless
                else ("Bưu điện" if rng.random() < 0.7 else "Tiền mặt")
            )
            person = rng.choice(NAMES)
            roster.append(
                [
                    len(roster) + 1,
                    person,
                    cccd,
                    commune,
                    name,
                    programme,
                    amount,
                    planned,
                    "06/2023",
                    "",
                ]
            )
            outcome = rng.random()
            day = date(2023, 6, rng.randint(8, 20))
            base = [person, cccd, commune, name, programme, amount]
            if outcome < 0.08:
                continue  # not paid (yet): due, no payment row
            if cashless and outcome < 0.25:
                payments.append(
                    [
                        len(payments) + 1,
                        *base,
                        planned,
                        day,
                        1,
                        rng.choice(("Sai số tài khoản", "Tài khoản đã đóng")),
                        "",
                    ]
                )
                payments.append(
                    [
                        len(payments) + 1,
                        *base,
                        "Bưu điện",
                        day.replace(day=day.day + 5),
                        2,
                        "",
                        "Chi tiền mặt thay thế",
                    ]
                )
                continue
            payments.append([len(payments) + 1, *base, planned, day, 1, "", ""])
    access: list[list[Any]] = []
    for commune, name, _ in COMMUNES:
        urban = name.startswith("Phường")
        lat, lon = {21583: (13.776, 109.223), 21609: (14.616, 108.887), 21952: (13.812, 109.094)}[
            commune
        ]
        kinds = (
            (
                ("ATM", "Vietcombank"),
                ("ATM", "Agribank"),
                ("Chi nhánh ngân hàng", "BIDV"),
                ("Đại lý Mobile Money", "Viettel Money"),
            )
            if urban
            else (("Bưu điện", "VNPost"), ("Đại lý Mobile Money", "Viettel Money"))
        )
        for n, (kind, operator) in enumerate(kinds):
            access.append(
                [
                    f"AP-{commune}-{n:02d}",
                    kind,
                    operator,
                    round(lat + 0.004 * n, 5),
                    round(lon - 0.003 * n, 5),
                    commune,
                    name,
                    date(2023, 1, 2 + n),
                    "",
                ]
            )
    return {
        "roster": (ROSTER_HEADERS, roster),
        "payments": (PAYMENT_HEADERS, payments),
        "access-points": (ACCESS_HEADERS, access),
    }


def bad_payments(payments: list[list[Any]]) -> list[list[Any]]:
    """Good rows plus one of each kind of mistake, marked "SAI" in Ghi chú."""
    good = [list(r) for r in payments[:6]]
    template = list(payments[0])
    mistakes = [
        (2, "12345678901", "SAI: CCCD 11 chữ số"),
        (7, "Séc", "SAI: hình thức chi trả không có"),
        (8, "31/02/2023", "SAI: ngày không có thật"),
        (6, "năm trăm", "SAI: số tiền"),
        (3, 99999, "SAI: mã xã không có"),
    ]
    rows = good[:3]
    for column, value, note in mistakes:
        row = list(template)
        row[column] = value
        row[-1] = note
        rows.append(row)
    rows += good[3:]
    duplicate = list(good[1])
    duplicate[-1] = "SAI: trùng dòng"
    rows.append(duplicate)
    for i, row in enumerate(rows):
        row[0] = i + 1
    return rows


def _csv_value(value: Any) -> str:
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, int) and value >= 100_000:
        return _money(value)
    return str(value)


def write_csv(path: Path, headers: tuple[str, ...], rows: list[list[Any]]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(headers)
        for row in rows:
            writer.writerow([_csv_value(v) for v in row])


def write_xlsx(path: Path, title: str, headers: tuple[str, ...], rows: list[list[Any]]) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Danh sách"
    sheet.append([title])
    sheet.append(list(headers))
    for n, row in enumerate(rows):
        values = list(row)
        if "Số CCCD" in headers and n % 3 == 0:
            index = headers.index("Số CCCD")
            values[index] = int(values[index])  # typed as a number: the leading 0 is lost
        sheet.append(values)
    for cell in sheet[2]:
        cell.style = "Headline 4"
    # Fixed metadata, so regenerating writes the same bytes.
    book.properties.creator = "welfare-monitor samples"
    book.properties.created = book.properties.modified = datetime(2023, 6, 20)
    book.save(path)


def main() -> None:
    tables = build()
    titles = {
        "roster": "DANH SÁCH CHI TRẢ TRỢ CẤP THÁNG 6/2023",
        "payments": "BÁO CÁO KẾT QUẢ CHI TRẢ THÁNG 6/2023",
        "access-points": "DANH SÁCH ATM VÀ ĐIỂM GIAO DỊCH",
    }
    for kind, (headers, rows) in tables.items():
        write_csv(HERE / f"{kind}.csv", headers, rows)
        write_xlsx(HERE / f"{kind}.xlsx", titles[kind], headers, rows)
    headers, rows = tables["payments"]
    write_csv(HERE / "payments-bad-rows.csv", headers, bad_payments(rows))


if __name__ == "__main__":
    main()
