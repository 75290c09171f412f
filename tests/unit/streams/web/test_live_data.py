import pytest

from streams.errors import InputError
from streams.web.live_data import PageParams


def test_good_parameters_parse() -> None:
    params = PageParams.parse(
        {"period": "2023-06", "programme": "elderly_allowance", "commune": "3127"}
    )
    assert params == PageParams("2023-06", "elderly_allowance", 3127)
    assert PageParams.parse({}) == PageParams()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"period": "2023-13"}, "period must look like"),
        ({"period": "2023-06' OR 1=1 --"}, "period must look like"),
        ({"programme": "x'); DROP TABLE alerts; --"}, "programme must be one of"),
        ({"commune": "1 OR 1=1"}, "commune must be a commune code"),
        ({"commune": "-5"}, "commune must be a commune code"),
        ({"province": "52"}, "unknown parameter"),
    ],
)
def test_bad_parameters_are_refused_with_a_message(query: dict[str, str], message: str) -> None:
    with pytest.raises(InputError, match=message):
        PageParams.parse(query)
