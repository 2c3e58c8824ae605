# Host-compiled unit tests (Check). See tests/unit/unit.h.
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(wildcard tests/unit/test_*.c))
UNIT_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror -Wshadow -DUNIT_TEST \
	-Iinclude -Iarch/x86/include -Iboot/common -Itests/unit $(shell pkg-config --cflags check 2>/dev/null)
UNIT_LIBS := $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lm -lrt -lpthread)

unit: $(UNIT_TESTS)

unit_sources = $(shell sed -n 's/.*unit-sources:\(.*\)$$/\1/p' $(1) | sed 's,\*/,,')

.SECONDEXPANSION:
$(BUILD)/unit/%: tests/unit/%.c tests/unit/main.c tests/unit/unit.h $$(call unit_sources,tests/unit/%.c)
	@mkdir -p $(dir $@)
	$(CC) $(UNIT_CFLAGS) -o $@ $< tests/unit/main.c $(call unit_sources,$<) $(UNIT_LIBS)
