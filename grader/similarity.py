"""Pairs of students whose answers are unusually alike: the class report's similarity section.

Each answer cell is fingerprinted as copydetect does it (winnowed k-grams over the code with
names, strings, comments and whitespace normalised away, as MOSS does), with hashes that are
the same in every run, per exercise and over the whole assignment. Fingerprints of the
release's starter code and of the reference solution are boilerplate and do not count, so two
students who both wrote what the notebook gave them, or both found the published solution, are
not paired by it. A pair is listed when each answer shares at least `THRESHOLD` of its
fingerprinted code with the other and is long enough (`MIN_CHARACTERS` after normalising) for
likeness to mean something: short answers to the same task look alike whoever writes them. The
section never changes a grade.
"""

from __future__ import annotations

import hashlib
import html
import itertools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grader.layout import GRADED_NOTEBOOK, CourseLayout
from grader.submissions import is_student_id, read_notebook

# Chosen on the answer banks (tests/test_similarity.py): independent correct answers to one
# exercise share at most 59 % of their code, disguised copies at least 93 %.
NOISE = 15  # characters of normalised code in one fingerprint (copydetect's default: 25)
GUARANTEE = 20  # a shared stretch this long is always found (copydetect's default: 30)
THRESHOLD = 0.8  # each answer's share of fingerprinted code found in the other
MIN_CHARACTERS = 40  # normalised characters an answer needs to be compared at all
MAX_CHARACTERS = 20_000  # of one answer: longer ones are cut (a hostile cell can be megabytes)
WHOLE = "whole assignment"


@dataclass(frozen=True)
class Pair:
    """Two students' answers to one exercise (or the whole assignment) that are alike."""

    exercise: str
    first: str
    second: str
    similarity: float  # the smaller of the two shares
    first_html: str  # the answer, escaped, with the shared code marked
    second_html: str


@dataclass(frozen=True)
class Similarity:
    """The alike pairs, and how many pairs of answers were compared to find them."""

    pairs: list[Pair]
    compared: int


@dataclass(frozen=True)
class Fingerprint:
    """One answer's winnowed fingerprint: the attributes copydetect's ``compare_files`` reads."""

    raw_code: str
    filtered_code: str
    offsets: np.ndarray  # filtered position -> unfiltered, as copydetect's filter_code gives
    hashes: set
    hash_idx: dict  # hash -> the filtered positions of its k-grams
    k: int
    token_coverage: float


def _kgram_hashes(text: str, k: int) -> np.ndarray:
    """Each k-gram's hash, the same in every process. copydetect hashes with Python's
    ``hash()``, which is salted per process for strings, so which k-grams winnowing kept, and
    so every share, changed from one run of the report to the next."""
    return np.array([int.from_bytes(hashlib.blake2b(text[i:i + k].encode(), digest_size=8).digest(),
                                    "little", signed=True) for i in range(len(text) - k + 1)],
                    dtype=np.int64)


def _fingerprint(code: str, boilerplate: list[int] | None = None, every_kgram: bool = False) -> Fingerprint:
    """The fingerprint of ``code`` as copydetect makes it (its normalising and winnowing), with
    stable hashes: winnowed, or (``every_kgram``, as copydetect fingerprints boilerplate) every
    k-gram's hash, so that none of it can survive winnowing."""
    from copydetect.utils import filter_code, get_token_coverage, winnow

    filtered, offsets = filter_code(code, "answer.py")
    window = 1 if every_kgram else GUARANTEE - NOISE + 1
    hashes, positions = winnow(_kgram_hashes(filtered, NOISE), window, remove_duplicates=False)
    if boilerplate:
        keep = ~np.isin(hashes, boilerplate)
        hashes, positions = hashes[keep], positions[keep]
    hash_idx: dict = {}
    for value, position in zip(hashes, positions):
        hash_idx.setdefault(value, []).append(position)
    return Fingerprint(code, filtered, offsets, set(hashes), hash_idx, NOISE,
                       get_token_coverage(hash_idx, NOISE, len(filtered)))


def answer_cells(notebook) -> dict[str, str]:
    """The code answer cells of a notebook: grade id -> source."""
    return {cell.metadata["nbgrader"]["grade_id"]: cell.source[:MAX_CHARACTERS] for cell in notebook.cells
            if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution")
            and cell.metadata["nbgrader"].get("grade_id")}


