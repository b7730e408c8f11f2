# tongban — every target bootstraps .venv from python3 alone.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 8000
NAME   ?=

.PHONY: demo test bench lint serve worker messages assets system-deps lock clean help cluster cluster-down cluster-status

help:
	@echo "make demo   — set up, seed the demo city and serve it (SQLite)"
	@echo "make test   — set up and run the test suite (SQLite, then PostgreSQL when reachable)"
	@echo "make bench [NAME=x] — benchmarks under tests/bench"
	@echo "make lint   — ruff"
	@echo "make serve  — serve the existing database (web + background worker)"
	@echo "make assets — front-end assets (bpmn-js, ECharts) from the npm registry into static/web/vendor"
	@echo "make cluster — the production shape on this machine (nginx, 2 app servers, PostgreSQL + replica, Redis, 2 workers) in var/cluster; make cluster-down stops it"

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	@touch $(STAMP)

# Translations are compiled from the committed .po files; msgfmt comes from Debian's gettext.
messages: $(STAMP)
	@bash scripts/system-deps.sh gettext
	@cd src/tongban && ../../$(BIN)/django-admin compilemessages --settings=tongban.settings -v 0

# Front-end assets: npm installs the versions package-lock.json pins (only when the lock changed) and
# the files pages use are copied into static/web/vendor, so nothing is loaded from a CDN at run time.
NPM_STAMP := node_modules/.installed-stamp
VENDOR    := src/tongban/web/static/web/vendor
BPMN_JS   := $(VENDOR)/bpmn-js
ECHARTS   := $(VENDOR)/echarts
ASSETS    := $(addprefix $(BPMN_JS)/,bpmn-navigated-viewer.production.min.js diagram-js.css bpmn-js.css LICENSE) \
             $(addprefix $(ECHARTS)/,echarts.min.js LICENSE)

$(NPM_STAMP): package.json package-lock.json
	@bash scripts/system-deps.sh node
	npm ci --ignore-scripts --no-audit --no-fund
	@touch $(NPM_STAMP)

$(BPMN_JS)/%.js: $(NPM_STAMP)
	install -D -m 644 node_modules/bpmn-js/dist/$*.js $@

$(BPMN_JS)/%.css: $(NPM_STAMP)
	install -D -m 644 node_modules/bpmn-js/dist/assets/$*.css $@

# bpmn-js's licence asks that the bpmn.io watermark stays visible; its text ships beside the code.
$(BPMN_JS)/LICENSE: $(NPM_STAMP)
	install -D -m 644 node_modules/bpmn-js/LICENSE $@

# ECharts (Apache-2.0) for the charts and the process map of the insight pages.
$(ECHARTS)/echarts.min.js: $(NPM_STAMP)
	install -D -m 644 node_modules/echarts/dist/echarts.min.js $@

$(ECHARTS)/LICENSE: $(NPM_STAMP)
	install -D -m 644 node_modules/echarts/LICENSE $@

assets: $(ASSETS)

system-deps:
	@bash scripts/system-deps.sh gettext browser fonts poppler pgclient node cluster

demo: $(STAMP) messages assets
	$(BIN)/tongban demo --host $(HOST) --port $(PORT)

serve: $(STAMP) messages assets
	$(BIN)/tongban serve --host $(HOST) --port $(PORT)

worker: $(STAMP)
	$(BIN)/tongban worker

test: $(STAMP) messages assets
	@bash scripts/system-deps.sh browser fonts poppler pgclient cluster
	@bash scripts/run-tests.sh

# The production shape of docs/scale.md, every part a process on 127.0.0.1 (tongban cluster).
CLUSTER_DIR ?= var/cluster
cluster: $(STAMP) messages assets
	@bash scripts/system-deps.sh cluster
	$(BIN)/tongban cluster up --folder $(CLUSTER_DIR)

cluster-status: $(STAMP)
	$(BIN)/tongban cluster status --folder $(CLUSTER_DIR)

cluster-down: $(STAMP)
	$(BIN)/tongban cluster down --folder $(CLUSTER_DIR)

BENCH_STAMP := .venv/.bench-stamp

# The reference tools benchmarks compare against (PM4Py): installed for `make bench` only.
$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev,bench]'
	@touch $(BENCH_STAMP)

bench: $(BENCH_STAMP) messages assets
	@bash scripts/system-deps.sh cluster
	$(BIN)/python -m tests.bench $(NAME)

lint: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

# Refresh the pinned transitive set after changing pyproject.toml.
lock:
	rm -rf /tmp/tongban-lock && $(PYTHON) -m venv /tmp/tongban-lock
	/tmp/tongban-lock/bin/pip install --quiet '.[dev]'
	/tmp/tongban-lock/bin/pip freeze --exclude tongban > requirements.lock

clean:
	rm -rf $(VENV) var node_modules $(VENDOR)
