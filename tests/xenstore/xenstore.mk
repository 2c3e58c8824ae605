# xenstored's host build and its freestanding check (docs/xenstore.md).
# Included by the top-level Makefile after guest/guest.mk and
# tests/unit/unit.mk.
#
# build/xenstored-host: the store (guest/dom0/xenstored/*.c, the sources
# dom0 runs) plus a Unix-socket front end (tests/xenstore/host/), built for
# the host, for the xenstore-* tests and by hand.
#
# build/xenstored-check/*.o: the same store sources compiled with dom0's
# freestanding flags, so that code the host build accepts but dom0 could
# not link (a libc call Keel's libc lacks) fails `make` now, before the
# store is linked into dom0.elf.

XS_SRC := $(wildcard guest/dom0/xenstored/*.c)
XS_HDR := $(wildcard guest/dom0/xenstored/*.h) include/public/io/xs_wire.h
XS_HOST_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes \
	-Iinclude

$(BUILD)/xenstored-host: $(XS_SRC) $(XS_HDR) tests/xenstore/host/main.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	@$(CC) $(XS_HOST_CFLAGS) -o $@ tests/xenstore/host/main.c $(XS_SRC)

XS_CHECK_OBJ := $(patsubst guest/dom0/xenstored/%.c,$(BUILD)/xenstored-check/%.o,$(XS_SRC))

$(BUILD)/xenstored-check/%.o: guest/dom0/xenstored/%.c $(XS_HDR)
	@mkdir -p $(dir $@)
	@$(CC) $(GUEST_CFLAGS) -MF /dev/null -c -o $@ $<

# Links the checked objects against only Keel's libc (lib/, guest flags): an undefined symbol
# here is one dom0 would not have.
XS_KLIB_OBJ := $(patsubst lib/%.c,$(BUILD)/lib/guest/%.o,$(LIB_SRC))

$(BUILD)/xenstored-check/linked.o: $(XS_CHECK_OBJ) $(XS_KLIB_OBJ)
	@$(LD) -r -o $@.tmp $(XS_CHECK_OBJ) $(XS_KLIB_OBJ)
	@undef=$$(nm -u $@.tmp | awk '{print $$2}'); \
	if [ -n "$$undef" ]; then echo "xenstored uses symbols dom0 lacks: $$undef" >&2; rm -f $@.tmp; exit 1; fi
	@mv $@.tmp $@

xenstored: $(BUILD)/xenstored-host $(BUILD)/xenstored-check/linked.o

unit: xenstored

.PHONY: xenstored
