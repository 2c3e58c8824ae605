; Exception entry stubs for Keel's guests: vectors 0..31.
;
; Each stub pushes a dummy error code where the CPU pushes none, then the
; vector, and jumps to the common path, which saves the general registers
; in the order of struct trap_frame (guest/lib/guest.h: r15 at the lowest
; address), calls trap_handler(frame) and returns with iretq. The handler
; either redirects frame->rip to a fixup (expected faults) or does not
; return. The stack is 16-byte aligned at the call: the CPU aligns RSP
; before pushing its 40-byte frame, and 2 + 15 pushes follow.

bits 64
extern trap_handler

section .text

%macro EXC_NOERR 1
exc_%1:
	push 0
	push %1
	jmp exc_common
%endmacro

%macro EXC_ERR 1
exc_%1:
	push %1
	jmp exc_common
%endmacro

EXC_NOERR 0
EXC_NOERR 1
EXC_NOERR 2
EXC_NOERR 3
EXC_NOERR 4
EXC_NOERR 5
EXC_NOERR 6
EXC_NOERR 7
EXC_ERR   8
EXC_NOERR 9
EXC_ERR   10
EXC_ERR   11
EXC_ERR   12
EXC_ERR   13
EXC_ERR   14
EXC_NOERR 15
EXC_NOERR 16
EXC_ERR   17
EXC_NOERR 18
EXC_NOERR 19
EXC_NOERR 20
EXC_ERR   21
EXC_NOERR 22
EXC_NOERR 23
EXC_NOERR 24
EXC_NOERR 25
EXC_NOERR 26
EXC_NOERR 27
EXC_NOERR 28
EXC_ERR   29
EXC_ERR   30
EXC_NOERR 31

exc_common:
	push rax
	push rbx
	push rcx
	push rdx
	push rsi
	push rdi
	push rbp
	push r8
	push r9
	push r10
	push r11
	push r12
	push r13
	push r14
	push r15
	mov rdi, rsp
	cld
	call trap_handler
	pop r15
	pop r14
	pop r13
	pop r12
	pop r11
	pop r10
	pop r9
	pop r8
	pop rbp
	pop rdi
	pop rsi
	pop rdx
	pop rcx
	pop rbx
	pop rax
	add rsp, 16			; vector, error code
	iretq

section .rodata
align 8
global exception_stubs
exception_stubs:
%assign i 0
%rep 32
	dq exc_ %+ i
%assign i i + 1
%endrep
