# Keel: build, run and test.
#
#   make            build everything (hypervisor, UEFI loader, guests, unit tests)
#   make run        install missing packages, build, boot Keel in QEMU (UEFI)
#   make test       install missing packages, build, run every test
#   make test TESTS=PATTERN   run the tests whose names match PATTERN (a glob or substring)
#   make test-list  list test names
#   make bench      performance figures (QEMU -icount), build/bench.json
#   make bench-compare OLD=old.json   deltas of build/bench.json against old.json
#   make fuzz       run the libFuzzer harnesses (FUZZ_SECONDS each; docs/fuzzing.md)
#   make soak       hostile domUs and create/destroy cycles for a long time (docs/soak.md)
#   make usb|iso|pxe   boot media from configs/keel.cfg (docs/boot-media.md)

BUILD := build
CC := gcc
LD := ld
NASM := nasm
OBJCOPY := objcopy

# ---- the hypervisor ---------------------------------------------------------

HV_CFLAGS := -std=c11 -O2 -g -Wall -Wextra -Werror -Wmissing-prototypes -Wshadow \
	-ffreestanding -fno-builtin -fno-stack-protector -fno-pic -fno-pie \
	-mno-red-zone -mno-sse -mno-mmx -mno-sse2 -mno-avx -mgeneral-regs-only \
	-mcmodel=kernel -fno-omit-frame-pointer -fno-asynchronous-unwind-tables \
	-fno-strict-aliasing -nostdinc -isystem $(shell $(CC) -print-file-name=include) \
	-Iinclude -Iarch/x86/include -I$(BUILD)/include -MMD -MP
# -mcmodel=kernel needs the image in the top 2 GiB; Keel runs identity-mapped
# below 4 GiB instead, which -mcmodel=small covers.
HV_CFLAGS := $(filter-out -mcmodel=kernel,$(HV_CFLAGS)) -mcmodel=small

