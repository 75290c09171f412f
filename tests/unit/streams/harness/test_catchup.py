"""`verify` waits for committed offsets at the log end and figures that stopped changing."""

from __future__ import annotations

import pytest

from streams.harness.catchup import Undecided, wait_until_caught_up
from streams.storage.queries import Results


def results(due: int) -> Results:
    return Results([{"period": "2023-06", "beneficiaries_due": due}], [], [], [], [], [], [])


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class Probe:
    def __init__(self, answers: list[tuple[int, int]]) -> None:
        self.answers = answers

    def offsets(self) -> tuple[int, int]:
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


def test_returns_once_offsets_are_at_the_end_and_figures_repeat() -> None:
    clock = Clock()
    reads = iter([results(1), results(2), results(3), results(3), results(3)])
    probe = Probe([(5, 10), (10, 10)])
    caught = wait_until_caught_up(lambda: next(reads), probe, 60, clock=clock, sleep=clock.sleep)
    assert caught.results == results(3)
    assert caught.offsets == (10, 10)
    assert caught.waited_s == 3.0


def test_lag_that_never_closes_is_undecided_with_the_counts() -> None:
    clock = Clock()
    with pytest.raises(Undecided, match="xác nhận 4/9 thông điệp"):
        wait_until_caught_up(lambda: results(1), Probe([(4, 9)]), 5, clock=clock, sleep=clock.sleep)


def test_figures_that_keep_changing_are_undecided() -> None:
    clock = Clock()
    counter = iter(range(1000))
    with pytest.raises(Undecided, match="vẫn còn thay đổi"):
        wait_until_caught_up(
            lambda: results(next(counter)), None, 5, clock=clock, sleep=clock.sleep
        )


def test_equal_figures_while_lagging_do_not_count_as_settled() -> None:
    clock = Clock()
    probe = Probe([(0, 3), (0, 3), (0, 3), (3, 3)])
    caught = wait_until_caught_up(lambda: results(7), probe, 60, clock=clock, sleep=clock.sleep)
    assert caught.waited_s == 4.0
