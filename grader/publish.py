"""Grading a class, phase 4: what the run leaves for the instructor and the students.

Feedback HTML for every graded student (for a run of named students, theirs only; without
hidden tests, sanitised), ``grades.csv``
(nbgrader's export), the summary (printed, and written as CSV) and the class report
(`grader.report`). A part that cannot be written is a problem of the run; it costs no grade.
"""

from __future__ import annotations

import csv
from pathlib import Path

from grader.outcome import Line
from grader.plan import Plan, nbgrader
from grader.report import write_assignment_report


def feedback_and_grades(plan: Plan, lines: tuple[Line, ...], only_these: bool = False) -> list[str]:
    """Feedback for every graded student (if any was; with ``only_these``, for the students
    of ``lines`` only) and grades.csv; return what went wrong."""
    problems = []
    if any(line.score is not None for line in lines):
        feedback = nbgrader(plan.layout.root, plan.env, "generate_feedback", plan.assignment,
                            "--force", *plan.notebook_option(), *_others_excluded(plan, lines, only_these),
                            log_path=plan.recording_log)
        if feedback.returncode != 0:
            problems.append(f"generate_feedback reported errors:\n{feedback.stderr[-2000:]}")
    export = nbgrader(plan.layout.root, plan.env, "export", log_path=plan.recording_log)
    if export.returncode != 0:
        problems.append(f"export failed:\n{export.stderr[-2000:]}")
    return problems


def _others_excluded(plan: Plan, lines: tuple[Line, ...], only_these: bool) -> list[str]:
    """nbgrader's option that leaves out every autograded student not in ``lines``."""
    if not only_these:
        return []
    graded = {line.student for line in lines}
    others = sorted(path.parent.name for path in
                    (plan.layout.root / plan.layout.autograded).glob(f"*/{plan.assignment}")
                    if path.parent.name not in graded)
    return [f"--CourseDirectory.student_id_exclude={','.join(others)}"] if others else []


def write_summary(lines: tuple[Line, ...], path: Path) -> None:
    """The summary as CSV, one row a student (the class report reads its seconds)."""
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "score", "max_score", "seconds", "peak_memory_mib", "status"])
        for line in lines:
            writer.writerow([line.student, line.score, line.max_score,
                             f"{line.outcome.seconds:.1f}",
                             f"{line.outcome.peak_memory_bytes / 2**20:.0f}", line.status])


def summary_table(plan: Plan, lines: tuple[Line, ...], seconds: float) -> str:
    """The table printed at the end of a run."""
    layout, failed = plan.layout, sum(1 for line in lines if line.failure)
    width = max([len(line.student) for line in lines] + [7])
    table = [f"{plan.assignment}: {len(lines) - failed} graded, {failed} failed, "
             f"in {seconds:.0f} s. Gradebook backup: {plan.backup}", "",
             f"{'student':<{width}}  {'score':>11}  {'seconds':>7}  status"]
    for line in lines:
        score = "-" if line.score is None else f"{line.score:g} / {line.max_score:g}"
        table.append(f"{line.student:<{width}}  {score:>11}  {line.outcome.seconds:7.1f}  "
                     f"{line.status}")
    by_hand = [line.student for line in lines if line.to_grade_by_hand]
    if by_hand:
        table += ["", f"Answers to grade by hand (formgrader > Manual Grading, then grade again "
                      f"to update grades and feedback): {', '.join(by_hand)}"]
    report = (layout.report_folder(plan.assignment) / "report.html").relative_to(layout.root)
    table += ["", f"Summary: {layout.summary_file(plan.assignment)}; grades: grades.csv; "
                  f"feedback: {layout.feedback}/; report: {report}"]
    return "\n".join(table)


def report(plan: Plan) -> list[str]:
    """The class report; return what went wrong (a report that cannot be written costs no grade)."""
    try:
        write_assignment_report(plan.config, plan.assignment)
    except Exception as error:
        return [f"the class report could not be written ({type(error).__name__}: {error})"]
    return []
