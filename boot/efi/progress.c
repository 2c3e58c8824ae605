/*
 * Progress lines for big files: on a real server's console, a boot that
 * hangs while loading shows which file, how big and how far it got.
 */
#include "loader.h"

void progress_start(struct progress *p, const char *name, UINT64 total)
{
	p->name = name;
	p->total = total;
	p->done = 0;
	p->next_pct = total >= PROGRESS_MIN_BYTES ? PROGRESS_STEP_PCT : 0;
}

void progress_update(struct progress *p, UINT64 done)
{
	UINT64 pct;

	p->done = done;
	if (!p->next_pct || !p->total)
		return;
	pct = MIN(done, p->total) * 100 / p->total;
	if (pct < p->next_pct)
		return;
	LOG(L"  %a: %ld%% (%ld of %ld KiB)", p->name, pct, done >> 10, p->total >> 10);
	p->next_pct = (UINT32)(pct / PROGRESS_STEP_PCT + 1) * PROGRESS_STEP_PCT;
}
