/*
 * The hypervisor image, embedded whole in the UEFI loader. The Makefile
 * passes -DPAYLOAD="build/keel.elf"; elf.c parses these bytes.
 *
 * A section of its own, kept by the Makefile's objcopy (-j .payload): the
 * loader's linker script (gnu-efi's elf_x86_64_efi.lds) does not name it,
 * so ld places it as an orphan; the 4 KiB alignment keeps it a well-formed
 * PE section, whose virtual addresses must be page-aligned. Read-only
 * data ("a"), so the firmware needs no relocation for it and may map it
 * non-executable.
 */
	.section .payload, "a", @progbits
	.balign 4096
	.globl keel_payload_start, keel_payload_end
	.hidden keel_payload_start, keel_payload_end
keel_payload_start:
	.incbin PAYLOAD
keel_payload_end:

	.section .note.GNU-stack, "", @progbits
