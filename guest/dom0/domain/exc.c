/*
 * VIRQ_DOM_EXC on dom0's event loop (contract in domain.h).
 *
 * A global VIRQ is bound once per domain (EVTCHNOP_bind_virq answers
 * -EEXIST to a second bind), so one service owns it and fans each event
 * out to its subscribers: xenstored, which releases domains that died on
 * their own (Xen's xenstored does the same scan on this VIRQ), and
 * whoever waits for a shutdown.
 */
#include <lib/errno.h>
#include "domain.h"
#include "evtchn.h"
#include "loop/loop.h"

struct exc_sub {
	void (*fn)(void *arg);
	void *arg;
};

static evtchn_port_t exc_port;
static struct exc_sub subs[DOM_EXC_MAX_SUBS];
static unsigned nr_subs;
static u64 nr_events;

static void on_exc(evtchn_port_t port, void *arg)
{
	(void)port;
	(void)arg;
	nr_events++;
	for (unsigned i = 0; i < nr_subs; i++)
		subs[i].fn(subs[i].arg);
}

int dom_exc_init(void)
{
	evtchn_port_t port;
	int rc;

	if (exc_port)
		return 0;
	if ((rc = loop_init()))
		return rc;
	if ((rc = evtchn_bind_virq(VIRQ_DOM_EXC, 0, &port)))
		return rc;
	if ((rc = loop_bind_port(port, on_exc, NULL))) {
		evtchn_close(port);
		return rc;
	}
	/* Its subscribers restart and destroy domains: not inside a build. */
	loop_set_control(port);
	exc_port = port;
	return 0;
}

int dom_exc_subscribe(void (*fn)(void *arg), void *arg)
{
	if (nr_subs == DOM_EXC_MAX_SUBS)
		return -ENOSPC;
	subs[nr_subs++] = (struct exc_sub){ fn, arg };
	return 0;
}

u64 dom_exc_events(void)
{
	return nr_events;
}
