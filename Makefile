# Course tasks. Every target creates .venv and installs the course into it first, so
# `make lab` and `make test` work on a fresh clone. See README.md.
include $(dir $(lastword $(MAKEFILE_LIST)))venv.mk  # the Python environment (shared with the student edition)
WEEKS := $(notdir $(wildcard solutions/week*))
ASSIGNMENT ?=

.PHONY: help lab test check smoke release execute validate grade report export bench harder-track clean student-edition import hub-env hub hub-users serve bench-service

help:
	@echo "make lab        open JupyterLab on course/ (students and self-learners)"
	@echo "make test       run every test: helpers, release checks, nbgrader, nbval"
	@echo "make check      the quick tier (minutes): helpers, grader units, release checks"
	@echo "make execute    re-execute solutions/ in place (after editing a notebook)"
	@echo "make release    regenerate course/ from solutions/"
	@echo "make validate   check that solutions pass and blank releases fail"
	@echo "make grade ASSIGNMENT=week1_sequential   autograde submitted/, feedback, grades.csv"
	@echo "           GRADE_OPTIONS='--timeout 600 --memory 4 --cell-timeout 120 --student ID'"
	@echo "make report [ASSIGNMENT=week1_sequential]   class report (or progress over all weeks)"
	@echo "make import PLATFORM=canvas|moodle ZIP=submissions.zip ASSIGNMENT=week1_sequential ROSTER=roster.csv"
	@echo "           [WORKSHEET=grading-worksheet.csv TIMEZONE=Europe/London]   submissions from the platform"
	@echo "make export PLATFORM=canvas|moodle ROSTER=roster.csv   grades for the learning platform"
	@echo "make bench      time each notebook and one graded submission"
	@echo "make harder-track   week 1's networks on the capstone's harder digits and on the plain ones"
	@echo "make student-edition   student-edition/: the course without answers, to give students"
	@echo "make hub-users ROSTER=roster.csv   (root) the class as Unix users, for a JupyterHub"
	@echo "make hub [HUB_COURSE=/srv/tf2-course HUB_SERVE=week1_sequential]   (root) the class's JupyterHub"
	@echo "make serve ASSIGNMENT=week1_sequential   grade each submission as it arrives, with feedback"

# EXTRAS=dev,postgres,cluster also installs the PostgreSQL driver and Dask (CI does: .ci/run).
EXTRAS ?= dev
# EDITABLE= (empty) copies the course's packages into the environment instead of linking to
# this checkout (for an environment other users run while the checkout stays private).
EDITABLE ?= -e

# JupyterLab reads overrides.json from the environment's share/jupyter/lab/settings: the
# course's answers "no" to the news pop-up and the update checks on first start.
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings

$(STAMP): pyproject.toml jupyterlab-settings/overrides.json
	$(REQUIRE_PYTHON)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(EDITABLE) '.[$(EXTRAS)]'
	$(DROP_SLOW_IMPORTS)
	mkdir -p $(LAB_SETTINGS) && cp jupyterlab-settings/overrides.json $(LAB_SETTINGS)/
	touch $@

# Containers often run as root, which Jupyter refuses without --allow-root. LAB_OPTIONS adds
# options, for example LAB_OPTIONS="--no-browser --port 8890"; LAB_ROOT serves another copy
# of the course (the browser tests use both). nbgrader's formgrader finds the course's
# nbgrader_config.py in the folder JupyterLab starts in.
LAB_ROOT ?= $(CURDIR)
lab: $(STAMP)
	cd "$(LAB_ROOT)" && jupyter lab --ServerApp.root_dir=. --LabApp.default_url=/lab/tree/course \
	  $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_OPTIONS)

# Four pytest workers, on 2 cores too: with two, the machine was idle half the time (the
# suite waits on kernels, servers, pip and timeouts); with four it is busy throughout. Each
# module (and each notebook nbval runs) stays on one worker, so its fixtures and its kernel
# are made once; modules go out longest first (conftest.py). TEST_WORKERS=0: one process.
TEST_WORKERS ?= 4
PARALLEL = $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder)
test: $(STAMP)
	pytest $(PARALLEL)

# The quick tier, for working on the course (a few minutes): helpers and their doctests, the
# grader's units, the release checks and the similarity measure; no notebook, grading run,
# server or browser.
CHECK_TESTS := helpers grader tests/test_checks.py tests/test_data.py tests/test_plots.py \
  tests/test_repro.py tests/test_helpers_docs.py tests/test_grader_units.py tests/test_release.py \
  tests/test_similarity.py tests/test_notebook_text.py tests/test_heldout.py
check: $(STAMP)
	pytest $(PARALLEL) $(CHECK_TESTS)

# The smoke tier CI runs on Python 3.12 and 3.13 (make smoke PYTHON=python3.12 VENV=.venv-3.12):
# week 1's notebooks under nbval, and a week 1 class of three graded in the sandbox.
smoke: $(STAMP)
	pytest solutions/week1_sequential tests/test_week1_class.py

