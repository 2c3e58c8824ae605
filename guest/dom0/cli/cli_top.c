/*
 * xl top (xentop): per domain its state, CPU time and share, memory,
 * vCPUs, vifs with the bytes they sent and received (netback's counters)
 * and disks with their read and write requests and sectors (blkback's),
 * refreshed every second. Interactive: the screen is redrawn (ANSI
 * home + clear) until `q`; batch (-b, as xentop's) prints one frame
 * after another, for scripts; -i N stops after N frames, -d S sets the
 * delay. Every frame covers the interval since the one before, so its
 * CPU(%) is real: the first comes one delay after the start.
 *
 * It runs from the loop (cli.h, CLI_PENDING): a timer draws each frame,
 * the shell hands it typed keys.
 */
#include <lib/errno.h>
#include <lib/string.h>
#include <public/sched.h>
#include <public/sysctl.h>
#include <public/version.h>
#include "cli_args.h"
#include "cli_internal.h"
#include "domctl.h"
#include "guest.h"
#include "hypercall.h"
#include "loop/loop.h"
#include "pvclock.h"
#include "blkback/blkback.h"
#include "netback/netback.h"

#define TOP_MAX 64

static struct {
	bool batch;
	u64 frames_left; /* 0: until q */
	u64 delay_ns;
	u64 last_ns;
	unsigned nprev;
	struct { domid_t id; u64 cpu_ns; } prev[TOP_MAX];
} top;
static struct loop_timer timer;

/* The domain's CPU time at the previous frame, or `now_cpu` if it is new
 * (no share shown for a domain younger than one frame). */
static u64 prev_cpu(domid_t id, u64 now_cpu)
{
	for (unsigned i = 0; i < top.nprev; i++)
		if (top.prev[i].id == id)
			return top.prev[i].cpu_ns <= now_cpu ? top.prev[i].cpu_ns : now_cpu;
	return now_cpu;
}

static void sample(const struct xen_domctl_getdomaininfo *in, u32 n)
{
	top.nprev = 0;
	for (u32 i = 0; i < n && i < TOP_MAX; i++) {
		top.prev[top.nprev].id = in[i].domain;
		top.prev[top.nprev].cpu_ns = in[i].cpu_time;
		top.nprev++;
	}
}

/* xentop's state column: one letter per flag, '-' when clear. */
static void state(const struct xen_domctl_getdomaininfo *in, char *s)
{
	unsigned reason = (in->flags >> XEN_DOMINF_shutdownshift) & XEN_DOMINF_shutdownmask;
	bool down = in->flags & XEN_DOMINF_shutdown;

	s[0] = in->flags & XEN_DOMINF_dying ? 'd' : '-';
	s[1] = down && reason != SHUTDOWN_crash ? 's' : '-';
	s[2] = down && reason == SHUTDOWN_crash ? 'c' : '-';
	s[3] = in->flags & XEN_DOMINF_paused ? 'p' : '-';
	s[4] = in->flags & XEN_DOMINF_blocked ? 'b' : '-';
	s[5] = in->flags & XEN_DOMINF_running ? 'r' : '-';
	s[6] = 0;
}

/* Tenths of a percent, printed as "12.3". */
static void tenths(char *buf, size_t len, u64 t)
{
	snprintf(buf, len, "%lu.%lu", t / 10, t % 10);
}

