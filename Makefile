# Quick start:  make demo   (main job)   |   make test   (test suite)   |   make docs   (site)
# All create ./.venv on first use and install the package there, CPU-only by default:
# torch from PyTorch's CPU wheel index and the CPU build of XGBoost (xgboost-cpu).
#
#   make test TORCH_INDEX=https://download.pytorch.org/whl/cu126 XGBOOST=xgboost   # a CUDA machine
#
# When TORCH_INDEX cannot be reached, torch comes from pip's configured index, pinned by
# constraints-cpu.txt (which on a plain PyPI machine gives the default build).
PYTHON ?= python3
VENV ?= .venv
TORCH_VERSION ?= 2.13.0
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
# extra of pyproject.toml that brings XGBoost: xgboost-cpu (about 6 MB) or xgboost (about
# 700 MB on Linux, with the CUDA build and nvidia-nccl-cu12)
XGBOOST ?= xgboost-cpu
# real actigraphy recordings for the tests, the docs and the real-data study; installed
# without dependencies: we only read its data files, and its dependency pins
# (accelerometer -> scikit-learn==1.0.1) conflict with ours
PYACTIGRAPHY ?= pyActigraphy==1.2.2
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DOCS_STAMP := $(VENV)/.installed-docs

.PHONY: demo test docs bench lint clean

$(STAMP): pyproject.toml constraints-cpu.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --retries 0 --timeout 30 --index-url $(TORCH_INDEX) \
		"torch==$(TORCH_VERSION)" \
	|| { echo "make: $(TORCH_INDEX) unreachable or without torch $(TORCH_VERSION);" \
		"installing it from pip's configured index"; \
		$(PY) -m pip install --quiet -c constraints-cpu.txt "torch==$(TORCH_VERSION)"; }
	$(PY) -m pip install --quiet -c constraints-cpu.txt -e ".[test,bench,$(XGBOOST)]" ruff
	$(PY) -m pip install --quiet --no-deps "$(PYACTIGRAPHY)"
	touch $(STAMP)

$(DOCS_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -c constraints-cpu.txt -e ".[docs,$(XGBOOST)]"
	touch $(DOCS_STAMP)

demo: $(STAMP)
	$(PY) -m sklearn_r2t demo

test: $(STAMP)
	$(PY) -m pytest -q

docs: $(DOCS_STAMP)
	OMP_NUM_THREADS=1 $(PY) -m sphinx -W --keep-going -b html -q docs docs/_build/html
	@echo "docs: open docs/_build/html/index.html"

bench: $(STAMP)
	$(PY) benchmarks/fit_speed.py
	$(PY) benchmarks/r2t_accuracy.py
	$(PY) benchmarks/asrl_tabular.py
	$(PY) benchmarks/real_data.py

lint: $(STAMP)
	$(VENV)/bin/ruff check sklearn_r2t tests benchmarks examples

clean:
	rm -rf $(VENV) docs/_build docs/auto_examples docs/generated
