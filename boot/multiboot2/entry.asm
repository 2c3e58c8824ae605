; The multiboot2 path: header for GRUB2, and the 32-bit to 64-bit trampoline.
;
; GRUB enters mb2_entry32 (named by the header's entry-address tag) in
; 32-bit protected mode, paging off, EAX = 0x36d76289, EBX = physical
; address of the multiboot2 information (Multiboot2 spec 3.3). We build
; temporary page tables that identity-map the first 4 GiB with 2 MiB pages,
; enable PAE + long mode + paging, and in 64-bit mode convert the
; multiboot2 information into a struct boot_info (mb2.c) before jumping to
; the common 64-bit entry. Keel's own page tables replace these early in
; kernel_main.

%define MB2_MAGIC 0xe85250d6
%define MB2_ARCH_I386 0
%define MB2_BOOT_MAGIC 0x36d76289

bits 32

section .multiboot2
align 8
mb2_header:
	dd MB2_MAGIC
	dd MB2_ARCH_I386
	dd mb2_header_end - mb2_header
	dd -(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
	; entry address tag (type 3): GRUB jumps here, not to the ELF entry
	align 8
	dw 3, 0
	dd 12
	dd mb2_entry32
	; information request tag (type 1): memory map, modules, cmdline,
	; ACPI RSDP, framebuffer
	align 8
	dw 1, 0
	dd 8 + 4 * 6
	dd 1, 3, 6, 8, 14, 15
	; end tag
	align 8
	dw 0, 0
	dd 8
mb2_header_end:

section .text.boot32
global mb2_entry32
mb2_entry32:
	cli
	mov esp, early_stack_top
	cmp eax, MB2_BOOT_MAGIC
	jne .bad_magic
	mov [mb2_info_pa], ebx

	; PML4[0] -> PDPT; PDPT[0..3] -> four page directories of 2 MiB pages
	mov eax, early_pdpt
	or eax, 0x3
	mov [early_pml4], eax
	mov ecx, 0
.fill_pdpt:
	mov eax, ecx
	shl eax, 12
	add eax, early_pd
	or eax, 0x3
	mov [early_pdpt + ecx * 8], eax
	inc ecx
	cmp ecx, 4
	jne .fill_pdpt
	mov ecx, 0
.fill_pd:
	mov eax, ecx
	shl eax, 21
	or eax, 0x83		; present, writable, 2 MiB page
	mov [early_pd + ecx * 8], eax
	mov eax, ecx
	shr eax, 11		; bits 32+ of the address: index / 2048
	mov [early_pd + ecx * 8 + 4], eax
	inc ecx
	cmp ecx, 2048
	jne .fill_pd

	mov eax, cr4
	or eax, (1 << 5)	; PAE
	mov cr4, eax
	mov eax, early_pml4
	mov cr3, eax
	mov ecx, 0xc0000080	; EFER
	rdmsr
	or eax, (1 << 8) | (1 << 11)	; LME, NXE
	wrmsr
	mov eax, cr0
	or eax, (1 << 31) | (1 << 16) | 1	; PG, WP, PE
	mov cr0, eax
	lgdt [early_gdt_desc]
	jmp 0x08:.long_mode

.bad_magic:
	; Not loaded by a multiboot2 loader: nothing to report to, stop.
	hlt
	jmp .bad_magic

bits 64
.long_mode:
	mov ax, 0x10
	mov ds, ax
	mov es, ax
	mov ss, ax
	xor eax, eax
	mov fs, ax
	mov gs, ax
	mov edi, [mb2_info_pa]
	extern mb2_to_boot_info
	call mb2_to_boot_info	; returns &boot_info in RAX
	mov rdi, rax
	extern kernel_entry64
	jmp kernel_entry64

section .data
align 8
early_gdt:
	dq 0
	dq 0x00af9a000000ffff	; 0x08: 64-bit code
	dq 0x00cf92000000ffff	; 0x10: data
early_gdt_end:
early_gdt_desc:
	dw early_gdt_end - early_gdt - 1
	dq early_gdt
mb2_info_pa:
	dd 0

section .bss
align 4096
early_pml4: resb 4096
early_pdpt: resb 4096
early_pd: resb 4096 * 4
early_stack: resb 8192
early_stack_top:
