"""The class report's similarity section (grader/similarity.py): disguised copies are paired,
honest students are not. Honest students are built from the answer banks' distinct correct
answers, which are independent solutions of the same task."""

from __future__ import annotations

import builtins
import importlib
import keyword
import os
import re
import shutil
import subprocess
import sys

import nbformat
import pytest

from grader import similarity
from grader.layout import CourseLayout
from testkit.course import ROOT, read_notebook

WEEKS = sorted(path.name for path in (ROOT / "solutions").iterdir() if path.is_dir())


def bank(week: str) -> dict:
    return importlib.import_module(f"answer_banks.{week.split('_')[0]}").EXERCISES


def disguise(code: str) -> str:
    """A copy as a student hides it: variables renamed, functions in reverse order, comments
    added, whitespace changed."""
    names = set(re.findall(r"^\s*(\w+)\s*=", code, re.MULTILINE)) | set(re.findall(r"for (\w+) in", code))
    for number, name in enumerate(sorted(n for n in names if not keyword.iskeyword(n) and not hasattr(builtins, n))):
        code = re.sub(rf"\b{name}\b", f"my_value_{number}", code)
    lines = []
    for line in code.splitlines():
        lines.append(line.replace(" = ", "=").replace(", ", ",").rstrip() + "   ")
        if line.strip().startswith(("def ", "for ", "if ")):
            lines.append(" " * (len(line) - len(line.lstrip()) + 4) + "# worked this out myself")
    functions = re.split(r"\n(?=def |class )", "\n".join(lines))
    return "\n\n\n".join(reversed(functions))


def write_class(root, week: str, students: dict[str, dict[str, str]]) -> None:
    """A course folder with the week's release and solution, and each student's answers."""
    for folder in ("course", "solutions"):
        (root / folder / week).mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / folder / week / "assignment.ipynb", root / folder / week)
    for student, answers in students.items():
        notebook = read_notebook(ROOT / "course" / week / "assignment.ipynb")
        for cell in notebook.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in answers:
                cell.source = answers[grade_id]
        (root / "submitted" / student / week).mkdir(parents=True)
        nbformat.write(notebook, root / "submitted" / student / week / "assignment.ipynb")


def honest_class(week: str) -> dict[str, dict[str, str]]:
    """Student i answers each exercise with the bank's i-th correct answer, or with the
    reference solution where the bank has fewer (which is boilerplate, so never paired)."""
    solution = similarity.answer_cells(read_notebook(ROOT / "solutions" / week / "assignment.ipynb"))
    exercises = bank(week)
    size = max(len(exercise.correct) for exercise in exercises.values())
    return {f"honest{i}": {grade_id: (list(exercise.correct.values())[i] if i < len(exercise.correct)
                                      else solution[grade_id])
                           for grade_id, exercise in exercises.items()}
            for i in range(size)}


@pytest.mark.parametrize("week", WEEKS)
def test_disguised_copies_are_paired_and_honest_students_are_not(tmp_path, week):
    students = honest_class(week)
    students["copier"] = {grade_id: disguise(code) for grade_id, code in students["honest0"].items()}
    write_class(tmp_path, week, students)
    found = similarity.similar_pairs(similarity.class_answers(CourseLayout(tmp_path), week),
                                     similarity.boilerplate(CourseLayout(tmp_path), week))
    pairs = {(pair.exercise, pair.first, pair.second) for pair in found.pairs}
    honest = {pair for pair in pairs if "copier" not in pair[1:]}
    assert honest == set(), f"independent answers paired: {sorted(honest)}"
    assert (similarity.WHOLE, "copier", "honest0") in pairs
    long_enough = [grade_id for grade_id, code in students["honest0"].items()
                   if len(similarity._fingerprint(code).filtered_code) >= similarity.MIN_CHARACTERS * 2]
    missed = [grade_id for grade_id in long_enough if (grade_id, "copier", "honest0") not in pairs]
    assert long_enough and missed == [], f"copies not paired in {missed}"


def test_students_who_hand_in_the_reference_solution_or_the_starter_code_are_not_paired(tmp_path):
    week = "week5_weights"
    solution = similarity.answer_cells(read_notebook(ROOT / "solutions" / week / "assignment.ipynb"))
    write_class(tmp_path, week, {"sol1": solution, "sol2": solution, "blank1": {}, "blank2": {}})
    found = similarity.similar_pairs(similarity.class_answers(CourseLayout(tmp_path), week),
                                     similarity.boilerplate(CourseLayout(tmp_path), week))
    assert found.pairs == []


def test_the_shares_are_the_same_in_every_run(tmp_path):
    """Python salts str hashes per process: the report's pairs and shares must not depend on it."""
    week = "week6_capstone"
    students = honest_class(week)
    students["copier"] = {grade_id: disguise(code) for grade_id, code in students["honest0"].items()}
    write_class(tmp_path, week, students)
    runs = [subprocess.run([sys.executable, "-m", "grader.similarity", week], cwd=tmp_path, check=True,
                           capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": seed,
                                                                "PYTHONPATH": str(ROOT)}).stdout
            for seed in ("1", "2", "3")]
    assert "copier" in runs[0] and runs[1] == runs[0] and runs[2] == runs[0]


def test_false_positive_rate_over_all_weeks_at_the_chosen_threshold(tmp_path, capsys):
    """The README's figure: pairs of independent correct answers compared, and how many paired."""
    compared = paired = 0
    for week in WEEKS:
        write_class(tmp_path / week, week, honest_class(week))
        found = similarity.similar_pairs(similarity.class_answers(CourseLayout(tmp_path / week), week),
                                         similarity.boilerplate(CourseLayout(tmp_path / week), week))
        compared, paired = compared + found.compared, paired + len(found.pairs)
    with capsys.disabled():
        print(f"\nsimilarity: {paired} of {compared} pairs of independent answers paired "
              f"at {similarity.THRESHOLD:.0%}")
    assert compared > 40 and paired == 0


def test_the_section_escapes_what_students_wrote_and_never_grades(tmp_path):
    week = "week1_sequential"
    hostile = "def scale_images(images):\n    " + "x = '<script>alert(1)</script>' + str(images)\n    " * 6 + "return x\n"
    write_class(tmp_path, week, {"a": {"w1_scale_images": hostile}, "b": {"w1_scale_images": disguise(hostile)}})
    page = similarity.similarity_section(CourseLayout(tmp_path), week)
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "never changes a grade" in page and "w1_scale_images" in page
    empty = similarity.section([], 3)
    assert "No pair of answers is unusually alike" in empty
