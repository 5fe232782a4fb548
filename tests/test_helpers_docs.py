"""Every public function of helpers documents its parameters (numpydoc)."""

import inspect

import pytest

import helpers
from helpers import checks, data, plots, pretrained, repro

MODULES = (checks, data, plots, pretrained, repro)
PUBLIC = [(module.__name__, name, function) for module in MODULES
          for name, function in inspect.getmembers(module, inspect.isfunction)
          if not name.startswith("_") and function.__module__ == module.__name__]


def test_the_package_exports_its_modules():
    assert {"checks", "data", "plots", "pretrained", "set_seed"} <= set(dir(helpers))


@pytest.mark.parametrize("module, name, function", PUBLIC, ids=[f"{m}.{n}" for m, n, _ in PUBLIC])
def test_public_function_documents_each_parameter(module, name, function):
    doc = inspect.getdoc(function) or ""
    parameters = [p for p in inspect.signature(function).parameters.values()
                  if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    if not parameters:
        return
    assert "Parameters\n----------" in doc, f"{module}.{name} has no numpydoc Parameters section"
    section = doc.split("Parameters\n----------", 1)[1]
    undocumented = [p.name for p in parameters if p.name not in section]
    assert not undocumented, f"{module}.{name} does not document {undocumented}"
