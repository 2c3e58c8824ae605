; The event-channel callback vector's entry (guest/lib/evtchn.c installs
; it at EVTCHN_UPCALL_VECTOR).
;
; The vector arrives as an external interrupt through an interrupt gate
; (IF cleared), with no error code, and goes around the local APIC: there
; is nothing to acknowledge. The stub saves the registers the C ABI lets a
; callee clobber, calls evtchn_do_upcall() and returns with IRETQ. The CPU
; aligned RSP to 16 before pushing its 40-byte frame; nine pushes (72
; bytes) make RSP 16-byte aligned again at the call.

bits 64
extern evtchn_do_upcall

section .text
global evtchn_upcall_entry
evtchn_upcall_entry:
	push rax
	push rcx
	push rdx
	push rsi
	push rdi
	push r8
	push r9
	push r10
	push r11
	cld
	call evtchn_do_upcall
	pop r11
	pop r10
	pop r9
	pop r8
	pop rdi
	pop rsi
	pop rdx
	pop rcx
	pop rax
	iretq
