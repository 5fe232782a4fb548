"""Runs inside the grading kernel: undo a submission's tampering before each test cell.

`GuardedExecute` calls `install` before the notebook's first cell, so the snapshot holds the
state as imported, before any student code ran. Before each test cell it calls `restore`,
which puts back

* every guarded module (and every module below it, such as ``numpy._core.numeric``): its
  ``sys.modules`` entry, its attributes, the attributes of the classes it defines, and the
  body, defaults and wrapped implementation of each of their functions;
* IPython's state that decides what a cell runs and what counts as an error: input and AST
  transformers, cell event callbacks, custom exception handlers, instance attributes that
  shadow the shell's methods, ``sys.displayhook``, ``sys.excepthook`` and the ``sys`` streams;
* aliases such as ``np`` and ``checks`` in the notebook's namespace;

and silences warnings and TensorFlow's Python loggers, so a library notice cannot cost a
correct answer its points. Code in the same interpreter can always reach this module, so
this stops what a submission can do by accident or with ordinary Python, not a student who
attacks the interpreter itself (ctypes); the grading run reports what it cannot undo.
"""

from __future__ import annotations

import importlib
import logging
import sys
import types
import warnings
from typing import Any

_NOISY_LOGGERS = ("tensorflow", "absl", "keras", "h5py", "matplotlib")
_SYS_HOOKS = ("displayhook", "excepthook", "stdout", "stderr", "stdin")
_SHELL_LISTS = ("input_transformers_cleanup", "input_transformers_post", "ast_transformers")
_TRANSFORMER_LISTS = ("cleanup_transforms", "line_transforms", "token_transformers")

_modules: dict[str, tuple[types.ModuleType, dict[str, Any]]] = {}
_classes: list[tuple[type, dict[str, Any]]] = []
_functions: list[tuple[types.FunctionType, types.CodeType, Any, Any]] = []
_aliases: dict[str, types.ModuleType] = {}
_sys_state: dict[str, Any] = {}
_shell_state: dict[str, Any] = {}


def install(modules: list[str], aliases: dict[str, str]) -> None:
    """Snapshot ``modules`` and everything below them; ``aliases`` maps names to modules."""
    for name in modules:
        importlib.import_module(name)
    roots = tuple(modules)
    for name, module in list(sys.modules.items()):
        if isinstance(module, types.ModuleType) and (
                name in roots or name.startswith(tuple(f"{root}." for root in roots))):
            _snapshot_module(name, module)
    _aliases.update({alias: sys.modules[name] for alias, name in aliases.items()})
    _sys_state.update({name: getattr(sys, name) for name in _SYS_HOOKS})
    _sys_state.update(meta_path=list(sys.meta_path), path_hooks=list(sys.path_hooks))
    _snapshot_shell()


def _snapshot_module(name: str, module: types.ModuleType) -> None:
    namespace = dict(vars(module))
    _modules[name] = (module, namespace)
    for value in namespace.values():
        if isinstance(value, type) and value.__module__ == module.__name__:
            members = dict(vars(value))
            _classes.append((value, members))
            for member in members.values():
                _snapshot_function(member)
        else:
            _snapshot_function(value)


def _snapshot_function(value: Any) -> None:
    for function in (value, getattr(value, "__func__", None), getattr(value, "_implementation", None)):
        if isinstance(function, types.FunctionType):
            _functions.append((function, function.__code__, function.__defaults__,
                               function.__kwdefaults__))


def _shell():
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def _snapshot_shell() -> None:
    shell = _shell()
    if shell is None:
        return
    _shell_state["lists"] = {name: list(getattr(shell, name)) for name in _SHELL_LISTS}
    manager = shell.input_transformer_manager
    _shell_state["transforms"] = {name: list(getattr(manager, name, []))
                                  for name in _TRANSFORMER_LISTS}
    _shell_state["events"] = {name: list(callbacks)
                              for name, callbacks in shell.events.callbacks.items()}
    _shell_state["custom"] = (shell.custom_exceptions, shell.CustomTB)
    _shell_state["objects"] = [(item, set(vars(item))) for item in (shell, getattr(shell, "kernel", None))
                               if item is not None]
    for item, _ in _shell_state["objects"]:
        for cls in type(item).__mro__[:-1]:  # all but object
            _classes.append((cls, dict(vars(cls))))


def restore(user_namespace: dict[str, Any]) -> None:
    """Undo changes to the snapshot and rebind the aliases in ``user_namespace``."""
    sys.meta_path[:] = _sys_state["meta_path"]
    sys.path_hooks[:] = _sys_state["path_hooks"]
    for name in _SYS_HOOKS:
        setattr(sys, name, _sys_state[name])
    for name, (module, namespace) in _modules.items():
        sys.modules[name] = module
        vars(module).update(namespace)
    for cls, members in _classes:
        _restore_class(cls, members)
    for function, code, defaults, kwdefaults in _functions:
        function.__code__, function.__defaults__, function.__kwdefaults__ = code, defaults, kwdefaults
    _restore_shell()
    for alias, module in _aliases.items():
        if alias in user_namespace:
            user_namespace[alias] = module
    warnings.resetwarnings()
    warnings.simplefilter("ignore")
    for name in _NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)


def _restore_class(cls: type, members: dict[str, Any]) -> None:
    """Put back changed members; remove added methods (not added data, such as caches)."""
    for key, value in list(vars(cls).items()):
        if key not in members:
            if not callable(value):
                continue
            try:
                delattr(cls, key)
            except (AttributeError, TypeError):
                pass
        elif value is not members[key] and key not in ("__dict__", "__weakref__", "__doc__"):
            try:
                setattr(cls, key, members[key])
            except (AttributeError, TypeError):
                pass


def _restore_shell() -> None:
    shell = _shell()
    if shell is None or not _shell_state:
        return
    for name, items in _shell_state["lists"].items():
        getattr(shell, name)[:] = items
    manager = shell.input_transformer_manager
    for name, items in _shell_state["transforms"].items():
        if hasattr(manager, name):
            getattr(manager, name)[:] = items
    for name, callbacks in _shell_state["events"].items():
        shell.events.callbacks[name] = list(callbacks)
    shell.custom_exceptions, shell.CustomTB = _shell_state["custom"]
    for item, keys in _shell_state["objects"]:  # instance attributes shadowing methods
        for key in set(vars(item)) - keys:
            if callable(getattr(type(item), key, None)):
                delattr(item, key)
