"""Notice, and undo, changes a submission makes outside its sandbox.

A student's code runs with the instructor's permissions, so nothing stops it from writing to
the gradebook or to another student's folder. `CourseSnapshot` keeps the bytes of every file
in the course directory that grading depends on, and file signatures of the rest and of the
Python environment. `changes_since` compares; `restore` writes the kept bytes back.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

# Too large to keep in memory: watched, not kept (as are the folders grading regenerates).
WATCHED_ONLY = (".git", ".venv")


def _scan(folder: Path, skip: tuple[str, ...] = ()) -> dict[str, tuple[int, int, int, int]]:
    """Signature of every file (or link) below ``folder``, skipping top-level names in ``skip``.

    A signature is what changes when a file is written, replaced or touched (its ctime
    cannot be set back). os.scandir keeps this fast: ~100,000 files per second.
    """
    found, pending = {}, [(str(folder), skip)]
    while pending:
        directory, skipped = pending.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue
        for entry in entries:
            if entry.name in skipped:
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    pending.append((entry.path, ()))
                    continue
                stat = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            found[entry.path] = (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino)
    return found


def environment_folders() -> list[Path]:
    """Where the Python that runs the kernels lives: the environment and its base."""
    return sorted({Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()})


@dataclass
class CourseSnapshot:
    """The course directory's files, kept (bytes) or watched (signatures)."""

    root: Path
    kept: dict[Path, bytes] = field(default_factory=dict)
    signatures: dict[str, tuple] = field(default_factory=dict)
    watched: list[Path] = field(default_factory=list)
    watched_only: tuple[str, ...] = WATCHED_ONLY  # top-level names under root

    @classmethod
    def take(cls, root: Path, watched: list[Path], regenerated: tuple[str, ...] = ()) -> CourseSnapshot:
        """Keep the files under ``root``, but only watch those under the top-level folders
        ``regenerated`` (by grading) and `WATCHED_ONLY`; also watch the folders in ``watched``."""
        snapshot = cls(root=root, watched=watched, watched_only=(*WATCHED_ONLY, *regenerated))
        for name in _scan(root, snapshot.watched_only):
            path = Path(name)
            snapshot.kept[path] = path.read_bytes() if path.is_file() else b""
        snapshot.signatures = snapshot._signatures()
        return snapshot

    def _signatures(self) -> dict[str, tuple]:
        folders = [self.root / name for name in self.watched_only] + self.watched
        resolved = sorted({folder.resolve() for folder in folders}, key=lambda p: len(p.parts))
        outermost = [folder for index, folder in enumerate(resolved)
                     if not any(folder.is_relative_to(other) for other in resolved[:index])]
        current = _scan(self.root, self.watched_only)
        for folder in outermost:
            current.update(_scan(folder))
        return current

    def changes_since(self) -> list[Path]:
        """Files created, changed or deleted since the snapshot (or the last restore)."""
        now = self._signatures()
        return sorted(Path(name) for name in set(now) | set(self.signatures)
                      if now.get(name) != self.signatures.get(name))

    def restore(self, changed: list[Path]) -> list[Path]:
        """Put back the kept files among ``changed``; return those that cannot be restored."""
        lost = []
        for path in changed:
            if path in self.kept:
                if path.is_symlink() or path.is_dir():
                    _remove(path)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(self.kept[path])
            elif self._is_kept_area(path):
                _remove(path)
            else:
                lost.append(path)
        self.signatures = self._signatures()
        return lost

    def _is_kept_area(self, path: Path) -> bool:
        relative = path.relative_to(self.root) if path.is_relative_to(self.root) else None
        return relative is not None and relative.parts[0] not in self.watched_only


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        for child in sorted(path.rglob("*"), reverse=True):
            _remove(child)
        path.rmdir()
