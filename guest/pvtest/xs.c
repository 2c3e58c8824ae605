/*
 * The xenstore from a domU (pvtest.h, guest/lib/xenbus.h): role=xs checks
 * what a frontend needs of the store; dom0's xenstored serves it through
 * the ring announced by HVM_PARAM_STORE_PFN / STORE_EVTCHN.
 *
 * role=xs [xs_peer=D]
 *     prints "xs: PASS <check>" or "xs: FAIL <check>: <reason>" per check
 *     and ends with "xs: done <P> passed <F> failed": reads its own domid
 *     and name (relative and /local/domain/<id>/...), writes, reads, lists
 *     and removes under data/, sees a watch fire on registration and on a
 *     write, commits a transaction, runs a conflicting pair (first commit
 *     0, second EAGAIN), an aborted one, switches a xenbus state, and is
 *     refused /local/domain/<D>/name (EACCES, with xs_peer=D) and writing
 *     /local/domain/0/x (EACCES). Without a store page: "xs: SKIP no
 *     xenstore".
 */
#include <lib/errno.h>
#include <lib/string.h>
#include "evtchn.h"
#include "guest.h"
#include "pvclock.h"
#include "pvtest.h"
#include "xenbus.h"

static unsigned passed, failed;

static __printf(3, 4) void check(bool ok, const char *name, const char *fmt, ...)
{
	if (ok) {
		passed++;
		printf("xs: PASS %s\n", name);
		return;
	}
	char why[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	failed++;
	printf("xs: FAIL %s: %s\n", name, why);
}

/* 0 if s is a decimal number (into *v). */
static int number(const char *s, u64 *v)
{
	*v = 0;
	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || *v > 0xffffffffULL)
			return -EINVAL;
		*v = *v * 10 + (u64)(*s - '0');
	}
	return 0;
}

static void identity(struct xb_client *c, u64 *domid)
{
	char v[64], abs[64], path[64];
	long n = xb_read(c, 0, "domid", v, sizeof(v));
	int rc = n < 0 ? (int)n : number(v, domid);
	check(!rc, "read-domid", "domid: %d", rc);
	if (rc)
		return;
	snprintf(path, sizeof(path), "/local/domain/%lu/domid", *domid);
	n = xb_read(c, 0, path, abs, sizeof(abs));
	check(n >= 0 && !strcmp(abs, v), "read-domid-absolute", "%s: %ld '%s'", path,
	      n, n >= 0 ? abs : "");
	n = xb_read(c, 0, "name", v, sizeof(v));
	check(n > 0, "read-name", "name: %ld", n);
	snprintf(path, sizeof(path), "/local/domain/%lu/name", *domid);
	long m = xb_read(c, 0, path, abs, sizeof(abs));
	check(n > 0 && m == n && !strcmp(abs, v), "read-name-absolute", "%s: %ld", path, m);
	if (n > 0)
		printf("xs: I am domain %lu, name '%s'\n", *domid, v);
}

static void data(struct xb_client *c, u64 domid)
{
	char v[128];
	int rc = xb_write(c, 0, "data/a", "hello");
	long n = xb_read(c, 0, "data/a", v, sizeof(v));
	check(!rc && n == 5 && !strcmp(v, "hello"), "write-read", "write %d, read %ld", rc, n);
	rc = xb_write(c, 0, "data/b", "");
	int rc2 = xb_mkdir(c, 0, "data/c");
	int k = xb_directory(c, 0, "data", v, sizeof(v));
	bool listed = k == 3 && !memcmp(v, "a\0b\0c\0", 6);
	check(!rc && !rc2 && listed, "directory", "write %d, mkdir %d, %d entries", rc, rc2, k);
	k = xb_get_perms(c, 0, "data/a", v, sizeof(v));
	char own[16];
	snprintf(own, sizeof(own), "n%lu", domid);
	check(k >= 1 && !strcmp(v, own), "get-perms", "%d entries, first '%s'", k,
	      k >= 1 ? v : "");
	rc = xb_rm(c, 0, "data/c");
	n = xb_read(c, 0, "data/c", v, sizeof(v));
	check(!rc && n == -ENOENT, "rm", "rm %d, read after %ld", rc, n);
	n = xb_read(c, 0, "data/missing", v, sizeof(v));
	check(n == -ENOENT, "read-missing-enoent", "got %ld", n);
}

static void watches(struct xb_client *c)
{
	char p[128], t[32];
	int rc = xb_watch(c, "data/w", "xsw");
	int ev = rc ? rc : xb_next_event(c, p, sizeof(p), t, sizeof(t), 5000000000ULL);
	check(!ev && !strcmp(p, "data/w") && !strcmp(t, "xsw"), "watch-fires-on-register",
	      "watch %d, event %d '%s' '%s'", rc, ev, ev ? "" : p, ev ? "" : t);
	rc = xb_write(c, 0, "data/w/x", "1");
	ev = rc ? rc : xb_next_event(c, p, sizeof(p), t, sizeof(t), 5000000000ULL);
	check(!ev && !strcmp(p, "data/w/x") && !strcmp(t, "xsw"), "watch-fires-on-write",
	      "write %d, event %d '%s'", rc, ev, ev ? "" : p);
	rc = xb_unwatch(c, "data/w", "xsw");
	int w = xb_write(c, 0, "data/w/y", "2");
	ev = xb_next_event(c, p, sizeof(p), t, sizeof(t), 200000000ULL);
	check(!rc && !w && ev == -ETIMEDOUT, "unwatch-silences", "unwatch %d, event %d", rc, ev);
}

