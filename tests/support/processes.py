"""Processes as the tests see them, read from /proc on their own (not through the code under
test: `streams.harness.bench` has its own reading, for its measurements)."""

from __future__ import annotations

from pathlib import Path


def children_of(pid: int) -> set[int]:
    """Direct children of `pid`, from /proc."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.add(int(entry.name))
    return found
