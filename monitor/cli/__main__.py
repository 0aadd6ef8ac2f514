"""`python -m monitor.cli`, as the supervisor and the tests start the monitor."""

import sys

from monitor.cli import main

sys.exit(main())
