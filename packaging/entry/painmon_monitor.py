"""The bundle's `painmon-monitor`: the bedside window (`painmon live`), started from the desktop
menu, the autostart entry or the service, without a console window."""

import sys

from monitor.cli import main

if __name__ == "__main__":
    sys.exit(main(["live", *sys.argv[1:]]))
