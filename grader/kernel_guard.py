"""Runs inside the grading kernel: undo a submission's monkeypatching before each test cell.

`GuardedExecute` calls `install` before the notebook's first cell, so the snapshot holds the
modules as imported, before any student code ran. Before each test cell it calls `restore`,
which puts back every module attribute and function body, rebinds aliases such as ``np``
and ``checks`` in the notebook's namespace, and silences warnings and TensorFlow's Python
loggers, so a library notice cannot cost a correct answer its points.

Code in the same interpreter can always reach this module, so this stops the usual
tricks (replacing ``checks.check_close`` or ``np.testing.assert_allclose``), not a student
who attacks the interpreter itself; the grading run reports what it cannot undo.
"""

from __future__ import annotations

import importlib
import logging
import sys
import types
import warnings
from typing import Any

_NOISY_LOGGERS = ("tensorflow", "absl", "keras", "h5py", "matplotlib")
_snapshots: list[tuple[types.ModuleType, dict[str, Any], dict[str, types.CodeType]]] = []
_aliases: dict[str, types.ModuleType] = {}


def install(modules: list[str], aliases: dict[str, str]) -> None:
    """Import ``modules`` and remember their attributes; ``aliases`` maps names to modules."""
    for name in modules:
        module = importlib.import_module(name)
        namespace = dict(vars(module))
        codes = {key: value.__code__ for key, value in namespace.items()
                 if isinstance(value, types.FunctionType)}
        _snapshots.append((module, namespace, codes))
    _aliases.update({alias: sys.modules[name] for alias, name in aliases.items()})


def restore(user_namespace: dict[str, Any]) -> None:
    """Undo changes to the snapshot modules and the aliases in ``user_namespace``."""
    for module, namespace, codes in _snapshots:
        vars(module).update(namespace)
        for key, code in codes.items():
            namespace[key].__code__ = code
    for alias, module in _aliases.items():
        if alias in user_namespace:
            user_namespace[alias] = module
    warnings.resetwarnings()
    warnings.simplefilter("ignore")
    for name in _NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
