"""nbgrader preprocessors that make autograding survive what a submission does.

`GuardedExecute` replaces nbgrader's `Execute`: a cell that kills the kernel or will not stop
costs only the cells after it (they are marked "not run"), test cells run with the check
helpers restored (see `grader.kernel_guard`), and processes the notebook left behind are
stopped before nbgrader saves any grade. `ReplayOutputs` takes the place of `Execute` when
`python -m grader` records, in the real course, outputs produced earlier in a sandbox.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import bleach
import nbformat
import nbgrader
import psutil
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbgrader import utils
from nbgrader.api import Gradebook
from nbgrader.preprocessors import Execute, NbGraderPreprocessor, SaveAutoGrades
from traitlets import Bool, Dict, List, Unicode, default

# Feedback opens offline: nbgrader's feedback template, with nbconvert's MathJax macro (a script
# from a CDN) replaced by an empty one (templates/offline_feedback). nbgrader_config.py sets them.
FEEDBACK_TEMPLATE = "offline_feedback"
FEEDBACK_TEMPLATE_DIRS = [str(Path(__file__).parent / "templates"),
                          str(Path(nbgrader.__file__).parent / "server_extensions" / "formgrader"
                              / "templates")]

GUARD_INSTALL = ("__import__('grader.kernel_guard').kernel_guard.install({modules!r}, {aliases!r}, "
                 "{watched!r})")
GUARD_RESTORE = "__import__('grader.kernel_guard').kernel_guard.restore(get_ipython().user_ns)"
GUARD_TAMPERED = ("__import__('json').dumps(__import__('grader.kernel_guard').kernel_guard"
                  ".tampered(get_ipython().user_ns))")


def error_output(name: str, message: str) -> NotebookNode:
    """An error output, as a failed cell would show it (and as nbgrader scores zero)."""
    return nbformat.v4.new_output("error", ename=name, evalue=message,
                                  traceback=[f"{name}: {message}"])


def stop_descendants() -> list[str]:
    """Kill every process this one started, directly or not; return their names."""
    stopped = []
    for process in psutil.Process().children(recursive=True):
        try:
            stopped.append(process.name())
            process.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(psutil.Process().children(recursive=True), timeout=5)
    return stopped


class GuardError(RuntimeError):
    """The grader's own code failed in the kernel, so a test there cannot be trusted."""


class GuardedExecute(Execute):
    """Execute a submission so that nothing it does can cost more than its own points."""

    guarded_modules = List(
        ["builtins", "numpy", "numpy.testing"],
        help="Modules restored before every test cell, each with every module below it.",
    ).tag(config=True)

    guarded_aliases = Dict(
        {"np": "numpy"},
        help="Names in the notebook rebound to these modules before every test cell.",
    ).tag(config=True)

    watched_modules = List(
        ["keras"],
        help="Modules whose classes and functions no code may replace: a test cell that runs "
             "after such a change fails (they are not restored: Keras keeps state in them).",
    ).tag(config=True)

    stop_stray_processes = Bool(
        False,
        help="Kill every process this one started once the notebook has run. Only for a "
             "process that grades one submission (python -m grader does), never a server.",
    ).tag(config=True)

    @default("shutdown_kernel")
    def _kill_the_kernel_once_done(self) -> str:
        """Every output is in once the last cell has run; a kernel that imported TensorFlow
        then takes 2-3 s to exit when asked, so it is stopped at once (its atexit hooks
        are the submission's own, and nothing of the grade waits on them)."""
        return "immediate"

    def preprocess(self, nb, resources, km=None):
        self._stopped_because = ""
        self._guard_installed = False
        try:
            return super().preprocess(nb, resources, km)
        finally:
            if self.stop_stray_processes:
                stray = stop_descendants()
                if stray:
                    self.log.warning("Stopped processes the notebook left running: %s", stray)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        if self._stopped_because:
            cell.outputs = [error_output("NotRun", f"not run: {self._stopped_because}")]
            return cell, resources
        try:
            self._guard(cell)
            if not _is_test(cell):
                return super().preprocess_cell(cell, resources, index)
            # Out of the input history (In, _ih, _i); the guard keeps it out of linecache.
            self._check_assign_resources(resources)
            cell = self.execute_cell(cell, index, store_history=False)
            self._check_tampering(cell)
            return cell, self.resources
        except GuardError as error:
            cell.outputs = [error_output("GraderError", str(error))]
        except DeadKernelError:
            self._stop(cell, "KernelDied", f"the kernel died while running cell {index}")
        except CellTimeoutError:
            self._stop(cell, "CellTimeoutError",
                       f"cell {index} ignored the interrupt after {self.timeout} s")
        return cell, resources

    def _guard(self, cell) -> None:
        """Snapshot the guarded modules before the first cell; restore them before a test."""
        if not self._guard_installed:
            self._run_silently(GUARD_INSTALL.format(modules=list(self.guarded_modules),
                                                    aliases=dict(self.guarded_aliases),
                                                    watched=tuple(self.watched_modules)))
            self._guard_installed = True
        if _is_test(cell):
            self._run_silently(GUARD_RESTORE)

    def _check_tampering(self, cell) -> None:
        """Fail a test whose code under test changed what the test relies on."""
        changed = json.loads(ast.literal_eval(self._run_silently(GUARD_TAMPERED)))
        if changed:
            shown = ", ".join(changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5 else "")
            cell.outputs.append(error_output(
                "GraderError", f"this test cannot count: code it ran changed {shown}"))

    def _stop(self, cell, name: str, reason: str) -> None:
        self.log.error("Stopping execution: %s", reason)
        self._stopped_because = reason
        cell.outputs.append(error_output(name, reason))

    def _run_silently(self, expression: str) -> str:
        """Evaluate grader code in the kernel as a user expression: outside any cell, so no
        input transformer a submission installed can rewrite it. Return its value's repr;
        raise GuardError if it fails."""
        request = self.kc.execute("", silent=True, store_history=False,
                                  user_expressions={"guard": expression})
        reply = self.wait_for_reply(request)
        content = reply["content"] if reply else {"status": "timeout"}
        result = content.get("user_expressions", {}).get("guard", {"status": content.get("status")})
        if result.get("status") != "ok":
            raise GuardError("the grader could not restore the test environment: "
                             f"{result.get('ename', result.get('status'))}: {result.get('evalue', '')}")
        return result.get("data", {}).get("text/plain", "")