static void frame(void)
{
	struct xen_sysctl_physinfo pi;
	char name[CLI_NAME_MAX], st[8], cpu_pct[16], mem_pct[16], max_pct[16];
	u64 now = pvclock_now_ns();
	u64 dt = now > top.last_ns ? now - top.last_ns : 1;
	u32 n;
	const struct xen_domctl_getdomaininfo *in = cli_domains(&n);
	unsigned running = 0, blocked = 0, paused = 0, crashed = 0, dying = 0, down = 0;

	if (sysctl_physinfo(&pi))
		memset(&pi, 0, sizeof(pi));
	for (u32 i = 0; i < n; i++) {
		state(&in[i], st);
		running += st[5] == 'r';
		blocked += st[4] == 'b';
		paused += st[3] == 'p';
		crashed += st[2] == 'c';
		down += st[1] == 's';
		dying += st[0] == 'd';
	}
	if (!top.batch)
		printf("\x1b[H\x1b[2J");
	u64 up = now / 1000000000ULL;
	long v = HYPERVISOR_xen_version(XENVER_version, NULL);
	printf("xentop - uptime %lu:%02lu:%02lu   Xen %ld.%ld (Keel)%s\n", up / 3600, up / 60 % 60,
	       up % 60, v >> 16, v & 0xffff, top.batch ? "" : "   q quits");
	printf("%u domains: %u running, %u blocked, %u paused, %u crashed, %u dying, %u shutdown\n",
	       n, running, blocked, paused, crashed, dying, down);
	u64 total_k = pi.total_pages * 4, free_k = pi.free_pages * 4;
	printf("Mem: %luk total, %luk used, %luk free    CPUs: %u\n", total_k, total_k - free_k,
	       free_k, pi.nr_cpus);
	printf("%10s %6s %10s %6s %10s %6s %10s %9s %5s %4s %8s %8s %4s %8s %8s %10s %10s\n", "NAME",
	       "STATE", "CPU(sec)", "CPU(%)", "MEM(k)", "MEM(%)", "MAXMEM(k)", "MAXMEM(%)", "VCPUS",
	       "NETS", "NETTX(k)", "NETRX(k)", "VBDS", "VBD_RD", "VBD_WR", "VBD_RSECT", "VBD_WSECT");
	for (u32 i = 0; i < n; i++) {
		const struct xen_domctl_getdomaininfo *d = &in[i];
		u64 used = d->cpu_time - prev_cpu(d->domain, d->cpu_time);
		/* Share of one CPU over the interval, as xentop (may pass
		 * 100 with several vCPUs). */
		tenths(cpu_pct, sizeof(cpu_pct), used * 1000 / dt);
		u64 mem_k = d->tot_pages * 4, max_k = d->max_pages * 4;
		tenths(mem_pct, sizeof(mem_pct), total_k ? mem_k * 1000 / total_k : 0);
		tenths(max_pct, sizeof(max_pct), total_k ? max_k * 1000 / total_k : 0);
		u64 tx = 0, rx = 0;
		unsigned nets = 0;
		for (unsigned dev = 0; dev < LAUNCH_MAX_VIFS; dev++) {
			struct netback_vif_stats ns;
			if (netback_vif_stats(d->domain, dev, &ns))
				continue;
			nets++;
			tx += ns.tx_bytes;
			rx += ns.rx_bytes;
		}
		struct blkback_vbd_stats bs;
		unsigned vbds = blkback_vbd_stats(d->domain, &bs);
		cli_domain_name(d->domain, name, sizeof(name));
		state(d, st);
		printf("%10s %6s %10lu %6s %10lu %6s %10lu %9s %5u %4u %8lu %8lu %4u %8lu %8lu %10lu "
		       "%10lu\n", name, st, (u64)(d->cpu_time / 1000000000ULL), cpu_pct, mem_k, mem_pct,
		       max_k, max_pct, d->nr_online_vcpus, nets, tx / 1024, rx / 1024, vbds,
		       bs.rd_req, bs.wr_req, bs.rd_sect, bs.wr_sect);
	}
	if (top.batch)
		printf("\n");
	sample(in, n);
	top.last_ns = now;
}

static void tick(void *arg)
{
	(void)arg;
	frame();
	if (top.frames_left && !--top.frames_left) {
		cli_bg_end(0);
		return;
	}
	loop_timer_arm(&timer, pvclock_now_ns() + top.delay_ns);
}

/* q (or Q, or Ctrl-C) quits; other keys are ignored, as in xentop's
 * batch mode. */
static void on_key(char c)
{
	if (c != 'q' && c != 'Q' && c != 3)
		return;
	loop_timer_cancel(&timer);
	if (!top.batch)
		printf("\n");
	cli_bg_end(0);
}

int cli_cmd_top(const struct hvm_start_info *si, int argc, char **argv)
{
	struct cli_args a;
	char err[120];
	u64 v;
	const char *end;
	(void)si;

	if (cli_args_parse(argc, argv, "bi:d:", 0, 0, &a, err, sizeof(err))) {
		printf("xl top: %s\n", err);
		return cli_usage("top");
	}
	memset(&top, 0, sizeof(top));
	top.batch = cli_args_has(&a, 'b');
	top.delay_ns = 1000000000ULL;
	if (cli_args_has(&a, 'i')) {
		if (parse_u64(a.val['i' - 'a'], &end, &v) || *end || !v) {
			printf("xl top: -i %s: a number of frames (1 or more)\n", a.val['i' - 'a']);
			return 1;
		}
		top.frames_left = v;
	}
	if (cli_args_has(&a, 'd')) {
		if (parse_u64(a.val['d' - 'a'], &end, &v) || *end || !v || v > 3600) {
			printf("xl top: -d %s: a delay in seconds (1 to 3600)\n", a.val['d' - 'a']);
			return 1;
		}
		top.delay_ns = v * 1000000000ULL;
	}
	u32 n;
	sample(cli_domains(&n), n);
	top.last_ns = pvclock_now_ns();
	cli_bg_start(on_key);
	timer.fn = tick;
	loop_timer_arm(&timer, top.last_ns + top.delay_ns);
	return CLI_PENDING;
}
