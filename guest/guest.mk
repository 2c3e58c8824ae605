# Keel's guests: build/dom0.elf, build/pvtest.elf and build/pvtest-simd.elf
# (included by the top-level Makefile; `make guests`).
#
# Each guest is a freestanding ELF64 PVH kernel: the program's own objects
# (its directory; dom0 also drivers/), then two static archives built with
# the guest flags: build/guest/libguest.a (guest/lib: entry, console,
# hypercalls, traps, start_info) and build/lib/guest/lib.a (the top-level
# lib/: string functions, vsnprintf; lib/lib.mk). The linker takes from an
# archive only the members something uses; guest.ld names the PVH entry
# (EXTERN) so that pvh_entry.asm and its Xen ELF notes are always in.
# Objects go under build/guest/.

GUEST_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wmissing-prototypes -Wshadow \
	-ffreestanding -fno-builtin -fno-stack-protector -fno-pic -fno-pie \
	-mno-red-zone -mno-sse -mno-mmx -mno-sse2 -mno-avx -mgeneral-regs-only \
	-mcmodel=small -fno-omit-frame-pointer -fno-asynchronous-unwind-tables \
	-fno-strict-aliasing -nostdinc -isystem $(shell $(CC) -print-file-name=include) \
	-Iinclude -Iguest/lib -Idrivers -MMD -MP
GUEST_LDFLAGS := -n -nostdlib -static -z max-page-size=4096 -z noexecstack \
	--no-warn-rwx-segments -T guest/guest.ld

GUEST_LIB_OBJ := $(patsubst guest/%.c,$(BUILD)/guest/%.o,$(wildcard guest/lib/*.c)) \
	$(patsubst guest/%.asm,$(BUILD)/guest/%.o,$(wildcard guest/lib/*.asm))
GUEST_LIB := $(BUILD)/guest/libguest.a
# What every guest links after its own objects, in this order (libguest.a
# uses lib.a; nothing in lib.a uses libguest.a).
GUEST_LIBS := $(GUEST_LIB) $(LIB_GUEST)
# dom0's device drivers (drivers/drv.h is their environment), built with
# the guest flags.
DOM0_DRIVERS := $(wildcard drivers/pci/*.c drivers/virtio/*.c drivers/block/*.c drivers/net/*.c)
# dom0's sources: guest/dom0/ and every folder under it (one folder per
# service, test/ for the self-tests). They include each other's headers
# by folder ("hw/hw.h"), relative to guest/dom0. A service's host-only
# sources (a host build of it, e.g. xenstored's) are named *_host.c or sit
# one folder deeper (guest/dom0/SERVICE/host/), and are not dom0's.
DOM0_SRC := $(filter-out %_host.c,$(wildcard guest/dom0/*.c guest/dom0/*/*.c))
# The PCI/ACPI core the hypervisor shares (hw/, docs/design.md "hw/"),
# compiled again with the guest flags.
DOM0_HW := $(wildcard hw/*.c)
DOM0_OBJ := $(patsubst guest/%.c,$(BUILD)/guest/%.o,$(DOM0_SRC)) \
	$(patsubst %.c,$(BUILD)/guest/%.o,$(DOM0_DRIVERS)) \
	$(patsubst %.c,$(BUILD)/guest/%.o,$(DOM0_HW))
PVTEST_OBJ := $(patsubst guest/%.c,$(BUILD)/guest/%.o,$(wildcard guest/pvtest/*.c))

# Load addresses (p_paddr): dom0 at 16 MiB like Linux; pvtest at 2 MiB so
# that a small domU fits.
DOM0_BASE := 0x1000000
PVTEST_BASE := 0x200000

# Example guest configs (configs/guests/), next to the images so that
# keel.cfg can hand them to dom0 as modules (/boot/NAME, docs/cli.md).
GUEST_CFGS := $(patsubst configs/guests/%,$(BUILD)/guests/%,$(wildcard configs/guests/*.cfg))

guests: $(BUILD)/dom0.elf $(BUILD)/pvtest.elf $(BUILD)/pvtest-simd.elf $(GUEST_CFGS)

$(BUILD)/guests/%.cfg: configs/guests/%.cfg
	@mkdir -p $(dir $@)
	@cp $< $@

# pvtest-simd.elf: pvtest plus role=simd (guest/pvtest/simd/, docs/fpu.md).
# Its *_sse2.c files are compiled with SSE2 code generation; the rest stays
# general-registers-only. guest/lib enables SSE/AVX at start (simd.h).
PVTEST_SIMD_OBJ := $(PVTEST_OBJ) $(patsubst guest/%.c,$(BUILD)/guest/%.o,$(wildcard guest/pvtest/simd/*.c))
GUEST_SIMD_CFLAGS := $(filter-out -mno-sse -mno-mmx -mno-sse2 -mno-avx -mgeneral-regs-only,$(GUEST_CFLAGS)) \
	-msse2 -Iguest/pvtest

$(BUILD)/guest/%.o: guest/%.c
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS) -c -o $@ $<

$(BUILD)/guest/dom0/%.o: GUEST_CFLAGS += -Iguest/dom0

$(BUILD)/guest/%.o: guest/%.asm
	@mkdir -p $(dir $@)
	$(NASM) -f elf64 -g -o $@ $<

$(BUILD)/guest/pvtest/simd/%_sse2.o: guest/pvtest/simd/%_sse2.c
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_SIMD_CFLAGS) -c -o $@ $<

$(BUILD)/guest/pvtest/simd/%.o: guest/pvtest/simd/%.c
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS) -Iguest/pvtest -c -o $@ $<

$(BUILD)/guest/drivers/%.o: drivers/%.c
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS) -c -o $@ $<

$(BUILD)/guest/hw/%.o: hw/%.c
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS) -c -o $@ $<

$(GUEST_LIB): $(GUEST_LIB_OBJ)
	rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/dom0.elf: $(DOM0_OBJ) $(GUEST_LIBS) guest/guest.ld
	$(LD) $(GUEST_LDFLAGS) --defsym=GUEST_BASE=$(DOM0_BASE) -o $@ $(DOM0_OBJ) $(GUEST_LIBS)

$(BUILD)/pvtest.elf: $(PVTEST_OBJ) $(GUEST_LIBS) guest/guest.ld
	$(LD) $(GUEST_LDFLAGS) --defsym=GUEST_BASE=$(PVTEST_BASE) -o $@ $(PVTEST_OBJ) $(GUEST_LIBS)

$(BUILD)/pvtest-simd.elf: $(PVTEST_SIMD_OBJ) $(GUEST_LIBS) guest/guest.ld
	$(LD) $(GUEST_LDFLAGS) --defsym=GUEST_BASE=$(PVTEST_BASE) -o $@ $(PVTEST_SIMD_OBJ) $(GUEST_LIBS)

.PHONY: guests
