# Quick start:  make demo   (main job)   |   make test   (test suite)
# Both create ./.venv on first use and install the package there with the CPU build of torch.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test bench lint clean

$(STAMP): pyproject.toml constraints-cpu.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -c constraints-cpu.txt "torch==2.13.0"
	$(PY) -m pip install --quiet -c constraints-cpu.txt -e ".[test,bench]" ruff
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m sklearn_r2t demo

test: $(STAMP)
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) benchmarks/r2t_accuracy.py
	$(PY) benchmarks/asrl_tabular.py

lint: $(STAMP)
	$(VENV)/bin/ruff check sklearn_r2t tests benchmarks

clean:
	rm -rf $(VENV)