# TensorFlow on the threads the grader gives it (grader.sandbox.TENSORFLOW_THREADS), so that
# the outputs the prose quotes are the numbers the grader computes, on any machine.
PINNED_THREADS := TF_NUM_INTRAOP_THREADS=2 TF_NUM_INTEROP_THREADS=2
execute: $(STAMP)
	$(PINNED_THREADS) GRADER_DATA="$$(python -m grader.heldout)" jupyter nbconvert --to notebook --execute --inplace --log-level=WARN \
	  --ExecutePreprocessor.timeout=300 \
	  --ClearMetadataPreprocessor.enabled=True \
	  --ClearMetadataPreprocessor.preserve_nb_metadata_mask=kernelspec \
	  --ClearMetadataPreprocessor.preserve_cell_metadata_mask=nbgrader \
	  solutions/*/*.ipynb

release: $(STAMP)
	for week in $(WEEKS); do \
	  nbgrader generate_assignment $$week --force --log-level=WARN || exit 1; \
	done

validate: $(STAMP)
	@export $(PINNED_THREADS) GRADER_DATA="$$(python -m grader.heldout)"; \
	for notebook in solutions/*/assignment.ipynb; do \
	  nbgrader validate $$notebook 2>/dev/null | grep -q "^Success!" \
	    || { echo "FAILED: $$notebook does not pass its own tests"; exit 1; }; \
	  echo "ok: $$notebook passes its tests"; \
	done
	@for notebook in course/*/assignment.ipynb; do \
	  nbgrader validate --invert $$notebook 2>/dev/null | grep -q "^Success!" \
	    || { echo "FAILED: a test in $$notebook passes without an answer"; exit 1; }; \
	  echo "ok: $$notebook fails every test unanswered"; \
	done

# Each submission runs in its own sandbox under time and memory limits: see grader/run.py.
grade: $(STAMP)
	@test -n "$(ASSIGNMENT)" || { echo "usage: make grade ASSIGNMENT=week1_sequential"; exit 2; }
	python -m grader $(ASSIGNMENT) $(GRADE_OPTIONS)

# The class report (also written by every make grade): ASSIGNMENT=... for one, none for progress.
report: $(STAMP)
	python -m grader.report $(ASSIGNMENT)

# Submissions from the learning platform's "download all submissions" archive: see grader/lms_import.py.
import: $(STAMP)
	@test -n "$(PLATFORM)" -a -n "$(ZIP)" -a -n "$(ASSIGNMENT)" -a -n "$(ROSTER)" || { echo "usage: make import" \
	  "PLATFORM=canvas|moodle ZIP=submissions.zip ASSIGNMENT=week1_sequential ROSTER=roster.csv" \
	  "[WORKSHEET=grading-worksheet.csv TIMEZONE=Europe/London]"; exit 2; }
	python -m grader.lms_import $(PLATFORM) "$(ZIP)" --assignment $(ASSIGNMENT) --roster "$(ROSTER)" \
	  $(if $(WORKSHEET),--worksheet "$(WORKSHEET)") $(if $(TIMEZONE),--timezone $(TIMEZONE))

# Grades for the learning platform: make export PLATFORM=canvas ROSTER=roster.csv (or moodle).
export: $(STAMP)
	@test -n "$(PLATFORM)" -a -n "$(ROSTER)" || { echo "usage: make export PLATFORM=canvas|moodle ROSTER=roster.csv"; exit 2; }
	python -m grader.export $(PLATFORM) --roster $(ROSTER)

# What students receive: course/, helpers and their own README, Makefile and pyproject.toml;
# never solutions/, hidden tests or the grader (edition/build.py checks before it writes).
student-edition: $(STAMP)
	python edition/build.py student-edition

bench: $(STAMP)
	python benchmarks/bench.py

# A class on JupyterHub, on this machine (README, "A class on JupyterHub"). The class's
# environment is one every user runs, so it is built from a Python every user can run (not
# one in root's home); for a real class put it outside the private course checkout:
# make hub-env HUB_VENV=/opt/tf2-course/env EDITABLE=
HUB_PYTHON ?= /usr/bin/python3
HUB_VENV ?= .venv-hub
HUB_GROUP ?= tf2-course
HUB_COURSE_ACCOUNT ?= tf2-grader
HUB_IP ?= 127.0.0.1
HUB_PORT ?= 8000
HUB_SERVE ?=
hub-env:
	$(MAKE) $(abspath $(HUB_VENV))/.installed VENV=$(abspath $(HUB_VENV)) PYTHON=$(HUB_PYTHON) EXTRAS=hub

# The proxy, from the npm registry, with the machine's Node.js.
hub/node_modules/.installed: hub/package.json hub/package-lock.json
	cd hub && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# As root: the hub for the course at HUB_COURSE (its nbgrader_config.py names the exchange),
# grading HUB_SERVE's assignments on submit.
hub: hub-env hub/node_modules/.installed
	cd hub && HUB_COURSE="$(abspath $(or $(HUB_COURSE),.))" HUB_GROUP=$(HUB_GROUP) \
	  HUB_COURSE_ACCOUNT=$(HUB_COURSE_ACCOUNT) HUB_IP=$(HUB_IP) HUB_PORT=$(HUB_PORT) \
	  HUB_SERVE="$(HUB_SERVE)" $(abspath $(HUB_VENV))/bin/jupyterhub -f jupyterhub_config.py

# As root: the class's Unix users, its group and the course account, from the roster.
hub-users: $(STAMP)
	@test -n "$(ROSTER)" || { echo "usage: make hub-users ROSTER=roster.csv"; exit 2; }
	python -m grader.hub_users --roster "$(ROSTER)" --group $(HUB_GROUP) \
	  --course-account $(HUB_COURSE_ACCOUNT)

# As the course account: grade each submission of ASSIGNMENT as it arrives (grader/serve.py).
serve: $(STAMP)
	@test -n "$(ASSIGNMENT)" || { echo "usage: make serve ASSIGNMENT=week1_sequential"; exit 2; }
	python -m grader.serve $(ASSIGNMENT)

# As root: feedback on submit with real users, idle and in a deadline burst (issue 27).
bench-service: $(STAMP) hub-env
	python benchmarks/feedback_service.py $(BENCH_OPTIONS)

harder-track: $(STAMP)
	python benchmarks/harder_track.py

clean:
	rm -rf $(VENV) .venv-* gradebook.db autograded feedback reports grading-logs grades.csv grades-*.csv \
	  grading-summary-*.csv student-edition
