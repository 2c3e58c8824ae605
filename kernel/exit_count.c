/*
 * Naming and counting VM exits (keel/exit.h). Both come from the one list
 * of reasons in include/public/domctl.h; the counters are what
 * KEEL_DOMCTL_get_exit_counts hands dom0 (bench-exits, a future `top`).
 * Apart from the dispatcher so that the host unit tests can run it.
 */
#include <keel/domain.h>
#include <keel/exit.h>

#define EXIT_NAME_ENTRY_(name, num, str, what) [EXIT_##name] = str,
static const char *const exit_names[EXIT_NR] = { KEEL_EXIT_REASONS(EXIT_NAME_ENTRY_) };
#undef EXIT_NAME_ENTRY_

const char *exit_reason_name(enum exit_reason r)
{
	if ((unsigned)r < EXIT_NR && exit_names[r])
		return exit_names[r];
	return "invalid";
}

void exit_count(struct vcpu *v, enum exit_reason r)
{
	v->nr_exits++;
	/* The reason comes from vendor decoding, which is ours, but a
	 * counter index is checked like any other. */
	if ((unsigned)r < EXIT_NR)
		v->dom->exit_counts[r]++;
}
