/*
 * The PV console from a domU (pvtest.h, guest/lib/pvcons.h); dom0's
 * scenario `pvcons` (guest/dom0/test/console_test.c) serves them.
 *
 * role=pvcons [bytes=N] [input=1]
 *     everything it prints goes through its console ring (main.c attaches
 *     it before any role runs), never console_io: a banner, then a burst of N bytes (default 102400) of
 *     64-byte lines "pvcons: burst NNNNNN xxx...\n" numbered from 0,
 *     written as fast as the ring takes them, then (input=1) waits for one
 *     line of input from the ring and prints it back.
 * role=pvcons-hostile
 *     prints a line through the ring, then sets out_prod 64 KiB past
 *     out_cons (more than the ring holds) and notifies: the backend must
 *     drop this connection. Reports on console_io and powers off.
 */
#include <lib/errno.h>
#include <lib/string.h>
#include <public/io/console.h>
#include "evtchn.h"
#include "guest.h"
#include "hypercall.h"
#include "pvclock.h"
#include "pvcons.h"
#include "pvtest.h"

#define LINE 64
#define NS_PER_SEC 1000000000ULL

static void burst(u64 bytes)
{
	static char buf[4096]; /* a multiple of LINE */
	u64 sent = 0, line = 0;

	while (sent < bytes) {
		u64 n = MIN((u64)sizeof(buf), bytes - sent);
		for (u64 i = 0; i < n; i += LINE) {
			char *l = buf + i;
			u64 len = MIN((u64)LINE, n - i);
			memset(l, 'x', len);
			snprintf(l, len, "pvcons: burst %06lu ", line++);
			l[strlen(l)] = 'x'; /* snprintf's NUL */
			l[len - 1] = '\n';
		}
		if (!pvcons_write(buf, n))
			fail("the console ring stalled after %lu bytes", sent);
		sent += n;
	}
	printf("pvtest: pvcons: burst done: %lu lines, %lu bytes\n", line, sent);
}

static void echo_one_line(void)
{
	char line[80];
	size_t len = 0;
	u64 deadline = pvclock_now_ns() + 120 * NS_PER_SEC;

	puts("pvtest: pvcons: waiting for input");
	console_flush();
	for (;;) {
		char c;
		if (!pvcons_read(&c, 1)) {
			if (pvclock_now_ns() >= deadline)
				fail("no input line within 120 s");
			pvcons_wait_input(deadline);
			continue;
		}
		if (c == '\r' || c == '\n') {
			if (!len)
				continue;
			break;
		}
		if (len + 1 < sizeof(line) && c >= 0x20 && c < 0x7f)
			line[len++] = c;
	}
	line[len] = 0;
	printf("pvtest: pvcons: got input '%s'\n", line);
}

void role_pvcons(void)
{
	/* main() attached the console if the toolstack gave one. */
	if (!pvcons_active())
		fail("no PV console"); /* still on console_io: said there */
	printf("pvtest: pvcons: console ring at gfn 0x%lx, port %u; console_io unused from here\n",
	       pvcons_gfn(), pvcons_port());
	burst(arg_u64_or("bytes", 100 * 1024));
	if (arg_u64_or("input", 1))
		echo_one_line();
	puts("pvtest: pvcons: PASS");
	console_flush();
}

void role_pvcons_hostile(void)
{
	if (!pvcons_active())
		fail("no PV console");
	puts("pvtest: pvcons-hostile: one good line, then corrupting out_prod");
	console_flush();
	/* Let the backend take the good line first. */
	pvclock_sleep_ns(NS_PER_SEC / 2);
	struct xencons_interface *r = (void *)(uintptr_t)(pvcons_gfn() << PAGE_SHIFT);
	u32 cons = __atomic_load_n(&r->out_cons, __ATOMIC_RELAXED);
	__atomic_store_n(&r->out_prod, cons + 0x10000, __ATOMIC_RELAXED);
	evtchn_send(pvcons_port());
	console_set_sink(NULL); /* back to console_io for the report */
	printf("pvtest: pvcons-hostile: out_prod set to out_cons + 0x10000 (%u); notified\n",
	       cons + 0x10000);
	pvclock_sleep_ns(NS_PER_SEC);
	puts("pvtest: pvcons-hostile: PASS");
}
