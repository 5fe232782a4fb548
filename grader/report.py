"""Where a class struggled: ``python -m grader.report [ASSIGNMENT]`` (``make report``).

With an assignment (and after every ``make grade``): ``reports/<assignment>/report.html``,
one self-contained page with its figures embedded, and the figures as PNG beside it. It shows
the score distribution, each exercise's mean and share of full marks, the commonest failing
check messages per exercise (read from the executed notebooks: what the checks printed,
never a test's source), the seconds each submission took, every failure with its reason
and log, and pairs of students whose answers are unusually alike (`grader.similarity`).
Without one: ``reports/progress/report.html``, each student's score in every graded
assignment. Everything is read from the gradebook, ``autograded/``, ``submitted/`` and the
run's summary.
"""

from __future__ import annotations

import argparse
import base64
import csv
import html
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402
import nbformat  # noqa: E402
from nbgrader.api import Gradebook  # noqa: E402

from grader.config import CourseConfig  # noqa: E402
from grader.export import final_score, read_grades  # noqa: E402
from grader.similarity import similarity_section  # noqa: E402

TOP_MESSAGES = 3  # failing messages listed per exercise
MESSAGE_CHARACTERS = 160


@dataclass
class Exercise:
    """One graded test cell across the class."""

    notebook: str
    name: str
    max_score: float
    scores: list[float] = field(default_factory=list)
    messages: Counter = field(default_factory=Counter)  # failing check message -> students

    @property
    def mean(self) -> float:
        return sum(self.scores) / len(self.scores) if self.scores else 0.0

    @property
    def full_marks(self) -> float:
        """The share of students with full marks."""
        return sum(score >= self.max_score for score in self.scores) / len(self.scores) if self.scores else 0.0


@dataclass
class ClassResults:
    """An assignment's recorded grades, what failed and how long grading took."""

    assignment: str
    max_score: float
    scores: dict[str, float]  # student -> score after any late penalty
    exercises: list[Exercise]
    summary: list[dict[str, str]]  # rows of grading-summary-<assignment>.csv, if present


def failing_message(output: nbformat.NotebookNode) -> str:
    """``ename: first line of evalue``, shortened: what a check said, not where."""
    first = (output.get("evalue") or "").strip().splitlines()
    text = f"{output.get('ename', 'Error')}: {first[0]}" if first else output.get("ename", "Error")
    return text if len(text) <= MESSAGE_CHARACTERS else text[:MESSAGE_CHARACTERS - 1] + "…"


def read_results(config: CourseConfig, assignment: str) -> ClassResults:
    with Gradebook(config.db_url, course_id=config.course_id) as gradebook:
        found = gradebook.find_assignment(assignment)
        exercises = {(notebook.name, cell.name): Exercise(notebook.name, cell.name, cell.max_score)
                     for notebook in found.notebooks for cell in notebook.grade_cells}
        scores = {}
        for submission in gradebook.assignment_submissions(assignment):
            scores[submission.student.id] = final_score(submission)
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    exercises[notebook.name, grade.name].scores.append(grade.score)
        max_score = found.max_score
    for notebook in {notebook for notebook, _ in exercises}:
        for student in scores:
            path = config.layout.autograded_notebook(student, assignment, notebook)
            for name, message in _failing_messages(path).items():
                if (notebook, name) in exercises:
                    exercises[notebook, name].messages[message] += 1
    summary_path = config.layout.summary_file(assignment)
    summary = []
    if summary_path.is_file():
        with open(summary_path, newline="") as handle:
            summary = list(csv.DictReader(handle))
    ordered = sorted(exercises.values(), key=lambda exercise: exercise.notebook)
    return ClassResults(assignment, max_score, scores, ordered, summary)


def _failing_messages(path: Path) -> dict[str, str]:
    """grade id -> the message of the error a graded cell of an executed notebook ended with."""
    if not path.is_file():
        return {}
    found = {}
    for cell in nbformat.read(path, as_version=4).cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        errors = [output for output in cell.get("outputs", []) if output.output_type == "error"]
        if grade_id and errors:
            found[grade_id] = failing_message(errors[-1])
    return found


def _save(figure: plt.Figure, path: Path) -> Path:
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def score_figure(results: ClassResults, path: Path) -> Path:
    figure, ax = plt.subplots(figsize=(7, 3.5))
    ax.hist(list(results.scores.values()), bins=min(20, max(5, len(results.scores))),
            range=(0, results.max_score), color="#4878a8", edgecolor="white")
    ax.set(xlabel=f"score (of {results.max_score:g})", ylabel="students",
           title=f"{results.assignment}: scores of {len(results.scores)} students")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    return _save(figure, path)


def exercise_figure(results: ClassResults, path: Path) -> Path:
    names = [exercise.name.removesuffix("_tests") for exercise in results.exercises]
    positions = range(len(names))
    figure, ax = plt.subplots(figsize=(7, 0.45 * len(names) + 1.5))
    ax.barh([p + 0.2 for p in positions], [e.mean / e.max_score for e in results.exercises],
            height=0.4, label="mean score (share of its points)", color="#4878a8")
    ax.barh([p - 0.2 for p in positions], [e.full_marks for e in results.exercises],
            height=0.4, label="students with full marks", color="#e1812c")
    ax.set_yticks(list(positions), names)
    ax.invert_yaxis()
    ax.set(xlim=(0, 1), xlabel="share", title="Exercises")
    ax.legend(loc="lower right", fontsize="small")
    return _save(figure, path)


