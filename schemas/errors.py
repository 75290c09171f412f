"""The project's one root exception.

It lives in `schemas/`, the bottom layer every package may import (contracts, DDL, reference
data), so that `streams`, `dashboards` and `simulators` share one root without importing each
other. `streams.errors` re-exports it beside the pipeline's own subclasses; the CLI turns any
of them into one line and exit code 1.
"""


class WelfareMonitorError(Exception):
    """Root of every error the project raises on purpose; messages say what to do."""
