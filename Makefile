# The two commands of the quick start: `make demo` and `make test`. Both set everything up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed-dev

.PHONY: demo test system-deps lint typecheck docs bench clean

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

demo: $(INSTALLED)
	@echo "== backbone review examples/shop =="
	$(BIN)/backbone review examples/shop --exit-zero --no-cache --color always
	@echo "== backbone migrations trace examples/shop: the example's Alembic revisions on a scratch PostgreSQL =="
	-$(BIN)/backbone migrations trace examples/shop --exit-zero --color always
	@echo "== backbone debug on the example service's logs (an incident is in them) =="
	$(BIN)/python examples/shop/scripts/generate_logs.py --out build/demo/logs
	$(BIN)/backbone debug build/demo/logs --exit-zero --color always --html build/demo/debug.html
	@echo "HTML report: build/demo/debug.html"
	@echo "== backbone profile: the example service run in-process under instrumentation =="
	$(BIN)/backbone profile shop.main:app --app-dir examples/shop --setup shop_profile_setup:setup --scenario examples/shop/scenario.yaml --html build/demo/profile.html --exit-zero
	@echo "HTML report: build/demo/profile.html"
	@echo "== backbone contract: the shop's API contract from its code, diffed against the released 1.0.0, handed off, verified =="
	$(BIN)/backbone contract extract shop.main:app --app-dir examples/shop -o build/demo/openapi.json
	$(BIN)/backbone contract diff examples/shop/contract/openapi-v1.yaml build/demo/openapi.json || test $$? -eq 1
	$(BIN)/backbone contract handoff shop.main:app --app-dir examples/shop --setup shop_profile_setup:setup --scenario examples/shop/scenario.yaml -o build/demo/api.html
	@echo "Handoff page: build/demo/api.html"
	$(BIN)/backbone contract verify shop.main:app --app-dir examples/shop --setup shop_profile_setup:setup --max-examples 5 --time-limit 60 || test $$? -eq 1
	@echo "== backbone explain: the shop's queries on a SQLite copy with 100,000 orders =="
	$(BIN)/python examples/shop/scripts/make_explain_db.py --out build/demo/shop.db
	$(BIN)/backbone explain --database sqlite:///build/demo/shop.db -f examples/shop/slow_queries.sql --exit-zero

# What the system must provide is checked first, before anything is built or installed.
test: system-deps $(INSTALLED)
	$(BIN)/mypy src/backbone
	$(BIN)/pytest -q -p no:cacheprovider

system-deps:
	@PYTHON=$(PYTHON) scripts/system-deps

docs: $(INSTALLED)
	$(BIN)/python -m backbone.report.rule_docs docs/rules

# semgrep pins exact versions of shared libraries: it gets an environment of its own.
SEMGREP := bench/.work/semgrep-venv/bin/semgrep

$(SEMGREP):
	$(PYTHON) -m venv bench/.work/semgrep-venv
	bench/.work/semgrep-venv/bin/python -m pip install --quiet --disable-pip-version-check 'semgrep>=1.100'

bench: $(INSTALLED) $(SEMGREP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[bench]'
	-$(BIN)/python bench/review_speed.py
	-$(BIN)/python bench/peers.py
	-$(BIN)/python bench/profile_overhead.py
	-$(BIN)/python bench/debug_throughput.py
	-$(BIN)/python bench/n1_realworld/run.py
	-$(BIN)/python bench/fuzz.py --minutes 60
	-$(BIN)/python bench/explain_bench.py

clean:
	rm -rf $(VENV) .backbone_cache .hypothesis .mypy_cache .pytest_cache build src/*.egg-info
