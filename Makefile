# welfare-monitor: `make demo` and `make test` work on a fresh clone with Python 3.11+ and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: venv tools demo test bench lint typecheck unit integration clean i18n

# Debian packages the tests use: docker-compose (1.29) validates docker-compose.yml without
# a Docker engine; chromium and chromedriver run the live page's browser test and print the
# report to PDF; pdftotext (poppler-utils) reads that PDF back in its test. Installed only
# when missing (as root, or through sudo).
DEBIAN_TOOLS := docker-compose chromium chromedriver pdftotext

# The virtualenv is rebuilt whenever pyproject.toml is newer than the last install.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

tools:
	@missing=""; for tool in $(DEBIAN_TOOLS); do \
	  command -v $$tool >/dev/null 2>&1 || missing="$$missing $$tool"; done; \
	missing=$$(echo "$$missing" | sed "s/chromedriver/chromium-driver/; s/pdftotext/poppler-utils/"); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  $$sudo apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing \
	    >/dev/null; fi

# Translations (docs/languages.md): extract the marked text into the template, merge it into
# the committed vi catalogue (then translate its new entries), compile the .mo files. The code
# compiles a missing or older .mo in memory, so `make test` needs no step of its own.
LOCALES := streams/locale
i18n: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg --sort-output --add-location=file --no-wrap \
	  --project=welfare-monitor -o $(LOCALES)/messages.pot .
	$(BIN)/pybabel update --no-wrap --no-fuzzy-matching -i $(LOCALES)/messages.pot -d $(LOCALES) -l vi
	$(BIN)/pybabel compile --statistics -d $(LOCALES)

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

integration: $(STAMP) tools
	$(BIN)/pytest -m integration

test: lint typecheck tools
	$(BIN)/pytest

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info data
