"""What a student's server knows of the course (the hub passes the values: jupyterhub_config.py).

Students see nbgrader's Assignment List only: the course id and where the exchange is. The
course's own nbgrader_config.py (solutions, gradebook, grading) stays with the course account.
"""

import os

c = get_config()  # noqa: F821 -- provided by nbgrader when it loads this file
c.CourseDirectory.course_id = os.environ["TF2_COURSE_ID"]
c.Exchange.root = os.environ["TF2_EXCHANGE_ROOT"]
