# Set-up and everyday commands. `make demo` and `make test` work from a fresh clone.
# Data and the competition test file are read from ../shared/data when present.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_JSON ?= ../shared/data/CVPR_2022_NAS_Track1_test.json
DEMO_DIR ?= checkpoints/demo

# The demo runs these steps in order; later work appends train -> eval -> score steps here.
DEMO_STEPS := demo-flops demo-smoke demo-train

.PHONY: venv test demo $(DEMO_STEPS) lint clean

venv: $(STAMP)

# Reinstalls only when pyproject.toml changes (or the venv is new).
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e '.[dev]'
	touch $(STAMP)

test: venv
	$(BIN)/python -m pytest -q tests

demo: $(DEMO_STEPS)

# The arch file the demo works on: the competition test file, or a sampled one without it.
DEMO_ARCHS := $(if $(wildcard $(TEST_JSON)),$(TEST_JSON),$(DEMO_DIR)/sampled_archs.json)

$(DEMO_DIR)/sampled_archs.json: | venv
	$(BIN)/hnas sample-archs --n 1000 --distribution competition --seed 0 --force --out $@

# Analytic FLOPs and params of every arch; the full table goes to $(DEMO_DIR)/flops.txt.
demo-flops: venv $(DEMO_ARCHS)
	@mkdir -p $(DEMO_DIR)
	$(BIN)/hnas flops --json "$(DEMO_ARCHS)" --out $(DEMO_DIR)/flops.json > $(DEMO_DIR)/flops.txt
	tail -n 5 $(DEMO_DIR)/flops.txt

# Builds a few subnets of the embedded default space and runs one forward pass each.
demo-smoke: venv
	$(BIN)/python utils/smoke_subnets.py --space resnet48_tiny --n 4

# Trains the embedded-default supernet (configs/embedded.yaml; about 6 minutes on 2 CPU cores).
demo-train: venv
	bash train_supernet.sh --checkpoint.dir $(DEMO_DIR)/supernet --overwrite

lint: venv
	@if [ -x $(BIN)/ruff ]; then $(BIN)/ruff check hnas paddleslim_ext tests utils; \
	else echo "ruff is not installed in $(VENV); run: $(BIN)/python -m pip install ruff"; fi

clean:
	rm -rf build dist *.egg-info .pytest_cache $(DEMO_DIR)
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +
