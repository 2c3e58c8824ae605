; Interrupt and exception entry stubs: one per vector, all funnelling into
; trap_common, which saves the general registers as a struct trap_frame
; (arch/x86/include/asm/traps.h) and calls trap_dispatch(frame).
; Vectors 8, 10-14, 17, 21, 29 and 30 push an error code (SDM vol. 3 6.13);
; the others get a zero so every frame has the same shape.

bits 64
default rel

section .text

%macro STUB 1
align 16
trap_stub_%1:
%if (%1 == 8) || (%1 >= 10 && %1 <= 14) || (%1 == 17) || (%1 == 21) || (%1 == 29) || (%1 == 30)
%else
	push 0
%endif
	push %1
	jmp trap_common
%endmacro

%assign i 0
%rep 256
STUB i
%assign i i+1
%endrep

extern trap_dispatch
trap_common:
	push r15
	push r14
	push r13
	push r12
	push r11
	push r10
	push r9
	push r8
	push rdi
	push rsi
	push rbp
	push rbx
	push rdx
	push rcx
	push rax
	cld
	mov rdi, rsp
	; The frame's end is 16-byte aligned only on some paths; align for C.
	mov rbx, rsp
	and rsp, -16
	call trap_dispatch
	mov rsp, rbx
	pop rax
	pop rcx
	pop rdx
	pop rbx
	pop rbp
	pop rsi
	pop rdi
	pop r8
	pop r9
	pop r10
	pop r11
	pop r12
	pop r13
	pop r14
	pop r15
	add rsp, 16		; vector and error code
	iretq

section .rodata
global trap_stub_table
trap_stub_table:
%assign i 0
%rep 256
	dq trap_stub_%+i
%assign i i+1
%endrep
