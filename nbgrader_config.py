"""nbgrader settings for the course: solutions/ is the source, course/ the release."""

from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, ClearHiddenTests,
                                    ClearOutput, DeduplicateIds, GetGrades, IgnorePattern,
                                    LimitOutput, OverwriteCells, OverwriteKernelspec)

from grader.late import LatePolicy
from grader.preprocessors import (FEEDBACK_TEMPLATE, FEEDBACK_TEMPLATE_DIRS, DropBadGradeMetadata,
                                  GuardedExecute, SanitiseFeedback, SaveAutoGradesAtOnce,
                                  ShortTestTracebacks)

c = get_config()  # noqa: F821 -- provided by nbgrader when it loads this file

c.CourseDirectory.course_id = "tf2-course"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "course"
# The gradebook defaults to SQLite beside this file; a large class can set
# c.CourseDirectory.db_url = "postgresql://user@host/gradebook" (pip install -e '.[postgres]')

# TensorFlow needs about 5 s to import and build a first model: allow for it.
c.Execute.timeout = 120
c.Execute.startup_timeout = 120
c.Execute.interrupt_on_timeout = True

# Execute submissions with grader.preprocessors.GuardedExecute: a cell that kills the
# kernel or ignores interrupts costs only the cells after it, and before each test cell the
# check helpers and numpy are restored and warnings silenced (see grader/kernel_guard.py).
# `python -m grader` records grades with this same pipeline, GuardedExecute swapped for
# grader.preprocessors.ReplayOutputs (see grader/config.py). SaveAutoGradesAtOnce writes each
# notebook's scores in one transaction, so a gradebook server lost halfway leaves none.
c.Autograde.autograde_preprocessors = [GuardedExecute, IgnorePattern, ClearMetadataPreprocessor,
                                       LimitOutput, SaveAutoGradesAtOnce, AssignLatePenalties,
                                       CheckCellMetadata]
# Each module is restored with every module below it (numpy._core..., helpers.checks).
c.GuardedExecute.guarded_modules = ["builtins", "math", "operator", "numpy", "numpy.testing",
                                    "helpers"]
c.GuardedExecute.guarded_aliases = {"np": "numpy", "helpers": "helpers", "checks": "helpers.checks"}

# Late submissions (grader/late.py): nbgrader compares each submission's timestamp with its
# assignment's due date (plus any extension given with `nbgrader db`), and LatePolicy takes
# points_per_day off each notebook per started day late. Set the due dates for your term:
#   c.LatePolicy.due_dates = {"week1_sequential": "2026-10-09 17:00:00 Europe/London"}
# An assignment with no due date is never late.
c.AssignLatePenalties.plugin_class = LatePolicy
c.LatePolicy.due_dates = {}
c.LatePolicy.points_per_day = 2

# Folders a notebook writes while it runs are not part of the release.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "week3_work"]

# A submission that deleted a graded cell, or renamed its grade id, gets it back (and
# scores it as the original); DropBadGradeMetadata avoids nbgrader 0.9.6's crashes on a
# renamed or duplicated grade id.
c.OverwriteCells.add_missing_cells = True
c.Autograde.sanitize_preprocessors = [ClearOutput, DropBadGradeMetadata, DeduplicateIds,
                                      OverwriteKernelspec, OverwriteCells, CheckCellMetadata]

# Feedback shows scores and visible tests, never the hidden ones: not in the cells, and not
# in the lines a traceback quotes.
# Feedback HTML holds what students wrote and printed: scripts, event handlers and
# javascript: links in it are escaped or removed, so none runs in the instructor's browser.
c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, ShortTestTracebacks,
                                    SanitiseFeedback, CSSHTMLHeaderPreprocessor]
c.HTMLExporter.sanitize_html = True
# Feedback opens offline, as the class report does: no MathJax script from a CDN. Set for
# generate_feedback's exporter only: the formgrader's exporter must keep its own template.
c.GenerateFeedback.HTMLExporter.template_name = FEEDBACK_TEMPLATE
c.GenerateFeedback.HTMLExporter.extra_template_basedirs = FEEDBACK_TEMPLATE_DIRS