def seconds_figure(results: ClassResults, path: Path) -> Path:
    seconds = [float(row["seconds"]) for row in results.summary]
    figure, ax = plt.subplots(figsize=(7, 3))
    ax.hist(seconds, bins=min(20, max(5, len(seconds))), color="#6a9f58", edgecolor="white")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set(xlabel="seconds", ylabel="submissions",
           title=f"Grading time of the {len(seconds)} submissions of the last run")
    return _save(figure, path)


def _image(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(path.stem)}" src="data:image/png;base64,{data}">'


def _table(header: list[str], rows: list[list[object]]) -> str:
    head = "".join(f"<th>{html.escape(str(cell))}</th>" for cell in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in row) + "</tr>"
                   for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


STYLE = """body{font-family:system-ui,sans-serif;max-width:60em;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}pre{white-space:pre-wrap;font-size:.85em}mark{background:#ffe08a}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;
vertical-align:top}th{background:#f3f3f3}img{max-width:100%}.none{color:#777}"""


def _page(title: str, sections: list[str]) -> str:
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}"
            f"</title><style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
            + "".join(sections) + "</body></html>\n")


def write_assignment_report(config: CourseConfig, assignment: str) -> Path:
    """Write ``reports/<assignment>/report.html`` and its PNGs; return the page's path."""
    results = read_results(config, assignment)
    folder = config.layout.report_folder(assignment)
    folder.mkdir(parents=True, exist_ok=True)
    figures = [score_figure(results, folder / "scores.png"),
               exercise_figure(results, folder / "exercises.png")]
    if results.summary:
        figures.append(seconds_figure(results, folder / "seconds.png"))
    exercise_rows = [[e.notebook, e.name, f"{e.mean:.2f} / {e.max_score:g}", f"{e.full_marks:.0%}",
                      "; ".join(f"{message} ({count})" for message, count
                                in e.messages.most_common(TOP_MESSAGES)) or "none"]
                     for e in results.exercises]
    failures = [[row["student"], row["status"]] for row in results.summary
                if row["status"].startswith("failed")]
    mean = sum(results.scores.values()) / len(results.scores) if results.scores else 0
    sections = [
        f"<p>{len(results.scores)} students; mean {mean:.1f} of {results.max_score:g} points.</p>",
        _image(figures[0]), "<h2>Exercises</h2>", _image(figures[1]),
        _table(["notebook", "test cell", "mean", "full marks", "commonest failing messages (students)"],
               exercise_rows),
        f"<h2>The last grading run ({len(results.summary)} submissions)</h2>",
        _image(figures[2]) if results.summary else "<p class='none'>No grading summary.</p>",
        "<h3>Failures</h3>",
        _table(["student", "reason and log"], failures) if failures
        else "<p class='none'>No submission failed.</p>",
        _similarity(config, assignment),
    ]
    page = folder / "report.html"
    page.write_text(_page(f"Class report: {assignment}", sections), encoding="utf-8")
    return page


def _similarity(config: CourseConfig, assignment: str) -> str:
    try:
        return similarity_section(config.layout, assignment)
    except Exception as error:  # the rest of the report stands without it
        return (f"<h2>Similarity</h2><p class='none'>Not computed: "
                f"{html.escape(type(error).__name__)}: {html.escape(str(error)[:300])}</p>")


def write_progress_report(config: CourseConfig) -> Path:
    """Write ``reports/progress/report.html``: every student's score in every graded assignment."""
    grades = read_grades(config)
    names, maxima, scores = grades.assignments, grades.max_scores, grades.scores
    students = grades.registered
    folder = config.layout.report_folder("progress")
    folder.mkdir(parents=True, exist_ok=True)
    shares = [[scores[s, n] / maxima[n] if (s, n) in scores and maxima[n] else float("nan")
               for n in names] for s in students]
    figure, ax = plt.subplots(figsize=(1.2 * len(names) + 3, 0.3 * len(students) + 1.8))
    image = ax.imshow(shares, vmin=0, vmax=1, cmap="viridis", aspect="auto")
    ax.set_xticks(range(len(names)), names, rotation=30, ha="right")
    ax.set_yticks(range(len(students)), students)
    figure.colorbar(image, ax=ax, label="share of the points (blank: not submitted)")
    ax.set_title("Progress across weeks")
    png = _save(figure, folder / "progress.png")
    rows = [[student] + [f"{scores[student, n]:g} / {maxima[n]:g}" if (student, n) in scores else "-"
                         for n in names] for student in students]
    page = folder / "report.html"
    page.write_text(_page("Class progress", [_image(png), _table(["student", *names], rows)]),
                    encoding="utf-8")
    return page


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.report", description=__doc__.splitlines()[0])
    parser.add_argument("assignment", nargs="?", help="for example week1_sequential; none: progress")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the course directory")
    options = parser.parse_args(argv)
    config = CourseConfig.load(options.root)
    if options.assignment:
        with Gradebook(config.db_url, course_id=config.course_id) as gradebook:
            if options.assignment not in {a.name for a in gradebook.assignments}:
                print(f"no assignment {options.assignment!r} in the gradebook: grade it first "
                      f"(make grade ASSIGNMENT={options.assignment})", file=sys.stderr)
                return 2
        page = write_assignment_report(config, options.assignment)
    else:
        page = write_progress_report(config)
    print(f"report: {page}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
