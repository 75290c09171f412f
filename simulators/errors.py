"""Exceptions of the simulators package, under the project's one root."""

from schemas.errors import WelfareMonitorError


class SimulatorError(WelfareMonitorError):
    """Root of every error the simulators raise on purpose."""


class UnknownScenarioError(SimulatorError):
    """No scenario file has that name."""


class ScenarioFileError(SimulatorError):
    """A scenario file is malformed or names units that do not exist."""
