# nbops.jupyter — `make demo` runs the main job, `make test` everything CI runs.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
COLLECTIONS := $(CURDIR)/.build/collections
SCENARIOS ?= default alternative upgrade ca acme resilience proxy offline
# make test runs the scenarios in three parallel lanes (each lane one scenario after the other),
# of about the same length: much of a scenario's time is waiting (health gates, restarts,
# culling, downloads), so three lanes finish sooner than two on two cores. Each scenario runs
# both platforms; the slow platform-independent tests are spread over them (marker one_platform).
LANES ?= 'resilience acme offline' 'default upgrade' 'proxy alternative ca'

export PATH := $(BIN):$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_FORCE_COLOR := 0
export PY_COLORS := 0
export NO_COLOR := 1
export ANSIBLE_NOCOWS := 1
# Tools' state (ansible-lint's collection install, molecule, uv/pip caches) in .build, not ~/.
export ANSIBLE_HOME := $(CURDIR)/.build/ansible-home
export XDG_CACHE_HOME := $(CURDIR)/.build/cache

.PHONY: help venv collection testbed scanners unit ansible-test-units lint sanity galaxy demo-test molecule test test-static test-hosts shellcheck demo demo-down bench clean ee ee-image

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

.venv-docs/.installed: requirements/docs.txt
	python3 -m venv .venv-docs
	.venv-docs/bin/pip install --disable-pip-version-check -q -r requirements/docs.txt
	touch $@

.venv-importer/.installed: requirements/importer.txt
	python3 -m venv .venv-importer
	.venv-importer/bin/pip install --disable-pip-version-check -q -r requirements/importer.txt
	touch $@

# The collection is used by FQCN from this checkout through a symlinked collections tree.
collection:
	@mkdir -p $(COLLECTIONS)/ansible_collections/nbops
	@ln -sfn $(CURDIR) $(COLLECTIONS)/ansible_collections/nbops/jupyter

testbed:
	tests/testbed/ensure-docker.sh
	tests/testbed/build-images.sh

# Independent scanners the molecule verify runs against each server (tests/scan): Mozilla's MDN
# HTTP Observatory (npm) and sslyze (PyPI), into .build/scan only.
scanners:
	tests/scan/install.sh

unit: venv collection
	$(BIN)/python -m pytest tests/unit -p no:cacheprovider -q

# ansible-lint (production profile), defaults/argument_specs/README in step, changelog fragments,
# antsibull-docs' lint of plugin and role docs.
lint: venv collection .venv-docs/.installed
	$(BIN)/ansible-lint -q
	$(BIN)/python tests/tools/role_spec_sync.py check
	$(BIN)/antsibull-changelog lint
	tests/tools/docs-lint.sh

# Installed before make test's steps run alongside each other: two apt-gets at once would fight
# over dpkg's lock (the image build and the demo install theirs).
shellcheck:
	command -v shellcheck >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null; }

# ansible-test on a copy laid out as ansible_collections/nbops/jupyter; empty ignore files.
sanity: venv shellcheck
	tests/tools/ansible-test.sh sanity --venv --python 3.11

# The same unit tests as `make unit`, run by ansible-test in its own venv (not in make test, which
# runs them once, with `make unit`).
ansible-test-units: venv
	tests/tools/ansible-test.sh units --venv --python 3.11

# The tarball Galaxy would get (tests, molecule and build files left out), checked by
# galaxy-importer as Galaxy checks an upload.
galaxy: venv .venv-importer/.installed
	rm -rf .build/dist
	$(BIN)/ansible-galaxy collection build --output-path .build/dist
	! tar -tzf .build/dist/nbops-jupyter-*.tar.gz | grep -E '^(tests|molecule|\.ci|\.venv|\.build|Makefile|requirements)/'
	cd .build && GALAXY_IMPORTER_CONFIG=$(CURDIR)/tests/tools/galaxy-importer.cfg \
	  $(CURDIR)/.venv-importer/bin/python -m galaxy_importer.main $(CURDIR)/.build/dist/nbops-jupyter-*.tar.gz

