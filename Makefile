# q35 - one build for everything.
#   make          build ./q35
#   make check    install missing Debian packages, build, run every Check suite
#   make demo     build and show info, verify, forward, compare, chat-format, generate and eval on shipped data
#   make bench    timings (absolute figures and ratios)
#   make asan     the same suites under AddressSanitizer + UndefinedBehaviorSanitizer
#   make clean

CC      ?= cc
# Never -ffast-math. The reference (ref/, golden/, cli/) compiles with -ffp-contract=off: no fused
# multiply-add, so it rounds exactly as written. The fast backend (fast/) has flags of its own:
# -O3, contraction allowed; its SIMD kernels carry target attributes and are chosen at run time,
# so no -march: one binary runs on any x86-64 (and the portable path builds on aarch64).
CFLAGS  ?= -O2 -g
# override: `make CFLAGS=...` (as make asan does) keeps the language, warnings and OpenMP.
override CFLAGS += -std=c11 -D_GNU_SOURCE -Wall -Wextra -fno-fast-math -fopenmp
REF_CFLAGS  = -ffp-contract=off
FAST_CFLAGS = -O3 -ffp-contract=fast
CPPFLAGS += -Iref -Ifast -Igolden -Igen -Ieval -Icli -I/usr/include/cjson
LDLIBS  += -lcjson -lyaml -lpng -ljpeg -lz -lutf8proc -lm -fopenmp
CHECK_LIBS = $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lrt -lm -pthread)

BUILD   ?= build
LIB_SRC  = $(wildcard ref/*.c) $(wildcard fast/*.c) $(wildcard golden/*.c) $(wildcard gen/*.c) $(wildcard eval/*.c)
LIB_OBJ  = $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ  = $(patsubst %.c,$(BUILD)/%.o,$(wildcard cli/*.c))
HEADERS  = $(wildcard ref/*.h fast/*.h golden/*.h gen/*.h eval/*.h cli/*.h)
TEST_SRC = $(wildcard tests/test_*.c)
TEST_BIN = $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
TEST_COMMON = $(BUILD)/tests/testutil.o

.PHONY: all check asan deps clean tests demo bench check-hf
all: q35

q35: $(BUILD)/q35
	cp $< $@

$(BUILD)/q35: $(CLI_OBJ) $(BUILD)/libq35.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/libq35.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(REF_CFLAGS) -c -o $@ $<

$(BUILD)/fast/%.o: fast/%.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(FAST_CFLAGS) -c -o $@ $<

$(BUILD)/tests/testutil.o: tests/testutil.c tests/testutil.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests $(CFLAGS) $(REF_CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/%.c $(TEST_COMMON) $(BUILD)/libq35.a tests/testutil.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests $(CFLAGS) $(REF_CFLAGS) -o $@ $< $(TEST_COMMON) $(BUILD)/libq35.a $(LDLIBS) $(CHECK_LIBS)

tests: $(TEST_BIN) $(BUILD)/q35

deps:
	@.ci/install-deps

# Each suite runs in its own process; the first failure stops make with its output.
check: deps
	@$(MAKE) --no-print-directory $(if $(filter build,$(BUILD)),q35) tests
	@set -e; for t in $(TEST_BIN); do echo "== $$t"; Q35_BIN=$(BUILD)/q35 CK_DEFAULT_TIMEOUT=1200 $$t; done
	@echo "make check: all suites passed"

# Timings: absolute figures and ratios, never pass/fail.
# q35 bench on random-weight checkpoints of the real sizes (made on first use in build/models, out
# of git; a size without disk room is skipped), 1 thread and every core; then the matrix kernels,
# the tokenizer and compare. The race against llama.cpp: tests/bench/llama_cpp_pair.sh.
bench: q35 $(BUILD)/tests/bench_tokenizer $(BUILD)/tests/bench_compare $(BUILD)/tests/bench_matmul
	tests/bench/models.sh ./q35 $(BUILD)/models
	tests/bench/eval_speed.sh ./q35 $(BUILD)/models/q35-0.8b
	$(BUILD)/tests/bench_matmul
	$(BUILD)/tests/bench_tokenizer
	$(BUILD)/tests/bench_compare

$(BUILD)/tests/bench_%: tests/bench_%.c $(BUILD)/libq35.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(REF_CFLAGS) -o $@ $< $(BUILD)/libq35.a $(LDLIBS)

# Hugging Face transformers' own Qwen3.5 through golden/tools/hf_dump.py on each golden set's
# (golden/data/*/) checkpoint_f32, prompt ids, images and decode steps, compared with the set's goldens by q35 compare
# (tables in build/check-hf/SET.txt). Needs torch and transformers, so not part of `make check`.
check-hf: q35
	@$${PYTHON:-python3} -c 'import sys; sys.path.insert(0, "golden/tools"); import q35_hooks, safetensors, PIL' 2>/dev/null || { \
	  echo "make check-hf needs Python with torch, transformers, safetensors and Pillow:"; \
	  echo "  pip install torch transformers safetensors pillow"; \
	  echo "or, on a machine with Debian's packages only, the set-up of ../shared/hf-reference/README.md"; \
	  echo "(HF_REF_TRANSFORMERS_SRC and HF_REF_PYDEPS exported, PYTHON=/usr/bin/python3)."; exit 1; }
	@mkdir -p $(BUILD)/check-hf
	@set -e; for m in golden/data/*/manifest.json; do \
	  d=$${m%/manifest.json}; s=$${d##*/}; out=$(BUILD)/check-hf/$$s.safetensors; \
	  [ -d $$d/checkpoint_f32 ] || continue; \
	  args=$$($${PYTHON:-python3} -c 'import json, sys; d = sys.argv[1]; m = json.load(open(d + "/manifest.json")); \
	    print("--ids", ",".join(map(str, m["prompt_ids"])), "--decode", len(m["decoded_ids"]), \
	          *["--image " + d + "/" + i["file"] for i in m.get("images", [])])' $$d); \
	  echo "== $$s"; \
	  $${PYTHON:-python3} golden/tools/hf_dump.py --model $$d/checkpoint_f32 $$args --out $$out; \
	  if ./q35 compare $$out $$d/golden.safetensors > $(BUILD)/check-hf/$$s.txt 2>&1; then \
	    grep '^summary' $(BUILD)/check-hf/$$s.txt; \
	  else \
	    grep -E '^(verdict|first|  before)' $(BUILD)/check-hf/$$s.txt; grep '^FAIL' $(BUILD)/check-hf/$$s.txt | head -10; \
	    grep '^summary' $(BUILD)/check-hf/$$s.txt; \
	    echo "make check-hf: $$s FAILED (the table: $(BUILD)/check-hf/$$s.txt)"; exit 1; \
	  fi; \
	done
	@echo "make check-hf: transformers matches every shipped golden set"

