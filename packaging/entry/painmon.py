"""The bundle's `painmon`: every command, with a console (the one to use when debugging)."""

import sys

from monitor.cli import main

if __name__ == "__main__":
    sys.exit(main())
