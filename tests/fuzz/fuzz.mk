# libFuzzer harnesses for the parsers and rule engines that read guest- or
# user-controlled bytes (docs/fuzzing.md). Included by the top-level
# Makefile after tests/unit/unit.mk, whose unit_sources it reuses: each
# tests/fuzz/fuzz_NAME.c names the Keel sources it links on a
# `unit-sources:` line, as the unit tests do.
#
#   make fuzz                     every harness for FUZZ_SECONDS (60) each
#   make fuzz FUZZ=elf,grant FUZZ_SECONDS=600
#   make test TESTS=fuzz-         each harness for a few seconds (tests/fuzz/test_fuzz.py)
#
# Corpora: committed seeds in tests/fuzz/corpus/NAME/, what the fuzzer
# finds in build/fuzz/corpus/NAME/, crashes in build/fuzz/crashes/NAME/.

FUZZ_CC := clang
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror -Wshadow -DUNIT_TEST \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer -Iinclude -Iarch/x86/include -Iboot/common -Itests/fuzz

FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))

fuzzers: $(FUZZ_BINS)

# Built with everything else (unit: is part of `all`), so a harness that
# stops compiling fails `make` and its test fails `make test`. Without
# clang (scripts/install-deps installs it) they are skipped with a warning
# and the fuzz-* tests fail saying so.
ifneq ($(shell command -v $(FUZZ_CC) 2>/dev/null),)
unit: fuzzers
else
$(warning $(FUZZ_CC) not found: the fuzzers (tests/fuzz) are not built; run scripts/install-deps)
endif

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $$(call unit_sources,tests/fuzz/fuzz_%.c)
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  $<"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(call unit_sources,$<)
	@# Header dependencies (picked up by the Makefile's -include of *.d).
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -MM -MP -MT $@ $< $(call unit_sources,$<) > $@.d

# Harnesses that #include their Keel source instead of naming it on a
# unit-sources line (reasons in each file).
$(BUILD)/fuzz/fuzz_cmdline: kernel/cmdline.c lib/format.c
$(BUILD)/fuzz/fuzz_msix: kernel/msix.c

fuzz: deps
	@$(MAKE) --no-print-directory fuzzers
	@python3 tests/fuzz/test_fuzz.py --seconds $(FUZZ_SECONDS) $(if $(FUZZ),--only '$(FUZZ)')

.PHONY: fuzz fuzzers

# ---- soak (docs/soak.md): not part of `make test` -------------------------
# SOAK_ARGS: options for tests/soak.py, e.g. '--cycles 100 --calls 100000'.

soak: deps
	@$(MAKE) --no-print-directory all
	@python3 tests/soak.py $(SOAK_ARGS)

.PHONY: soak
