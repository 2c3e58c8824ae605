/*
 * Host-side ring microbenchmark (issue 16; docs/PERFORMANCE.md "ring").
 *
 * Two threads on two cores share one 4 KiB page laid out by
 * include/public/io/ring.h -- the same macros the guests' split drivers
 * use -- with blkif-sized messages (112-byte requests, 12-byte responses:
 * 32 slots). The front keeps the ring full of requests; the back consumes
 * each, answers it, and the front consumes the answers. A side with
 * nothing to do sleeps on an eventfd (the host stand-in for an event
 * channel: a notification costs a system call, as an event channel costs
 * a hypercall), so the figure counts what notifications cost.
 *
 *   suppressed  RING_PUSH_*_AND_CHECK_NOTIFY / RING_FINAL_CHECK_FOR_*: a
 *               side notifies only when the peer asked to be woken
 *   always      every request and every answer is pushed on its own and
 *               notifies the peer
 *   mutex       the floor: a mutex + condition-variable queue of the
 *               same depth, no shared ring
 *
 * Prints one line per mode and run: `ring MODE run K: R req/s (N
 * notifications)`, then `ring MODE: median M req/s, spread LO..HI`.
 * Usage: ring_bench [seconds-per-run (default 0.5)] [runs (default 3)]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <public/io/ring.h>

struct breq { uint64_t id; uint8_t body[104]; };
struct brsp { uint64_t id; uint32_t status; };

DEFINE_RING_TYPES(bench, struct breq, struct brsp);

enum mode { M_SUPPRESSED, M_ALWAYS, M_MUTEX };
static const char *const mode_names[] = { "suppressed", "always", "mutex" };

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void pin(int cpu)
{
	cpu_set_t s;
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	CPU_ZERO(&s);
	CPU_SET(n > 1 ? cpu % n : 0, &s);
	pthread_setaffinity_np(pthread_self(), sizeof(s), &s);
}

/* ---- the shared ring -------------------------------------------------------- */

static union { bench_sring_t s; uint8_t page[4096]; } shared __attribute__((aligned(4096)));
static int to_back, to_front; /* eventfds: "notify the back / the front" */
static volatile int stop;
static enum mode mode;
static unsigned long notifications;

static void notify(int fd)
{
	uint64_t one = 1;

	__atomic_fetch_add(&notifications, 1, __ATOMIC_RELAXED);
	if (write(fd, &one, sizeof(one)) != sizeof(one))
		abort();
}

static void wait_for(int fd)
{
	uint64_t v;

	if (read(fd, &v, sizeof(v)) != sizeof(v))
		abort();
}

static void *back_main(void *arg)
{
	bench_back_ring_t r;

	(void)arg;
	pin(1);
	BACK_RING_INIT(&r, &shared.s, sizeof(shared));
	for (;;) {
		int more, n;

		RING_FINAL_CHECK_FOR_REQUESTS(&r, more);
		if (!more) {
			if (stop)
				return NULL;
			wait_for(to_back);
			continue;
		}
		while (RING_HAS_UNCONSUMED_REQUESTS(&r)) {
			struct breq q;
			struct brsp *p;

			RING_COPY_REQUEST(&r, r.req_cons, &q);
			r.req_cons++;
			p = RING_GET_RESPONSE(&r, r.rsp_prod_pvt);
			p->id = q.id;
			p->status = 0;
			r.rsp_prod_pvt++;
			if (mode == M_ALWAYS) { /* one push and notification per answer */
				RING_PUSH_RESPONSES(&r);
				notify(to_front);
			}
		}
		if (mode != M_ALWAYS) {
			RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&r, n);
			if (n)
				notify(to_front);
		}
	}
}

/* The front: fill the ring, take answers, refill, for `secs`. */
static unsigned long front_ring(double secs)
{
	bench_front_ring_t r;
	unsigned long done = 0;
	uint64_t id = 0;
	double end = now() + secs;

	FRONT_RING_INIT(&r, &shared.s, sizeof(shared));
	while (!(done % 1024 == 0 && now() > end)) {
		int n, more;

		while (!RING_FULL(&r)) {
			struct breq *q = RING_GET_REQUEST(&r, r.req_prod_pvt);

			q->id = id++;
			r.req_prod_pvt++;
			if (mode == M_ALWAYS) { /* one push and notification per request */
				RING_PUSH_REQUESTS(&r);
				notify(to_back);
			}
		}
		if (mode != M_ALWAYS) {
			RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&r, n);
			if (n)
				notify(to_back);
		}
		RING_FINAL_CHECK_FOR_RESPONSES(&r, more);
		if (!more)
			wait_for(to_front);
		while (RING_HAS_UNCONSUMED_RESPONSES(&r)) {
			struct brsp p;

			RING_COPY_RESPONSE(&r, r.rsp_cons, &p);
			r.rsp_cons++;
			done++;
		}
	}
	/* Drain: everything pushed gets its answer before the back stops. */
	while (r.rsp_cons != r.req_prod_pvt) {
		int more;

		RING_FINAL_CHECK_FOR_RESPONSES(&r, more);
		if (!more) {
			wait_for(to_front);
			continue;
		}
		while (RING_HAS_UNCONSUMED_RESPONSES(&r))
			r.rsp_cons++;
	}
	return done;
}

