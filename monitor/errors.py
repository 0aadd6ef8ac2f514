"""One error type for problems a user can fix: the CLI prints its message as one line."""


class MonitorError(Exception):
    """Bad input or environment, explained in words a user can act on."""