# A first look: what a checkpoint holds, a golden set verified, a forward with a dump, a compare
# through an alias map.
demo: deps
	@$(MAKE) --no-print-directory q35
	./q35 info golden/data/small_text/checkpoint_f32
	./q35 verify golden/data/small_text --failures-only
	./q35 forward golden/data/small_text/checkpoint_bf16 --ids 5,17,300 --decode-ids 9,12 --dump $(BUILD)/demo_dump.safetensors
	@echo "== another implementation's tensors (llama.cpp names and layouts, .npy) against q35's own:"
	./q35 forward golden/data/kv_equal/checkpoint_f32 --ids 363,143,82,377,73,426,239,63,348,220,274,253,192,385,29,441 --dump $(BUILD)/demo_kv.safetensors
	./q35 compare $(BUILD)/demo_kv.safetensors tests/data/aliases/llama_kv_equal --names golden/aliases/llama.cpp.yaml \
	  --model golden/data/kv_equal/checkpoint_f32 --failures-only
	@echo "== a complete random-weight checkpoint of the real structure (tokenizer, chat template, generation config):"
	@test -f $(BUILD)/tiny/config.json || ./q35 mkmodel --preset tiny --seed 1 --out $(BUILD)/tiny
	./q35 chat-format $(BUILD)/tiny --messages tests/data/chat/demo_messages.json
	@echo "== generation (random weights: the text is noise; the prompt, settings and speeds are real):"
	./q35 generate $(BUILD)/tiny -p "Give me a short introduction to large language models." --max-new-tokens 24 --show-settings
	./q35 generate golden/data/small_text/checkpoint_f32 --prompt-ids 3,148,561,489,517,346,136,915,872,511,368,749,853,508,497,499,842,283,620,205,777,317,847,733 \
	  --temperature 0 --max-new-tokens 3
	@echo "   (the golden set's greedy tokens are 880,188,124)"
	@echo "== the benchmark runner: lm-eval's 5-shot MMLU on the shipped sample, one question per subject (random weights: chance accuracy):"
	@rm -rf reports/demo
	./q35 eval eval/configs/demo.yaml --model $(BUILD)/tiny --out reports/demo
	@echo "   reports/demo/report.md, with chart.svg, results.json and samples.jsonl beside it"
	@echo "== vision-language: the shipped MMBench items (2 with their circular copies) as VLMEvalKit prompts them, through the tiny vision tower:"
	@rm -rf reports/mmbench_demo
	./q35 eval eval/configs/mmbench_dev_en.yaml --model $(BUILD)/tiny --set max_new_tokens=16 --out reports/mmbench_demo

