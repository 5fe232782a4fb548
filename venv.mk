# The course's Python environment, included by the course's Makefile and by the student
# edition's (edition/build.py ships this file with it).
# The first Python 3.11-3.13 found (TensorFlow 2.21 has wheels for these); PYTHON=... chooses.
SUPPORTED_PYTHON := import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 13))
PYTHON ?= $(firstword $(foreach candidate,python3 python3.13 python3.12 python3.11,\
  $(shell $(candidate) -c '$(SUPPORTED_PYTHON)' >/dev/null 2>&1 && command -v $(candidate))))
VENV ?= .venv
BIN := $(abspath $(VENV))/bin
STAMP := $(VENV)/.installed
# The first line of every $(STAMP) recipe: stop with what to do when no Python fits.
REQUIRE_PYTHON = @test -n "$(PYTHON)" || { echo "The course needs Python 3.11, 3.12 or 3.13" \
  "(TensorFlow 2.21 has wheels for these only): install one, or name it:" \
  "make PYTHON=/path/to/python3.12"; exit 1; }

# jsonschema's format-nongpl extra, which jupyter-events asks for, brings rfc3987-syntax,
# whose import builds 38 parsers: 1.0 s of every process that imports jsonschema (each
# nbgrader command, Jupyter server and notebook check) on a quiet 2-core machine, 0.1 s
# without it (python-jsonschema/jsonschema#1428). Nothing in the course validates IRIs
# (jsonschema then leaves that format unchecked), so each $(STAMP) recipe removes it.
DROP_SLOW_IMPORTS = $(BIN)/python -m pip uninstall --quiet --yes rfc3987-syntax

# nbgrader runs tools such as alembic by name; TensorFlow's C++ notices go to stderr,
# which would cost a test cell its points, so they are silenced for every kernel.
export PATH := $(BIN):$(PATH)
export TF_CPP_MIN_LOG_LEVEL := 3
export TF_ENABLE_ONEDNN_OPTS := 0
