/*
 * xenstored-host: Keel's xenstored (guest/dom0/xenstored/, the same
 * sources dom0 runs) served on Unix sockets, so that standard clients --
 * Debian's xenstore-utils through XENSTORED_PATH -- and the tests can
 * drive it on the host (docs/xenstore.md).
 *
 *   xenstored-host --socket PATH [--domain-dir DIR] [--quota NAME=N]...
 *
 * Connections to PATH act as dom0 (privileged), as xenstored's own Unix
 * socket does. With --domain-dir, INTRODUCE of domain N creates the socket
 * DIR/domain-N, whose connections act as domain N (unprivileged, relative
 * paths under /local/domain/N): the stand-in for the ring page a real
 * domain would get. RELEASE removes it and drops those connections.
 * Prints "xenstored-host: ready" on stdout once it listens; exits on
 * SIGTERM/SIGINT. One poll loop, no threads, like dom0's event loop.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../../../guest/dom0/xenstored/xenstored.h"

#define MAX_FDS 256
#define DOMID_NONE 0xffffffffu

struct client {
	int fd;
	bool listener;
	u32 domid;              /* the domain a listener/client speaks for; DOMID_NONE: dom0 */
	struct xs_conn *conn;
	u8 in[8192];
	size_t in_len;          /* bytes read, not yet taken by the store */
	u8 out[8192];
	size_t out_len, out_off;
};

static struct client *clients[MAX_FDS];
static struct xs_store *store;
static const char *domain_dir;
static volatile sig_atomic_t stop;

static void *host_alloc(void *ctx, size_t size)
{
	(void)ctx;
	return malloc(size);
}

static void host_free(void *ctx, void *p, size_t size)
{
	(void)ctx;
	(void)size;
	free(p);
}

static struct client *add_client(int fd, bool listener, u32 domid)
{
	for (int i = 0; i < MAX_FDS; i++) {
		if (clients[i])
			continue;
		struct client *c = calloc(1, sizeof(*c));

		if (!c)
			break;
		c->fd = fd;
		c->listener = listener;
		c->domid = domid;
		clients[i] = c;
		return c;
	}
	close(fd);
	return NULL;
}

static void drop(int i)
{
	struct client *c = clients[i];

	if (c->conn)
		xs_conn_free(c->conn);
	close(c->fd);
	free(c);
	clients[i] = NULL;
}

static int listen_on(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || strlen(path) >= sizeof(sa.sun_path))
		return -1;
	strcpy(sa.sun_path, path);
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 16)) {
		close(fd);
		return -1;
	}
	return fd;
}

static void domain_socket_path(char *buf, size_t size, unsigned domid)
{
	snprintf(buf, size, "%s/domain-%u", domain_dir, domid);
}

/* INTRODUCE: the domain's "ring" is a new socket. */
static int hook_introduce(void *ctx, u16 domid, u64 mfn, u32 port)
{
	char path[512];
	int fd;

	(void)ctx;
	(void)mfn;
	(void)port;
	if (!domain_dir)
		return 0;
	domain_socket_path(path, sizeof(path), domid);
	fd = listen_on(path);
	if (fd < 0)
		return -EIO;
	return add_client(fd, true, domid) ? 0 : -ENOMEM;
}

/* RELEASE: the socket goes, and every connection speaking for the domain. */
static void hook_release(void *ctx, u16 domid)
{
	char path[512];

	(void)ctx;
	for (int i = 0; i < MAX_FDS; i++)
		if (clients[i] && clients[i]->domid == domid)
			drop(i);
	if (domain_dir) {
		domain_socket_path(path, sizeof(path), domid);
		unlink(path);
	}
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* Moves bytes between a client and its connection until neither can
 * progress. Returns false when the client must be dropped. */
static bool pump(struct client *c)
{
	for (;;) {
		bool progress = false;

		if (c->in_len) {
			long n = xs_conn_input(c->conn, c->in, c->in_len);

			if (n < 0) {
				fprintf(stderr, "xenstored-host: dropping %s connection: "
					"payload longer than XENSTORE_PAYLOAD_MAX\n",
					c->domid == DOMID_NONE ? "dom0" : "domain");
				return false;
			}
			if (n) {
				memmove(c->in, c->in + n, c->in_len - (size_t)n);
				c->in_len -= (size_t)n;
				progress = true;
			}
		}
		if (c->out_off == c->out_len) {
			c->out_off = 0;
			c->out_len = xs_conn_output(c->conn, c->out, sizeof(c->out));
		}
		if (c->out_off < c->out_len) {
			ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
					 MSG_DONTWAIT | MSG_NOSIGNAL);

			if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
				return false;
			if (w > 0) {
				c->out_off += (size_t)w;
				progress = true;
			}
		}
		if (!progress)
			return true;
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: xenstored-host --socket PATH [--domain-dir DIR] "
			"[--quota nodes|watches|transactions|outstanding|value_size|perms|events=N]...\n");
	exit(2);
}