def _is_test(cell) -> bool:
    """A locked test cell (graded, not an answer)."""
    return utils.is_grade(cell) and not utils.is_solution(cell)


class _DeferredCommits:
    """A database session whose commit() only flushes, so the caller commits once at the end."""

    def __init__(self, session) -> None:
        self._session = session

    def __getattr__(self, name: str):
        return getattr(self._session, name)

    def commit(self) -> None:
        self._session.flush()


class SaveAutoGradesAtOnce(SaveAutoGrades):
    """nbgrader's SaveAutoGrades, writing a notebook's scores and comments in one transaction.

    nbgrader commits after every cell, so a gradebook server that goes away halfway leaves a
    notebook with some scores from this run and some from before; here it keeps all or none.
    """

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        info = resources["nbgrader"]
        self.notebook_id, self.assignment_id = info["notebook"], info["assignment"]
        self.student_id, self.db_url = info["student"], info["db_url"]
        self.gradebook = Gradebook(self.db_url)
        with self.gradebook:
            session = self.gradebook.db
            self.gradebook.db = _DeferredCommits(session)
            try:
                nb, resources = NbGraderPreprocessor.preprocess(self, nb, resources)
            finally:
                self.gradebook.db = session
            session.commit()
        return nb, resources


class DropBadGradeMetadata(NbGraderPreprocessor):
    """Drop nbgrader metadata naming no cell of this notebook, or naming one a second time.

    nbgrader 0.9.6 crashes (KeyError 'grade_id') on a graded cell whose grade id was renamed
    and on a duplicated one. Without the metadata the cell is an ordinary one, and
    `OverwriteCells` (with ``add_missing_cells``) puts the original back. Of duplicates the
    last is kept, as nbgrader's `DeduplicateIds` would.
    """

    def preprocess(self, nb, resources):
        with Gradebook(resources["nbgrader"]["db_url"]) as gradebook:
            notebook = gradebook.find_notebook(resources["nbgrader"]["notebook"],
                                               resources["nbgrader"]["assignment"])
            known = {cell.name for cell in notebook.source_cells}
        seen = set()
        for cell in reversed(nb.cells):
            metadata = cell.metadata.get("nbgrader")
            if metadata is None:
                continue
            grade_id = metadata.get("grade_id") if isinstance(metadata, dict) else None
            if grade_id not in known or grade_id in seen:
                self.log.warning("Ignoring the nbgrader metadata of a cell with id %r", grade_id)
                del cell.metadata["nbgrader"]
            seen.add(grade_id)
        return nb, resources


