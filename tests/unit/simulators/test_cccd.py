import pytest

from simulators.cccd import century_gender_digit, make_cccd


def test_cccd_layout() -> None:
    assert make_cccd(52, 1948, female=True, serial=123) == "052148000123"
    assert make_cccd(1, 2010, female=False, serial=999_999) == "001210999999"


def test_century_gender_digit() -> None:
    assert [
        century_gender_digit(y, f)
        for y, f in [(1950, False), (1950, True), (2005, False), (2005, True)]
    ] == [0, 1, 2, 3]
    with pytest.raises(ValueError):
        century_gender_digit(1850, False)
