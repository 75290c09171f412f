"""The `welfare-monitor` command line: one module per command group."""
