# Vitrina: `make demo` runs it on the embedded default, `make test` runs the tests.
# Both set up everything they need on a fresh machine: two virtual environments, the models.
SHELL := /bin/bash

# The Lambda side needs python3.12 (onnxruntime/numpy ship manylinux_2_28 wheels); the model
# builder needs python3.11, for which pip finds a CPU build of torch on this machine's disk.
PYTHON312 ?= $(shell for p in python3.12 $$HOME/.pyenv/versions/3.12*/bin/python3.12; do \
	$$p -c 'import sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null && { echo $$p; break; }; done)
PYTHON311 ?= $(shell for p in python3.11 $$HOME/.pyenv/versions/3.11*/bin/python3.11; do \
	$$p -c 'import sys; assert sys.version_info[:2] == (3, 11)' 2>/dev/null && { echo $$p; break; }; done)

VENV := .venv
TRAIN_VENV := .venv-train
MODELS := models
PIP_QUIET := --quiet --disable-pip-version-check

.PHONY: demo test models venv train-venv bench package clean

demo: venv models
	$(VENV)/bin/vitrina demo

test: venv models
	$(VENV)/bin/python -m pytest

venv: $(VENV)/.installed
train-venv: $(TRAIN_VENV)/.installed

$(VENV)/.installed: pyproject.toml layers/requirements.txt
	@test -n "$(PYTHON312)" || { echo "python3.12 not found: install it or set PYTHON312=/path/to/python3.12"; exit 1; }
	$(PYTHON312) -m venv $(VENV)
	$(VENV)/bin/pip install $(PIP_QUIET) -e '.[local,dev]'
	touch $@

$(TRAIN_VENV)/.installed: training_job/requirements.txt
	@test -n "$(PYTHON311)" || { echo "python3.11 not found: install it or set PYTHON311=/path/to/python3.11"; exit 1; }
	$(PYTHON311) -m venv $(TRAIN_VENV)
	$(TRAIN_VENV)/bin/pip install $(PIP_QUIET) -r training_job/requirements.txt
	touch $@

# Rebuilds only what is out of date (the builder compares its build key with the manifest's).
models: train-venv
	$(TRAIN_VENV)/bin/python -m training_job.build_models --out $(MODELS)

bench: venv models
	$(VENV)/bin/python bench/encoders.py
	$(VENV)/bin/python bench/similar_latency.py
	$(VENV)/bin/python bench/cold_start.py

# The deployable artifacts, offline but for PyPI (layer wheels, cached in .cache/): out/sam.json
# (Chalice's template merged with infra/template.json), out/deployment.zip (app.py + functions/),
# out/layer-x86_64.zip and out/layer-arm64.zip; then cfn-lint on the template. DEPLOY.md goes on.
# No AWS credentials are needed or used.
package: venv
	rm -f out/sam.json out/deployment.zip
	env $$(env | grep -o '^AWS_[A-Z_]*' | sed 's/^/-u /') AWS_DEFAULT_REGION=$(or $(AWS_REGION),eu-west-1) \
		$(VENV)/bin/chalice package --merge-template infra/template.json out
	$(VENV)/bin/python layers/build.py --out out
	$(VENV)/bin/cfn-lint --regions $(or $(AWS_REGION),eu-west-1) -- out/sam.json

clean:
	rm -rf $(VENV) $(TRAIN_VENV) .vitrina .chalice/deployments out .cache
