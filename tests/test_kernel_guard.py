"""The kernel guard undoes each kind of tampering before a test cell (grader/kernel_guard.py).

Each case runs in a fresh IPython kernel, as GuardedExecute drives one: install the guard,
run the tampering "answer", check that it makes a wrong test pass, restore (as a user
expression, like the grader), then check that the test fails.
"""

from __future__ import annotations

import pytest
from jupyter_client.manager import start_new_kernel

from grader.preprocessors import GUARD_INSTALL, GUARD_RESTORE

MODULES = ["builtins", "math", "operator", "numpy", "numpy.testing", "helpers"]
ALIASES = {"np": "numpy", "helpers": "helpers", "checks": "helpers.checks"}
SETUP = "import numpy as np\nfrom helpers import checks"

# name: (tampering answer, a test that must fail)
TAMPERING = {
    "input transformer empties cells": (
        "get_ipython().input_transformers_cleanup.append(lambda lines: [])",
        "assert 1 == 2"),
    "late input transformer": (
        "get_ipython().input_transformers_post.append(lambda lines: ['pass\\n'])",
        "assert 1 == 2"),
    "AST transformer drops asserts": (
        "import ast\nclass Drop(ast.NodeTransformer):\n"
        "    def visit_Assert(self, node):\n        return ast.Pass()\n"
        "get_ipython().ast_transformers.append(Drop())",
        "assert 1 == 2"),
    "custom exception handler swallows failures": (
        "get_ipython().set_custom_exc((Exception,), lambda *args, **kwargs: None)",
        "raise AssertionError('wrong')"),
    "numpy internal module": (
        "import numpy._core.numeric as numeric\nnumeric.allclose = lambda *a, **k: True\n"
        "numeric.isclose = lambda a, b, *args, **kwargs: np.ones(np.shape(a), bool)",
        "import numpy._core.numeric as numeric\nassert numeric.allclose(1.0, 2.0)"),
    "numpy implementation behind the dispatcher": (
        "np.allclose._implementation.__code__ = (lambda a, b, rtol=0, atol=0, equal_nan=0: True).__code__",
        "assert np.allclose(1.0, 2.0)"),
    "numpy.testing defaults": (
        "defaults = list(np.testing.assert_allclose.__defaults__)\ndefaults[0] = 1e9\n"
        "np.testing.assert_allclose.__defaults__ = tuple(defaults)",
        "np.testing.assert_allclose(1.0, 2.0)"),
    "sys.modules entry replaced": (
        "import sys, types\nfake = types.ModuleType('numpy')\n"
        "fake.testing = types.SimpleNamespace(assert_array_equal=lambda *a, **k: None)\n"
        "sys.modules['numpy'] = fake",
        "import numpy\nnumpy.testing.assert_array_equal(1, 2)"),
    "builtins": (
        "import builtins\nbuiltins.sorted = lambda items, **options: list(items)",
        "assert sorted([2, 1]) == [2, 1]"),
    "math": ("import math\nmath.isclose = lambda *a, **k: True", "import math\nassert math.isclose(1, 2)"),
    "helpers check body": (
        "checks.check_close.__code__ = (lambda *a, **k: None).__code__",
        "checks.check_close(1.0, 2.0)"),
    "helpers alias rebound": (
        "class Lenient:\n    def __getattr__(self, name):\n        return lambda *a, **k: None\n"
        "checks = Lenient()\nnp = Lenient()",
        "checks.check_close(1.0, 2.0)"),
    "shell method shadowed": (
        "shell = get_ipython()\nrun = shell.run_cell\n"
        "shell.run_cell = lambda raw_cell, *a, **k: run('pass', *a, **k)",
        "assert 1 == 2"),
}


@pytest.fixture
def kernel():
    manager, client = start_new_kernel(kernel_name="python3", startup_timeout=120)
    yield client
    client.stop_channels()
    manager.shutdown_kernel(now=True)


def run(client, code: str, **options) -> dict:
    return client.execute_interactive(code, timeout=60, store_history=False, **options)["content"]


def fails(client, code: str) -> bool:
    """Whether ``code`` shows an error output: what nbgrader scores as a failed test."""
    outputs = []
    client.execute_interactive(code, timeout=60, store_history=False,
                               output_hook=lambda message: outputs.append(message["msg_type"]))
    return "error" in outputs


def restore(client) -> dict:
    reply = run(client, "", silent=True, user_expressions={"guard": GUARD_RESTORE})
    return reply["user_expressions"]["guard"]


@pytest.mark.parametrize("case", sorted(TAMPERING))
def test_a_test_cell_fails_after_tampering(kernel, case):
    tamper, test = TAMPERING[case]
    assert run(kernel, SETUP)["status"] == "ok"
    installed = run(kernel, "", silent=True,
                    user_expressions={"guard": GUARD_INSTALL.format(modules=MODULES, aliases=ALIASES, watched=())})
    assert installed["user_expressions"]["guard"]["status"] == "ok", installed
    assert run(kernel, tamper)["status"] == "ok"
    assert not fails(kernel, test), "the tampering does not make the test pass"
    assert restore(kernel)["status"] == "ok"
    assert fails(kernel, test), f"the test passed after: {case}"
