"""welfare-monitor stream processing: the Faust app, storage adapters and the CLI."""

__version__ = "0.1.0"
