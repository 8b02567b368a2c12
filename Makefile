# Set-up and everyday commands. `make demo` and `make test` work from a fresh clone.
# Data and the competition test file are read from ../shared/data when present.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Optional extras to install besides dev; CI (.ci/run) adds paddleslim (so its interop tests run)
# and docs (so it builds the documentation site).
EXTRAS ?= dev
comma := ,
STAMP := $(VENV)/.installed-$(subst $(comma),-,$(EXTRAS))
TEST_JSON ?= ../shared/data/CVPR_2022_NAS_Track1_test.json
DEMO_DIR ?= checkpoints/demo

# The demo runs these steps in order: FLOPs of every arch, a smoke test of the elastic space,
# supernet training, evaluation of a 200-arch sample of the arch file (a submission), and
# the supernet's ranking of the mini-benchmark archs scored against their ground truth, a short
# evolutionary search under a FLOPs limit and the export of its winner.
DEMO_STEPS := demo-flops demo-smoke demo-train demo-eval demo-score demo-search demo-export
DEMO_SAMPLE := $(DEMO_DIR)/sample200.json
DEMO_SUBMISSION := $(DEMO_DIR)/submit_results.json
TRUTH := benchmarks/minibench/ground_truth.json

.PHONY: venv test docs demo $(DEMO_STEPS) lint clean

venv: $(STAMP)

# Reinstalls only when pyproject.toml changes (or the venv is new).
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e '.[$(EXTRAS)]'
	touch $(STAMP)

test: venv
	$(BIN)/python -m pytest -q tests

# The documentation site (mkdocs.yml, docs/) built into site/; --strict: a broken link or a page
# missing from the nav fails the build. Installs the docs extra next to EXTRAS when it is absent.
DOCS_EXTRAS := $(if $(filter docs,$(subst $(comma), ,$(EXTRAS))),$(EXTRAS),$(EXTRAS)$(comma)docs)
docs:
	$(MAKE) venv EXTRAS=$(DOCS_EXTRAS)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

demo: $(DEMO_STEPS)

# The arch file the demo works on: the competition test file, or a sampled one without it.
DEMO_ARCHS := $(if $(wildcard $(TEST_JSON)),$(TEST_JSON),$(DEMO_DIR)/sampled_archs.json)

$(DEMO_DIR)/sampled_archs.json: | venv
	$(BIN)/hnas sample-archs --n 1000 --distribution competition --seed 0 --force --out $@

# Analytic FLOPs and params of every arch; the full table goes to $(DEMO_DIR)/flops.txt.
demo-flops: venv $(DEMO_ARCHS)
	@mkdir -p $(DEMO_DIR)
	$(BIN)/hnas flops --json "$(DEMO_ARCHS)" --out $(DEMO_DIR)/flops.json --force > $(DEMO_DIR)/flops.txt
	tail -n 5 $(DEMO_DIR)/flops.txt

# Builds a few subnets of the embedded default space and runs one forward pass each.
demo-smoke: venv
	$(BIN)/python utils/smoke_subnets.py --space resnet48_tiny --n 4

# Trains the embedded-default supernet (configs/embedded.yaml; about 10 minutes on 2 CPU cores).
demo-train: venv
	bash train_supernet.sh --checkpoint.dir $(DEMO_DIR)/supernet --overwrite

# A fixed 200-arch sample of the arch file (same keys), scored with the demo supernet.
$(DEMO_SAMPLE): $(DEMO_ARCHS) | venv
	$(BIN)/hnas sample-archs --n 200 --from "$(DEMO_ARCHS)" --seed 0 --force --out $@

demo-eval: venv $(DEMO_SAMPLE)
	bash eval_supernet.sh $(DEMO_SAMPLE) --ckpt $(DEMO_DIR)/supernet --out $(DEMO_SUBMISSION) --val-images 250 --recal-batches 2 --restart
	$(BIN)/hnas validate $(DEMO_SUBMISSION) --submission --against $(DEMO_SAMPLE)

# The demo supernet ranks the mini-benchmark's archs (same scaled space, same multi_mnist
# data); the ranking is scored against their stand-alone accuracies (benchmarks/minibench).
demo-score: venv
	bash eval_supernet.sh $(TRUTH) --ckpt $(DEMO_DIR)/supernet --out $(DEMO_DIR)/minibench_pred.json --val-images 1000 --recal-batches 4 --restart
	@echo "demo: supernet ranking of the $(TRUTH) archs vs their stand-alone accuracies"
	@echo "demo: (noise ceiling and the other methods: benchmarks/minibench/report.md)"
	$(BIN)/hnas score $(DEMO_DIR)/minibench_pred.json $(TRUTH) --plot $(DEMO_DIR)/score_vs_truth.png --force

# A short evolutionary search of the demo supernet under a 15 MFLOPs limit (3 generations of 10).
demo-search: venv
	$(BIN)/hnas search --ckpt $(DEMO_DIR)/supernet --out $(DEMO_DIR)/search --max-flops 15e6 --population 10 \
		--top-k 4 --mutations 4 --crossovers 4 --generations 3 --val-images 500 --recal-batches 2 --force

# The search's winner as a stand-alone network with its inherited weights (+ jit inference model).
demo-export: venv
	$(BIN)/hnas export "$$($(BIN)/python -c 'import json; print(json.load(open("$(DEMO_DIR)/search/best.json"))["arch"])')" \
		--ckpt $(DEMO_DIR)/supernet --out $(DEMO_DIR)/export --force

lint: venv
	@if [ -x $(BIN)/ruff ]; then $(BIN)/ruff check hnas paddleslim_ext tests utils; \
	else echo "ruff is not installed in $(VENV); run: $(BIN)/python -m pip install ruff"; fi

clean:
	rm -rf build dist site *.egg-info .pytest_cache $(DEMO_DIR)
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +
