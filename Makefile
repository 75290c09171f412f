# welfare-monitor: `make demo` and `make test` work on a fresh clone with Python 3.11+ and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: venv tools kafka-jars demo test bench lint typecheck unit integration clean

# Debian packages the tests use: docker-compose (1.29) validates docker-compose.yml without
# a Docker engine; chromium and chromedriver run the live page's browser test; a JDK 17+ and
# Maven run Apache Kafka from Maven Central's jars (tests/kafka/pom.xml). Installed only
# when missing (as root, or through sudo).
DEBIAN_TOOLS := docker-compose chromium chromedriver mvn
JDK_PACKAGES := openjdk-17-jdk-headless openjdk-21-jdk-headless openjdk-25-jdk-headless

# The virtualenv is rebuilt whenever pyproject.toml is newer than the last install.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

tools:
	@missing=""; for tool in $(DEBIAN_TOOLS); do \
	  command -v $$tool >/dev/null 2>&1 || missing="$$missing $$tool"; done; \
	missing=$$(echo "$$missing" | sed 's/chromedriver/chromium-driver/; s/mvn/maven/'); \
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

# Apache Kafka's jars for the tests, resolved by Maven once into .cache/kafka/ (ignored).
kafka-jars: $(STAMP) tools
	$(BIN)/python -m tests.support.kafka_server

demo: $(STAMP)
	$(BIN)/welfare-monitor demo

# Not part of `make test`: a benchmark, quoted in docs/benchmarks.md. BENCH_EVENTS=200000 for
# a shorter run.
bench: $(STAMP)
	$(BIN)/welfare-monitor bench --events $(or $(BENCH_EVENTS),1000000)

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -m "not integration"

integration: $(STAMP) kafka-jars
	$(BIN)/pytest -m integration

test: lint typecheck kafka-jars
	$(BIN)/pytest

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info data .cache