def _read(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    notebook = read_notebook(path)[0]
    return answer_cells(notebook) if notebook is not None else {}


def class_answers(layout: CourseLayout, assignment: str) -> dict[str, dict[str, str]]:
    """Every student's answers in ``submitted/``: student -> grade id -> source."""
    found = {}
    for folder in layout.submission_folders(assignment):
        if is_student_id(folder.parent.name):
            found[folder.parent.name] = _read(folder / f"{GRADED_NOTEBOOK}.ipynb")
    return found


def boilerplate(layout: CourseLayout, assignment: str) -> dict[str, str]:
    """Per grade id, the code every student was given or may have found: starter and solution."""
    given = [_read(layout.release_notebook(assignment)), _read(layout.source_notebook(assignment))]
    return {grade_id: "\n".join(cells.get(grade_id, "") for cells in given)
            for grade_id in set().union(*given)}


def _marked(fingerprint, slices) -> str:
    from copydetect.utils import highlight_overlap

    if slices.size == 0:  # nothing shared
        return html.escape(fingerprint.raw_code)
    marked, _ = highlight_overlap(fingerprint.raw_code, slices, "<mark>", "</mark>", escape_html=True)
    return marked


def _fingerprints(texts: dict[str, str], given: str) -> dict:
    """Each student's fingerprinted answer, without what ``given`` holds; answers with no
    fingerprint of their own left are dropped."""
    common = list(_fingerprint(given, every_kgram=True).hashes) if given.strip() else []
    prints = {student: _fingerprint(text, common) for student, text in texts.items() if text.strip()}
    return {student: p for student, p in prints.items() if p.token_coverage > 0}


def similar_pairs(answers: dict[str, dict[str, str]], given: dict[str, str]) -> Similarity:
    """Alike pairs per exercise and over the whole assignment, most alike first.

    Over the whole assignment, each answer is compared with the same exercise's answer (so
    fingerprints never span two cells), and a student's share is the shared code of all their
    answers over all their fingerprinted code.

    Parameters
    ----------
    answers : dict
        Student -> grade id -> the source of their answer cell.
    given : dict
        Grade id -> the code every student had (starter code and reference solution).
    """
    from copydetect import compare_files

    exercises = sorted({grade_id for cells in answers.values() for grade_id in cells})
    prints = {grade_id: _fingerprints({student: cells.get(grade_id, "") for student, cells in answers.items()},
                                      given.get(grade_id, "")) for grade_id in exercises}
    covered = {student: sum(p[student].token_coverage for p in prints.values() if student in p)
               for student in answers}
    length = {student: sum(len(p[student].filtered_code) for p in prints.values() if student in p)
              for student in answers}
    shared: dict[tuple[str, str], list[float]] = {}
    found, compared = [], 0
    for grade_id, exercise in prints.items():
        for (a, first), (b, second) in itertools.combinations(sorted(exercise.items()), 2):
            _, (share_a, share_b), slices = compare_files(first, second)
            totals = shared.setdefault((a, b), [0.0, 0.0])
            totals[0] += share_a * first.token_coverage
            totals[1] += share_b * second.token_coverage
            if min(len(first.filtered_code), len(second.filtered_code)) < MIN_CHARACTERS:
                continue
            compared += 1
            if min(share_a, share_b) >= THRESHOLD:
                found.append(Pair(grade_id, a, b, float(min(share_a, share_b)),
                                  _marked(first, slices[0]), _marked(second, slices[1])))
    for (a, b), (shared_a, shared_b) in sorted(shared.items()):
        if min(length[a], length[b]) < MIN_CHARACTERS:
            continue
        compared += 1
        similarity = min(shared_a / covered[a], shared_b / covered[b])
        if similarity >= THRESHOLD:
            found.append(Pair(WHOLE, a, b, float(similarity), *_whole_marked(prints, a, b)))
    found.sort(key=lambda pair: (-pair.similarity, pair.exercise, pair.first, pair.second))
    return Similarity(found, compared)


def _whole_marked(prints: dict, a: str, b: str) -> tuple[str, str]:
    """Both students' answers, exercise by exercise, with the shared code marked."""
    from copydetect import compare_files

    sides = ([], [])
    for grade_id, exercise in prints.items():
        if a in exercise and b in exercise:
            slices = compare_files(exercise[a], exercise[b])[2]
            for side, student, cut in zip(sides, (a, b), slices):
                side.append(f"# {html.escape(grade_id)}\n{_marked(exercise[student], cut)}")
    return "\n\n".join(sides[0]), "\n\n".join(sides[1])


def section(pairs: list[Pair], students: int) -> str:
    """The report's HTML section: every pair with both answers side by side, all escaped."""
    intro = (f"<h2>Similarity</h2><p>Pairs of the {students} students whose answers share at least "
             f"{THRESHOLD:.0%} of their code with each other, after starter code and the reference "
             "solution are set aside and names, strings, comments and layout are normalised "
             f"(copydetect, winnowing as MOSS does; answers under {MIN_CHARACTERS} normalised "
             "characters are not compared). <strong>This never changes a grade</strong>: it is a "
             "reason to read two answers, not evidence of copying.</p>")
    if not pairs:
        return intro + "<p class='none'>No pair of answers is unusually alike.</p>"
    rows = "".join(
        f"<tr><td>{html.escape(p.exercise)}</td><td>{p.similarity:.0%}</td>"
        f"<td><b>{html.escape(p.first)}</b><pre>{p.first_html}</pre></td>"
        f"<td><b>{html.escape(p.second)}</b><pre>{p.second_html}</pre></td></tr>" for p in pairs)
    return (intro + "<table class='similarity'><thead><tr><th>exercise</th><th>shared</th>"
            f"<th>first student</th><th>second student</th></tr></thead><tbody>{rows}</tbody></table>")


def similarity_section(layout: CourseLayout, assignment: str) -> str:
    """The section for ``assignment``, read from ``submitted/``, ``course/`` and ``solutions/``."""
    answers = class_answers(layout, assignment)
    return section(similar_pairs(answers, boilerplate(layout, assignment)).pairs, len(answers))


def main(argv: list[str] | None = None) -> int:  # for measuring: python -m grader.similarity A
    import sys

    layout, assignment = CourseLayout.at(Path.cwd()), (argv or sys.argv[1:])[0]
    found = similar_pairs(class_answers(layout, assignment), boilerplate(layout, assignment))
    print(json.dumps([[p.exercise, p.first, p.second, round(p.similarity, 3)] for p in found.pairs], indent=1))
    print(f"{len(found.pairs)} of {found.compared} pairs of answers compared are alike")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
