# q35 - one build for everything.
#   make          build ./q35
#   make check    install missing Debian packages, build, run every Check suite
#   make demo     build and show info, verify and forward on a shipped golden set
#   make bench    timings (absolute figures and ratios)
#   make asan     the same suites under AddressSanitizer + UndefinedBehaviorSanitizer
#   make clean

CC      ?= cc
# -ffp-contract=off: no fused multiply-add, so the reference rounds exactly as written.
# Never -ffast-math.
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -ffp-contract=off -fno-fast-math -fopenmp
CPPFLAGS += -Iref -Igolden -I/usr/include/cjson
LDLIBS  += -lcjson -lyaml -lpng -ljpeg -lutf8proc -lm -fopenmp
CHECK_LIBS = $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lrt -lm -pthread)

BUILD   ?= build
LIB_SRC  = $(filter-out ref/main.c,$(wildcard ref/*.c)) $(wildcard golden/*.c)
LIB_OBJ  = $(LIB_SRC:%.c=$(BUILD)/%.o)
TEST_SRC = $(wildcard tests/test_*.c)
TEST_BIN = $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
TEST_COMMON = $(BUILD)/tests/testutil.o

.PHONY: all check asan deps clean tests demo bench
all: q35

q35: $(BUILD)/q35
	cp $< $@

$(BUILD)/q35: $(BUILD)/ref/main.o $(BUILD)/libq35.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/libq35.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/%.o: %.c $(wildcard ref/*.h golden/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/testutil.o: tests/testutil.c tests/testutil.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/%.c $(TEST_COMMON) $(BUILD)/libq35.a tests/testutil.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests $(CFLAGS) -o $@ $< $(TEST_COMMON) $(BUILD)/libq35.a $(LDLIBS) $(CHECK_LIBS)

tests: $(TEST_BIN) $(BUILD)/q35

deps:
	@.ci/install-deps

# Each suite runs in its own process; the first failure stops make with its output.
check: deps
	@$(MAKE) --no-print-directory $(if $(filter build,$(BUILD)),q35) tests
	@set -e; for t in $(TEST_BIN); do echo "== $$t"; Q35_BIN=$(BUILD)/q35 CK_DEFAULT_TIMEOUT=1200 $$t; done
	@echo "make check: all suites passed"

# Timings: absolute figures and ratios, never pass/fail.
bench: q35 $(BUILD)/tests/bench_tokenizer
	$(BUILD)/tests/bench_tokenizer

$(BUILD)/tests/bench_%: tests/bench_%.c $(BUILD)/libq35.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(BUILD)/libq35.a $(LDLIBS)

# A first look: what a checkpoint holds, a golden set verified, a forward with a dump.
demo: deps
	@$(MAKE) --no-print-directory q35
	./q35 info golden/data/small_text/checkpoint_f32
	./q35 verify golden/data/small_text --failures-only
	./q35 forward golden/data/small_text/checkpoint_bf16 --ids 5,17,300 --decode-ids 9,12 --dump $(BUILD)/demo_dump.safetensors

asan: deps
	@$(MAKE) --no-print-directory BUILD=build-asan \
	  CFLAGS="-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer" \
	  LDLIBS="-lcjson -lyaml -lpng -ljpeg -lutf8proc -lm -fopenmp -fsanitize=address,undefined" check

clean:
	rm -rf build build-asan q35
