"""Errors of the dashboards package."""

from __future__ import annotations

from schemas.errors import WelfareMonitorError


class DashboardError(WelfareMonitorError):
    """A dashboard could not be built, expanded or pushed."""


class GrafanaUnreachable(DashboardError):
    """Grafana did not answer."""


class GrafanaAuthError(DashboardError):
    """Grafana refused the credentials."""
