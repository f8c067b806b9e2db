PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

# What the suite runs besides Python packages; each can be pointed elsewhere (make test SSHD=...).
SSHD ?= /usr/sbin/sshd
CHROMIUM ?= chromium
CHROMEDRIVER ?= chromedriver
APT_GET ?= apt-get
USER_ID ?= $(shell id -u)

.PHONY: install run test bench lint format clean system-test

# Debian packages pip cannot install: installed when missing if this is root with apt-get; otherwise make stops at
# once with one line naming the command to run.
goal = $(or $(MAKECMDGOALS),install)
can_apt = $(and $(filter 0,$(USER_ID)),$(shell command -v $(APT_GET)))
debian_install = $(if $(1),$(if $(can_apt),\
	echo "installing the Debian packages $(1)" && $(APT_GET) update -qq && \
	DEBIAN_FRONTEND=noninteractive $(APT_GET) install -y -qq $(1) >/dev/null,\
	$(error make $(goal) needs the Debian packages $(1): run 'sudo apt-get install -y $(1)', then make $(goal) again)))
# python3-venv: Debian's python3 has no venv (ensurepip) without it.
install_missing = $(if $(shell $(PYTHON) -c 'import ensurepip' 2>/dev/null && echo ok),,python3-venv)
# OpenSSH's server (the SFTP tests) and Chromium with its driver (the console's browser test).
test_missing = $(strip $(if $(wildcard $(SSHD)),,openssh-server) $(if $(shell command -v $(CHROMIUM)),,chromium) \
	$(if $(shell command -v $(CHROMEDRIVER)),,chromium-driver))

$(VENV)/.installed: requirements/base.txt requirements/dev.txt
	@$(call debian_install,$(install_missing))
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements/dev.txt
	touch $@

install: $(VENV)/.installed

system-test:
	@$(call debian_install,$(test_missing))

run: install
	$(PY) manage.py migrate --noinput
	DEBUG=$${DEBUG:-true} LOG_FORMAT=$${LOG_FORMAT:-plain} $(PY) manage.py run_local

test: system-test install
	$(PY) -m pytest $(PYTEST_ARGS)

bench: install
	$(PY) -m tests.benchmarks

# mypy checks what pyproject.toml's [tool.mypy] names (hub/, flows/, tests/).
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache .mypy_cache
