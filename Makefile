# Bousla: `make run` to start everything, `make test` to check everything.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
BOUSLA := $(VENV)/bin/bousla
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1

.PHONY: setup system-deps train run test test-load lint bench

# The virtual environment, rebuilt when the pinned dependencies change.
$(VENV)/.installed: pyproject.toml requirements.lock scripts/find-python310
	@python310=$$(scripts/find-python310) || exit 2; \
	if [ ! -x $(PY) ] || ! $(PY) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))'; then \
	  echo "Creating $(VENV) with $$python310"; rm -rf $(VENV); $$python310 -m venv $(VENV) || exit 2; \
	fi; \
	echo "Installing pinned dependencies (about 2 minutes the first time)..."; \
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock && \
	$(PY) -m pip install --quiet --no-deps -e . --config-settings editable_mode=compat && \
	$(PY) -m pip check && touch $@

setup: $(VENV)/.installed

# Debian packages some tests need (nginx, Chromium, PostgreSQL's server binaries,
# redis-server, openssl); without them those tests are skipped with the reason printed.
system-deps:
	scripts/install-system-deps

train: setup
	$(BOUSLA) train

run: setup
	$(BOUSLA) run

test: setup
	$(PY) -m pytest

# Faults under load on `bousla run --replicas 2` (private PostgreSQL and Redis, nginx):
# a killed replica, a PostgreSQL restart, Redis down, a storm of Twilio errors (~4 min).
test-load: setup
	BOUSLA_LOAD_TESTS=1 $(PY) -m pytest tests/test_faults_load.py -q

lint: setup
	$(VENV)/bin/ruff check bot tests
	$(VENV)/bin/ruff format --check bot tests

bench: setup
	$(BOUSLA) bench rest
	$(BOUSLA) bench turn
	$(BOUSLA) bench channels
	$(BOUSLA) bench language
	$(BOUSLA) bench conversations