static void set_quota(struct xs_quota *q, const char *arg)
{
	const char *eq = strchr(arg, '=');
	struct { const char *name; u32 *field; } fields[] = {
		{ "nodes", &q->nodes }, { "watches", &q->watches },
		{ "transactions", &q->transactions }, { "outstanding", &q->outstanding },
		{ "value_size", &q->value_size }, { "perms", &q->perms }, { "events", &q->events },
	};

	if (!eq)
		usage();
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (strlen(fields[i].name) == (size_t)(eq - arg) &&
		    !strncmp(arg, fields[i].name, (size_t)(eq - arg))) {
			*fields[i].field = (u32)strtoul(eq + 1, NULL, 0);
			return;
		}
	usage();
}

int main(int argc, char **argv)
{
	static const struct xs_alloc alloc = { host_alloc, host_free, NULL };
	const struct xs_hooks hooks = { hook_introduce, hook_release, NULL };
	struct xs_quota quota = XS_QUOTA_DEFAULT;
	const char *socket_path = NULL;
	int fd;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--socket") && i + 1 < argc)
			socket_path = argv[++i];
		else if (!strcmp(argv[i], "--domain-dir") && i + 1 < argc)
			domain_dir = argv[++i];
		else if (!strcmp(argv[i], "--quota") && i + 1 < argc)
			set_quota(&quota, argv[++i]);
		else
			usage();
	}
	if (!socket_path)
		usage();
	store = xs_store_new(&alloc, &quota, &hooks);
	fd = listen_on(socket_path);
	if (!store || fd < 0 || !add_client(fd, true, DOMID_NONE)) {
		fprintf(stderr, "xenstored-host: cannot listen on %s: %s\n", socket_path,
			strerror(errno));
		return 1;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	printf("xenstored-host: ready\n");
	fflush(stdout);

	while (!stop) {
		struct pollfd pfd[MAX_FDS];
		int idx[MAX_FDS], n = 0;

		for (int i = 0; i < MAX_FDS; i++) {
			struct client *c = clients[i];

			if (!c)
				continue;
			pfd[n].fd = c->fd;
			/* a client whose input the store paused is not read further */
			pfd[n].events = (c->listener || c->in_len < sizeof(c->in)) ? POLLIN : 0;
			if (!c->listener && c->out_off < c->out_len)
				pfd[n].events |= POLLOUT;
			pfd[n].revents = 0;
			idx[n++] = i;
		}
		if (poll(pfd, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		for (int k = 0; k < n; k++) {
			struct client *c = clients[idx[k]];

			if (!c || !pfd[k].revents)
				continue;
			if (c->listener) {
				int cfd = accept4(c->fd, NULL, NULL, SOCK_CLOEXEC);
				bool priv = c->domid == DOMID_NONE;
				struct client *nc;

				if (cfd < 0)
					continue;
				nc = add_client(cfd, false, c->domid);
				if (!nc)
					continue;
				nc->conn = xs_conn_new(store, priv ? 0 : (u16)c->domid, priv, NULL, NULL);
				if (!nc->conn)
					for (int i = 0; i < MAX_FDS; i++)
						if (clients[i] == nc)
							drop(i);
				continue;
			}
			if (pfd[k].revents & (POLLIN | POLLHUP | POLLERR)) {
				ssize_t r = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len,
						 MSG_DONTWAIT);

				if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
					drop(idx[k]);
					continue;
				}
				if (r > 0)
					c->in_len += (size_t)r;
			}
			if (!pump(c))
				drop(idx[k]);
		}
		/* watch events raised by one client's request go to others */
		for (int i = 0; i < MAX_FDS; i++)
			if (clients[i] && !clients[i]->listener && !pump(clients[i]))
				drop(i);
	}
	for (int i = 0; i < MAX_FDS; i++)
		if (clients[i])
			drop(i);
	xs_store_free(store);
	unlink(socket_path);
	return 0;
}
