; The VMLAUNCH/VMRESUME stub (Intel SDM vol. 3 chapters 27 and 28).
;
; int vmx_enter(struct vcpu *v)
;   returns 0 after a VM exit, 1 on VMfailInvalid, 2 on VMfailValid.
;
; VM entry loads the guest's RIP, RSP, RFLAGS, control registers, segments
; and some MSRs from the VMCS, and a VM exit loads the host's from it; the
; general registers are not switched at all, so this stub loads the guest's
; from v->arch.gprs before entering and stores them back after the exit
; (offsets from asm-offsets.h). On exit the CPU resumes at HOST_RIP =
; vmx_exit_entry with RSP = HOST_RSP, which vmx_enter sets to its own stack
; pointer after pushing the host's callee-saved registers and v: the exit
; path finds v there and returns from vmx_enter as if the VMLAUNCH had been
; an ordinary call. RFLAGS after an exit is 0x2 (28.5.3): DF and IF clear.
;
; A VMLAUNCH/VMRESUME that fails its checks does not enter the guest and
; falls through with CF = 1 (VMfailInvalid: no current VMCS) or ZF = 1
; (VMfailValid: reason in VM_INSTRUCTION_ERROR, 31.4). The guest's values
; are then in the scratch registers; the host's callee-saved ones are
; restored from the stack as on the exit path.

%include "asm-offsets.h"
%include "asm/guest_gprs.inc"
%include "asm/spec.inc"

bits 64
default rel
section .text

global vmx_enter
global vmx_exit_entry
global vmx_dispatch_host_vector

vmx_enter:
	push rbp
	mov rbp, rsp
	push rbx
	push r12
	push r13
	push r14
	push r15
	push rdi			; [rsp]: struct vcpu *v, found by the exit path

	mov rax, VMCS_HOST_RSP
	vmwrite rax, rsp
	jbe .failed			; CF or ZF: as for VMLAUNCH below

	SPEC_BEFORE_ENTRY		; VERW (asm/spec.inc); clobbers flags
	; The flags of this compare survive the loads (MOV leaves flags
	; alone) and choose VMLAUNCH or VMRESUME below.
	cmp byte [rdi + VCPU_VMX_LAUNCHED], 0
	mov rax, [rdi + VCPU_RAX]
	GUEST_GPRS_LOAD rdi
	mov rdi, [rdi + VCPU_RDI]	; last: it held v
	jne .resume
	vmlaunch
	jmp .failed
.resume:
	vmresume
.failed:
	mov eax, 2			; VMfailValid (ZF = 1)...
	jnc .out
	mov eax, 1			; ...or VMfailInvalid (CF = 1)
.out:
	pop rdi
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbx
	pop rbp
	ret

; HOST_RIP: the guest has exited. RSP = HOST_RSP, so [rsp] is v.
vmx_exit_entry:
	push rdi			; the guest's RDI; v is now at [rsp + 8]
	mov rdi, [rsp + 8]
	mov [rdi + VCPU_RAX], rax
	GUEST_GPRS_STORE rdi
	pop rax
	mov [rdi + VCPU_RDI], rax
	SPEC_AFTER_EXIT rdi		; host SPEC_CTRL, RSB fill: before the first RET
	xor eax, eax			; a VM exit: return 0
	pop rdi				; v
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbx
	pop rbp
	ret

; void vmx_dispatch_host_vector(u8 vector)
;
; Runs the host IDT's handler for `vector`, as if the interrupt had arrived
; in the hypervisor: with "acknowledge interrupt on exit" the CPU has taken
; the vector from the interrupt controller and left it in the exit
; information (28.2.2), so nobody else will deliver it. INT n from ring 0
; builds the same frame as a hardware interrupt (no error code; only
; vectors without one are dispatched: interrupts >= 32 and NMI).
; The table has one 4-byte stub per vector: INT n; RET; INT3 (padding).
vmx_dispatch_host_vector:
	movzx eax, dil
	lea rcx, [host_vector_stubs]
	lea rax, [rcx + rax * 4]
	jmp rax

align 4
host_vector_stubs:
%assign vec 0
%rep 256
	db 0xcd, vec			; INT vec (CD ib; never the one-byte INT3)
	ret
	int3
%assign vec vec + 1
%endrep
