"""`python -m livedream` runs the command line."""

import sys

from livedream.cli import main

sys.exit(main())
