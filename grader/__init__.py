"""Grading that survives anything a student submits: ``python -m grader ASSIGNMENT``.

`grader.run` grades a class, `grader.sandbox` runs one submission under limits,
`grader.submissions` reads what students handed in, `grader.integrity` undoes changes
outside the sandbox, `grader.preprocessors` and `grader.kernel_guard` harden nbgrader's
execution of a notebook.
"""
