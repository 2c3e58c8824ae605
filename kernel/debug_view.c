/*
 * The hypervisor's console view (contract in include/keel/debug_view.h).
 * Runs from the scheduler loop's console poll (console_rx.c), never in
 * interrupt context; reads the domain table the way domctl's list does.
 */
#include <keel/debug_view.h>
#include <keel/domain.h>
#include <keel/exit.h>
#include <keel/frame.h>
#include <keel/printk.h>

#define SWITCH_KEY 0x1c /* Ctrl-\, three times */

static bool on;
static unsigned run; /* consecutive switch keys */

static const char *state_name(enum domain_state s)
{
	static const char *const names[] = { "created", "running", "paused", "shutdown",
					     "crashed", "dying" };
	return (unsigned)s < ARRAY_SIZE(names) ? names[s] : "?";
}

static void domains(void)
{
	pr_info("view: %-4s %-16s %-9s %5s %9s %10s %10s\n", "id", "name", "state", "vcpus",
		"pages", "run(ms)", "exits");
	for (unsigned id = 0; id < DOMID_MAX; id++) {
		struct domain *d = domain_by_id(id);
		if (!d)
			continue;
		u64 ns = 0, exits = 0;
		for (unsigned v = 0; v < d->nr_vcpus; v++)
			ns += d->vcpus[v]->sched.run_ns;
		for (unsigned r = 0; r < EXIT_NR; r++)
			exits += d->exit_counts[r];
		pr_info("view: %-4u %-16.16s %-9s %5u %9lu %10lu %10lu\n", id, d->name,
			state_name(d->state), d->nr_vcpus, d->nr_pages, ns / 1000000, exits);
	}
}

static void run_queue(void)
{
	for (unsigned id = 0; id < DOMID_MAX; id++) {
		struct domain *d = domain_by_id(id);
		if (!d)
			continue;
		for (unsigned v = 0; v < d->nr_vcpus; v++) {
			struct vcpu *vc = d->vcpus[v];
			pr_info("view: d%u v%u %-8s credit %ld us, run %lu ms\n", id, v,
				vc->blocked ? "blocked" : "runnable", (long)(vc->sched.credit / 1000),
				vc->sched.run_ns / 1000000);
		}
	}
}

static void exits(void)
{
	for (unsigned id = 0; id < DOMID_MAX; id++) {
		struct domain *d = domain_by_id(id);
		if (!d)
			continue;
		for (unsigned r = 0; r < EXIT_NR; r++)
			if (d->exit_counts[r])
				pr_info("view: d%u %-14s %lu\n", id, exit_reason_name(r),
					d->exit_counts[r]);
	}
}

static void help(void)
{
	pr_info("view: the hypervisor's view (Ctrl-\\ three times returns to dom0): "
		"d domains, r run queue, e exits, m memory, h help\n");
}

bool debug_view_key(char c)
{
	if (c == SWITCH_KEY) {
		if (++run < 3)
			return true;
		run = 0;
		on = !on;
		pr_info("view: console input now goes to %s\n", on ? "the hypervisor" : "dom0");
		if (on)
			help();
		return true;
	}
	/* A run of one or two Ctrl-\ was dom0's after all: it is lost, which
	 * a shell tolerates (Xen's console swallows its switch key the same way). */
	run = 0;
	if (!on)
		return false;
	switch (c) {
	case 'd': domains(); break;
	case 'r': run_queue(); break;
	case 'e': exits(); break;
	case 'm': pr_info("view: %lu frames free (%lu MiB)\n", frames_free(), frames_free() / 256); break;
	case 'h': help(); break;
	default: break;
	}
	return true;
}
