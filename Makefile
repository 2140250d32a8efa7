# RouteCare: `make run` to try it, `make test` to check it. See README.md.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
ROUTECARE := $(BIN)/routecare
HOST_PORT ?= 127.0.0.1:8000
SERVE_DATABASE_URL ?= postgres://root@127.0.0.1:5432/routecare
PO_FILES := $(wildcard routecare/locale/*/LC_MESSAGES/*.po)
MO_FILES := $(PO_FILES:.po=.mo)

# A field node serves HTTPS on NODE_BIND with the certificate its society signed at enrolment
# (files under NODE_TLS_DIR), and on NODE_PLAIN_BIND only the page to install the society's
# root (everything else there goes to HTTPS); not enrolled yet: plain http on loopback only.
NODE_BIND ?= 0.0.0.0:8443
NODE_PLAIN_BIND ?= 0.0.0.0:8000
NODE_TLS_DIR ?= $(or $(ROUTECARE_LOCAL_DIR),.local)/node-tls

.PHONY: audit setup run node chaos test lint typecheck pytest serve worker bench bench-scale bench-messaging bench-cash load load-scale-out messages makemessages lock clean

setup: $(VENV)/.installed routecare/static/vendor/.installed $(MO_FILES)

$(VENV)/.installed: requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	@# WeasyPrint (printed cards) needs Pango and a font with Arabic script, from Debian.
	@$(BIN)/python -c "import weasyprint" 2>/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core >/dev/null; } || { echo "WeasyPrint needs Pango: apt-get install libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core"; exit 1; }
	@# Printed cards and booklets in Arabic, Farsi, Pashto and Urdu need the Noto fonts (templates/print/fonts.css).
	@fc-list 2>/dev/null | grep -q "Noto Nastaliq Urdu" || { [ "$$(id -u)" = 0 ] && { apt-get install -y -qq fonts-noto-core >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq fonts-noto-core >/dev/null; }; }; } || { echo "Printed pages need the Noto fonts: apt-get install fonts-noto-core"; exit 1; }
	touch $@

routecare/static/vendor/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p routecare/static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js node_modules/jsqr/dist/jsQR.js routecare/static/vendor/
	cp node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.js.map node_modules/leaflet/dist/leaflet.css routecare/static/vendor/
	cp -r node_modules/leaflet/dist/images routecare/static/vendor/
	cp node_modules/topojson-client/dist/topojson-client.min.js routecare/static/vendor/
	cp node_modules/world-atlas/countries-110m.json routecare/static/vendor/
	cp node_modules/chart.js/dist/chart.umd.min.js node_modules/chart.js/dist/chart.umd.min.js.map routecare/static/vendor/
	touch $@

# Translations are compiled from the .po catalogues; msgfmt comes from Debian's gettext.
%.mo: %.po
	@command -v msgfmt >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq gettext >/dev/null; } || { echo "msgfmt missing: apt-get install gettext"; exit 1; }
	msgfmt --check-format -o $@ $<

messages: $(MO_FILES)

# The staff interface's languages; person.po catalogues (core/person_texts.py) are kept by hand.
makemessages: setup
	cd routecare && ../$(ROUTECARE) makemessages -l es -l fr -l ar --no-obsolete --ignore 'static/*' --ignore 'tests/*'

# The laptop demo: background tasks run inside requests, periodic jobs (triggers, indicator
# rollups) beside the server; stopping the server stops both.
run: setup
	$(ROUTECARE) migrate --no-input
	$(ROUTECARE) demo
	trap 'kill 0' EXIT; $(ROUTECARE) periodic & ROUTECARE_TASKS=immediate $(ROUTECARE) runserver $(HOST_PORT)

# A field node (docs/sync.md): enrolled first with `routecare node enroll`; serves the point's
# phones over HTTPS and syncs every minute when a link is there (the periodic jobs run beside it).
node: setup
	ROUTECARE_NODE=true $(ROUTECARE) migrate --no-input
	ROUTECARE_NODE=true $(ROUTECARE) collectstatic --no-input --verbosity 0
	trap 'kill 0' EXIT; ROUTECARE_NODE=true $(ROUTECARE) periodic & \
	if [ -f $(NODE_TLS_DIR)/node.crt ] && [ -f $(NODE_TLS_DIR)/node.key ]; then \
		export ROUTECARE_NODE=true ALLOWED_HOSTS="$${ALLOWED_HOSTS:-$$(cat $(NODE_TLS_DIR)/hosts)}"; \
		ROUTECARE_NODE_HTTPS_PORT=$(lastword $(subst :, ,$(NODE_BIND))) $(BIN)/gunicorn routecare.sync.plain_wsgi --bind $(NODE_PLAIN_BIND) --workers 1 --threads 2 & \
		SECURE_COOKIES=true ROUTECARE_TASKS=immediate $(BIN)/gunicorn routecare.wsgi --bind $(NODE_BIND) --workers 2 --threads 4 \
			--certfile $(NODE_TLS_DIR)/node.crt --keyfile $(NODE_TLS_DIR)/node.key; \
	else \
		echo "No HTTPS certificate in $(NODE_TLS_DIR) (not enrolled?): plain http on 127.0.0.1:8000 only."; \
		ROUTECARE_NODE=true ROUTECARE_TASKS=immediate $(BIN)/gunicorn routecare.wsgi --bind 127.0.0.1:8000 --workers 2 --threads 4; \
	fi

# Field nodes behind a faulty link against a real server (gunicorn, PostgreSQL): nothing lost
# or duplicated. A bounded run is part of `make test`.
chaos: setup
	$(ROUTECARE) chaos --people-per-node 200 --shared-people 20 --throughput-people 1000

lint: setup
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

typecheck: setup
	$(BIN)/mypy routecare

# SQLite always; PostgreSQL too when DATABASE_URL points at one (CI requires it). Each pass
# runs on every core (pytest-xdist; PYTEST_WORKERS=0 runs in one process), a test file per worker
# at a time, so a file's browser and fixtures are set up once.
PYTEST_WORKERS ?= auto
PYTEST_PARALLEL := -n $(PYTEST_WORKERS) --dist loadfile
test: lint typecheck
	env -u DATABASE_URL $(ROUTECARE) makemigrations --check --dry-run
	env -u DATABASE_URL $(BIN)/pytest $(PYTEST_PARALLEL) --cov --cov-report=term
	@if [[ "$$DATABASE_URL" == postgres* ]]; then \
		echo "== PostgreSQL: $${DATABASE_URL%%\?*}"; \
		$(BIN)/pytest $(PYTEST_PARALLEL) -p no:cacheprovider; \
	elif [ -n "$$ROUTECARE_REQUIRE_POSTGRES" ]; then \
		echo "ROUTECARE_REQUIRE_POSTGRES is set but DATABASE_URL is not a PostgreSQL URL"; exit 1; \
	else echo "== PostgreSQL pass skipped: DATABASE_URL is not set"; fi

# A production-like run: PostgreSQL, gunicorn, static files served by whitenoise.
serve: setup
	DATABASE_URL=$(SERVE_DATABASE_URL) $(ROUTECARE) migrate --no-input
	DATABASE_URL=$(SERVE_DATABASE_URL) $(ROUTECARE) collectstatic --no-input --verbosity 0
	DATABASE_URL=$(SERVE_DATABASE_URL) ROUTECARE_PRODUCTION=$${ROUTECARE_PRODUCTION:-false} \
		$(BIN)/gunicorn routecare.wsgi --bind $(HOST_PORT) --workers 3

# Background tasks (emails, referral expiry) and periodic jobs (early-action triggers,
# overdue referrals): run beside `make run` or `make serve`. Stopping it stops both.
worker: setup
	trap 'kill 0' EXIT; $(ROUTECARE) periodic & $(ROUTECARE) db_worker --queue-name '*'

# stdout carries only the JSON object: set-up chatter goes to stderr.
bench:
	@$(MAKE) --no-print-directory setup 1>&2
	@$(ROUTECARE) bench

# Growth (issue 22, item 6): lookups and writes at 100,000 and 1,000,000 people in one run, and
# the index check of their statements. PostgreSQL, a database per size (BENCH_SCALE_POSTGRES_URL,
# default routecare_bench_scale on 127.0.0.1:5432, _100k and _1m appended), built once and kept
# between runs: the first build took 30 minutes on the loaded 2-core machine, later runs about 10
# (docs/benchmarks.md, "Growth"). Not part of `make bench`.
BENCH_SCALE_SIZES ?= 100000,1000000
bench-scale:
	@$(MAKE) --no-print-directory setup 1>&2
	@$(ROUTECARE) bench_scale --scale-sizes $(BENCH_SCALE_SIZES)

# The helpdesk's figures (issue 23; also part of `make bench`): webhook acknowledgement at 100
# deliveries a second, replays kept once, the bot's answer time with the worker running; each
# database a small one of its own (.local/bench-messaging.sqlite3, routecare_bench_messaging).
bench-messaging:
	@$(MAKE) --no-print-directory setup 1>&2
	@$(ROUTECARE) bench_messaging

# Cash de-duplication (issue 24; also part of `make bench`): linkage quality on synthetic rounds,
# encoding speed, a check against 200,000 enrolments, the frequency attack. No database.
bench-cash:
	@$(MAKE) --no-print-directory setup 1>&2
	@$(ROUTECARE) bench_cash

# Load test: gunicorn + PostgreSQL (LOAD_DATABASE_URL, default routecare_load on 127.0.0.1:5432,
# created and seeded if missing, kept between runs) and locust on loopback; one JSON object on
# stdout, also saved to .local/load.json. See docs/benchmarks.md, "Load test".
LOAD_USERS ?= 100
LOAD_DURATION ?= 5m
load:
	@$(MAKE) --no-print-directory setup 1>&2
	@$(ROUTECARE) load --users $(LOAD_USERS) --duration $(LOAD_DURATION)

# The same load on two gunicorn instances (one worker each) behind haproxy on loopback, sharing
# PostgreSQL and, for their caches, Redis (LOAD_REDIS_URL, default 127.0.0.1:6379).
load-scale-out:
	@$(MAKE) --no-print-directory setup 1>&2
	@command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq haproxy >/dev/null; } || { echo "apt-get install haproxy" 1>&2; exit 1; }
	@$(ROUTECARE) load --users $(LOAD_USERS) --duration $(LOAD_DURATION) --instances 2 --workers 1 \
		--output .local/load-scale-out.json

# Known vulnerabilities in the pinned dependencies (.ci/run; needs OSV or PyPI's JSON API).
AUDIT_SERVICE ?= osv
audit: setup
	$(BIN)/pip-audit --strict --vulnerability-service $(AUDIT_SERVICE) --requirement requirements.lock \
		--no-deps --disable-pip --progress-spinner off

lock:
	$(BIN)/pip-compile --quiet --extra dev --strip-extras --no-emit-index-url --no-emit-find-links -o requirements.lock pyproject.toml

clean:
	rm -rf $(VENV) node_modules routecare/static/vendor staticfiles .pytest_cache .mypy_cache .ruff_cache .coverage