static void transactions(struct xb_client *c)
{
	char v[32];
	u32 t1 = 0, t2 = 0;
	int rc = xb_tx_start(c, &t1);
	int w = rc ? rc : xb_write(c, t1, "data/tx", "in");
	long outside = xb_read(c, 0, "data/tx", v, sizeof(v));
	int e = rc ? rc : xb_tx_end(c, t1, true);
	long n = xb_read(c, 0, "data/tx", v, sizeof(v));
	check(!rc && !w && outside == -ENOENT && !e && n == 2 && !strcmp(v, "in"),
	      "transaction-commit", "start %d write %d outside %ld end %d read %ld", rc, w,
	      outside, e, n);

	int r1 = xb_tx_start(c, &t1), r2 = xb_tx_start(c, &t2);
	int a1 = xb_read(c, t1, "data/tx", v, sizeof(v)) < 0;
	int a2 = xb_read(c, t2, "data/tx", v, sizeof(v)) < 0;
	int w1 = xb_write(c, t1, "data/tx", "first");
	int w2 = xb_write(c, t2, "data/tx", "second");
	int e1 = xb_tx_end(c, t1, true), e2 = xb_tx_end(c, t2, true);
	n = xb_read(c, 0, "data/tx", v, sizeof(v));
	check(!r1 && !r2 && t1 != t2 && !a1 && !a2 && !w1 && !w2 && !e1 && e2 == -EAGAIN &&
		      n == 5 && !strcmp(v, "first"),
	      "transaction-conflict", "start %d/%d write %d/%d end %d/%d (want 0/-%d) value '%s'",
	      r1, r2, w1, w2, e1, e2, EAGAIN, n >= 0 ? v : "?");

	rc = xb_tx_start(c, &t1);
	w = rc ? rc : xb_write(c, t1, "data/aborted", "x");
	e = rc ? rc : xb_tx_end(c, t1, false);
	n = xb_read(c, 0, "data/aborted", v, sizeof(v));
	check(!rc && !w && !e && n == -ENOENT, "transaction-abort", "end %d, read %ld", e, n);
}

static void refusals(struct xb_client *c)
{
	char v[64], path[64];
	u64 peer;

	if (!cmdline_get_u64(si_cmdline(start_info()), "xs_peer", &peer)) {
		snprintf(path, sizeof(path), "/local/domain/%lu/name", peer);
		long n = xb_read(c, 0, path, v, sizeof(v));
		check(n == -EACCES, "peer-name-refused", "%s: %ld", path, n);
	}
	int rc = xb_write(c, 0, "/local/domain/0/x", "v");
	check(rc == -EACCES, "dom0-write-refused", "got %d", rc);
}

static void state(struct xb_client *c)
{
	int rc = xb_switch_state(c, "data/dev", XenbusStateInitialising);
	int s = xb_read_state(c, "data/dev");
	int rc2 = xb_switch_state(c, "data/dev", XenbusStateConnected);
	/* Our own end reaching Connected, seen through the watch helper. */
	int w = xb_wait_state(c, "data/dev", XenbusStateConnected, 2000000000ULL);
	check(!rc && s == XenbusStateInitialising && !rc2 && w == XenbusStateConnected,
	      "xenbus-state", "switch %d read %d switch %d wait %d", rc, s, rc2, w);
}

void role_xs(void)
{
	int rc = xenbus_init();
	if (rc) {
		printf("xs: SKIP no xenstore (%d)\n", rc);
		return;
	}
	struct xb_client *c = xenbus();
	u64 domid = 0;

	identity(c, &domid);
	data(c, domid);
	watches(c);
	transactions(c);
	refusals(c);
	state(c);
	if (c->dead)
		printf("xs: the connection died (%d)\n", c->dead);
	printf("xs: done %u passed %u failed\n", passed, failed);
}

void role_xs_ticker(void)
{
	u64 period = arg_u64_or("period_ms", 100) * 1000000ULL, max = arg_u64_or("ticks", 1000000);
	char v[24];
	int rc;

	if ((rc = xenbus_init()))
		fail("xs-ticker: no xenstore (%d)", rc);
	for (u64 k = 1; k <= max; k++) {
		snprintf(v, sizeof(v), "%lu", k);
		if ((rc = xb_write(xenbus(), 0, "data/tick", v)))
			fail("xs-ticker: write %lu: %d", k, rc);
		printf("pvtest: xs-tick %lu at %lu ms\n", k, pvclock_now_ns() / 1000000);
		pvclock_sleep_ns(period);
	}
}
