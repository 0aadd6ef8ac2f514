# Two commands from a fresh clone: `make demo` (set up, then analyse the embedded demo clip) and
# `make test` (set up, then run the test suite). Both create .venv on first use.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test bundle bundle-check clean

$(STAMP): pyproject.toml
	tools/install-system-deps.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# torch first, pinned: this release lies on the build machines' disk (a newer one is a multi-GB download)
	$(BIN)/pip install -q torch==2.14.1 torchvision==0.29.1
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/painmon demo

# A private PostgreSQL on 127.0.0.1 for the store, forwarding and export tests (tools/start-postgres.sh).
test: setup
	tools/start-postgres.sh start
	eval "$$(tools/start-postgres.sh env)" && QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q

# The desktop bundle, dist/painmon/ (packaging/build.sh), and its smoke run from outside the
# source tree (packaging/smoke.sh), which .ci/run also does.
bundle:
	packaging/build.sh

bundle-check:
	test -x dist/painmon/painmon || packaging/build.sh
	packaging/smoke.sh dist/painmon

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
