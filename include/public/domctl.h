/*
 * domctl(struct xen_domctl *op) (hypercall 36): Keel's subset of Xen's
 * domain-control interface (xen/include/public/domctl.h), for dom0 only;
 * any other domain gets -EPERM. docs/domctl.md describes each command.
 *
 * The frame (cmd, interface_version, domain, the 128-byte union) and the
 * command numbers are Xen's. Payloads keep Xen's names; where Xen's
 * payload carries far more than Keel uses, Keel's is a shorter layout of
 * its own (marked "Keel layout" below), and Keel's interface_version
 * differs from Xen's so that a Xen toolstack gets -EACCES instead of
 * misread fields. Commands Xen does not have are numbered from
 * KEEL_DOMCTL_BASE up.
 *
 * Pointers (guest handles) are guest-virtual addresses in the caller.
 * Returns 0 or a negative errno; on error nothing has changed.
 */
#ifndef KEEL_PUBLIC_DOMCTL_H
#define KEEL_PUBLIC_DOMCTL_H

#include <lib/types.h>
#include <public/xen.h>

#define XEN_DOMCTL_INTERFACE_VERSION 0x4b650001 /* Keel's, not Xen's 0x18 */

#define XEN_DOMCTL_createdomain    1
#define XEN_DOMCTL_destroydomain   2
#define XEN_DOMCTL_pausedomain     3
#define XEN_DOMCTL_unpausedomain   4
#define XEN_DOMCTL_getdomaininfo   5
#define XEN_DOMCTL_max_mem        11
#define XEN_DOMCTL_setvcpucontext 12
#define XEN_DOMCTL_getvcpuinfo    14
#define XEN_DOMCTL_scheduler_op   16

#define KEEL_DOMCTL_BASE            0x4b00
#define KEEL_DOMCTL_populate_ram    (KEEL_DOMCTL_BASE + 1)
#define KEEL_DOMCTL_pvh_build       (KEEL_DOMCTL_BASE + 2)
#define KEEL_DOMCTL_get_exit_counts (KEEL_DOMCTL_BASE + 3)
#define KEEL_DOMCTL_console_write   (KEEL_DOMCTL_BASE + 4)

/* Limits Keel enforces (hostile sizes get -EINVAL or -ENOMEM). */
#define KEEL_DOMCTL_MAX_VCPUS     4               /* MAX_VCPUS */
#define KEEL_DOMCTL_IMAGE_MAX     (32ULL << 20)   /* pvh_build image size */
#define KEEL_DOMCTL_CMDLINE_MAX   1024            /* pvh_build cmdline incl. NUL */
#define KEEL_DOMCTL_GPA_LIMIT     (1ULL << 36)    /* domU RAM lies below 64 GiB */

/*
 * XEN_DOMCTL_createdomain (Keel layout). domctl.domain is IN/OUT: 0 or
 * >= DOMID_FIRST_RESERVED picks a free id; another value asks for that
 * id (-EEXIST if taken, -EINVAL if beyond Keel's table). The new domain
 * is paused (Xen: controller pause count 1) with no memory and
 * max_vcpus vCPUs in the PVH entry state; vCPU 0 starts at the first
 * unpause. -ENOMEM when no id or memory is left.
 */
#define XEN_DOMCTL_CDF_hvm (1U << 0)
#define XEN_DOMCTL_CDF_hap (1U << 1)
struct xen_domctl_createdomain {
	uint32_t flags;     /* 0 or XEN_DOMCTL_CDF_hvm|hap (PVH); others -EINVAL */
	uint32_t max_vcpus; /* 1 .. KEEL_DOMCTL_MAX_VCPUS */
	char name[16];      /* Keel: for logs and the domain list; NUL-padded */
};

/* XEN_DOMCTL_getdomaininfo: Xen's layout up to max_vcpu_id, then Keel's. */
#define XEN_DOMINF_dying     (1U << 0)
#define XEN_DOMINF_hvm_guest (1U << 1)
#define XEN_DOMINF_shutdown  (1U << 2) /* shut down or crashed: code below */
#define XEN_DOMINF_paused    (1U << 3)
#define XEN_DOMINF_blocked   (1U << 4) /* every vCPU blocked */
#define XEN_DOMINF_running   (1U << 5) /* a vCPU is on a CPU now */
#define XEN_DOMINF_hap       (1U << 8)
#define XEN_DOMINF_shutdownmask  255
#define XEN_DOMINF_shutdownshift 16    /* SHUTDOWN_* in bits 16..23 */
#define XEN_INVALID_MAX_VCPU_ID  (~0U)