# An execution environment for AWX / Automation Platform (execution-environment/): ansible-builder's
# build context from the Galaxy tarball, checked (tests/tools/ee_check.py); ee-image builds it from
# the local debian:bookworm and runs a job in it with ansible-runner (tests/ee/smoke.yml).
EE := .build/ee
EE_IMAGE := nbops-jupyter-ee:$(shell awk '/^version:/ {print $$2}' galaxy.yml)

.build/builder-venv/.installed: requirements/builder.txt
	python3 -m venv .build/builder-venv
	.build/builder-venv/bin/pip install --disable-pip-version-check -q -r requirements/builder.txt
	touch $@

ee: venv .build/builder-venv/.installed
	execution-environment/stage.sh $(EE)
	.build/builder-venv/bin/ansible-builder create -f $(EE)/execution-environment.yml -c $(EE)/context --output-filename Containerfile
	.build/builder-venv/bin/python tests/tools/ee_check.py $(EE)/context

ee-image: ee
	tests/testbed/ensure-docker.sh
	docker image inspect debian:bookworm >/dev/null 2>&1 || tests/testbed/build-images.sh bookworm
	old=$$(docker image inspect -f '{{.Id}}' $(EE_IMAGE) 2>/dev/null || true); \
	.build/builder-venv/bin/ansible-builder build -f $(EE)/execution-environment.yml -c $(EE)/context \
	  --output-filename Containerfile --container-runtime docker -t $(EE_IMAGE) -v 3 > $(EE)/build.log 2>&1 \
	  || { tail -n 40 $(EE)/build.log; exit 1; }; \
	new=$$(docker image inspect -f '{{.Id}}' $(EE_IMAGE)); \
	if [ -n "$$old" ] && [ "$$old" != "$$new" ]; then docker rmi "$$old" >/dev/null || true; fi
	docker run --rm -e ANSIBLE_NOCOLOR=1 $(EE_IMAGE) ansible-doc -l nbops.jupyter
	docker run --rm -v $(CURDIR)/tests/ee:/runner/project:ro $(EE_IMAGE) ansible-runner run /runner -p smoke.yml

# The user's first five minutes, end to end: make demo twice (the second changes nothing), a real
# browser logs in and runs a cell, then make demo-down.
demo-test: venv collection testbed
	tests/testbed/demo-test.sh

molecule: venv collection testbed scanners
	set -e; for s in $(SCENARIOS); do $(BIN)/molecule test -s $$s; done

# unit and lint run with an empty HOME and fail if any tool writes state there (tests/tools/home-untouched.sh).
# The static steps need no container and about one core: they run alongside the image build, the
# demo and molecule (tests/run-alongside.sh), whose output streams while theirs prints when done.
test: venv collection shellcheck
	tests/run-alongside.sh "$(MAKE) --no-print-directory test-static" "$(MAKE) --no-print-directory test-hosts"

test-static: venv collection
	tests/run-steps.sh \
	  "unit::tests/tools/home-untouched.sh unit" \
	  "lint::tests/tools/home-untouched.sh lint" \
	  "sanity::$(MAKE) --no-print-directory sanity" \
	  "galaxy::$(MAKE) --no-print-directory galaxy" \
	  "ee::$(MAKE) --no-print-directory ee"

test-hosts: venv collection
	tests/run-steps.sh \
	  "testbed::$(MAKE) --no-print-directory testbed" \
	  "scanners::$(MAKE) --no-print-directory scanners" \
	  "demo::$(MAKE) --no-print-directory demo-test" \
	  "molecule::MOLECULE=$(BIN)/molecule tests/run-lanes.sh $(LANES)"

demo: venv collection
	tests/testbed/ensure-docker.sh
	tests/testbed/build-images.sh bookworm
	tests/testbed/demo.sh up

demo-down: venv collection
	tests/testbed/demo.sh down

# Timings, not assertions: by hand vs the role over SSH (Ansible's defaults and the README's
# settings) and docker, a second run, fleets of 8 and 32, the floors under each (README, Performance).
bench: venv collection
	tests/testbed/ensure-docker.sh
	tests/testbed/build-images.sh bookworm
	$(BIN)/python tests/bench/bench.py

clean:
	rm -rf .build .pytest_cache
