# The two commands a newcomer needs: `make run` and `make test`.
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: deps run test check lint format sandbox bench clean

deps: $(STAMP)

$(STAMP): pyproject.toml scripts/install-deps
	bash scripts/install-deps
	touch $(STAMP)

## Start the Asterisk sandbox (unless HOTLINE_AMI_HOST points elsewhere) and the controller.
run: deps
	$(BIN)/hotline serve

## Lint, type-check and run every test, the ones against the real Asterisk included.
test: deps
	$(BIN)/hotline sandbox up
	bash scripts/postgres start
	$(MAKE) check
	HOTLINE_TEST_DATABASES=sqlite,postgresql $(BIN)/pytest -q

check:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format:
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

sandbox: deps
	$(BIN)/hotline sandbox up

bench: deps
	$(BIN)/hotline bench ami

clean:
	-$(BIN)/hotline sandbox down
	rm -rf $(VENV) .state bench-results