struct xen_domctl_getdomaininfo {
	domid_t domain;
	uint16_t pad1;
	uint32_t flags;             /* XEN_DOMINF_* */
	uint64_t tot_pages;         /* RAM pages the domain owns */
	uint64_t max_pages;
	uint64_t outstanding_pages; /* 0 */
	uint64_t shr_pages;         /* 0 */
	uint64_t paged_pages;       /* 0 */
	uint64_t shared_info_frame; /* guest frame of shared_info, 0 if none */
	uint64_t cpu_time;          /* ns run, all vCPUs */
	uint32_t nr_online_vcpus;
	uint32_t max_vcpu_id;
	/* Keel from here */
	uint64_t nr_exits;          /* VM exits, all vCPUs */
	char name[16];
};
_Static_assert(offsetof(struct xen_domctl_getdomaininfo, tot_pages) == 8, "tot_pages");
_Static_assert(offsetof(struct xen_domctl_getdomaininfo, cpu_time) == 56, "cpu_time");
_Static_assert(offsetof(struct xen_domctl_getdomaininfo, max_vcpu_id) == 68, "max_vcpu_id");
_Static_assert(sizeof(struct xen_domctl_getdomaininfo) == 96, "getdomaininfo size");

/* XEN_DOMCTL_max_mem (Xen's layout). Memory beyond it is refused
 * (-ENOMEM) by populate_ram; lowering it frees nothing. */
struct xen_domctl_max_mem {
	uint64_t max_memkb;
};

/* XEN_DOMCTL_setvcpucontext (Keel layout): the PVH entry registers of a
 * vCPU that has not started (-EINVAL otherwise, or for a bad vcpu). */
struct xen_domctl_vcpucontext {
	uint32_t vcpu;
	uint32_t pad;
	uint64_t rip;
	uint64_t rbx;  /* PVH: the hvm_start_info address */
};

/* XEN_DOMCTL_getvcpuinfo (Xen's layout); -ENOENT for a bad vcpu. */
struct xen_domctl_getvcpuinfo {
	uint32_t vcpu;
	uint8_t online;
	uint8_t blocked;
	uint8_t running;
	uint8_t pad;
	uint64_t cpu_time;  /* ns */
	uint32_t cpu;
	uint32_t pad2;
};
_Static_assert(offsetof(struct xen_domctl_getvcpuinfo, cpu_time) == 8, "vcpuinfo cpu_time");

/* XEN_DOMCTL_scheduler_op (Xen's layout, credit only): weight 1..65535
 * (default 256); cap must be 0 (no caps). */
#define XEN_SCHEDULER_CREDIT 5
#define XEN_DOMCTL_SCHEDOP_putinfo 0
#define XEN_DOMCTL_SCHEDOP_getinfo 1
struct xen_domctl_sched_credit {
	uint16_t weight;
	uint16_t cap;
};
struct xen_domctl_scheduler_op {
	uint32_t sched_id; /* XEN_SCHEDULER_CREDIT, else -EINVAL */
	uint32_t cmd;      /* XEN_DOMCTL_SCHEDOP_putinfo / getinfo */
	union {
		struct xen_domctl_sched_credit credit;
		uint8_t pad[8];
	} u;
};

/*
 * KEEL_DOMCTL_populate_ram: gives the domain nr_pages of zeroed RAM at
 * guest-physical gpa (page-aligned), mapped read/write/execute. -EINVAL
 * for a misaligned, empty, wrapping or too-high range (above
 * KEEL_DOMCTL_GPA_LIMIT); -EEXIST if it overlaps RAM the domain has;
 * -ENOMEM beyond max_pages or when the hypervisor has no frames left.
 */
struct keel_domctl_populate_ram {
	uint64_t gpa;
	uint64_t nr_pages;
};

