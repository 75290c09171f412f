"""The terminal summaries (`demo`, `run`) in vi and en: both counts and the rate in each."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from rich.console import Console

from schemas import i18n
from streams.cli.render import headline, lowest_rate_table, nation_summary

ROW = {
    "province_code": 52,
    "province_name": "Bình Định",
    "period": "2023-06",
    "beneficiaries_paid_cashless": 142,
    "beneficiaries_due": 127_450,
}


@pytest.fixture
def language() -> Iterator[None]:
    previous = i18n.current().code
    yield
    i18n.use(previous)


def test_the_demo_headline_in_vietnamese(language: None) -> None:
    i18n.use("vi")
    assert headline(ROW) == (
        "Bình Định kỳ 06/2023: 142 / 127.450 đối tượng được chi trả không dùng tiền mặt (0,11%)"
    )


def test_the_demo_headline_in_english(language: None) -> None:
    i18n.use("en")
    assert headline(ROW, "Binh Dinh (former)") == (
        "Binh Dinh (former) 2023-06: 142 / 127,450 beneficiaries paid cashless (0.11%)"
    )


def test_tables_and_summaries_follow_the_language(language: None) -> None:
    commune = {**ROW, "commune_code": 21_574, "commune_name": "Xã A", "beneficiaries_paid": 120_001}
    nation = {
        "period": "2023-06",
        "payments_by_channel": {"bank_account": 100, "post_office_cash": 1_900},
        "failures_by_reason": {"name_mismatch": 1_200},
        "payments_returned": 3,
        "seconds_to_pay_p50": 86_400 * 2.5,
        "seconds_to_pay_p90": 86_400 * 4,
    }
    console = Console(width=140, record=True)
    i18n.use("vi")
    console.print(lowest_rate_table([commune]))
    table = console.export_text()
    assert "Phải chi trả" in table and "127.450" in table and "120.001" in table
    assert "0,11%" in table and "06/2023" in table
    assert nation_summary(nation) == [
        "Kỳ 06/2023, cơ cấu hình thức chi trả: tiền mặt qua bưu điện 1.900 (95,0%), "
        "chuyển khoản ngân hàng 100 (5,0%)",
        "Kỳ 06/2023, lần chi trả thất bại: sai tên 1.200; khoản chi bị hoàn trả: 3",
        "Kỳ 06/2023, thời gian từ lập lịch đến chi trả: trung vị 2,5 ngày, phân vị 90 4,0 ngày",
    ]
    i18n.use("en")
    assert nation_summary(nation)[0] == (
        "2023-06 channel mix: cash at the post office 1,900 (95.0%), bank account 100 (5.0%)"
    )
