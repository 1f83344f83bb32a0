# nbops.jupyter — `make demo` runs the main job, `make test` everything CI runs.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
COLLECTIONS := $(CURDIR)/.build/collections
SCENARIOS ?= default alternative upgrade

export PATH := $(BIN):$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_FORCE_COLOR := 0
export PY_COLORS := 0
export NO_COLOR := 1
export ANSIBLE_NOCOWS := 1

.PHONY: help venv collection testbed unit lint molecule test demo demo-down bench clean

help:
	@echo "make demo       deploy a secure notebook server into a local container and print its URL"
	@echo "make demo-down  remove it"
	@echo "make test       everything CI runs: unit tests, lint, molecule scenarios on Debian 12 and 13"
	@echo "make bench      timings: by hand vs the role, second run, fleets"

$(VENV)/.installed: requirements/controller.txt requirements/test.txt
	python3 -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -r requirements/test.txt
	touch $@

venv: $(VENV)/.installed

# The collection is used by FQCN from this checkout through a symlinked collections tree.
collection:
	@mkdir -p $(COLLECTIONS)/ansible_collections/nbops
	@ln -sfn $(CURDIR) $(COLLECTIONS)/ansible_collections/nbops/jupyter

testbed:
	tests/testbed/ensure-docker.sh
	tests/testbed/build-images.sh

unit: venv collection
	$(BIN)/python -m pytest tests/unit -p no:cacheprovider -q

# ansible-lint (production profile), defaults/argument_specs/README in step, changelog fragments.
lint: venv collection
	$(BIN)/ansible-lint -q
	$(BIN)/python tests/tools/role_spec_sync.py check
	$(BIN)/antsibull-changelog lint

molecule: venv collection testbed
	set -e; for s in $(SCENARIOS); do $(BIN)/molecule test -s $$s; done

test: venv collection
	tests/run-steps.sh \
	  "unit::$(MAKE) --no-print-directory unit" \
	  "lint::$(MAKE) --no-print-directory lint" \
	  "testbed::$(MAKE) --no-print-directory testbed" \
	  $(foreach s,$(SCENARIOS),"molecule-$(s)::$(BIN)/molecule test -s $(s)")

demo: venv collection
	tests/testbed/ensure-docker.sh
	tests/testbed/build-images.sh bookworm
	tests/testbed/demo.sh up

demo-down: venv collection
	tests/testbed/demo.sh down

clean:
	rm -rf .build .pytest_cache