/*
 * KEEL_DOMCTL_pvh_build: runs the hypervisor's PVH domain builder (the one
 * that builds dom0) on an ELF image in the caller's memory: loads it at
 * its p_paddr into the domain's RAM, writes an hvm_start_info (version 1,
 * the domain's RAM as its memory map, the command line, the modules) and
 * sets vCPU 0's entry state. Only before the first unpause (-EINVAL
 * after). -EFAULT for unreadable buffers, -EINVAL / -E2BIG for sizes
 * beyond the limits above, the builder's error (-ENOEXEC, -ENOMEM ...)
 * for a bad image or one that does not fit.
 *
 * Modules (an initrd): `modules` points to nr_modules (at most
 * KEEL_DOMCTL_MODULES_MAX) keel_domctl_pvh_module descriptors in the
 * caller's memory. The builder copies each module's bytes into the
 * domain's RAM, page-aligned, one after the other just past the kernel's
 * highest segment, and lists them in hvm_start_info's modlist (paddr,
 * size, cmdline_paddr) in this order. Checks: nr_modules beyond the
 * maximum -E2BIG; a module of size 0, a non-zero `_pad`/`reserved`, or a
 * command line with a NUL inside -EINVAL; a module or the modules
 * together beyond KEEL_DOMCTL_MODULES_TOTAL_MAX or past the end of the
 * domain's RAM -ENOMEM; a module command line of KEEL_DOMCTL_CMDLINE_MAX
 * or more -E2BIG; an unreadable descriptor array, buffer or command line
 * -EFAULT. All sizes and placements are checked before anything is
 * written into the domain, except that a buffer found unreadable half-way
 * leaves the (not started) domain's RAM partly written: a later
 * successful build overwrites it. The hypervisor keeps nothing for the
 * modules (they are copied through a bounce buffer). Callers built before
 * modules existed zero the whole op, so nr_modules = 0: no modules.
 */
#define KEEL_DOMCTL_MODULES_MAX       4
#define KEEL_DOMCTL_MODULES_TOTAL_MAX (256ULL << 20)
struct keel_domctl_pvh_module {
	uint64_t buffer;      /* guest-virtual address of the bytes */
	uint64_t size;        /* 1 .. KEEL_DOMCTL_MODULES_TOTAL_MAX */
	uint64_t cmdline;     /* guest-virtual, 0 = empty */
	uint32_t cmdline_len; /* bytes without NUL, < KEEL_DOMCTL_CMDLINE_MAX */
	uint32_t reserved;    /* 0 */
};

/*
 * KEEL_PVH_BUILD_PRELOADED: the caller has already written the kernel's
 * loadable segments (file bytes, then zeros up to memsz) into the
 * domain's RAM through foreign mappings, as a toolstack loads a large
 * kernel; `image` is then a compact ELF (headers and notes, every
 * PT_LOAD with no file bytes) that the builder checks and places the
 * modules and start info by, without writing the segments.
 */
#define KEEL_PVH_BUILD_PRELOADED (1u << 0)

struct keel_domctl_pvh_build {
	uint64_t image;       /* guest-virtual address of the ELF */
	uint64_t image_size;  /* 1 .. KEEL_DOMCTL_IMAGE_MAX */
	uint64_t cmdline;     /* guest-virtual, 0 = empty */
	uint32_t cmdline_len; /* bytes without NUL, < KEEL_DOMCTL_CMDLINE_MAX */
	uint32_t flags;       /* KEEL_PVH_BUILD_*; other bits -EINVAL */
	uint64_t modules;     /* guest-virtual keel_domctl_pvh_module[nr] */
	uint32_t nr_modules;  /* 0 .. KEEL_DOMCTL_MODULES_MAX */
	uint32_t _pad;        /* 0 */
};

/*
 * KEEL_DOMCTL_get_exit_counts: copies the domain's VM-exit counters, one
 * u64 per KEEL_EXIT_* reason, into buffer[0 .. nr). OUT: nr = how many
 * were written (min(nr, KEEL_EXIT_NR)), total = KEEL_EXIT_NR.
 */
struct keel_domctl_exit_counts {
	uint64_t buffer; /* guest-virtual uint64_t[nr] */
	uint32_t nr;
	uint32_t total;
};

/*
 * KEEL_DOMCTL_console_write: dom0's console backend hands the hypervisor
 * bytes a domU wrote into its PV console ring (include/public/io/
 * console.h); they are shown on Keel's console as that domain's output,
 * "(dN) line" with its throttle, exactly as if it had used console_io.
 * len <= KEEL_DOMCTL_CONSOLE_MAX; -EINVAL for the caller itself or a
 * domain being destroyed (one that shut down may still have output in its
 * ring), -E2BIG beyond the limit.
 */