class ShortTestTracebacks(NbGraderPreprocessor):
    """Cut test-cell tracebacks in feedback down to their last line.

    A traceback quotes the lines around the failing one, so the feedback of a failed test
    would show hidden tests that `ClearHiddenTests` removed from the cell's source. What
    stays, such as ``AssertionError: want ..., got ...``, is what the student needs.
    """

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and utils.is_grade(cell) and not utils.is_solution(cell):
            for output in cell.outputs:
                if output.output_type == "error":
                    output.traceback = [f"{output.ename}: {output.evalue}"]
        return cell, resources


class ReplayOutputs(NbGraderPreprocessor):
    """Copy outputs from a notebook executed elsewhere, or mark every cell with why not.

    ``replay_directory`` holds ``<student>/<notebook>.ipynb`` (the executed notebook) or
    ``<student>/<notebook>.failed.json`` (``{"reason": ...}``). Only outputs are copied; the
    cells themselves come from the submission as nbgrader sanitized it here.
    """

    replay_directory = Unicode("", help="Folder of executed notebooks to replay.").tag(config=True)

    def preprocess(self, nb, resources):
        folder = Path(self.replay_directory) / resources["nbgrader"]["student"]
        name = resources["nbgrader"]["notebook"]
        executed = folder / f"{name}.ipynb"
        if executed.is_file():
            reason = self._copy_outputs(nbformat.read(executed, as_version=4), nb)
        else:
            failure = folder / f"{name}.failed.json"
            reason = json.loads(failure.read_text())["reason"] if failure.is_file() else "no result"
        if reason:
            for cell in nb.cells:
                if cell.cell_type == "code":
                    cell.outputs = [error_output("NotGraded", reason)]
        return nb, resources

    @staticmethod
    def _copy_outputs(executed: NotebookNode, nb: NotebookNode) -> str:
        """Copy outputs cell by cell; return why not if the two notebooks differ."""
        pairs = list(zip(executed.cells, nb.cells))
        if len(executed.cells) != len(nb.cells) or any(
                ran.cell_type != cell.cell_type or ran.source != cell.source for ran, cell in pairs):
            return "the executed notebook does not match the submission"
        for ran, cell in pairs:
            if cell.cell_type == "code":
                cell.outputs = ran.outputs
                cell.execution_count = ran.execution_count
        return ""


class SanitiseFeedback(NbGraderPreprocessor):
    """Make what a student wrote or printed inert before it becomes feedback HTML.

    The instructor opens feedback in a browser where a Jupyter token may live, so markdown
    cells and HTML, Markdown and SVG outputs keep only harmless tags and attributes (no
    ``<script>``, no ``on...=`` handlers, no ``javascript:`` links: bleach escapes or drops
    them), and JavaScript outputs are removed.
    """

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "markdown":
            cell.source = sanitise_html(cell.source)
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            for mime in list(data):
                if "javascript" in mime:
                    del data[mime]
                elif mime in ("text/html", "text/markdown", "image/svg+xml"):
                    text = data[mime] if isinstance(data[mime], str) else "".join(data[mime])
                    data[mime] = sanitise_html(text)
        return cell, resources


SAFE_TAGS = sorted(set(bleach.sanitizer.ALLOWED_TAGS) | {
    "p", "div", "span", "br", "hr", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead",
    "tbody", "tr", "th", "td", "img", "sub", "sup", "del", "details", "summary"})
SAFE_ATTRIBUTES = {"*": ["class", "title", "align"], "a": ["href", "title"],
                   "img": ["src", "alt", "width", "height"], "th": ["colspan", "rowspan"],
                   "td": ["colspan", "rowspan"]}


# Markdown links whose target is a script: [text](javascript:...) and [ref]: javascript:...
SCRIPT_LINK = re.compile(r"(\]\(\s*<?\s*|^\s*\[[^\]]*\]:\s*<?\s*)(?:java|vb)script\s*:",
                         re.IGNORECASE | re.MULTILINE)


def sanitise_html(text: str) -> str:
    """``text`` with only harmless HTML and no markdown links to scripts."""
    text = SCRIPT_LINK.sub(r"\1#removed-script:", text)
    return bleach.clean(text, tags=SAFE_TAGS, attributes=SAFE_ATTRIBUTES,
                        protocols=["http", "https", "mailto", "data"], strip_comments=True)
