"""Exceptions of the streams package: narrow subclasses of the project's one root
(`schemas.errors.WelfareMonitorError`, re-exported here); messages say what to do."""

# The project's root, defined in schemas/errors.py and re-exported for the pipeline's code.
from schemas.errors import WelfareMonitorError as WelfareMonitorError


class ConfigurationError(WelfareMonitorError):
    """Settings are missing or contradict each other."""


class BrokerError(WelfareMonitorError):
    """The Kafka broker cannot be started, reached or used."""


class StorageError(WelfareMonitorError):
    """ClickHouse (server or chDB) cannot be reached or refused a statement."""


class MigrationError(StorageError):
    """A DDL file failed to apply."""


class InputError(WelfareMonitorError):
    """An input file cannot be read or is not JSON lines."""


class ContractError(WelfareMonitorError):
    """An event contract (JSON Schema file) is missing or invalid."""


class PipelineError(WelfareMonitorError):
    """The embedded pipeline failed: a child process died or did not finish in time."""


class IngestHelperFailed(PipelineError):
    """An ingest helper process died; the worker stops so the batch is read again."""
