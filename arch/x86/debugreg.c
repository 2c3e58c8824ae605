/*
 * Lazy switching of guest DR0-3 (and DR6) between vCPUs; the contract and
 * what each back end switches by itself are in asm/debugreg.h.
 *
 * Why lazily: a MOV DR costs tens of cycles and most guests never touch
 * the debug registers, but on one CPU only a change of vCPU can let one
 * guest see (or trigger) another's breakpoints. So the registers are
 * saved and reloaded only when a different vCPU is about to enter.
 */
#include <keel/domain.h>
#include <asm/debugreg.h>

#ifdef UNIT_TEST
/* The host-compiled unit test (tests/unit/test_debugreg.c) cannot touch
 * the real registers (MOV DR is privileged): it watches these instead. */
u64 unit_dr[8];
#define DR_ACCESS(n)                                                          \
	static inline u64 read_dr##n(void) { return unit_dr[n]; }             \
	static inline void write_dr##n(u64 x) { unit_dr[n] = x; }
#else
#define DR_ACCESS(n)                                                          \
	static inline u64 read_dr##n(void)                                    \
	{                                                                     \
		u64 x;                                                        \
		__asm__ volatile("mov %%dr" #n ", %0" : "=r"(x));             \
		return x;                                                     \
	}                                                                     \
	static inline void write_dr##n(u64 x)                                 \
	{                                                                     \
		__asm__ volatile("mov %0, %%dr" #n ::"r"(x));                 \
	}
#endif
DR_ACCESS(0)
DR_ACCESS(1)
DR_ACCESS(2)
DR_ACCESS(3)
DR_ACCESS(6)
#undef DR_ACCESS

/* Per physical CPU (one for now): whose values are in the registers, and
 * whether that owner's DR6 is among them. */
static struct vcpu *owner;
static bool owner_has_dr6;

u64 debugregs_read_dr6(void)
{
	return read_dr6();
}

void debugregs_write_dr6(u64 val)
{
	write_dr6(val);
}

void debugregs_switch_to(struct vcpu *v, bool with_dr6)
{
	struct guest_debugregs *d;

	if (owner == v)
		return;
	if (owner) {
		d = &owner->arch.debugregs;
		d->dr[0] = read_dr0();
		d->dr[1] = read_dr1();
		d->dr[2] = read_dr2();
		d->dr[3] = read_dr3();
		if (owner_has_dr6)
			d->dr6 = read_dr6();
	}
	d = &v->arch.debugregs;
	write_dr0(d->dr[0]);
	write_dr1(d->dr[1]);
	write_dr2(d->dr[2]);
	write_dr3(d->dr[3]);
	/* Bits 63:32 of DR6 must be 0 (MOV DR raises #GP otherwise); the
	 * reserved bits below read back as the CPU fixes them. */
	if (with_dr6)
		write_dr6(d->dr6 & 0xffffffffULL);
	owner = v;
	owner_has_dr6 = with_dr6;
}

void debugregs_forget(struct vcpu *v)
{
	if (owner == v)
		owner = NULL;
}
