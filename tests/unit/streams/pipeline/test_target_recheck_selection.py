"""Which commune-periods the periodic `behind_target` re-evaluation picks
(streams/pipeline/target_recheck.py): those whose applicable target (commune -> province ->
global) has a deadline inside the warning window or past, so a deadline coming near raises
the alert without any new event."""

from __future__ import annotations

from datetime import date

from streams.domain.statistics import CommuneId
from streams.pipeline.target_recheck import due_for_recheck, near_deadline
from streams.storage.target_rules import TargetBook, TargetRow


def _row(commune: int, deadline: date, start: str = "2023-01", end: str = "2023-12") -> TargetRow:
    return TargetRow(52, commune, start, end, 0.1, deadline, "unit", 1)


TODAY = date(2023, 10, 1)
OWN, PROVINCE, NONE = 21583, 21584, 0


def test_the_window_is_the_deadline_at_most_warn_days_away_or_past() -> None:
    rows = [_row(1, date(2023, 12, 30)), _row(2, date(2023, 12, 31)), _row(3, date(2023, 9, 1))]
    # 90 days from 2023-10-01 is 2023-12-30.
    assert [r.commune_code for r in near_deadline(rows, TODAY, 90)] == [1, 3]
    assert [r.commune_code for r in near_deadline(rows, TODAY, 91)] == [1, 2, 3]


def test_the_applicable_target_decides_not_any_target_of_the_province() -> None:
    """A commune with a target of its own far off is not picked, even though its province's
    target is near; a commune without one falls back to the province's; outside every
    target's periods only the global target applies, which has no deadline."""
    book = TargetBook([_row(0, date(2023, 11, 1)), _row(OWN, date(2024, 6, 30))])
    communes = [
        CommuneId("2023-06", 52, OWN),
        CommuneId("2023-06", 52, PROVINCE),
        CommuneId("2024-02", 52, PROVINCE),  # no target covers 2024-02
        CommuneId("2023-06", 53, 30001),  # another province, no target
    ]
    assert due_for_recheck(communes, book, 0.03, TODAY, 90) == [CommuneId("2023-06", 52, PROVINCE)]
    # Time passes: the commune's own deadline enters the window too.
    later = date(2024, 4, 15)
    assert due_for_recheck(communes, book, 0.03, later, 90) == [
        CommuneId("2023-06", 52, OWN),
        CommuneId("2023-06", 52, PROVINCE),
    ]
