"""The course account's formgrader works on the course directory the hub names (TF2_COURSE),
whose own nbgrader_config.py the hub puts on the same config path (jupyterhub_config.py)."""

import os

c = get_config()  # noqa: F821 -- provided by nbgrader when it loads this file
c.CourseDirectory.root = os.environ["TF2_COURSE"]
