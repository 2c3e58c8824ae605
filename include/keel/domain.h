/*
 * Domains and vCPUs.
 *
 * Single physical CPU for now; every field is touched only by that CPU with
 * interrupts off in the hypervisor, so there is no locking yet. Per-CPU data
 * (current vCPU) is reached through this_cpu() so that SMP can slot in.
 */
#ifndef KEEL_DOMAIN_H
#define KEEL_DOMAIN_H

#include <keel/mtrr.h>
#include <lib/types.h>
#include <keel/exit.h>
#include <asm/vcpu_arch.h>
#include <public/sched.h> /* SHUTDOWN_* reasons */
#include <keel/sched.h>
#include <keel/vtimer.h>
#include <keel/evtchn.h>
#include <keel/physmap.h>
#include <public/memory.h>
#include <public/params.h>

#define DOMID_MAX 64          /* domain ids 0 .. DOMID_MAX-1 */
#define MAX_VCPUS 4

enum domain_state {
	DOM_CREATED,   /* built, not yet unpaused */
	DOM_RUNNING,
	DOM_PAUSED,
	DOM_SHUTDOWN,  /* shut down by itself; reason in shutdown_reason */
	DOM_CRASHED,   /* killed by the hypervisor (bad exit, fault) */
	DOM_DYING,
};

struct domain;

/* Work the run loop does before the next entry (vcpu->pending bits). */
#define VCPU_PENDING_YIELD (1u << 0) /* give the CPU to another vCPU */

struct vcpu {
	struct domain *dom;
	unsigned id;
	bool runnable;    /* may run (domain alive, vCPU started) */
	bool blocked;     /* sleeping in HLT / SCHEDOP_block until an event */
	u32 pending;      /* VCPU_PENDING_* */
	u64 msr_pat;      /* guest IA32_PAT (also in the vendor state: VREG_PAT) */
	struct vcpu_mtrr mtrr; /* keel/mtrr.h: the guest's MTRRs, per vCPU */
	struct vcpu_arch arch;
	u64 nr_exits;
	unsigned nr_ud_reports; /* #UD reflections reported so far */
	struct sched_vcpu sched;  /* kernel/sched.c */
	struct vtimer vtimer;     /* kernel/time.c: VIRQ_TIMER deadlines */
	struct evtchn_vcpu ev;    /* keel/evtchn.h: vcpu_info, VIRQs, polling */
};

/* A range of guest-physical RAM and the host frames behind it. */
struct mem_range {
	gpa_t gpa;
	paddr_t hpa;
	u64 len;
};

#define DOMAIN_MEM_RANGES 64

struct domain {
	u16 id;
	char name[32];
	enum domain_state state;
	int shutdown_reason;      /* SHUTDOWN_*, valid when shut down or crashed */
	bool privileged;          /* the control domain: ask is_control_domain() */
	u64 nr_pages;             /* RAM pages owned */
	u64 max_pages;
	/* RAM layout (guest-physical), sorted; for dom0 gpa == hpa. */
	unsigned nr_ram;
	struct mem_range ram[DOMAIN_MEM_RANGES];
	/* Bumped by every change to the p2m (arch/x86/p2m.c) and by every
	 * removal of RAM ranges: a cached translation taken at another value
	 * is stale (arch/x86/guest_mem.c). */
	u64 mem_gen;
	struct vcpu *vcpus[MAX_VCPUS];
	unsigned nr_vcpus;
	struct domain_arch arch;
	u64 exit_counts[EXIT_NR];
	u32 test_port;            /* Keel test port scratch (public/keel_test.h) */
	u32 weight;               /* scheduler weight (keel/sched.h); 0 = default */
	struct evtchn_domain ev;  /* keel/evtchn.h: ports, shared_info */
	u64 hvm_params[HVM_NR_PARAMS];  /* kernel/hc_hvm.c */
	unsigned nr_e820;               /* XENMEM_memory_map (keel/physmap.h) */
	struct xen_e820_entry e820[DOMAIN_E820_MAX];
	u16 controller_pause_count; /* domctl pauses (Xen's); runs only at 0 */
	/* System time (ns) at domain_create, and whether vCPU 0 has run:
	 * kernel/vcpu_run.c logs the time from one to the other once, the
	 * figure docs/PERFORMANCE.md's Linux boot timeline starts from. */
	u64 created_ns;
	bool entered;
};

/* The domain with id `id`, or NULL. */
struct domain *domain_by_id(unsigned id);
/* The lowest id >= from in use (domain_by_id finds it), or DOMID_MAX:
 * `for (id = domain_next_id(0); id < DOMID_MAX; id = domain_next_id(id + 1))`. */
unsigned domain_next_id(unsigned from);

/* Allocates a domain (id chosen by caller), its p2m and vendor state.
 * Returns the domain or NULL (reason printed). */
struct domain *domain_create(unsigned id, const char *name, bool privileged);

/* Adds a vCPU in the PVH entry state. Returns it or NULL. */
struct vcpu *vcpu_create(struct domain *d);

/* Stops d for `reason` (SHUTDOWN_*); reports it on the console. */
void domain_shutdown(struct domain *d, int reason);

/* Kills d after a fault that is its own: one line naming domain, vCPU,
 * RIP and `why`. The hypervisor and other domains go on. */
void domain_crash(struct vcpu *v, const char *why);

/* True while any vCPU of d may run. */
bool domain_is_alive(const struct domain *d);

/* A free domain id >= 1 (the lowest), or -ENOMEM when the table is full.
 * Reaps dying domains whose last frames have come back. */
int domain_alloc_id(void);

/*
 * Tears d down (domctl destroydomain): stops it, releases its event
 * channels and grants, vCPUs and their vendor state, drops its owner
 * reference on every frame it owns, frees its p2m and vendor state, and
 * frees its id. If another domain still maps one of its frames, d stays
 * in the table as DOM_DYING (a zombie holding only those frames) until
 * domain_alloc_id finds them released. None of d's vCPUs may be running;
 * the caller refuses to destroy the calling domain or dom0.
 */
void domain_destroy(struct domain *d);

#endif
