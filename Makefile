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
JB_FLAGS := --toc book/_toc.yml -W -n --keep-going --all  # --all: every page re-read, every notebook re-run (library changes show)
PYTEST_ARGS ?= --durations=25  # the slowest tests, to keep the CI run short
# Two pytest-xdist workers: a notebook or test module stays on one worker (loadscope, which nbval
# needs: its cells share one kernel), and the two cores stay busy while the other waits on Python.
PYTEST_WORKERS ?= 2
PYTEST_FLAGS := -n $(PYTEST_WORKERS) --dist loadscope --nbval-lax --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout=300

MATHJAX := book/_static/mathjax/tex-chtml.js
MATHJAX_VERSION := 3.2.2
# The JavaScript that shows embedded ipywidgets state in the static pages, served
# from the book (offline readers, no CDN): RequireJS and the ipywidgets 8 HTML manager.
WIDGETS_JS := book/_static/ipywidgets/embed-amd.js
HTML_MANAGER_VERSION := 1.0.15
REQUIREJS_VERSION := 2.3.8

.PHONY: install book test lint unit nbval benchmarks clean vendor browser check-outputs

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

$(WIDGETS_JS):
	@rm -rf .widgets-tmp && mkdir -p .widgets-tmp book/_static/ipywidgets
	cd .widgets-tmp && npm pack --silent @jupyter-widgets/html-manager@$(HTML_MANAGER_VERSION) requirejs@$(REQUIREJS_VERSION) >/dev/null \
	  && mkdir hm rq && tar xzf jupyter-widgets-html-manager-$(HTML_MANAGER_VERSION).tgz -C hm \
	  && tar xzf requirejs-$(REQUIREJS_VERSION).tgz -C rq
	cp .widgets-tmp/rq/package/require.js book/_static/ipywidgets/require.js
	cp .widgets-tmp/rq/package/README.md book/_static/ipywidgets/REQUIREJS-README.md
	cd .widgets-tmp/hm/package/dist && cp embed-amd.js *.woff2 *.woff *.ttf *.eot *.svg ../../../../book/_static/ipywidgets/
	cp .widgets-tmp/hm/package/dist/embed.js.LICENSE.txt book/_static/ipywidgets/LICENSE.txt
	@rm -rf .widgets-tmp

vendor: $(MATHJAX) $(WIDGETS_JS)

# MPLBACKEND=Agg would silently drop every figure from the pages: unset it.
# jupyter-book build, with the chapters executed in BOOK_JOBS processes (tools/build_book.py).
BOOK_JOBS ?= 4
book: $(STAMP) $(MATHJAX) $(WIDGETS_JS)
	env -u MPLBACKEND $(PY) tools/build_book.py --jobs $(BOOK_JOBS) . $(JB_FLAGS)
	@echo "Book written to _build/html/index.html (profile: $(RARUNET_PROFILE))"

lint: $(STAMP)
	$(VENV)/bin/ruff check .

# pytest exits 5 when it collects nothing: report it rather than fail obscurely.
unit: $(STAMP)
	@$(PY) -m pytest tests notebooks rarunet_lib --doctest-modules $(PYTEST_FLAGS) $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 0; fi; exit $$rc

# Debian's Chromium and its driver for the browser test (tests/test_browser.py); no
# test tool downloads a browser of its own.  Installed only when running as root (CI);
# anyone else is told the one command to run, and nothing is installed behind their back.
BROWSER_PKGS := chromium chromium-driver
browser:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then echo "chromium and chromedriver: present"; \
	elif [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends $(BROWSER_PKGS) >/dev/null && echo "installed $(BROWSER_PKGS)"; \
	else echo "The browser test needs Debian's Chromium and its driver; install them once with:"; \
	  echo "  sudo apt-get install --no-install-recommends $(BROWSER_PKGS)"; \
	  echo "then run 'make test' again."; exit 2; fi

# In `make test` the browser test must run: it fails (rather than skips) without a browser.
test: export RARUNET_REQUIRE_BROWSER = 1
test: browser lint book unit  # browser first: a missing browser stops before the long build

# Re-store the reference outputs of the `# NBVAL_CHECK_OUTPUT` cells after changing one (NB=notebooks/xx.ipynb for one).
check-outputs: $(STAMP)
	env -u MPLBACKEND $(PY) tools/store_check_outputs.py $(NB)

benchmarks: $(STAMP)
	@for f in benchmarks/bench_*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

clean:
	rm -rf _build .pytest_cache .ruff_cache .mathjax-tmp .widgets-tmp
