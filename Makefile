# FinParakeet: `make demo` runs the main job on the embedded default; `make test` runs the tests.
# Both create the environment on first use (system packages, .venv with the pinned CPU stack).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.finparakeet-installed
# Threads: on 2 shared cores one busy-waiting OpenMP pool slows the other; see DESIGN.md.
export OMP_WAIT_POLICY ?= PASSIVE

.PHONY: demo test test-fast experiment results env sysdeps kenlm bench clean

demo: env
	$(BIN)/python recipes/train.py +experiment=demo

# Every test (what CI runs), on two pytest-xdist workers (the CI machine's two cores: 4.9 min instead of 9.6).
# `make test-fast` (= plain `pytest`) leaves out the ones marked slow, for local work.
test: env kenlm
	$(BIN)/python -m pytest -q -m "slow or not slow" -n 2

test-fast: env kenlm
	$(BIN)/python -m pytest -q

# RESULTS.md from results/*.json (every figure beside its command)
results: env
	$(BIN)/python recipes/write_results.py

# Issues 6, 13 and 14's results table from nothing: data, seven trainings (two replay shares), decodes with no list,
# the lexicon list and per-call lists, the Earnings-21 LM, call recordings, Whisper (hours on a 2-core CPU; rerun to resume).
experiment: env
	OMP_NUM_THREADS=1 $(BIN)/python recipes/run_experiment.py

env: sysdeps $(STAMP)

sysdeps:
	@scripts/ensure_system_packages.sh

# KenLM's lmplz (recipes/build_lm.py, tests/test_lm.py) into .venv/bin: compiled from the kenlm sdist with CMake and
# Debian's Boost (installed when root). About 70 CPU-seconds; the tests that need it skip, saying so, without it.
kenlm: $(BIN)/lmplz

$(BIN)/lmplz: | $(STAMP)
	VENV=$(VENV) scripts/build_kenlm.sh

# torch first, from the pinned CPU build: an unpinned torch would pull several GB of CUDA packages. The whisper
# extra (the Whisper anchor, which CI tests) needs no torch: faster-whisper runs on CTranslate2.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -c constraints.txt -e '.[dev,sweep,whisper]'
	@$(BIN)/python -c "import torch; assert torch.__version__.startswith('2.13.0') and not torch.version.cuda, torch.__version__"
	touch $(STAMP)

# The CPU benchmarks, one after the other (each takes the machine), with the commands of the committed records:
# each writes results/bench_<name>.json, then RESULTS.md is rendered again. Earnings-21 ones skip without ../shared;
# bench_lm needs KenLM's lmplz (make kenlm).
bench: env kenlm
	$(BIN)/python bench/bench_synth.py
	$(BIN)/python bench/bench_scoring.py --repeat 1
	$(BIN)/python bench/bench_evaluate.py
	$(BIN)/python bench/bench_adapters.py
	$(BIN)/python bench/bench_boosting.py
	$(BIN)/python bench/bench_lm.py
	$(BIN)/python bench/bench_confidence.py
	$(BIN)/python bench/bench_longform.py --minutes 10
	$(BIN)/python recipes/write_results.py

clean:
	rm -rf $(VENV) outputs multirun .pytest_cache
