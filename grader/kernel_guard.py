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
correct answer its points. It also hides the test cell that follows from IPython's input
history and ``linecache``. After each test cell `tampered` runs the same restore and
reports what the code the test called changed, and any change to Keras's classes and
functions since the snapshot: GuardedExecute then fails the test. Code in the same
interpreter can always reach this module, so this stops what a submission can do by
accident or with ordinary Python, not a student who attacks the grader's own code in the
kernel or the interpreter itself (ctypes): see "What in-process grading guarantees" in the
README.
"""

from __future__ import annotations

import importlib
import logging
import sys
import threading
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
_watched_roots: list[str] = []
_watched: dict[str, tuple[types.ModuleType, dict[str, Any], dict[str, dict[str, Any]], list]] = {}
_hide_next_cell = [False]  # set by restore: the next cell is a test
_MISSING = object()


def install(modules: list[str], aliases: dict[str, str], watched: tuple[str, ...] = ()) -> None:
    """Snapshot ``modules`` and everything below them; ``aliases`` maps names to modules.
    ``watched`` modules (Keras) are imported too, and their classes and functions noted:
    their changes are reported by `tampered`, never undone."""
    for name in (*modules, *watched):
        importlib.import_module(name)
    for name, module in _below(modules):
        _snapshot_module(name, module)
    _watched_roots.extend(watched)
    _watched_changes()
    _aliases.update({alias: sys.modules[name] for alias, name in aliases.items()})
    _sys_state.update({name: getattr(sys, name) for name in _SYS_HOOKS})
    _sys_state.update(meta_path=list(sys.meta_path), path_hooks=list(sys.path_hooks))
    _snapshot_shell()


def _below(roots: list[str] | tuple[str, ...]) -> list[tuple[str, types.ModuleType]]:
    """The imported modules named ``roots`` or below them."""
    prefixes = tuple(f"{root}." for root in roots)
    return [(name, module) for name, module in list(sys.modules.items())
            if isinstance(module, types.ModuleType) and (name in roots or name.startswith(prefixes))]


def _definitions(module: types.ModuleType) -> dict[str, Any]:
    """A module's classes, functions and modules: what code may not replace (data may change)."""
    return {key: value for key, value in vars(module).items()
            if isinstance(value, (type, types.FunctionType, types.ModuleType))}


def _watched_changes() -> list[str]:
    """Classes, functions and their code replaced in the watched modules since first seen
    (at `install`, or for a module imported later, at the first call after its import)."""
    changed = []
    for name, module in _below(_watched_roots):
        if name not in _watched:
            namespace = _definitions(module)
            classes = {key: dict(vars(value)) for key, value in namespace.items()
                       if isinstance(value, type) and value.__module__ == name}
            _watched[name] = (module, namespace, classes, _codes(namespace, classes))
            continue
        _, namespace, classes, codes = _watched[name]
        current = _definitions(module)
        changed += [f"{name}.{key}" for key, value in namespace.items() if current.get(key) is not value]
        for key, members in classes.items():
            now = vars(namespace[key])
            changed += [f"{name}.{key}.{member}" for member, value in now.items()
                        if callable(value) and members.get(member, _MISSING) is not value]
        changed += [f"{function.__module__}.{function.__qualname__}"
                    for function, code in codes if function.__code__ is not code]
    return changed


def _codes(namespace: dict[str, Any], classes: dict[str, dict[str, Any]]) -> list[tuple[Any, Any]]:
    functions = [value for value in namespace.values() if isinstance(value, types.FunctionType)]
    functions += [member for members in classes.values() for member in members.values()
                  if isinstance(member, types.FunctionType)]
    return [(function, function.__code__) for function in functions]


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
    compiler = shell.compile
    compiler.cache = _cache_unless_test(compiler, compiler.cache)
    _shell_state["objects"] = [(item, set(vars(item))) for item in
                               (shell, getattr(shell, "kernel", None), compiler) if item is not None]
    _shell_state["compile"] = (compiler, compiler.cache)
    for item, _ in _shell_state["objects"]:
        for cls in type(item).__mro__[:-1]:  # all but object
            _classes.append((cls, dict(vars(cls))))


def _cache_unless_test(compiler, cache):
    """IPython's compiler ``cache`` (it puts each cell's source into ``linecache``), skipped
    for the cell after `restore`: a test's source is then in neither ``linecache`` nor the
    input history (GuardedExecute runs tests with ``store_history=False``)."""
    def cache_unless_test(transformed_code: str, number: int = 0, raw_code: str | None = None) -> str:
        if _hide_next_cell[0]:
            _hide_next_cell[0] = False
            return compiler.get_code_name(raw_code or transformed_code, transformed_code, number)
        return cache(transformed_code, number, raw_code)
    return cache_unless_test


def restore(user_namespace: dict[str, Any]) -> list[str]:
    """Undo changes to the snapshot and rebind the aliases in ``user_namespace``; hide the
    next cell (a test) from the input history and ``linecache``. Return what was changed:
    modules, classes and functions of the snapshot, and tracing hooks."""
    changed = [f"sys.{name}" for name in ("gettrace", "getprofile") if getattr(sys, name)()]
    sys.settrace(None)
    sys.setprofile(None)
    threading.settrace(None)
    threading.setprofile(None)
    sys.meta_path[:] = _sys_state["meta_path"]
    sys.path_hooks[:] = _sys_state["path_hooks"]
    for name in _SYS_HOOKS:
        setattr(sys, name, _sys_state[name])
    for name, (module, namespace) in _modules.items():
        if sys.modules.get(name) is not module:
            changed.append(f"sys.modules[{name!r}]")
            sys.modules[name] = module
        current = vars(module)
        changed += [f"{name}.{key}" for key, value in namespace.items()
                    if current.get(key, _MISSING) is not value]
        current.update(namespace)
    for cls, members in _classes:
        changed += _restore_class(cls, members)
    for function, code, defaults, kwdefaults in _functions:
        if (function.__code__ is not code or function.__defaults__ is not defaults
                or function.__kwdefaults__ is not kwdefaults):
            changed.append(f"{function.__module__}.{function.__qualname__}")
            function.__code__, function.__defaults__, function.__kwdefaults__ = code, defaults, kwdefaults
    _restore_shell()
    for alias, module in _aliases.items():
        if alias in user_namespace:
            if user_namespace[alias] is not module:
                changed.append(f"the notebook's name {alias!r}")
            user_namespace[alias] = module
    warnings.resetwarnings()
    warnings.simplefilter("ignore")
    for name in _NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    _hide_next_cell[0] = True
    return sorted(set(changed))


def tampered(user_namespace: dict[str, Any]) -> list[str]:
    """After a test cell: what the code it called changed (then put back, as `restore` does)
    and what was changed in the watched modules (Keras) since the snapshot, ever."""
    changed = restore(user_namespace)
    _hide_next_cell[0] = False
    return sorted(set(changed + _watched_changes()))


def _restore_class(cls: type, members: dict[str, Any]) -> list[str]:
    """Put back changed members; remove added methods (not added data, such as caches).
    Return the names of the members put back or removed."""
    changed = []
    for key, value in list(vars(cls).items()):
        if key not in members:
            if not callable(value):
                continue
            try:
                delattr(cls, key)
                changed.append(f"{cls.__module__}.{cls.__qualname__}.{key}")
            except (AttributeError, TypeError):
                pass
        elif value is not members[key] and key not in ("__dict__", "__weakref__", "__doc__"):
            try:
                setattr(cls, key, members[key])
                changed.append(f"{cls.__module__}.{cls.__qualname__}.{key}")
            except (AttributeError, TypeError):
                pass
    return changed


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
    compiler, cache = _shell_state["compile"]
    shell.compile = compiler
    compiler.cache = cache
    for item, keys in _shell_state["objects"]:  # instance attributes shadowing methods
        for key in set(vars(item)) - keys:
            if callable(getattr(type(item), key, None)):
                delattr(item, key)
