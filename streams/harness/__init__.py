"""Embedded broker and service, catch-up probe, verify, bench, test kit."""
