"""One error type for problems a user can fix: the CLI prints its message as one line."""


class MonitorError(Exception):
    """Bad input or environment, explained in words a user can act on."""

    exit_code = 2  # EXIT_BAD_INPUT


# The exit status for a MonitorError: the service and `painmon supervise` do not restart on it,
# since starting again with the same wrong setting cannot succeed.
EXIT_BAD_INPUT = 2
# No display for a window (yet): unlike bad input, worth another try, e.g. at login before the
# desktop is up; the supervisor restarts on it after its delay.
EXIT_NO_DISPLAY = 3