/* ---- the floor: mutex + condvar queues -------------------------------------- */

#define QDEPTH 32
struct queue {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint64_t item[QDEPTH];
	unsigned head, tail; /* free-running */
};
static struct queue qreq = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, {0}, 0, 0 };
static struct queue qrsp = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, {0}, 0, 0 };

static void q_put(struct queue *q, uint64_t v)
{
	pthread_mutex_lock(&q->lock);
	q->item[q->tail++ % QDEPTH] = v; /* never full: at most QDEPTH in flight */
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->lock);
}

/* Returns ~0 when stopping. */
static uint64_t q_get(struct queue *q)
{
	uint64_t v;

	pthread_mutex_lock(&q->lock);
	while (q->head == q->tail && !stop)
		pthread_cond_wait(&q->cond, &q->lock);
	v = q->head == q->tail ? ~0ULL : q->item[q->head++ % QDEPTH];
	pthread_mutex_unlock(&q->lock);
	return v;
}

static void *back_mutex(void *arg)
{
	(void)arg;
	pin(1);
	for (;;) {
		uint64_t v = q_get(&qreq);

		if (v == ~0ULL)
			return NULL;
		q_put(&qrsp, v);
	}
}

static unsigned long front_mutex(double secs)
{
	unsigned long done = 0, sent = 0;
	double end = now() + secs;

	for (; sent < QDEPTH; sent++)
		q_put(&qreq, sent);
	while (!(done % 1024 == 0 && now() > end)) {
		q_get(&qrsp);
		done++;
		q_put(&qreq, sent++);
	}
	while (done < sent) {
		q_get(&qrsp);
		done++;
	}
	return done - QDEPTH; /* answers received inside the timed loop, about */
}

/* ---- driver ------------------------------------------------------------------ */

static double run_once(enum mode m, double secs, unsigned long *notes)
{
	pthread_t t;
	unsigned long done;
	double t0, t1;

	mode = m;
	stop = 0;
	notifications = 0;
	memset(&shared, 0, sizeof(shared));
	SHARED_RING_INIT(&shared.s);
	qreq.head = qreq.tail = qrsp.head = qrsp.tail = 0;
	to_back = eventfd(0, 0);
	to_front = eventfd(0, 0);
	if (to_back < 0 || to_front < 0) {
		perror("eventfd");
		exit(1);
	}
	pthread_create(&t, NULL, m == M_MUTEX ? back_mutex : back_main, NULL);
	pin(0);
	t0 = now();
	done = m == M_MUTEX ? front_mutex(secs) : front_ring(secs);
	t1 = now();
	stop = 1;
	if (m == M_MUTEX) {
		pthread_mutex_lock(&qreq.lock);
		pthread_cond_broadcast(&qreq.cond);
		pthread_mutex_unlock(&qreq.lock);
	} else {
		notify(to_back);
	}
	pthread_join(t, NULL);
	close(to_back);
	close(to_front);
	*notes = notifications;
	return done / (t1 - t0);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 0.5;
	int runs = argc > 2 ? atoi(argv[2]) : 3;

	if (secs <= 0 || runs < 1 || runs > 100) {
		fprintf(stderr, "usage: %s [seconds-per-run] [runs]\n", argv[0]);
		return 2;
	}
	printf("ring: %u slots of %zu bytes, %ld CPUs online, %.2f s x %d runs per mode\n",
	       (unsigned)__CONST_RING_SIZE(bench, 4096), sizeof(union bench_sring_entry),
	       sysconf(_SC_NPROCESSORS_ONLN), secs, runs);
	for (int m = M_SUPPRESSED; m <= M_MUTEX; m++) {
		double v[100];

		for (int k = 0; k < runs; k++) {
			unsigned long notes;

			v[k] = run_once(m, secs, &notes);
			printf("ring %s run %d: %.0f req/s (%lu notifications)\n", mode_names[m],
			       k + 1, v[k], notes);
		}
		qsort(v, runs, sizeof(v[0]), cmp);
		printf("ring %s: median %.0f req/s, spread %.0f..%.0f\n", mode_names[m],
		       v[runs / 2], v[0], v[runs - 1]);
	}
	return 0;
}
