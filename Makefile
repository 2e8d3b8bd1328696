# The two commands of the README. Both do all set-up first (scripts/setup.sh).
.PHONY: setup demo test lint

setup:
	@bash scripts/setup.sh

demo: setup
	.venv/bin/crossaug demo

test: setup
	.venv/bin/python -m pytest -q

lint: setup
	.venv/bin/python -m ruff check kernel plugins tests benchmarks
