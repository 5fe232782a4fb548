"""Where everything of a course lives: the one `CourseLayout`, derived from nbgrader's settings.

nbgrader's ``CourseDirectory`` names the folders it reads and writes (the course's
``nbgrader_config.py`` sets ``source_directory`` and ``release_directory``); the grader adds
its own outputs beside them. The grader, the class report, the integrity check, the
imports, the tests and the benchmark ask this class for a path instead of spelling one out;
``.gitignore`` and ``make clean`` list every output it names (tests/test_grader_units.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from nbgrader.coursedir import CourseDirectory
from traitlets.config import Config

CONFIG_FILE = "nbgrader_config.py"
GRADED_NOTEBOOK = "assignment"  # each week's graded notebook; the others are tutorials


@dataclass(frozen=True)
class CourseLayout:
    """The folders and files of the course at ``root``, as names relative to it."""

    root: Path
    source: str = "solutions"
    release: str = "course"
    submitted: str = "submitted"
    autograded: str = "autograded"
    feedback: str = "feedback"
    # The grader's own outputs, beside nbgrader's.
    logs: str = "grading-logs"
    reports: str = "reports"
    gradebook_backups: str = "gradebook-backups"
    submitted_backups: str = "submitted-backups"
    grader_data: str = "grader-data"  # held-out data only the grader has (grader.heldout)

    @classmethod
    def from_config(cls, root: Path, config: Config) -> CourseLayout:
        """The layout nbgrader uses for ``config`` (its defaults where the course sets none)."""
        folders = CourseDirectory(config=config)
        return cls(root, folders.source_directory, folders.release_directory,
                   folders.submitted_directory, folders.autograded_directory,
                   folders.feedback_directory)

    @classmethod
    def at(cls, root: Path) -> CourseLayout:
        """The layout of the course at ``root``: its ``nbgrader_config.py``'s if it has one."""
        from grader.config import read_nbgrader_config  # the config imports this module

        return cls.from_config(root, read_nbgrader_config(root) if (root / CONFIG_FILE).is_file()
                               else Config())

    @property
    def written_by_grading(self) -> tuple[str, ...]:
        """Top-level folders a grading run writes (nbgrader's and the grader's)."""
        return (self.autograded, self.feedback, self.logs, self.reports, self.gradebook_backups)

    @property
    def regenerated(self) -> tuple[str, ...]:
        """What grading again writes anew (folders, and patterns of top-level files):
        `make clean` removes these."""
        return (self.autograded, self.feedback, self.logs, self.reports, "grades.csv",
                "grades-*.csv", "grading-summary-*.csv")

    @property
    def outputs(self) -> tuple[str, ...]:
        """Everything the instructor's tools write, backups, students' files and the data only
        the grader has included: none of it belongs in the repository (.gitignore)."""
        return (*self.regenerated, self.gradebook_backups, self.submitted, self.submitted_backups,
                self.grader_data)

    # Files written at the top level: nbgrader's export, the platforms' exports, the summary.
    OUTPUT_FILES = re.compile(r"grades(-canvas|-moodle)?\.csv|grading-summary-.*\.csv")

    def assignments(self) -> list[str]:
        return sorted(path.name for path in (self.root / self.source).iterdir() if path.is_dir())

    def source_notebook(self, assignment: str, notebook: str = GRADED_NOTEBOOK) -> Path:
        return self.root / self.source / assignment / f"{notebook}.ipynb"

    def grader_data_folder(self, assignment: str) -> Path:
        """The data only the grader has for ``assignment``: never released, never committed."""
        return self.root / self.grader_data / assignment

    def release_folder(self, assignment: str) -> Path:
        return self.root / self.release / assignment

    def release_notebook(self, assignment: str, notebook: str = GRADED_NOTEBOOK) -> Path:
        return self.release_folder(assignment) / f"{notebook}.ipynb"

    def submission_folder(self, student: str, assignment: str) -> Path:
        return self.root / self.submitted / student / assignment

    def submission_folders(self, assignment: str) -> list[Path]:
        """Every ``submitted/<student>/<assignment>`` folder, sorted by student."""
        return sorted(path for path in (self.root / self.submitted).glob(f"*/{assignment}")
                      if path.is_dir())

    def autograded_notebook(self, student: str, assignment: str,
                            notebook: str = GRADED_NOTEBOOK) -> Path:
        return self.root / self.autograded / student / assignment / f"{notebook}.ipynb"

    def feedback_page(self, student: str, assignment: str, notebook: str = GRADED_NOTEBOOK) -> Path:
        return self.root / self.feedback / student / assignment / f"{notebook}.html"

    def log(self, assignment: str, student: str) -> Path:
        """nbgrader's output while it graded ``student``'s submission in its sandbox."""
        return self.root / self.logs / assignment / f"{student}.log"

    def recording_log(self, assignment: str) -> Path:
        """nbgrader's output while it recorded the run's grades, feedback and export."""
        return self.root / self.logs / assignment / "_recording.log"  # no student id starts with _

    def report_folder(self, name: str) -> Path:
        """``reports/<assignment>``, or ``reports/progress`` for the whole course."""
        return self.root / self.reports / name

    def summary_file(self, assignment: str) -> Path:
        return self.root / f"grading-summary-{assignment}.csv"
