"""The course's nbgrader settings, read from its ``nbgrader_config.py`` (the one place they live)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from nbgrader.preprocessors import Execute
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader
from traitlets.utils.importstring import import_item

from grader.late import parse_due_date
from grader.layout import CONFIG_FILE, CourseLayout



class ConfigError(Exception):
    """The course configuration holds a value the grader cannot use."""


def read_nbgrader_config(root: Path) -> Config:
    """The settings ``root/nbgrader_config.py`` makes, as nbgrader reads them."""
    return PyFileConfigLoader(CONFIG_FILE, path=str(root)).load_config()


def _import_name(item) -> str:
    return item if isinstance(item, str) else f"{item.__module__}.{item.__qualname__}"


@dataclass(frozen=True)
class CourseConfig:
    """What the grader needs from the course configuration."""

    root: Path
    course_id: str
    db_url: str
    autograde_preprocessors: tuple[str, ...]
    due_dates: dict[str, datetime]  # assignment -> due date (naive UTC), from LatePolicy
    layout: CourseLayout
    exchange_root: Path | None = None  # Exchange.root, where the course uses an exchange
    feedback_per_day: int = 3  # FeedbackOnSubmit.per_day: feedback a student gets a day (grader.serve)

    @classmethod
    def load(cls, root: Path) -> CourseConfig:
        root = root.resolve()
        if not (root / CONFIG_FILE).is_file():
            raise FileNotFoundError(f"no {CONFIG_FILE} in {root}: is it the course directory?")
        config = read_nbgrader_config(root)
        course = config.get("CourseDirectory", {})
        db_url = course.get("db_url") or f"sqlite:///{root / 'gradebook.db'}"
        steps = config.get("Autograde", {}).get("autograde_preprocessors", [])
        try:
            due_dates = {assignment: parse_due_date(assignment, text) for assignment, text
                         in config.get("LatePolicy", {}).get("due_dates", {}).items()}
        except ValueError as error:
            raise ConfigError(f"{root / CONFIG_FILE}: {error}") from None
        exchange = config.get("Exchange", {}).get("root")
        per_day = config.get("FeedbackOnSubmit", {}).get("per_day", cls.feedback_per_day)
        if not isinstance(per_day, int) or isinstance(per_day, bool) or per_day < 0:
            raise ConfigError(f"{root / CONFIG_FILE}: FeedbackOnSubmit.per_day should be a whole "
                              f"number of at least 0, got {per_day!r}")
        return cls(root, course.get("course_id", ""), db_url, tuple(map(_import_name, steps)),
                   due_dates, CourseLayout.from_config(root, config),
                   Path(exchange) if exchange else None, per_day)

    @property
    def sqlite_path(self) -> Path | None:
        """The gradebook file, if the gradebook is SQLite."""
        prefix = "sqlite:///"
        return Path(self.db_url[len(prefix):]) if self.db_url.startswith(prefix) else None

    def recording_preprocessors(self, replay: str) -> list[str]:
        """The autograde pipeline with ``replay`` in place of the step that executes."""
        steps = [replay if issubclass(import_item(name), Execute) else name
                 for name in self.autograde_preprocessors]
        if replay not in steps:
            raise ValueError(f"{CONFIG_FILE}: Autograde.autograde_preprocessors has no "
                             f"execute step to replace (got {steps})")
        return steps
