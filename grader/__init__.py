"""Grading that survives anything a student submits: ``python -m grader ASSIGNMENT``.

`grader.run` grades a class in phases that pass values: `grader.plan` (what the run
grades), `grader.dispatch` (each submission graded by `grader.grade_one` in its sandbox,
into a frozen `grader.outcome.Outcome`), `grader.record` (the gradebook) and
`grader.publish` (feedback, grades, summary, report). `grader.layout` names every folder of
the course; `grader.sandbox` and `grader.jail` run one submission under limits;
`grader.submissions` reads what students handed in; `grader.integrity` undoes changes
outside the sandbox; `grader.preprocessors` and `grader.kernel_guard` harden nbgrader's
execution of a notebook.
"""
