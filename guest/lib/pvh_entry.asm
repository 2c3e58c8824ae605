; PVH entry for Keel's guests (Xen docs/misc/pvh.pandoc).
;
; The domain builder loads the ELF at its p_paddr and, because of the
; XEN_ELFNOTE_PHYS32_ENTRY note below, enters pvh_start32 in 32-bit
; protected mode with paging off: EBX = guest-physical address of the
; struct hvm_start_info, CS/DS/ES/SS flat 4 GiB, CR4 = 0, IF = 0. Nothing
; else is promised, so this code makes no use of the stack, GDT or IDT it
; was given.
;
; It zeroes .bss, checks for long mode, identity-maps the first 4 GiB with
; 2 MiB pages (the top GiB, where MMIO lives, uncached), enables PAE,
; EFER.LME (and EFER.NXE when the CPU has NX), paging and write protect,
; loads a 64-bit GDT, and calls guest_start(start_info) (guest/lib/start.c)
; with the SysV ABI on a 16 KiB stack in .bss. Page tables and stack are
; in .bss so the image carries no zero pages.

bits 32

; Note types from include/public/elfnote.h (nasm cannot include C headers).
%define XEN_ELFNOTE_GUEST_OS        6
%define XEN_ELFNOTE_GUEST_VERSION   7
%define XEN_ELFNOTE_LOADER          8
%define XEN_ELFNOTE_PHYS32_ENTRY    18

%define MSR_EFER      0xC0000080
%define EFER_LME      (1 << 8)
%define EFER_NXE      (1 << 11)
%define CR0_PE        (1 << 0)
%define CR0_WP        (1 << 16)
%define CR0_PG        (1 << 31)
%define CR4_PAE       (1 << 5)
%define PTE_P         (1 << 0)
%define PTE_RW        (1 << 1)
%define PTE_PWT       (1 << 3)
%define PTE_PCD       (1 << 4)
%define PTE_PS        (1 << 7)

%define BOOT_STACK_SIZE 16384

extern guest_start
extern __bss_start
extern __bss_end

; ---- ELF notes: owner "Xen" (namesz 4), 4-byte aligned (elfnote.h) ------

section .note.Xen note alloc noexec nowrite align=4

; The entry note's descriptor is 8 bytes, as Linux writes it in a 64-bit
; image; loaders accept 4 or 8.
note_entry:
	dd 4, .desc_end - .desc, XEN_ELFNOTE_PHYS32_ENTRY
	db "Xen", 0
.desc:	dq pvh_start32
.desc_end:
	align 4, db 0

note_os:
	dd 4, .desc_end - .desc, XEN_ELFNOTE_GUEST_OS
	db "Xen", 0
.desc:	db "Keel", 0
.desc_end:
	align 4, db 0

note_version:
	dd 4, .desc_end - .desc, XEN_ELFNOTE_GUEST_VERSION
	db "Xen", 0
.desc:	db "0.1", 0
.desc_end:
	align 4, db 0

note_loader:
	dd 4, .desc_end - .desc, XEN_ELFNOTE_LOADER
	db "Xen", 0
.desc:	db "generic", 0
.desc_end:
	align 4, db 0

; ---- 32-bit entry ------------------------------------------------------

section .text.entry progbits alloc exec nowrite align=16

global pvh_start32
pvh_start32:
	cli
	cld
	mov esi, ebx			; keep start_info across rep stosd/cpuid

	; Zero .bss (page tables, stack, hypercall page). The builder zeroes
	; memsz beyond filesz already; doing it again costs little and makes
	; a re-entered image start clean.
	mov edi, __bss_start
	mov ecx, __bss_end
	sub ecx, edi
	shr ecx, 2
	xor eax, eax
	rep stosd

	mov esp, boot_stack_top

	; Long mode present? (CPUID 0x80000001 EDX bit 29; bit 20 = NX.)
	mov eax, 0x80000000
	cpuid
	cmp eax, 0x80000001
	jb no_long_mode
	mov eax, 0x80000001
	cpuid
	test edx, 1 << 29
	jz no_long_mode
	mov ebp, edx

	; PML4[0] -> PDPT; PDPT[0..3] -> four page directories.
	mov eax, pvh_pdpt + (PTE_P | PTE_RW)
	mov [pvh_pml4], eax
	mov edi, pvh_pdpt
	mov eax, pvh_pd + (PTE_P | PTE_RW)
	mov ecx, 4
.pdpt:
	mov [edi], eax
	add eax, 4096
	add edi, 8
	loop .pdpt

	; 2048 PDEs of 2 MiB each: 0 .. 4 GiB identity. The PDEs above
	; 3 GiB (index 1536 on) are PCD|PWT: that is where the PCI hole, the
	; IOAPIC and the LAPIC live, and the guest's MTRRs may say WB.
	mov edi, pvh_pd
	mov eax, PTE_P | PTE_RW | PTE_PS
	xor ecx, ecx
.pd:
	cmp ecx, 1536
	jne .store
	or eax, PTE_PCD | PTE_PWT
.store:
	mov [edi + ecx * 8], eax	; high dword stays 0 (zeroed .bss)
	add eax, 0x200000
	inc ecx
	cmp ecx, 2048
	jb .pd

	mov eax, pvh_pml4
	mov cr3, eax
	mov eax, cr4
	or eax, CR4_PAE
	mov cr4, eax

	mov ecx, MSR_EFER
	rdmsr
	or eax, EFER_LME
	test ebp, 1 << 20
	jz .no_nx
	or eax, EFER_NXE
.no_nx:
	wrmsr

	mov eax, cr0
	or eax, CR0_PG | CR0_WP | CR0_PE
	mov cr0, eax			; now in compatibility mode

	lgdt [gdt_ptr]
	jmp 0x08:long_mode_entry

; No long mode: say so on the debug port (0xE9) and stop.
no_long_mode:
	mov esi, msg_no_long_mode
.putc:
	lodsb
	test al, al
	jz .stop
	out 0xe9, al
	jmp .putc
.stop:
	hlt
	jmp .stop

bits 64
long_mode_entry:
	mov ax, 0x10
	mov ds, ax
	mov es, ax
	mov ss, ax
	xor eax, eax
	mov fs, ax
	mov gs, ax
	mov rsp, boot_stack_top		; 16-byte aligned: SysV entry state
	mov edi, esi			; arg 0: start_info (zero-extended)
	xor ebp, ebp			; ends stack traces
	call guest_start
.halt:					; guest_start does not return
	cli
	hlt
	jmp .halt

; ---- data --------------------------------------------------------------

section .rodata
msg_no_long_mode:
	db "guest: the CPU has no long mode; stopped", 10, 0

; The CPU writes the accessed bit of descriptors it loads: keep the GDT
; in writable memory.
section .data
align 16
gdt:
	dq 0				; 0x00 null
	dq 0x00af9a000000ffff		; 0x08 64-bit code, DPL 0
	dq 0x00cf92000000ffff		; 0x10 data, DPL 0
gdt_end:
gdt_ptr:
	dw gdt_end - gdt - 1
	dq gdt				; lgdt in 32-bit mode reads 6 bytes

section .bss nobits alloc noexec write align=4096
global pvh_pml4
global pvh_pdpt
global pvh_pd
pvh_pml4:	resb 4096
pvh_pdpt:	resb 4096
pvh_pd:		resb 4 * 4096
boot_stack:	resb BOOT_STACK_SIZE
boot_stack_top:
