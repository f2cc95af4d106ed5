# neurorep: the two set-up commands of the README.
#   make quickstart   -- install (idempotent) and run the quick-start recipe end to end
#   make test         -- install (idempotent) and run every test (host + all plugins)
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PLUGIN_DIRS := $(sort $(wildcard plugins/neurorep-*))
STAMP := $(VENV)/.neurorep-installed
OUT ?= runs/quickstart

.PHONY: setup quickstart test clean

setup: $(STAMP)

$(STAMP): pyproject.toml $(wildcard plugins/neurorep-*/pyproject.toml) requirements-test.txt constraints.txt datasets/pyproject.toml Makefile
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -c constraints.txt -r requirements-test.txt
	$(PY) -m pip install -q -c constraints.txt -e . -e datasets $(foreach d,$(PLUGIN_DIRS),-e $(d))
	@touch $(STAMP)

quickstart: setup
	NEUROREP_DATA_MIRROR=$${NEUROREP_DATA_MIRROR:-$(abspath ..)/shared/datasets} \
	  $(VENV)/bin/neurorep run recipes/quickstart.toml --out $(OUT)

test: setup
	NEUROREP_DATA_MIRROR=$${NEUROREP_DATA_MIRROR:-$(abspath ..)/shared/datasets} \
	  $(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) runs
