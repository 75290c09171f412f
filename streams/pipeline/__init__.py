"""Faust wiring around the domain rules: the app, the agent, the worker."""
