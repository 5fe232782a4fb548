"""What the tests and the benchmark share, outside the installed packages (it needs the checkout).

`testkit.course`: a throwaway copy of the course that can be made, answered, submitted,
graded and read back. `testkit.small_class`: the three-student class several tests grade.
`testkit.servers`: PostgreSQL and free ports. `testkit.browser`: JupyterLab in Chromium.
"""
