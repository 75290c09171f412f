"""Exceptions of the simulators package, under the project's one root."""

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from schemas.errors import WelfareMonitorError


class SimulatorError(WelfareMonitorError):
    """Root of every error the simulators raise on purpose."""


class UnknownScenarioError(SimulatorError):
    """No scenario file has that name."""


class ScenarioFileError(SimulatorError):
    """A scenario file is malformed or names units that do not exist.

    `problems` (simulators.scenario_check.Problem) and `path` let the CLI say the same in the
    user's language (streams/cli/scenario_text.py); the message itself is English."""

    def __init__(self, message: str, problems: Sequence[Any] = (), path: Path | None = None):
        super().__init__(message)
        self.problems = tuple(problems)
        self.path = path
