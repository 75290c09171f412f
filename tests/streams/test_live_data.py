import pytest

from streams.errors import InputError
from streams.live_data import PageParams
from streams.live_page import render_page


def test_good_parameters_parse() -> None:
    params = PageParams.parse({"period": "2023-06", "programme": "elderly_allowance",
                               "commune": "3127"})
    assert params == PageParams("2023-06", "elderly_allowance", 3127)
    assert PageParams.parse({}) == PageParams()


@pytest.mark.parametrize(("query", "message"), [
    ({"period": "2023-13"}, "period must look like"),
    ({"period": "2023-06' OR 1=1 --"}, "period must look like"),
    ({"programme": "x'); DROP TABLE alerts; --"}, "programme must be one of"),
    ({"commune": "1 OR 1=1"}, "commune must be a commune code"),
    ({"commune": "-5"}, "commune must be a commune code"),
    ({"province": "52"}, "unknown parameter"),
])
def test_bad_parameters_are_refused_with_a_message(query: dict[str, str], message: str) -> None:
    with pytest.raises(InputError, match=message):
        PageParams.parse(query)


def test_the_report_is_self_contained() -> None:
    page = render_page({"period": "2023-06", "generated_at": "now", "panels": {
        "nation_stat": [{"paid_cashless": 1, "due": 2, "cashless_rate": 0.5}]}}, live=False)
    assert "http://" not in page and "https://" not in page and "<script src" not in page
    assert "fetch(" not in page.split("</script>")[0].split("draw({")[-1]
    live = render_page(None, live=True)
    assert "/api/snapshot" in live


def test_embedded_data_cannot_close_the_script() -> None:
    page = render_page({"period": "</script><b>x", "generated_at": "", "panels": {}}, live=False)
    assert "</script><b>x" not in page
