# lib/: the freestanding library (string functions, vsnprintf, parse_u64;
# include/lib/string.h) that belongs to no one image. Included by the
# top-level Makefile. It is compiled once per image flavour, each into its
# own archive:
#
#   build/lib/hv/lib.a      hypervisor flags (HV_CFLAGS), linked into keel.elf
#   build/lib/guest/lib.a   guest flags (GUEST_CFLAGS, guest/guest.mk), linked
#                           into every guest after build/guest/libguest.a
#
# The host unit tests and fuzzers do not link it: they include lib/format.c
# with snprintf renamed, so that libc's stays in place for Check and the
# sanitizers (tests/unit/test_cmdline.c says why).

AR := ar
LIB_SRC := $(wildcard lib/*.c)
LIB_HV := $(BUILD)/lib/hv/lib.a
LIB_GUEST := $(BUILD)/lib/guest/lib.a

$(BUILD)/lib/hv/%.o: lib/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $< (hv)"
	@$(CC) $(HV_CFLAGS) -c -o $@ $<

$(BUILD)/lib/guest/%.o: lib/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $< (guest)"
	@$(CC) $(GUEST_CFLAGS) -c -o $@ $<

$(LIB_HV): $(patsubst lib/%.c,$(BUILD)/lib/hv/%.o,$(LIB_SRC))
$(LIB_GUEST): $(patsubst lib/%.c,$(BUILD)/lib/guest/%.o,$(LIB_SRC))
$(LIB_HV) $(LIB_GUEST):
	@echo "  AR      $@"
	@rm -f $@ && $(AR) rcs $@ $^