#define KEEL_DOMCTL_CONSOLE_MAX 1024
struct keel_domctl_console_write {
	uint64_t buffer; /* guest-virtual char[len] */
	uint32_t len;
	uint32_t _pad;
};

/*
 * The VM-exit reasons: the one list, as X(NAME, number, "name", what).
 * Keel's enum exit_reason (include/keel/exit.h: EXIT_NAME), the names in
 * the hypervisor's messages and dom0's bench output are all generated
 * from it. The numbers index the KEEL_DOMCTL_get_exit_counts counters:
 * dense from 0, in this order, and a published number keeps its meaning
 * (new reasons are appended), so a dom0 built against an older list reads
 * a newer hypervisor's counters correctly. The name is NAME in lower case,
 * without spaces or '=' ("name=count" lists parse);
 * tests/unit/test_exit_list.c checks these rules.
 *
 * Every exit is counted, also those a back end deals with without the
 * rest of the hypervisor (a window it opened to deliver an event it
 * holds, a control-register write it refuses with #GP).
 */
#define KEEL_EXIT_REASONS(X)                                                          \
	X(NONE,          0, "none",         "no exit (entry not attempted)")          \
	X(CPUID,         1, "cpuid",        "CPUID")                                  \
	X(HLT,           2, "hlt",          "HLT")                                    \
	X(IO,            3, "io",           "port I/O (IN, OUT, INS, OUTS)")          \
	X(MSR_READ,      4, "msr_read",     "RDMSR")                                  \
	X(MSR_WRITE,     5, "msr_write",    "WRMSR")                                  \
	X(HYPERCALL,     6, "hypercall",    "VMMCALL (AMD) / VMCALL (Intel)")         \
	X(NPF,           7, "npf",          "nested page fault / EPT violation")      \
	X(EXCEPTION,     8, "exception",    "intercepted guest exception")            \
	X(TRIPLE_FAULT,  9, "triple_fault", "shutdown (triple fault)")                \
	X(EXTINT,       10, "extint",       "a host interrupt arrived in the guest")  \
	X(NMI,          11, "nmi",          "a host NMI arrived in the guest")        \
	X(INTR_WINDOW,  12, "intr_window",  "the guest can now take an interrupt")    \
	X(VIRT_INSN,    13, "virt_insn",    "a virtualization instruction")           \
	X(CR_ACCESS,    14, "cr_access",    "control-register access")                \
	X(XSETBV,       15, "xsetbv",       "XSETBV")                                 \
	X(CACHE_FLUSH,  16, "cache_flush",  "INVD / WBINVD")                          \
	X(ENTRY_FAILED, 17, "entry_failed", "VM entry refused the guest state")       \
	X(UNKNOWN,      18, "unknown",      "anything the back end does not decode")  \
	X(PREEMPT,      19, "preempt",      "the back end's time-slice backstop")     \
	X(NMI_WINDOW,   20, "nmi_window",   "the guest can now take an NMI")

#define KEEL_EXIT_ENUM_ENTRY_(name, num, str, what) KEEL_EXIT_##name = num,
enum keel_exit_reason {
	KEEL_EXIT_REASONS(KEEL_EXIT_ENUM_ENTRY_)
	KEEL_EXIT_NR
};
#undef KEEL_EXIT_ENUM_ENTRY_

struct xen_domctl {
	uint32_t cmd;
	uint32_t interface_version; /* XEN_DOMCTL_INTERFACE_VERSION, else -EACCES */
	domid_t domain;
	uint16_t _pad[3];
	union {
		struct xen_domctl_createdomain createdomain;
		struct xen_domctl_getdomaininfo getdomaininfo;
		struct xen_domctl_max_mem max_mem;
		struct xen_domctl_vcpucontext vcpucontext;
		struct xen_domctl_getvcpuinfo getvcpuinfo;
		struct xen_domctl_scheduler_op scheduler_op;
		struct keel_domctl_populate_ram populate_ram;
		struct keel_domctl_pvh_build pvh_build;
		struct keel_domctl_exit_counts exit_counts;
		struct keel_domctl_console_write console_write;
		uint8_t pad[128];
	} u;
};
_Static_assert(offsetof(struct xen_domctl, u) == 16, "xen_domctl.u");
_Static_assert(sizeof(struct xen_domctl) == 144, "xen_domctl size");

#endif
