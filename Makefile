# The two commands of the README:
#   make book   build the Jupyter Book into _build/html (quick profile by default)
#   make test   lint, build the book, run the unit tests and nbval over every notebook
# Both create .venv with the right TensorFlow wheel when it is missing.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.rarunet-installed
# tensorflow[and-cuda] only where an NVIDIA driver answers; tensorflow-cpu elsewhere.
TF_EXTRA ?= $(shell nvidia-smi -L >/dev/null 2>&1 && echo gpu || echo cpu)
export RARUNET_PROFILE ?= quick
export TF_CPP_MIN_LOG_LEVEL ?= 2
export PIP_DISABLE_PIP_VERSION_CHECK = 1
JB_FLAGS := --toc book/_toc.yml -W -n --keep-going
PYTEST_FLAGS := --nbval-lax --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout=300

MATHJAX := book/_static/mathjax/tex-chtml.js
MATHJAX_VERSION := 3.2.2

.PHONY: install book test lint unit nbval benchmarks clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[$(TF_EXTRA),dev]"
	@touch $@

install: $(STAMP)

# MathJax is served from the book itself (readers without internet still see equations):
# fetched once from the npm registry with npm's own client.
$(MATHJAX):
	@rm -rf .mathjax-tmp && mkdir -p .mathjax-tmp book/_static/mathjax
	cd .mathjax-tmp && npm pack --silent mathjax@$(MATHJAX_VERSION) >/dev/null && tar xzf mathjax-$(MATHJAX_VERSION).tgz
	cp .mathjax-tmp/package/es5/tex-chtml.js $(MATHJAX)
	mkdir -p book/_static/mathjax/output/chtml/fonts
	cp -r .mathjax-tmp/package/es5/output/chtml/fonts/woff-v2 book/_static/mathjax/output/chtml/fonts/
	cp .mathjax-tmp/package/LICENSE book/_static/mathjax/LICENSE
	@rm -rf .mathjax-tmp

# MPLBACKEND=Agg would silently drop every figure from the pages: unset it.
book: $(STAMP) $(MATHJAX)
	env -u MPLBACKEND $(VENV)/bin/jupyter-book build . $(JB_FLAGS)
	@echo "Book written to _build/html/index.html (profile: $(RARUNET_PROFILE))"

lint: $(STAMP)
	$(VENV)/bin/ruff check .

# pytest exits 5 when it collects nothing: report it rather than fail obscurely.
unit: $(STAMP)
	@$(PY) -m pytest tests notebooks $(PYTEST_FLAGS) $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 0; fi; exit $$rc

test: lint book unit

benchmarks: $(STAMP)
	@for f in benchmarks/bench_*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

clean:
	rm -rf _build .pytest_cache .ruff_cache
