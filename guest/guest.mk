# Keel's guests: build/dom0.elf and build/pvtest.elf (included by the
# top-level Makefile; `make guests`).
#
# Each guest is a freestanding ELF64 PVH kernel: guest/lib (entry, console,
# hypercalls, traps, start_info) + the hypervisor's tiny libc sources
# (kernel/lib/*.c, recompiled here with guest flags) + the program's own
# directory. Objects go under build/guest/. GUEST_KLIB_DIR may point the
# libc at another directory (for testing stand-ins).

GUEST_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wmissing-prototypes -Wshadow \
	-ffreestanding -fno-builtin -fno-stack-protector -fno-pic -fno-pie \
	-mno-red-zone -mno-sse -mno-mmx -mno-sse2 -mno-avx -mgeneral-regs-only \
	-mcmodel=small -fno-omit-frame-pointer -fno-asynchronous-unwind-tables \
	-fno-strict-aliasing -nostdinc -isystem $(shell $(CC) -print-file-name=include) \
	-Iinclude -Iguest/lib -Idrivers -MMD -MP
GUEST_LDFLAGS := -n -nostdlib -static -z max-page-size=4096 -z noexecstack \
	--no-warn-rwx-segments -T guest/guest.ld

GUEST_KLIB_DIR ?= kernel/lib

GUEST_LIB_OBJ := $(patsubst guest/%.c,$(BUILD)/guest/%.o,$(wildcard guest/lib/*.c)) \
	$(patsubst guest/%.asm,$(BUILD)/guest/%.o,$(wildcard guest/lib/*.asm)) \
	$(patsubst $(GUEST_KLIB_DIR)/%.c,$(BUILD)/guest/klib/%.o,$(wildcard $(GUEST_KLIB_DIR)/*.c))
# dom0's device drivers (drivers/drv.h is their environment), built with
# the guest flags.
DOM0_DRIVERS := $(wildcard drivers/pci/*.c drivers/virtio/*.c drivers/block/*.c drivers/net/*.c)
# The PCI/ACPI core the hypervisor shares (hw/, docs/design.md "hw/"),
# compiled again with the guest flags.
DOM0_HW := $(wildcard hw/*.c)
DOM0_OBJ := $(patsubst guest/%.c,$(BUILD)/guest/%.o,$(wildcard guest/dom0/*.c)) \
	$(patsubst %.c,$(BUILD)/guest/%.o,$(DOM0_DRIVERS)) \
	$(patsubst %.c,$(BUILD)/guest/%.o,$(DOM0_HW))
PVTEST_OBJ := $(patsubst guest/%.c,$(BUILD)/guest/%.o,$(wildcard guest/pvtest/*.c))

# Load addresses (p_paddr): dom0 at 16 MiB like Linux; pvtest at 2 MiB so
# that a small domU fits.
DOM0_BASE := 0x1000000
PVTEST_BASE := 0x200000

guests: $(BUILD)/dom0.elf $(BUILD)/pvtest.elf $(BUILD)/pvtest-simd.elf

# pvtest-simd.elf: pvtest plus role=simd (guest/pvtest/simd/, docs/fpu.md).
# Its *_sse2.c files are compiled with SSE2 code generation; the rest stays
# general-registers-only. guest/lib enables SSE/AVX at start (simd.h).
PVTEST_SIMD_OBJ := $(PVTEST_OBJ) $(patsubst guest/%.c,$(BUILD)/guest/%.o,$(wildcard guest/pvtest/simd/*.c))
GUEST_SIMD_CFLAGS := $(filter-out -mno-sse -mno-mmx -mno-sse2 -mno-avx -mgeneral-regs-only,$(GUEST_CFLAGS)) \
	-msse2 -Iguest/pvtest

$(BUILD)/guest/%.o: guest/%.c
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS) -c -o $@ $<

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

$(BUILD)/guest/klib/%.o: $(GUEST_KLIB_DIR)/%.c
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS) -c -o $@ $<

$(BUILD)/dom0.elf: $(DOM0_OBJ) $(GUEST_LIB_OBJ) guest/guest.ld
	$(LD) $(GUEST_LDFLAGS) --defsym=GUEST_BASE=$(DOM0_BASE) -o $@ $(DOM0_OBJ) $(GUEST_LIB_OBJ)

$(BUILD)/pvtest.elf: $(PVTEST_OBJ) $(GUEST_LIB_OBJ) guest/guest.ld
	$(LD) $(GUEST_LDFLAGS) --defsym=GUEST_BASE=$(PVTEST_BASE) -o $@ $(PVTEST_OBJ) $(GUEST_LIB_OBJ)

$(BUILD)/pvtest-simd.elf: $(PVTEST_SIMD_OBJ) $(GUEST_LIB_OBJ) guest/guest.ld
	$(LD) $(GUEST_LDFLAGS) --defsym=GUEST_BASE=$(PVTEST_BASE) -o $@ $(PVTEST_SIMD_OBJ) $(GUEST_LIB_OBJ)

.PHONY: guests