HV_SRC_C := $(wildcard boot/multiboot2/*.c arch/x86/*.c arch/x86/svm/*.c arch/x86/vmx/*.c \
	kernel/*.c drivers/uart/*.c)
# The PCI/ACPI core every image shares (hw/, docs/design.md "hw/").
HV_SRC_C += $(wildcard hw/*.c)
HV_SRC_ASM := $(wildcard boot/multiboot2/*.asm arch/x86/*.asm arch/x86/svm/*.asm arch/x86/vmx/*.asm)
HV_OBJ := $(patsubst %.c,$(BUILD)/hv/%.o,$(HV_SRC_C)) $(patsubst %.asm,$(BUILD)/hv/%.o,$(HV_SRC_ASM))

ASM_OFFSETS := $(BUILD)/include/asm-offsets.h

all: $(BUILD)/keel.elf $(BUILD)/keel.efi guests unit $(BUILD)/ring_bench

$(ASM_OFFSETS): arch/x86/asm-offsets/asm-offsets.c include/keel/*.h include/lib/*.h arch/x86/include/asm/*.h
	@mkdir -p $(dir $@)
	@$(CC) $(HV_CFLAGS) -MF /dev/null -S -o $(BUILD)/asm-offsets.s $<
	@echo "; generated from arch/x86/asm-offsets/asm-offsets.c: do not edit" > $@.tmp
	@sed -n 's/^.*->\([A-Za-z0-9_]*\) \$$\{0,1\}\([-0-9]*\).*$$/%define \1 \2/p' $(BUILD)/asm-offsets.s >> $@.tmp
	@mv $@.tmp $@

$(BUILD)/hv/%.o: %.c | $(ASM_OFFSETS)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(HV_CFLAGS) -c -o $@ $<

# nasm -MD lists no %include files here, so the .inc files are named:
# every stub is rebuilt when one of them changes.
$(BUILD)/hv/%.o: %.asm $(ASM_OFFSETS) $(wildcard arch/x86/include/asm/*.inc)
	@mkdir -p $(dir $@)
	@echo "  NASM    $<"
	@$(NASM) -f elf64 -g -I$(BUILD)/include/ -Iarch/x86/include/ -MD $(@:.o=.d) -MP -o $@ $<

# lib/ (the string functions and vsnprintf) comes as an archive, one per
# image flavour: lib/lib.mk.
include lib/lib.mk

$(BUILD)/keel.elf: $(HV_OBJ) $(LIB_HV) linker.ld
	@echo "  LD      $@"
	@$(LD) -n -nostdlib -z max-page-size=4096 -z noexecstack -T linker.ld -o $@ $(HV_OBJ) $(LIB_HV)

# ---- the UEFI loader --------------------------------------------------------
# A gnu-efi application with keel.elf embedded; it loads the ELF at its
# physical addresses and enters it (boot/efi/README in docs/boot.md).

EFI_INC := /usr/include/efi
EFI_CFLAGS := -std=c11 -O2 -Wall -Wextra -Werror -Wmissing-prototypes -Wshadow \
	-ffreestanding -fno-stack-protector -fpic -fshort-wchar -mno-red-zone \
	-mno-sse -mgeneral-regs-only -maccumulate-outgoing-args -DEFI_FUNCTION_WRAPPER \
	-DGNU_EFI_USE_MS_ABI -I$(EFI_INC) -I$(EFI_INC)/x86_64 -Iinclude -Iboot/common -MMD -MP
EFI_SRC := $(wildcard boot/efi/*.c boot/common/*.c)
EFI_OBJ := $(patsubst %.c,$(BUILD)/efi/%.o,$(EFI_SRC)) $(BUILD)/efi/payload.o

$(BUILD)/efi/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $< (efi)"
	@$(CC) $(EFI_CFLAGS) -c -o $@ $<

$(BUILD)/efi/payload.o: $(BUILD)/keel.elf boot/efi/payload.S
	@mkdir -p $(dir $@)
	$(CC) -c -DPAYLOAD=\"$(BUILD)/keel.elf\" -o $@ boot/efi/payload.S

$(BUILD)/keel-efi.so: $(EFI_OBJ)
	$(LD) -nostdlib -znocombreloc -shared -Bsymbolic -T /usr/lib/elf_x86_64_efi.lds \
		/usr/lib/crt0-efi-x86_64.o $(EFI_OBJ) -o $@ -L/usr/lib -lefi -lgnuefi

$(BUILD)/keel.efi: $(BUILD)/keel-efi.so
	$(OBJCOPY) -j .text -j .sdata -j .data -j .dynamic -j .dynsym -j .rel -j .rela \
		-j .rel.* -j .rela.* -j .reloc -j .payload --target efi-app-x86_64 \
		--subsystem=10 $< $@

# ---- guests -----------------------------------------------------------------

-include guest/guest.mk

# ---- unit tests (host, Check) ----------------------------------------------

include tests/unit/unit.mk

# ---- fuzzing and soak (docs/fuzzing.md, docs/soak.md) ----------------------

include tests/fuzz/fuzz.mk

# ---- xenstored's host build (docs/xenstore.md) ------------------------------

include tests/xenstore/xenstore.mk

# ---- running and testing ----------------------------------------------------

deps:
	@scripts/install-deps

run: deps
	@$(MAKE) --no-print-directory all
	scripts/run $(RUNFLAGS)

test: deps
	@$(MAKE) --no-print-directory all
	@python3 tests/run.py $(if $(TESTS),--match '$(TESTS)')

test-list:
	@python3 tests/run.py --list

bench: deps
	@$(MAKE) --no-print-directory all
	@python3 tests/bench.py

# Deltas of build/bench.json (the last `make bench`) against an older one:
#   make bench-compare OLD=/tmp/bench-before.json
bench-compare:
	@test -n "$(OLD)" || { echo "usage: make bench-compare OLD=path/to/old-bench.json"; exit 2; }
	@python3 tests/bench.py --compare-only --compare $(OLD)

# The host-side ring microbenchmark (tests/bench/ring_bench.c; docs/PERFORMANCE.md).
$(BUILD)/ring_bench: tests/bench/ring_bench.c include/public/io/ring.h include/lib/types.h
	@mkdir -p $(@D)
	@echo "  HOSTCC  $@"
	@$(CC) -O2 -Wall -Wextra -Werror -pthread -Iinclude $< -o $@

# ---- boot media (docs/boot-media.md) ----------------------------------------
# All three from one keel.cfg (MEDIA_CFG), its module paths resolved in build/.

MEDIA_CFG ?= configs/keel.cfg
MKIMAGE = scripts/mkimage --cfg $(MEDIA_CFG) --root $(BUILD)

usb: deps
	@$(MAKE) -s --no-print-directory $(BUILD)/keel.elf $(BUILD)/keel.efi guests
	@$(MKIMAGE) --usb $(BUILD)/keel-usb.img
	@echo "  USB     $(BUILD)/keel-usb.img (write it: scripts/write-usb $(BUILD)/keel-usb.img /dev/sdX)"

iso: deps
	@$(MAKE) -s --no-print-directory $(BUILD)/keel.elf $(BUILD)/keel.efi guests
	@$(MKIMAGE) --iso $(BUILD)/keel.iso
	@echo "  ISO     $(BUILD)/keel.iso"

pxe: deps
	@$(MAKE) -s --no-print-directory $(BUILD)/keel.elf $(BUILD)/keel.efi guests
	@$(MKIMAGE) --pxe $(BUILD)/pxe
	@echo "  PXE     $(BUILD)/pxe/ (TFTP root; DHCP boot files: BOOTX64.EFI, boot/grub/i386-pc/core.0)"

clean:
	rm -rf $(BUILD)

.PHONY: all deps run test test-list bench bench-compare clean guests unit usb iso pxe

-include $(shell find $(BUILD) -path $(BUILD)/linux -prune -o -name '*.d' -print 2>/dev/null)
