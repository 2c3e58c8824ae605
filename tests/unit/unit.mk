# Host-compiled unit tests (Check). See tests/unit/unit.h.
#
# Every source is compiled on its own into build/unit/obj/ with -MMD -MP,
# so make knows each object's headers and the .c files a test #includes
# (test_cmdline.c includes lib/format.c and kernel/cmdline.c): editing any
# of them rebuilds the tests that use it. The objects of the Keel sources a
# test names on its `unit-sources:` line are shared by the tests naming it.
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(wildcard tests/unit/test_*.c))
UNIT_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror -Wshadow -DUNIT_TEST \
	-Iinclude -Iarch/x86/include -Iboot/common -Itests/unit $(shell pkg-config --cflags check 2>/dev/null)
UNIT_LIBS := $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lm -lrt -lpthread)
UNIT_OBJ := $(BUILD)/unit/obj

unit: $(UNIT_TESTS)

unit_sources = $(shell sed -n 's/.*unit-sources:\(.*\)$$/\1/p' $(1) | sed 's,\*/,,')
unit_objs = $(patsubst %.c,$(UNIT_OBJ)/%.o,$(1))

# Kept (not deleted as intermediates), so that an unchanged test is not
# relinked, nor its objects recompiled, on every make.
.PRECIOUS: $(UNIT_OBJ)/%.o
$(UNIT_OBJ)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(UNIT_CFLAGS) -MMD -MP -c -o $@ $<

.SECONDEXPANSION:
$(BUILD)/unit/%: $(UNIT_OBJ)/tests/unit/%.o $(UNIT_OBJ)/tests/unit/main.o \
		$$(call unit_objs,$$(call unit_sources,tests/unit/%.c))
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(UNIT_LIBS)

# blkback's data path is tested on the host (test_blk_ring.c): its headers
# are found the way dom0's build finds them.
$(UNIT_OBJ)/guest/dom0/blkback/%.o $(UNIT_OBJ)/tests/unit/test_blk_ring.o \
		$(UNIT_OBJ)/tests/unit/test_blkback_xenbus.o: \
	UNIT_CFLAGS += -Iguest/lib -Idrivers -Iguest/dom0 -Iguest/dom0/blkback