asan: deps
	@$(MAKE) --no-print-directory BUILD=build-asan \
	  CFLAGS="-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer" \
	  LDLIBS="-lcjson -lyaml -lpng -ljpeg -lz -lutf8proc -lm -fopenmp -fsanitize=address,undefined" check

# ---- fuzzing (tests/fuzz/README.md) ----
# make fuzz: every libFuzzer target tests/fuzz/fuzz_<name>.c built with clang (ASan + UBSan +
# libFuzzer) into build-fuzz/, then each run for FUZZ_SECONDS from tests/fuzz/seeds/<name>/ plus
# the working corpus build-fuzz/corpus/<name>/; crashes go to build-fuzz/crashes/<name>/, logs to
# build-fuzz/logs/, a summary per target ends it (exit 1 when a run crashed).
#   make fuzz FUZZ_TARGETS="jinja csv" FUZZ_SECONDS=3600 FUZZ_ARGS="-fork=2 -ignore_crashes=1"
# (make -j2 fuzz runs two targets at a time.) The same harnesses replay the seeds and
# tests/fuzz/regressions/ in the normal build: tests/test_fuzz_regressions.c, part of make check.
FUZZ_DIR     ?= build-fuzz
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_ARGS    ?=
FUZZ_ALL      = $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_TARGETS ?= $(FUZZ_ALL)
FUZZ_SAN      = -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS   = -O1 -g $(FUZZ_SAN) -fsanitize=fuzzer-no-link
FUZZ_RUNS     = $(FUZZ_TARGETS:%=fuzz-run-%)

.PHONY: fuzz fuzz-build $(FUZZ_RUNS)
fuzz: $(FUZZ_RUNS)
	@tests/fuzz/summary.sh $(FUZZ_DIR) $(FUZZ_TARGETS)

$(FUZZ_RUNS): fuzz-run-%: fuzz-build
	@tests/fuzz/run.sh $(FUZZ_DIR) $* $(FUZZ_SECONDS) $(FUZZ_ARGS)

fuzz-build:
	@for p in clang libclang-rt-dev libomp-dev; do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "q35 fuzz: installing$$missing"; if [ "$$(id -u)" = 0 ]; then S=""; else S=sudo; fi; \
	  DEBIAN_FRONTEND=noninteractive $$S apt-get install -y -qq $$missing; fi
	@$(MAKE) --no-print-directory BUILD=$(FUZZ_DIR)/lib CC=$(FUZZ_CC) CFLAGS="$(FUZZ_CFLAGS)" $(FUZZ_DIR)/lib/libq35.a
	@$(MAKE) --no-print-directory $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)

# the regression suite #includes the harnesses (its recipe is the tests' pattern rule above)
$(BUILD)/tests/test_fuzz_regressions: tests/fuzz/harness.c tests/fuzz/harness.h

$(FUZZ_DIR)/harness.o: tests/fuzz/harness.c tests/fuzz/harness.h $(HEADERS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) -std=c11 -D_GNU_SOURCE -Wall -Wextra $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/harness.h $(FUZZ_DIR)/harness.o $(FUZZ_DIR)/lib/libq35.a
	$(FUZZ_CC) $(CPPFLAGS) -Itests/fuzz -std=c11 -Wall -Wextra -O1 -g $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $< \
	  $(FUZZ_DIR)/harness.o $(FUZZ_DIR)/lib/libq35.a $(LDLIBS)

clean:
	rm -rf build build-asan q35
