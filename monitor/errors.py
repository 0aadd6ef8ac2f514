"""Errors by kind: bad input a user can fix, and faults of the machine or a model at run time.

The two end differently. Bad input (a wrong setting, a file that is not a video) exits 2 and is
never restarted: starting again with the same input cannot succeed. A fault at run time (a GPU
error, a full disk) is contained where it can be (a technical alarm, monitoring goes on); one that
cannot be contained exits 1, which the service and `painmon supervise` restart.
"""

# Bad input: the service and `painmon supervise` do not restart on it.
EXIT_BAD_INPUT = 2
# A fault that monitoring could not contain: the supervisor restarts the monitor.
EXIT_FAULT = 1
# No display for a window (yet): unlike bad input, worth another try, e.g. at login before the
# desktop is up; the supervisor restarts on it after its delay.
EXIT_NO_DISPLAY = 3


class MonitorError(Exception):
    """Bad input or environment, explained in words a user can act on."""

    exit_code = EXIT_BAD_INPUT


class RuntimeFault(Exception):
    """A fault of the machine or a model while running (not the user's input), in one line."""

    exit_code = EXIT_FAULT


# What a model call raises when the machine fails under it: torch raises RuntimeError for device
# faults (CUDA errors, out of memory), the scorers a RuntimeFault for impossible outputs.
MODEL_FAULTS = (RuntimeFault, RuntimeError)
