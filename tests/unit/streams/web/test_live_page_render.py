"""The page and report are rendered on the server: every figure is in the markup itself."""

from __future__ import annotations

from typing import Any

import pytest

from schemas.i18n import Lang
from streams.web.live_page import render_content, render_page
from tests.support.html_text import visible_text

SNAPSHOT: dict[str, Any] = {
    "period": "2023-06",
    "generated_at": "2023-06-20T09:30:00+00:00",
    "panels": {
        "nation_stat": [{"paid_cashless": 142, "due": 127_450, "cashless_rate": 142 / 127_450}],
        "province_stats": [
            {
                "province_code": 52,
                "province": "Bình Định",
                "paid_cashless": 142,
                "due": 127_450,
                "cashless_rate": 142 / 127_450,
            }
        ],
        "commune_table": [
            {
                "commune": "Xã An Nhơn",
                "province": "Bình Định",
                "commune_code": 21_574,
                "due": 1_250,
                "paid": 1_200,
                "paid_cashless": 12,
                "cashless_rate": 0.0096,
            },
            {
                "commune": "<b>Xã</b>",
                "province": "Bình Định",
                "commune_code": 21_575,
                "due": 40,
                "paid": 40,
                "paid_cashless": 0,
                "cashless_rate": 0.0,
            },
        ],
        "trend": [
            {"period": "2023-05", "cashless_rate": 0.0008},
            {"period": "2023-06", "cashless_rate": 142 / 127_450},
        ],
        "channel_mix": [
            {"channel": "bank_account", "payments": 100},
            {"channel": "post_office_cash", "payments": 120_000},
        ],
        "freshness": [
            {
                "latest_event_at": "2023-06-20 09:29:58",
                "events": 3_000_000,
                "dead_letters": 7,
                "last_health_row": "2023-06-20 09:30:00",
            }
        ],
    },
}


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (
            "vi",
            [
                "142 / 127.450 (0,11%)",
                "Kỳ 06/2023",
                "09:30:00 20/06/2023 UTC",
                "dữ liệu đến 09:29:58 20/06/2023 UTC",
                "Xã An Nhơn",
                "1.250",
                "0,96%",
                "tiền mặt qua bưu điện 120.000",
                "Các xã",
                "báo cáo tĩnh",
            ],
        ),
        (
            "en",
            [
                "142 / 127,450 (0.11%)",
                "Period 2023-06",
                "2023-06-20 09:30:00 UTC",
                "data up to 2023-06-20 09:29:58 UTC",
                "Xã An Nhơn",
                "1,250",
                "0.96%",
                "cash at the post office 120,000",
                "Communes",
                "static report",
            ],
        ),
    ],
)
def test_the_report_reads_without_scripts(code: str, expected: list[str]) -> None:
    page = render_page(SNAPSHOT, live=False, lang=Lang(code))
    text = visible_text(page)
    for piece in expected:
        assert piece in text, (piece, text[:600])
    assert f'<html lang="{code}">' in page
    assert "fetch(" not in page and "http://" not in page and "https://" not in page


def test_the_commune_table_has_a_row_per_commune_with_raw_sort_values() -> None:
    page = render_page(SNAPSHOT, live=False, lang=Lang("vi"))
    body = page.split('id="communes"')[1].split("</tbody>")[0]
    assert body.count("<tr>") == 1 + 2  # the header row and one per commune
    assert 'data-v="1250">1.250<' in body
    assert "<b>Xã</b>" not in page and "&lt;b&gt;Xã&lt;/b&gt;" in page


def test_the_live_page_polls_and_offers_the_other_language() -> None:
    page = render_page(SNAPSHOT, live=True, lang=Lang("vi"), query={"period": "2023-06"})
    assert "fetch('/fragment'" in page
    assert 'href="?period=2023-06&amp;lang=en"' in page
    fragment = render_content(SNAPSHOT, Lang("en"), live=True, query={})
    assert fragment.startswith("<header>") and 'href="?lang=vi"' in fragment
    assert "142 / 127,450 (0.11%)" in fragment


def test_an_empty_page_says_there_is_no_data_yet() -> None:
    text = visible_text(render_page(None, live=True, lang=Lang("vi")))
    assert "chưa có dữ liệu" in text and "– / – (–)" in text


def test_the_page_language_comes_from_lang_and_is_validated() -> None:
    from streams.errors import InputError
    from streams.web.views import page_language

    lang, rest = page_language({"lang": "en", "period": "2023-06"}, "vi")
    assert lang == Lang("en") and rest == {"period": "2023-06"}
    assert page_language({}, "vi")[0] == Lang("vi")
    with pytest.raises(InputError, match="language must be one of vi, en"):
        page_language({"lang": "fr"}, "vi")
