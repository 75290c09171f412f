# welfare-monitor: `make demo` and `make test` work on a fresh clone with Python 3.11+ and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: venv tools upstream-tools kafka-jars chdb258 demo test bench lint typecheck unit integration system clean i18n docs

# Debian packages the tests use: docker-compose (1.29) validates docker-compose.yml without
# a Docker engine; chromium and chromedriver run the live page's browser test and print the
# report to PDF; pdftotext (poppler-utils) reads that PDF back in its test; Maven and a JDK
# 17+ (the first of JDK_PACKAGES the distribution has) run Apache Kafka from Maven Central's
# jars (tests/kafka/pom.xml). Installed only when missing (as root, or through sudo).
DEBIAN_TOOLS := docker-compose chromium chromedriver pdftotext go node npm mvn
JDK_PACKAGES := openjdk-17-jdk-headless openjdk-21-jdk-headless openjdk-25-jdk-headless

# Grafana's own code as the tests' oracle (docs/testing.md): a Go program around the
# ClickHouse data source's macro expansion and a Node bundle of Scenes' interpolation, built
# from tests/upstream/ into an ignored cache; rebuilt only when their sources change.
UPSTREAM := .cache/upstream
UPSTREAM_GO := $(wildcard tests/upstream/go/*.go) tests/upstream/go/go.mod tests/upstream/go/go.sum
UPSTREAM_NODE := tests/upstream/node/package-lock.json tests/upstream/node/build.mjs \
  tests/upstream/node/interpolate.mjs tests/upstream/node/stub-module.cjs

# The virtualenv is rebuilt whenever pyproject.toml is newer than the last install.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

# ClickHouse 25.8, the server version docker-compose.yml pins, embedded by chdb 4.0.0, in an
# interpreter of its own (the project's chDB is newer): the dashboards' read-only test runs
# every Grafana query in it (tests/support/chdb258_runner.py).
CHDB258 := .venv-chdb258
$(CHDB258)/.installed-stamp:
	@test -x $(CHDB258)/bin/python || $(PYTHON) -m venv $(CHDB258)
	$(CHDB258)/bin/python -m pip install --quiet --disable-pip-version-check 'chdb==4.0.0'
	@touch $@

chdb258: $(CHDB258)/.installed-stamp

tools:
	@missing=""; for tool in $(DEBIAN_TOOLS); do \
	  command -v $$tool >/dev/null 2>&1 || missing="$$missing $$tool"; done; \
	missing=$$(echo "$$missing" | sed 's/chromedriver/chromium-driver/; s/pdftotext/poppler-utils/; s/\bgo\b/golang-go/; s/\bnode\b/nodejs/; s/\bmvn\b/maven/'); \
	java=$$(java -version 2>&1 | sed -n 's/.* version "\([0-9]*\).*/\1/p' | head -n 1); \
	if [ -n "$$missing" ] || [ "$${java:-0}" -lt 17 ]; then \
	  sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  $$sudo apt-get update -qq; \
	  if [ "$${java:-0}" -lt 17 ]; then for jdk in $(JDK_PACKAGES); do \
	    if apt-cache show $$jdk >/dev/null 2>&1; then missing="$$missing $$jdk"; break; fi; \
	  done; fi; \
	  echo "installing Debian packages:$$missing"; \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing \
	    >/dev/null; fi

$(UPSTREAM)/expand: $(UPSTREAM_GO)
	@mkdir -p $(UPSTREAM)
	cd tests/upstream/go && GOFLAGS="-mod=readonly -buildvcs=false" go build -o $(CURDIR)/$@ .

$(UPSTREAM)/interpolate.mjs: $(UPSTREAM_NODE)
	@mkdir -p $(UPSTREAM)
	cd tests/upstream/node && npm ci --silent --no-audit --no-fund && node build.mjs $(CURDIR)/$@

upstream-tools: tools $(UPSTREAM)/expand $(UPSTREAM)/interpolate.mjs

# Apache Kafka's jars for the tests, resolved by Maven once into .cache/kafka/ (ignored).
kafka-jars: $(STAMP) tools
	$(BIN)/python -m tests.support.kafka_server

# Translations (docs/languages.md): extract the marked text into the template, merge it into
# the committed vi catalogue (then translate its new entries), compile the .mo files. The code
# compiles a missing or older .mo in memory, so `make test` needs no step of its own.
LOCALES := schemas/locale
i18n: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg --sort-output --add-location=file --no-wrap \
	  --project=welfare-monitor -o $(LOCALES)/messages.pot .
	$(BIN)/pybabel update --no-wrap --no-fuzzy-matching -i $(LOCALES)/messages.pot -d $(LOCALES) -l vi
	$(BIN)/pybabel compile --statistics -d $(LOCALES)

demo: $(STAMP)
	$(BIN)/welfare-monitor demo

# Not part of `make test`: a benchmark, quoted in docs/benchmarks.md. BENCH_EVENTS=200000 for
# a shorter run; BENCH_HISTORY_MONTHS, BENCH_GROWTH_PERIODS, BENCH_FRESHNESS_SECONDS=0 skip
# those stages (docs/benchmarks.md says what each measures).
bench: $(STAMP)
	$(BIN)/welfare-monitor bench --events $(or $(BENCH_EVENTS),1000000) \
	  --history-months $(or $(BENCH_HISTORY_MONTHS),12) --growth-periods $(or $(BENCH_GROWTH_PERIODS),24) \
	  --freshness-seconds $(or $(BENCH_FRESHNESS_SECONDS),30)

# `ruff format --check` fails on any file ruff would reformat; `ruff format .` fixes them.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The tables in the docs generated from the code (settings, event contracts); a unit test
# fails when a committed one is stale (tests/unit/test_docs_tables.py).
docs: $(STAMP)
	$(BIN)/python -m streams.harness.docs_tables

typecheck: $(STAMP)
	$(BIN)/mypy

# The folder says what a test needs (docs/testing.md): tests/unit no broker, worker or server;
# tests/integration the real broker, a worker process or chDB; tests/system kill -9, outages,
# shutdown, docker-compose and the browser. Both of the latter carry the `integration` marker
# (tests/unit/test_test_layout.py checks it), so `pytest -m integration` selects the same tests.
unit: $(STAMP)
	$(BIN)/pytest tests/unit

integration: $(STAMP) upstream-tools chdb258 kafka-jars
	$(BIN)/pytest tests/integration

system: $(STAMP) upstream-tools chdb258 kafka-jars
	$(BIN)/pytest tests/system

test: lint typecheck upstream-tools chdb258 kafka-jars
	$(BIN)/pytest

clean:
	rm -rf $(VENV) $(CHDB258) .pytest_cache .mypy_cache .ruff_cache *.egg-info data .cache tests/upstream/node/node_modules
