"""``python -m grader ASSIGNMENT``: see `grader.run`."""

import sys

from grader.run import main

sys.exit(main())
