; The VMRUN stub (AMD APM vol. 2, 15.5 "VMRUN Instruction").
;
; void svm_vmrun(struct vcpu *v, paddr_t host_vmcb_pa)
;
; VMRUN switches only part of the CPU: it saves and restores the host's
; RAX, RSP, RIP, RFLAGS, CR0/3/4, EFER, GDTR/IDTR and ES/CS/SS/DS, and
; loads the guest's from the VMCB. The rest is ours to do:
;  - general registers other than RAX and RSP: loaded from and saved to
;    v->arch.gprs here (offsets from asm-offsets.h);
;  - FS, GS, TR, LDTR (with hidden state), KernelGsBase, STAR, LSTAR,
;    CSTAR, SFMASK, SYSENTER_*: VMSAVE the host's into host_vmcb_pa,
;    VMLOAD the guest's, and the reverse after the exit (APM 15.5.2).
;    Without the host VMLOAD the host would keep the guest's TR, and its
;    next NMI or #DF would run on a stack the guest chose.
; VMSAVE, VMLOAD and VMRUN take the VMCB's physical address in RAX
; (implicit operand in nasm syntax).
; All of it runs with GIF=0 (CLGI ... STGI, APM 15.17), so no NMI, SMI or
; interrupt is taken while the CPU holds a mixture of host and guest
; state. VMRUN sets GIF=1 for the guest; #VMEXIT clears it again.
;
; HOST_IRQ_EXITS (on): set IF just before VMRUN so that physical
; interrupts (the host APIC timer that ends time slices) make the guest
; exit; GIF=0 still holds them until VMRUN sets GIF for the guest. The
; #VMEXIT restores the host RFLAGS saved by VMRUN (IF=1) with GIF=0, and
; the CLI after it puts the hypervisor back to IF=0 before STGI. The
; interrupt stays pending in the APIC; run.c lets it in (VMEXIT_INTR,
; host_interrupt_window).

%include "asm-offsets.h"
%include "asm/guest_gprs.inc"
%include "asm/spec.inc"

%define HOST_IRQ_EXITS 1

bits 64
default rel
section .text

global svm_vmrun
svm_vmrun:
	push rbp
	mov rbp, rsp
	push rbx		; the SysV callee-saved registers, which hold
	push r12		; guest values while the guest runs
	push r13
	push r14
	push r15
	push rdi		; [rsp+8]: struct vcpu *v
	push rsi		; [rsp]:   host VMCB

	clgi
	mov rax, rsi
	vmsave			; host FS/GS/TR/LDTR/KernelGsBase/syscall MSRs

	mov rax, [rdi + VCPU_VMCX_PA]
	GUEST_GPRS_LOAD rdi
	mov rdi, [rdi + VCPU_RDI]

	vmload			; guest FS/GS/TR/LDTR/KernelGsBase/syscall MSRs
	SPEC_BEFORE_ENTRY	; VERW (asm/spec.inc)
%if HOST_IRQ_EXITS
	sti			; held by GIF=0 until VMRUN sets GIF
%endif
	vmrun			; [RAX] = guest VMCB; back here at #VMEXIT, GIF=0
%if HOST_IRQ_EXITS
	cli
%endif

	; Guest GPRs are live; RSP is the host's again (VMRUN restored it).
	; RAX is free: the guest's is in the VMCB.
	mov rax, [rsp + 8]
	GUEST_GPRS_STORE rax
	mov [rax + VCPU_RDI], rdi

	mov rax, [rax + VCPU_VMCX_PA]
	vmsave			; the guest's FS/GS/TR/... back into its VMCB
	pop rax
	vmload			; the host's TR, segment bases and syscall MSRs
	mov rdi, [rsp]		; v
	SPEC_AFTER_EXIT rdi	; host SPEC_CTRL, RSB fill: before the first RET
	stgi			; NMIs/SMIs held since CLGI are taken now

	add rsp, 8		; v
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbx
	pop rbp
	ret
