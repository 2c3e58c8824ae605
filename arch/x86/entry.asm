; kernel_entry64: the hypervisor's one 64-bit entry point (docs/design.md).
; In:  RDI = physical address of struct boot_info; long mode; the image
;      identity-mapped by whoever ran before (UEFI firmware or the multiboot2
;      trampoline); interrupts in any state.
; It switches to Keel's own boot stack (the caller's stack may be firmware
; memory that the frame allocator will hand out) and calls kernel_main,
; which never returns.

bits 64
default rel

section .text
global kernel_entry64
extern kernel_main

kernel_entry64:
	cli
	cld
	lea rsp, [boot_stack_top]
	xor ebp, ebp		; terminates stack traces
	push rbp		; keep RSP 16-byte aligned at the call
	call kernel_main
.hang:
	hlt
	jmp .hang

section .bss
align 4096
global boot_stack_bottom
boot_stack_bottom:
	resb 16384
global boot_stack_top
boot_stack_top:
