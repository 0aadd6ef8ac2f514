"""Wires the stages together: source -> faces -> scores -> signal and alarms -> store."""
