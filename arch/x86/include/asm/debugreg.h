/*
 * Guest debug registers DR0-3 (and DR6 where the back end does not
 * switch it), swapped lazily between vCPUs on the one physical CPU
 * (arch/x86/debugreg.c). Shared by both back ends:
 *  - SVM: VMRUN/#VMEXIT switch DR6 and DR7 through the VMCB (APM 15.5.1,
 *    15.6); DR0-3 stay in the registers.
 *  - VMX: the "load/save debug controls" VM-entry/exit controls switch
 *    DR7 and IA32_DEBUGCTL through the VMCS (SDM 27.3.2.1, 28.3.1); a VM
 *    exit sets DR7 to 0x400 (28.5.1); DR0-3 and DR6 are not switched at
 *    all.
 * Guests' MOV DR is not intercepted: the registers hold the values of the
 * last vCPU that ran until another one needs them. The hypervisor itself
 * uses no breakpoints (its DR7 is 0x400 after every exit), so a guest's
 * DR0-3 can stay loaded while the host runs.
 */
#ifndef ASM_DEBUGREG_H
#define ASM_DEBUGREG_H

#include <lib/types.h>

struct vcpu;

/* A vCPU's DR0-3 and DR6 while they are not in the registers
 * (embedded in struct vcpu_arch). Zero-initialised is a valid state. */
struct guest_debugregs {
	u64 dr[4];
	u64 dr6;
};

/*
 * Makes v's DR0-3 (and DR6 if with_dr6) the ones in the registers, first
 * saving those of the vCPU that owned them. Call before every VM entry,
 * with interrupts off; costs nothing when v already owns them.
 */
void debugregs_switch_to(struct vcpu *v, bool with_dr6);

/* v is going away: if it owns the registers, forget it (its values are
 * not saved anywhere; the next owner loads its own). */
void debugregs_forget(struct vcpu *v);

/* DR6 bits a #DB reports in the VMX exit qualification (SDM table 28-1):
 * B0-B3, BD, BS. */
#define DR6_TRAP_BITS 0x600fULL

/* Raw access to DR6, for the back end that must merge a #DB's bits into
 * the guest's DR6 (the owner is the vCPU that just exited). */
u64 debugregs_read_dr6(void);
void debugregs_write_dr6(u64 val);

#endif
