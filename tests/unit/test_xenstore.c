/*
 * xenstored's store and protocol (guest/dom0/xenstored/, docs/xenstore.md):
 * the node tree, permissions, watches, transactions, quotas, the wire
 * parser and the dispatcher, driven through connections exactly as a
 * transport would (bytes in with xs_conn_input, bytes out with
 * xs_conn_output), as dom0 (privileged) and as domUs.
 *
 * unit-sources: guest/dom0/xenstored/conn.c guest/dom0/xenstored/dispatch.c guest/dom0/xenstored/ops.c guest/dom0/xenstored/perms.c guest/dom0/xenstored/quota.c guest/dom0/xenstored/ring.c guest/dom0/xenstored/transaction.c guest/dom0/xenstored/tree.c guest/dom0/xenstored/watch.c guest/dom0/xenstored/wire.c
 *
 * The store's allocator here counts live allocations and bytes; every
 * test ends with xs_store_free and checks that nothing is left.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../guest/dom0/xenstored/xs_internal.h"
#include "unit.h"

#pragma GCC diagnostic ignored "-Wunused-variable"
#pragma GCC diagnostic ignored "-Wmissing-prototypes"

/* ---- environment: counting allocator, a client's view of a connection ---- */

static long live_allocs, live_bytes;

static void *t_alloc(void *ctx, size_t size)
{
	(void)ctx;
	live_allocs++;
	live_bytes += (long)size;
	return malloc(size);
}

static void t_free(void *ctx, void *p, size_t size)
{
	(void)ctx;
	live_allocs--;
	live_bytes -= (long)size;
	free(p);
}

static const struct xs_alloc talloc = { t_alloc, t_free, NULL };

/* What a client saw: the last reply, and the watch events so far. */
struct seen {
	u32 type;
	char reply[XENSTORE_PAYLOAD_MAX + 1]; /* payload; NULs kept */
	u32 len;
	int nev;
	char ev[64][256]; /* "path token" */
};

static struct seen seen[4]; /* one per test connection */

static struct seen *seen_of(struct xs_conn *c);
static struct xs_conn *tconn[4];

static struct xs_store *store_new(const struct xs_quota *q)
{
	live_allocs = live_bytes = 0;
	memset(seen, 0, sizeof(seen));
	memset(tconn, 0, sizeof(tconn));
	struct xs_store *s = xs_store_new(&talloc, q, NULL);
	ck_assert_ptr_nonnull(s);
	return s;
}

static void store_free(struct xs_store *s)
{
	xs_store_free(s);
	ck_assert_msg(live_allocs == 0 && live_bytes == 0, "leaked %ld allocations, %ld bytes",
		      live_allocs, live_bytes);
}

static struct xs_conn *conn(struct xs_store *s, int slot, u16 domid, bool priv)
{
	tconn[slot] = xs_conn_new(s, domid, priv, NULL, NULL);
	ck_assert_ptr_nonnull(tconn[slot]);
	return tconn[slot];
}

static struct seen *seen_of(struct xs_conn *c)
{
	for (int i = 0; i < 4; i++)
		if (tconn[i] == c)
			return &seen[i];
	ck_abort_msg("unknown connection");
	return NULL;
}

/* Takes all output of c apart into replies and events. */
static void drain(struct xs_conn *c)
{
	static u8 buf[1 << 16];
	struct seen *sn = seen_of(c);
	size_t n = xs_conn_output(c, buf, sizeof(buf)), pos = 0;

	while (pos < n) {
		struct xsd_sockmsg h;

		ck_assert_uint_ge(n - pos, sizeof(h));
		memcpy(&h, buf + pos, sizeof(h));
		pos += sizeof(h);
		ck_assert_uint_le(h.len, XENSTORE_PAYLOAD_MAX);
		ck_assert_uint_ge(n - pos, h.len);
		if (h.type == XS_WATCH_EVENT) {
			const char *path = (const char *)buf + pos;
			ck_assert_int_lt(sn->nev, 64);
			snprintf(sn->ev[sn->nev++], 256, "%s %s", path, path + strlen(path) + 1);
		} else {
			sn->type = h.type;
			memcpy(sn->reply, buf + pos, h.len);
			sn->reply[h.len] = '\0';
			sn->len = h.len;
		}
		pos += h.len;
	}
}

/* Sends one request; returns the reply payload as a string, with an error
 * reply as "!ENAME". payload strings are given with their NULs, e.g.
 * rq(c, XS_WRITE, 0, "/a\0v", 4). */
static const char *rq(struct xs_conn *c, u32 type, u32 tx, const void *payload, size_t len)
{
	u8 msg[sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX + 64];
	struct xsd_sockmsg h = { .type = type, .req_id = 77, .tx_id = tx, .len = (u32)len };
	struct seen *sn = seen_of(c);
	static char err[XENSTORE_PAYLOAD_MAX + 2];

	memcpy(msg, &h, sizeof(h));
	memcpy(msg + sizeof(h), payload, len);
	sn->type = 0xdead;
	ck_assert_int_eq(xs_conn_input(c, msg, sizeof(h) + len), (long)(sizeof(h) + len));
	drain(c);
	ck_assert_msg(sn->type != 0xdead, "no reply to type %u", type);
	if (sn->type == XS_ERROR) {
		snprintf(err, sizeof(err), "!%s", sn->reply);
		return err;
	}
	ck_assert_uint_eq(sn->type, type);
	return sn->reply;
}

/* Payload helpers: a string literal with its final NUL. */
#define S(lit) lit, sizeof(lit)
/* Without the final NUL (WRITE's value). */
#define V(lit) lit, sizeof(lit) - 1

static void expect_events(struct xs_conn *c, int n, ...)
{
	struct seen *sn = seen_of(c);
	va_list ap;

	drain(c);
	ck_assert_msg(sn->nev == n, "expected %d events, got %d (first: %s)", n, sn->nev,
		      sn->nev ? sn->ev[0] : "-");
	va_start(ap, n);
	for (int i = 0; i < n; i++) {
		const char *want = va_arg(ap, const char *);
		ck_assert_str_eq(sn->ev[i], want);
	}
	va_end(ap);
	sn->nev = 0;
}

/* ---- the tree ------------------------------------------------------------- */

START_TEST(tree_write_creates_parents_and_reads_back)
{
	struct xs_store *s = store_new(NULL);
	struct xs_conn *d0 = conn(s, 0, 0, true);

	ck_assert_str_eq(rq(d0, XS_WRITE, 0, V("/a/b/c\0hello")), "OK");
	ck_assert_str_eq(rq(d0, XS_READ, 0, S("/a/b/c")), "hello");
	ck_assert_uint_eq(seen[0].len, 5);
	ck_assert_str_eq(rq(d0, XS_READ, 0, S("/a/b")), ""); /* parents: empty values */
	ck_assert_str_eq(rq(d0, XS_READ, 0, S("/a/x")), "!ENOENT");
	/* binary values keep their NULs */
	ck_assert_str_eq(rq(d0, XS_WRITE, 0, "/bin\0a\0b", 8), "OK");
	rq(d0, XS_READ, 0, S("/bin"));
	ck_assert_uint_eq(seen[0].len, 3);
	ck_assert_int_eq(memcmp(seen[0].reply, "a\0b", 3), 0);
	ck_assert_uint_eq(xs_store_nr_nodes(s), 5); /* / a b c bin */
	store_free(s);
}
END_TEST

START_TEST(tree_mkdir_keeps_existing_value)
{
	struct xs_store *s = store_new(NULL);
	struct xs_conn *d0 = conn(s, 0, 0, true);

	rq(d0, XS_WRITE, 0, V("/k\0v"));
	ck_assert_str_eq(rq(d0, XS_MKDIR, 0, S("/k")), "OK");
	ck_assert_str_eq(rq(d0, XS_READ, 0, S("/k")), "v");
	ck_assert_str_eq(rq(d0, XS_MKDIR, 0, S("/m/n")), "OK");
	ck_assert_str_eq(rq(d0, XS_READ, 0, S("/m/n")), "");
	store_free(s);
}
END_TEST

START_TEST(tree_rm_is_recursive)
{
	struct xs_store *s = store_new(NULL);
	struct xs_conn *d0 = conn(s, 0, 0, true);

	rq(d0, XS_WRITE, 0, V("/a/b/c\0x"));
	rq(d0, XS_WRITE, 0, V("/a/b/d\0y"));
	rq(d0, XS_WRITE, 0, V("/a/e\0z"));
	ck_assert_str_eq(rq(d0, XS_RM, 0, S("/a/b")), "OK");
	ck_assert_str_eq(rq(d0, XS_READ, 0, S("/a/b/c")), "!ENOENT");
	ck_assert_str_eq(rq(d0, XS_READ, 0, S("/a/b")), "!ENOENT");
	ck_assert_str_eq(rq(d0, XS_READ, 0, S("/a/e")), "z");
	/* a missing node under an existing parent is fine; under a missing one not */
	ck_assert_str_eq(rq(d0, XS_RM, 0, S("/a/b")), "OK");
	ck_assert_str_eq(rq(d0, XS_RM, 0, S("/a/q/r")), "!ENOENT");
	ck_assert_str_eq(rq(d0, XS_RM, 0, S("/")), "!EINVAL");
	ck_assert_uint_eq(xs_store_nr_nodes(s), 3);
	ck_assert_uint_eq(xs_store_nr_owned(s, 0), 3);
	store_free(s);
}
END_TEST

START_TEST(tree_directory_lists_children_in_creation_order)
{
	struct xs_store *s = store_new(NULL);
	struct xs_conn *d0 = conn(s, 0, 0, true);

	rq(d0, XS_WRITE, 0, V("/d/zeta\0"));
	rq(d0, XS_WRITE, 0, V("/d/alpha\0"));
	rq(d0, XS_WRITE, 0, V("/d/mid/deeper\0"));
	rq(d0, XS_DIRECTORY, 0, S("/d"));
	ck_assert_uint_eq(seen[0].len, sizeof("zeta\0alpha\0mid"));
	ck_assert_int_eq(memcmp(seen[0].reply, "zeta\0alpha\0mid", seen[0].len), 0);
	rq(d0, XS_DIRECTORY, 0, S("/d/alpha"));
	ck_assert_uint_eq(seen[0].len, 0);
	ck_assert_str_eq(rq(d0, XS_DIRECTORY, 0, S("/nope")), "!ENOENT");

	/* DIRECTORY_PART: generation, names from the offset, "" at the end */
	rq(d0, XS_DIRECTORY_PART, 0, "/d\0" "5", 5);
	const char *gen = seen[0].reply;
	const char *rest = gen + strlen(gen) + 1;
	ck_assert_int_eq(memcmp(rest, "alpha\0mid\0\0", 11), 0);
	ck_assert_str_eq(rq(d0, XS_DIRECTORY_PART, 0, "/d\0" "3", 4), "!EINVAL");
	store_free(s);
}
END_TEST

START_TEST(tree_directory_too_long_is_e2big)
{
	struct xs_store *s = store_new(NULL);
	struct xs_conn *d0 = conn(s, 0, 0, true);
	char req[64];

	/* 200 children of 24 bytes each: ~5 KiB of names */
	for (int i = 0; i < 200; i++) {
		int n = snprintf(req, sizeof(req), "/big/child-with-a-long-name-%03d", i);
		ck_assert_str_eq(rq(d0, XS_MKDIR, 0, req, (size_t)n + 1), "OK");
	}
	ck_assert_str_eq(rq(d0, XS_DIRECTORY, 0, S("/big")), "!E2BIG");
	/* DIRECTORY_PART pages through all of them */
	size_t offset = 0;
	int names = 0;
	for (int round = 0; round < 10; round++) {
		int n = snprintf(req, sizeof(req), "/big%c%zu", 0, offset);
		rq(d0, XS_DIRECTORY_PART, 0, req, (size_t)n + 1);
		const char *p = seen[0].reply + strlen(seen[0].reply) + 1;
		const char *end = seen[0].reply + seen[0].len;
		bool last = false;
		while (p < end) {
			if (!*p) { last = true; break; }
			names++;
			offset += strlen(p) + 1;
			p += strlen(p) + 1;
		}
		if (last)
			break;
	}
	ck_assert_int_eq(names, 200);
	store_free(s);
}
END_TEST

START_TEST(path_rules_follow_the_spec)
{
	char out[XENSTORE_ABS_PATH_MAX + 1];
	static char longp[XENSTORE_ABS_PATH_MAX + 10];

	ck_assert_int_eq(xs_path_canon("/a/b", 3, false, out), 0);
	ck_assert_str_eq(out, "/a/b");
	ck_assert_int_eq(xs_path_canon("x/y", 3, false, out), 0);
	ck_assert_str_eq(out, "/local/domain/3/x/y");
	ck_assert_int_eq(xs_path_canon("/", 0, false, out), 0);
	ck_assert_int_eq(xs_path_canon("", 0, false, out), -EINVAL);
	ck_assert_int_eq(xs_path_canon("/a//b", 0, false, out), -EINVAL);
	ck_assert_int_eq(xs_path_canon("/a/", 0, false, out), -EINVAL);
	ck_assert_int_eq(xs_path_canon("/a b", 0, false, out), -EINVAL);
	ck_assert_int_eq(xs_path_canon("/a.b", 0, false, out), -EINVAL);
	ck_assert_int_eq(xs_path_canon("@releaseDomain", 0, false, out), -EINVAL);
	ck_assert_int_eq(xs_path_canon("@releaseDomain", 0, true, out), 0);
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[XENSTORE_ABS_PATH_MAX] = '\0';
	ck_assert_int_eq(xs_path_canon(longp, 0, false, out), 0);
	longp[XENSTORE_ABS_PATH_MAX] = 'a';
	longp[XENSTORE_ABS_PATH_MAX + 1] = '\0';
	ck_assert_int_eq(xs_path_canon(longp, 0, false, out), -EINVAL);
	/* relative: at most XENSTORE_REL_PATH_MAX */
	memset(longp, 'r', XENSTORE_REL_PATH_MAX + 1);
	longp[XENSTORE_REL_PATH_MAX + 1] = '\0';
	ck_assert_int_eq(xs_path_canon(longp, 0, false, out), -EINVAL);
	longp[XENSTORE_REL_PATH_MAX] = '\0';
	ck_assert_int_eq(xs_path_canon(longp, 0, false, out), 0);
	ck_assert(xs_path_is_child("/a/b", "/a"));
	ck_assert(xs_path_is_child("/a", "/a"));
	ck_assert(!xs_path_is_child("/ab", "/a"));
	ck_assert(xs_path_is_child("/x", "/"));
}
END_TEST

/* ---- permissions ------------------------------------------------------------ */

START_TEST(perms_parse_and_format_round_trip)
{
	const char *in[] = { "r5", "n0", "b12", "w7" };
	struct xs_perms p;
	char buf[64];

	ck_assert_int_eq(xs_perms_parse(in, 4, &p), 0);
	ck_assert_uint_eq(p.p[0].domid, 5);
	ck_assert_uint_eq(p.p[0].mode, XS_PERM_READ);
	ck_assert_uint_eq(p.p[2].mode, XS_PERM_BOTH);
	size_t n = xs_perms_format(&p, buf, sizeof(buf));
	ck_assert_uint_eq(n, sizeof("r5\0n0\0b12\0w7"));
	ck_assert_int_eq(memcmp(buf, "r5\0n0\0b12\0w7", n), 0);

	const char *bad[][1] = { { "x5" }, { "r" }, { "r-1" }, { "r5x" }, { "r65535" }, { "" } };
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++)
		ck_assert_msg(xs_perms_parse(bad[i], 1, &p) == -EINVAL, "accepted '%s'", bad[i][0]);
	ck_assert_int_eq(xs_perms_parse(in, 0, &p), -EINVAL);
}
END_TEST

START_TEST(perms_owner_and_dom0_always_have_full_access)
{
	const char *in[] = { "n5", "r7", "w8" };
	struct xs_perms p;

	ck_assert_int_eq(xs_perms_parse(in, 3, &p), 0);
	ck_assert_uint_eq(xs_perm_for(&p, 5, false), XS_PERM_BOTH | XS_PERM_OWNER);
	ck_assert_uint_eq(xs_perm_for(&p, 0, true), XS_PERM_BOTH | XS_PERM_OWNER);
	ck_assert_uint_eq(xs_perm_for(&p, 7, false), XS_PERM_READ);
	ck_assert_uint_eq(xs_perm_for(&p, 8, false), XS_PERM_WRITE);
	ck_assert_uint_eq(xs_perm_for(&p, 9, false), XS_PERM_NONE); /* the default: n */
}
END_TEST

START_TEST(perms_domu_is_refused_other_domains_nodes)
{
	struct xs_store *s = store_new(NULL);
	struct xs_conn *d0 = conn(s, 0, 0, true);
	struct xs_conn *d1 = conn(s, 1, 1, false);
	struct xs_conn *d2 = conn(s, 2, 2, false);

	rq(d0, XS_WRITE, 0, V("/local/domain/1/secret\0s1"));
	rq(d0, XS_SET_PERMS, 0, S("/local/domain/1\0n1"));
	rq(d0, XS_SET_PERMS, 0, S("/local/domain/1/secret\0n1"));
	rq(d0, XS_WRITE, 0, V("/local/domain/2/x\0"));
	rq(d0, XS_SET_PERMS, 0, S("/local/domain/2\0n2"));
	/* domain 1 owns its tree, with relative paths too */
	ck_assert_str_eq(rq(d1, XS_READ, 0, S("secret")), "s1");
	ck_assert_str_eq(rq(d1, XS_WRITE, 0, V("mine\0m")), "OK");
	/* domain 2 may neither read, write, list, nor even learn what exists */
	ck_assert_str_eq(rq(d2, XS_READ, 0, S("/local/domain/1/secret")), "!EACCES");
	ck_assert_str_eq(rq(d2, XS_READ, 0, S("/local/domain/1/nothing")), "!EACCES");
	ck_assert_str_eq(rq(d2, XS_WRITE, 0, V("/local/domain/1/secret\0evil")), "!EACCES");
	ck_assert_str_eq(rq(d2, XS_WRITE, 0, V("/local/domain/1/new\0evil")), "!EACCES");
	ck_assert_str_eq(rq(d2, XS_MKDIR, 0, S("/local/domain/1/new")), "!EACCES");
	ck_assert_str_eq(rq(d2, XS_RM, 0, S("/local/domain/1/secret")), "!EACCES");
	ck_assert_str_eq(rq(d2, XS_DIRECTORY, 0, S("/local/domain/1")), "!EACCES");
	ck_assert_str_eq(rq(d2, XS_GET_PERMS, 0, S("/local/domain/1/secret")), "!EACCES");
	ck_assert_str_eq(rq(d2, XS_SET_PERMS, 0, S("/local/domain/1/secret\0b2")), "!EACCES");
	ck_assert_str_eq(rq(d2, XS_WRITE, 0, V("/top\0x")), "!EACCES"); /* "/" is n0 */
	/* its own nodes: a missing one is ENOENT, not EACCES */
	ck_assert_str_eq(rq(d2, XS_READ, 0, S("nothing")), "!ENOENT");
	/* nothing changed */
	ck_assert_str_eq(rq(d0, XS_READ, 0, S("/local/domain/1/secret")), "s1");
	ck_assert_str_eq(rq(d0, XS_READ, 0, S("/local/domain/1/new")), "!ENOENT");
	/* an r2 entry lets domain 2 read but still not write */
	rq(d0, XS_SET_PERMS, 0, S("/local/domain/1/secret\0n1\0r2"));
	ck_assert_str_eq(rq(d2, XS_READ, 0, S("/local/domain/1/secret")), "s1");
	ck_assert_str_eq(rq(d2, XS_WRITE, 0, V("/local/domain/1/secret\0evil")), "!EACCES");
	/* privileged operations */
	ck_assert_str_eq(rq(d2, XS_INTRODUCE, 0, S("3\0" "100\0" "4")), "!EACCES");
	ck_assert_str_eq(rq(d2, XS_RELEASE, 0, S("1")), "!EACCES");
	store_free(s);
}
END_TEST

START_TEST(perms_inherited_on_create_and_creator_owns)
{
	struct xs_store *s = store_new(NULL);
	struct xs_conn *d0 = conn(s, 0, 0, true);
	struct xs_conn *d3 = conn(s, 1, 3, false);

	rq(d0, XS_MKDIR, 0, S("/shared"));
	rq(d0, XS_SET_PERMS, 0, S("/shared\0r0\0b3\0r4"));
	/* dom0 creates: the child inherits the list unchanged */
	rq(d0, XS_WRITE, 0, V("/shared/by0\0"));
	rq(d0, XS_GET_PERMS, 0, S("/shared/by0"));
	ck_assert_int_eq(memcmp(seen[0].reply, "r0\0b3\0r4", sizeof("r0\0b3\0r4")), 0);
	/* domain 3 creates (it may write /shared): it owns the new nodes */
	ck_assert_str_eq(rq(d3, XS_WRITE, 0, V("/shared/by3/deep\0v")), "OK");
	rq(d0, XS_GET_PERMS, 0, S("/shared/by3/deep"));
	ck_assert_int_eq(memcmp(seen[0].reply, "r3\0b3\0r4", sizeof("r3\0b3\0r4")), 0);
	ck_assert_uint_eq(xs_store_nr_owned(s, 3), 2);
	/* the owner may change the list but not give the node away */
	ck_assert_str_eq(rq(d3, XS_SET_PERMS, 0, S("/shared/by3\0n3")), "OK");
	ck_assert_str_eq(rq(d3, XS_SET_PERMS, 0, S("/shared/by3\0n4")), "!EACCES");
	/* dom0 may: the count follows the owner */
	ck_assert_str_eq(rq(d0, XS_SET_PERMS, 0, S("/shared/by3\0n4")), "OK");
	ck_assert_uint_eq(xs_store_nr_owned(s, 3), 1);
	ck_assert_uint_eq(xs_store_nr_owned(s, 4), 1);
	ck_assert_str_eq(rq(d0, XS_SET_PERMS, 0, S("/shared\0q1")), "!EINVAL");
	ck_assert_str_eq(rq(d0, XS_SET_PERMS, 0, S("/nope\0n0")), "!ENOENT");
	store_free(s);
}
END_TEST

/* ---- watches ------------------------------------------------------------------- */

START_TEST(watch_fires_once_on_registration)
{
	struct xs_store *s = store_new(NULL);
	struct xs_conn *d0 = conn(s, 0, 0, true);

	ck_assert_str_eq(rq(d0, XS_WATCH, 0, S("/w\0tok")), "OK");
	expect_events(d0, 1, "/w tok");
	ck_assert_str_eq(rq(d0, XS_WATCH, 0, S("/w\0tok")), "!EEXIST");
	ck_assert_str_eq(rq(d0, XS_WATCH, 0, S("/w\0tok2")), "OK"); /* another token is another watch */
	expect_events(d0, 1, "/w tok2");
	ck_assert_str_eq(rq(d0, XS_WATCH, 0, S("/bad//path\0t")), "!EINVAL");
	ck_assert_str_eq(rq(d0, XS_WATCH, 0, S("/w")), "!EINVAL"); /* no token */
	store_free(s);
}
END_TEST

START_TEST(watch_fires_for_changes_at_or_below_its_path)
{
	struct xs_store *s = store_new(NULL);
	struct xs_conn *d0 = conn(s, 0, 0, true);
	struct xs_conn *w = conn(s, 1, 0, true);

	rq(w, XS_WATCH, 0, S("/a/b\0t"));
	expect_events(w, 1, "/a/b t");
	rq(d0, XS_WRITE, 0, V("/a/b\0" "1"));
	rq(d0, XS_WRITE, 0, V("/a/b/c/d\0" "2"));
	rq(d0, XS_WRITE, 0, V("/a/bc\0" "3"));  /* a sibling with a common prefix */
	rq(d0, XS_WRITE, 0, V("/a\0" "4"));     /* above */
	rq(d0, XS_MKDIR, 0, S("/a/b/c"));       /* exists: no change */
	rq(d0, XS_SET_PERMS, 0, S("/a/b/c\0n0"));
	expect_events(w, 3, "/a/b t", "/a/b/c/d t", "/a/b/c t");
	/* removing a parent of the watched path names the watched path */
	rq(d0, XS_RM, 0, S("/a"));
	expect_events(w, 1, "/a/b t");
	/* unwatch: no more events */
	ck_assert_str_eq(rq(w, XS_UNWATCH, 0, S("/a/b\0t")), "OK");
	ck_assert_str_eq(rq(w, XS_UNWATCH, 0, S("/a/b\0t")), "!ENOENT");
	rq(d0, XS_WRITE, 0, V("/a/b\0" "5"));
	expect_events(w, 0);
	store_free(s);
}
END_TEST

START_TEST(watch_relative_path_gives_relative_events)
{
	struct xs_store *s = store_new(NULL);
	struct xs_conn *d0 = conn(s, 0, 0, true);
	struct xs_conn *d7 = conn(s, 1, 7, false);

	rq(d0, XS_MKDIR, 0, S("/local/domain/7"));
	rq(d0, XS_SET_PERMS, 0, S("/local/domain/7\0n7"));
	ck_assert_str_eq(rq(d7, XS_WATCH, 0, S("device\0dev")), "OK");
	ck_assert_str_eq(rq(d7, XS_WATCH, 0, S("/local/domain/7/control\0abs")), "OK");
	expect_events(d7, 2, "device dev", "/local/domain/7/control abs");
	rq(d0, XS_WRITE, 0, V("/local/domain/7/device/vbd/0/state\0" "1"));
	rq(d0, XS_WRITE, 0, V("/local/domain/7/control/shutdown\0poweroff"));
	expect_events(d7, 2, "device/vbd/0/state dev", "/local/domain/7/control/shutdown abs");
	store_free(s);
}
END_TEST

START_TEST(watch_special_paths_fire_on_introduce_and_release)
{
	struct xs_store *s = store_new(NULL);
	struct xs_conn *d0 = conn(s, 0, 0, true);
	struct xs_conn *d5 = conn(s, 1, 5, false);

	rq(d0, XS_WATCH, 0, S("@introduceDomain\0in"));
	rq(d0, XS_WATCH, 0, S("@releaseDomain\0out"));
	rq(d5, XS_WATCH, 0, S("@releaseDomain\0spy"));
	expect_events(d0, 2, "@introduceDomain in", "@releaseDomain out");
	expect_events(d5, 1, "@releaseDomain spy"); /* only the registration */
	/* ordinary writes never match special watches */
	rq(d0, XS_WRITE, 0, V("/x\0"));
	expect_events(d0, 0);
	ck_assert_str_eq(rq(d0, XS_IS_DOMAIN_INTRODUCED, 0, S("9")), "F");
	ck_assert_str_eq(rq(d0, XS_INTRODUCE, 0, S("9\0" "4660\0" "3")), "OK");
	expect_events(d0, 1, "@introduceDomain in");
	ck_assert_str_eq(rq(d0, XS_IS_DOMAIN_INTRODUCED, 0, S("9")), "T");
	ck_assert_str_eq(rq(d0, XS_INTRODUCE, 0, S("9\0" "4660\0" "3")), "OK"); /* same ring */
	ck_assert_str_eq(rq(d0, XS_INTRODUCE, 0, S("9\0" "4661\0" "3")), "!EEXIST");
	expect_events(d0, 0);
	ck_assert_str_eq(rq(d0, XS_INTRODUCE, 0, S("0\0" "1\0" "1")), "!EINVAL");
	ck_assert_str_eq(rq(d0, XS_INTRODUCE, 0, S("32752\0" "1\0" "1")), "!EINVAL");
	ck_assert_str_eq(rq(d0, XS_INTRODUCE, 0, S("x\0" "1\0" "1")), "!EINVAL");
	ck_assert_str_eq(rq(d0, XS_RELEASE, 0, S("9")), "OK");
	expect_events(d0, 1, "@releaseDomain out");
	expect_events(d5, 0); /* special events go to privileged connections only */
	ck_assert_str_eq(rq(d0, XS_IS_DOMAIN_INTRODUCED, 0, S("9")), "F");
	ck_assert_str_eq(rq(d0, XS_RELEASE, 0, S("9")), "!ENOENT");
	ck_assert_str_eq(rq(d0, XS_GET_DOMAIN_PATH, 0, S("9")), "/local/domain/9");
	ck_assert_str_eq(rq(d5, XS_GET_DOMAIN_PATH, 0, S("5")), "/local/domain/5");
	/* domain death from the launcher: the same event */
	rq(d0, XS_INTRODUCE, 0, S("9\0" "4660\0" "3"));
	expect_events(d0, 1, "@introduceDomain in");
	xs_store_domain_gone(s, 9);
	expect_events(d0, 1, "@releaseDomain out");
	store_free(s);
}
END_TEST

START_TEST(watch_events_need_read_permission)
{
	struct xs_store *s = store_new(NULL);
	struct xs_conn *d0 = conn(s, 0, 0, true);
	struct xs_conn *d2 = conn(s, 1, 2, false);

	rq(d0, XS_MKDIR, 0, S("/local/domain/1"));
	rq(d0, XS_SET_PERMS, 0, S("/local/domain/1\0n1"));
	rq(d0, XS_MKDIR, 0, S("/local/domain/1/pub"));
	rq(d0, XS_SET_PERMS, 0, S("/local/domain/1/pub\0n1\0r2"));
	ck_assert_str_eq(rq(d2, XS_WATCH, 0, S("/local/domain/1\0snoop")), "OK");
	expect_events(d2, 1, "/local/domain/1 snoop");
	rq(d0, XS_WRITE, 0, V("/local/domain/1/private\0x")); /* inherits n1 */
	expect_events(d2, 0);
	rq(d0, XS_WRITE, 0, V("/local/domain/1/pub/v\0y"));    /* inherits n1 r2 */
	expect_events(d2, 1, "/local/domain/1/pub/v snoop");
	store_free(s);
}
END_TEST

START_TEST(watch_reset_watches_drops_watches_and_transactions)
{
	struct xs_store *s = store_new(NULL);
	struct xs_conn *d0 = conn(s, 0, 0, true);
	struct xs_conn *d4 = conn(s, 1, 4, false);

	rq(d4, XS_WATCH, 0, S("x\0a"));
	const char *id = rq(d4, XS_TRANSACTION_START, 0, S(""));
	u32 tx = (u32)atoi(id);
	expect_events(d4, 1, "x a");
	ck_assert_str_eq(rq(d4, XS_RESET_WATCHES, 0, S("")), "OK");
	rq(d0, XS_WRITE, 0, V("/local/domain/4/x\0" "1"));
	expect_events(d4, 0);
	ck_assert_str_eq(rq(d4, XS_TRANSACTION_END, tx, S("T")), "!ENOENT");
	store_free(s);
}
END_TEST

/* ---- transactions ------------------------------------------------------------- */

START_TEST(tx_commit_applies_changes_and_fires_then)
{
	struct xs_store *s = store_new(NULL);
	struct xs_conn *d0 = conn(s, 0, 0, true);
	struct xs_conn *w = conn(s, 1, 0, true);
	u32 tx;

	rq(w, XS_WATCH, 0, S("/t\0w"));
	expect_events(w, 1, "/t w");
	rq(d0, XS_WRITE, 0, V("/t/old\0o"));
	expect_events(w, 1, "/t/old w");
	tx = (u32)atoi(rq(d0, XS_TRANSACTION_START, 0, S("")));
	ck_assert_uint_ne(tx, 0);
	ck_assert_str_eq(rq(d0, XS_WRITE, tx, V("/t/a\0" "1")), "OK");
	ck_assert_str_eq(rq(d0, XS_RM, tx, S("/t/old")), "OK");
	/* inside: the transaction's view; outside: unchanged, no events yet */
	ck_assert_str_eq(rq(d0, XS_READ, tx, S("/t/a")), "1");
	ck_assert_str_eq(rq(d0, XS_READ, 0, S("/t/a")), "!ENOENT");
	ck_assert_str_eq(rq(d0, XS_READ, 0, S("/t/old")), "o");
	expect_events(w, 0);
	ck_assert_str_eq(rq(d0, XS_TRANSACTION_END, tx, S("T")), "OK");
	ck_assert_str_eq(rq(d0, XS_READ, 0, S("/t/a")), "1");
	ck_assert_str_eq(rq(d0, XS_READ, 0, S("/t/old")), "!ENOENT");
	expect_events(w, 2, "/t/a w", "/t/old w");
	/* the id is gone */
	ck_assert_str_eq(rq(d0, XS_READ, tx, S("/t/a")), "!ENOENT");
	ck_assert_uint_eq(xs_store_nr_owned(s, 0), xs_store_nr_nodes(s));
	store_free(s);
}
END_TEST

START_TEST(tx_conflict_gets_eagain_and_changes_nothing)
{
	struct xs_store *s = store_new(NULL);
	struct xs_conn *a = conn(s, 0, 0, true);
	struct xs_conn *b = conn(s, 1, 0, true);
	u32 ta, tb;

	rq(a, XS_WRITE, 0, V("/n\0" "0"));
	ta = (u32)atoi(rq(a, XS_TRANSACTION_START, 0, S("")));
	tb = (u32)atoi(rq(b, XS_TRANSACTION_START, 0, S("")));
	ck_assert_str_eq(rq(a, XS_READ, ta, S("/n")), "0");
	ck_assert_str_eq(rq(b, XS_READ, tb, S("/n")), "0");
	rq(a, XS_WRITE, ta, V("/n\0" "a"));
	rq(b, XS_WRITE, tb, V("/n\0" "b"));
	rq(b, XS_WRITE, tb, V("/only-b\0" "b"));
	ck_assert_str_eq(rq(a, XS_TRANSACTION_END, ta, S("T")), "OK");
	ck_assert_str_eq(rq(b, XS_TRANSACTION_END, tb, S("T")), "!EAGAIN");
	ck_assert_str_eq(rq(a, XS_READ, 0, S("/n")), "a");
	ck_assert_str_eq(rq(a, XS_READ, 0, S("/only-b")), "!ENOENT");
	/* a write outside any transaction to a node it had read conflicts too */
	tb = (u32)atoi(rq(b, XS_TRANSACTION_START, 0, S("")));
	ck_assert_str_eq(rq(b, XS_READ, tb, S("/n")), "a");
	rq(a, XS_WRITE, 0, V("/n\0" "c"));
	rq(b, XS_WRITE, tb, V("/n\0" "b"));
	ck_assert_str_eq(rq(b, XS_TRANSACTION_END, tb, S("T")), "!EAGAIN");
	ck_assert_str_eq(rq(a, XS_READ, 0, S("/n")), "c");
	/* the retry succeeds */
	tb = (u32)atoi(rq(b, XS_TRANSACTION_START, 0, S("")));
	rq(b, XS_WRITE, tb, V("/n\0" "b"));
	ck_assert_str_eq(rq(b, XS_TRANSACTION_END, tb, S("T")), "OK");
	ck_assert_str_eq(rq(a, XS_READ, 0, S("/n")), "b");
	store_free(s);
}
END_TEST

START_TEST(tx_unrelated_commits_do_not_conflict)
{
	struct xs_store *s = store_new(NULL);
	struct xs_conn *d0 = conn(s, 0, 0, true);
	struct xs_conn *w = conn(s, 1, 0, true);
	struct xs_conn *d5 = conn(s, 2, 5, false);
	u32 tx;

	rq(d0, XS_MKDIR, 0, S("/local/domain/5"));
	rq(d0, XS_SET_PERMS, 0, S("/local/domain/5\0n5"));
	rq(d0, XS_WRITE, 0, V("/local/domain/5/device/vif/0/state\0" "1"));
	rq(w, XS_WATCH, 0, S("/local/domain/5\0w"));
	expect_events(w, 1, "/local/domain/5 w");

	/* a frontend's usual transaction, while another domain writes all
	 * the time (a hostile neighbour must not starve it) */
	tx = (u32)atoi(rq(d5, XS_TRANSACTION_START, 0, S("")));
	ck_assert_str_eq(rq(d5, XS_READ, tx, S("device/vif/0/state")), "1");
	rq(d0, XS_WRITE, 0, V("/local/domain/9/noise\0" "1"));
	ck_assert_str_eq(rq(d5, XS_WRITE, tx, V("device/vif/0/ring-ref\0" "8")), "OK");
	rq(d0, XS_WRITE, 0, V("/local/domain/9/noise\0" "2"));
	ck_assert_str_eq(rq(d5, XS_WRITE, tx, V("device/vif/0/state\0" "3")), "OK");
	rq(d0, XS_WRITE, 0, V("/local/domain/9/more\0" "3"));
	expect_events(w, 0); /* nothing of the transaction is visible yet */
	ck_assert_str_eq(rq(d5, XS_TRANSACTION_END, tx, S("T")), "OK");
	/* applied on top of the neighbour's changes, which are kept */
	ck_assert_str_eq(rq(d0, XS_READ, 0, S("/local/domain/5/device/vif/0/ring-ref")), "8");
	ck_assert_str_eq(rq(d0, XS_READ, 0, S("/local/domain/5/device/vif/0/state")), "3");
	ck_assert_str_eq(rq(d0, XS_READ, 0, S("/local/domain/9/noise")), "2");
	ck_assert_str_eq(rq(d0, XS_READ, 0, S("/local/domain/9/more")), "3");
	expect_events(w, 2, "/local/domain/5/device/vif/0/ring-ref w",
		      "/local/domain/5/device/vif/0/state w");
	/* node accounting after a replayed commit: 5 owns what it made */
	ck_assert_uint_eq(xs_store_nr_owned(s, 5), 1 + 4 + 1);
	store_free(s);
}
END_TEST

START_TEST(tx_conflicts_on_what_it_looked_at)
{
	struct xs_store *s = store_new(NULL);
	struct xs_conn *a = conn(s, 0, 0, true);
	struct xs_conn *b = conn(s, 1, 0, true);
	u32 tx;

	rq(a, XS_WRITE, 0, V("/d/x\0" "1"));
	/* a listed directory gains a child */
	tx = (u32)atoi(rq(b, XS_TRANSACTION_START, 0, S("")));
	rq(b, XS_DIRECTORY, tx, S("/d"));
	rq(a, XS_WRITE, 0, V("/d/y\0" "2"));
	rq(b, XS_WRITE, tx, V("/other\0" "1"));
	ck_assert_str_eq(rq(b, XS_TRANSACTION_END, tx, S("T")), "!EAGAIN");
	/* a node it found missing appears */
	tx = (u32)atoi(rq(b, XS_TRANSACTION_START, 0, S("")));
	ck_assert_str_eq(rq(b, XS_READ, tx, S("/d/z")), "!ENOENT");
	rq(a, XS_WRITE, 0, V("/d/z\0" "3"));
	rq(b, XS_WRITE, tx, V("/other\0" "1"));
	ck_assert_str_eq(rq(b, XS_TRANSACTION_END, tx, S("T")), "!EAGAIN");
	/* a node it read changes permissions */
	tx = (u32)atoi(rq(b, XS_TRANSACTION_START, 0, S("")));
	rq(b, XS_READ, tx, S("/d/x"));
	rq(a, XS_SET_PERMS, 0, S("/d/x\0r1"));
	ck_assert_str_eq(rq(b, XS_TRANSACTION_END, tx, S("T")), "!EAGAIN");
	/* a node it removes gets a child elsewhere meanwhile */
	tx = (u32)atoi(rq(b, XS_TRANSACTION_START, 0, S("")));
	rq(b, XS_RM, tx, S("/d"));
	rq(a, XS_WRITE, 0, V("/d/late\0" "4"));
	ck_assert_str_eq(rq(b, XS_TRANSACTION_END, tx, S("T")), "!EAGAIN");
	ck_assert_str_eq(rq(a, XS_READ, 0, S("/d/late")), "4");
	/* its own creations are not conflicts with itself; a value changed
	 * elsewhere is no conflict either */
	rq(a, XS_WRITE, 0, V("/elsewhere\0" "0"));
	tx = (u32)atoi(rq(b, XS_TRANSACTION_START, 0, S("")));
	rq(b, XS_WRITE, tx, V("/new/deep/node\0" "5"));
	ck_assert_str_eq(rq(b, XS_READ, tx, S("/new/deep")), "");
	rq(b, XS_DIRECTORY, tx, S("/new"));
	rq(a, XS_WRITE, 0, V("/elsewhere\0" "6"));
	ck_assert_str_eq(rq(b, XS_TRANSACTION_END, tx, S("T")), "OK");
	ck_assert_str_eq(rq(a, XS_READ, 0, S("/new/deep/node")), "5");
	/* creating under a parent conflicts with a sibling created there
	 * meanwhile (the parent's list of children changed), as in cxenstored */
	tx = (u32)atoi(rq(b, XS_TRANSACTION_START, 0, S("")));
	rq(b, XS_WRITE, tx, V("/new/one\0" "1"));
	rq(a, XS_WRITE, 0, V("/new/two\0" "2"));
	ck_assert_str_eq(rq(b, XS_TRANSACTION_END, tx, S("T")), "!EAGAIN");
	/* but two transactions creating the same new path do conflict */
	u32 t1 = (u32)atoi(rq(a, XS_TRANSACTION_START, 0, S("")));
	u32 t2 = (u32)atoi(rq(b, XS_TRANSACTION_START, 0, S("")));
	rq(a, XS_WRITE, t1, V("/race/x\0" "a"));
	rq(b, XS_WRITE, t2, V("/race/x\0" "b"));
	ck_assert_str_eq(rq(a, XS_TRANSACTION_END, t1, S("T")), "OK");
	ck_assert_str_eq(rq(b, XS_TRANSACTION_END, t2, S("T")), "!EAGAIN");
	ck_assert_str_eq(rq(a, XS_READ, 0, S("/race/x")), "a");
	store_free(s);
}
END_TEST

START_TEST(tx_remembering_too_much_falls_back_to_the_coarse_rule)
{
	struct xs_store *s = store_new(NULL);
	struct xs_conn *a = conn(s, 0, 0, true);
	struct xs_conn *b = conn(s, 1, 0, true);
	static char path[1100];
	u32 tx = (u32)atoi(rq(b, XS_TRANSACTION_START, 0, S("")));
	long before = live_bytes;

	/* 40 missing paths of ~1 KiB: more than the 16 KiB it remembers */
	memset(path, 'p', sizeof(path));
	path[0] = '/';
	for (int i = 0; i < 40; i++) {
		int n = snprintf(path + 1000, 20, "%d", i);
		ck_assert_str_eq(rq(b, XS_READ, tx, path, 1000 + (size_t)n + 1), "!ENOENT");
	}
	ck_assert_msg(live_bytes - before < 20 * 1024, "remembered %ld bytes",
		      live_bytes - before);
	/* coarse now: any commit, even unrelated, is a conflict */
	rq(a, XS_WRITE, 0, V("/unrelated\0" "1"));
	ck_assert_str_eq(rq(b, XS_TRANSACTION_END, tx, S("T")), "!EAGAIN");
	store_free(s);
}
END_TEST

START_TEST(tx_abort_discards)
{
	struct xs_store *s = store_new(NULL);
	struct xs_conn *d0 = conn(s, 0, 0, true);
	u32 tx = (u32)atoi(rq(d0, XS_TRANSACTION_START, 0, S("")));

	rq(d0, XS_WRITE, tx, V("/gone\0x"));
	ck_assert_str_eq(rq(d0, XS_TRANSACTION_END, tx, S("F")), "OK");
	ck_assert_str_eq(rq(d0, XS_READ, 0, S("/gone")), "!ENOENT");
	ck_assert_str_eq(rq(d0, XS_TRANSACTION_END, tx, S("F")), "!ENOENT");
	ck_assert_str_eq(rq(d0, XS_TRANSACTION_END, 12345, S("T")), "!ENOENT");
	tx = (u32)atoi(rq(d0, XS_TRANSACTION_START, 0, S("")));
	ck_assert_str_eq(rq(d0, XS_TRANSACTION_END, tx, S("X")), "!EINVAL");
	ck_assert_str_eq(rq(d0, XS_TRANSACTION_START, tx, S("")), "!EBUSY");
	/* a connection that goes away takes its open transaction with it */
	store_free(s);
}
END_TEST

START_TEST(tx_copy_is_taken_at_first_write_only)
{
	struct xs_store *s = store_new(NULL);
	struct xs_conn *d0 = conn(s, 0, 0, true);
	char req[32];

	for (int i = 0; i < 100; i++) {
		int n = snprintf(req, sizeof(req), "/many/%d%cvalue", i, 0);
		rq(d0, XS_WRITE, 0, req, (size_t)n + 5);
	}
	long before = live_bytes;
	u32 tx = (u32)atoi(rq(d0, XS_TRANSACTION_START, 0, S("")));
	ck_assert_str_eq(rq(d0, XS_READ, tx, S("/many/42")), "value");
	rq(d0, XS_DIRECTORY, tx, S("/many"));
	ck_assert_msg(live_bytes - before < 512, "a read-only transaction holds %ld bytes",
		      live_bytes - before);
	ck_assert_str_eq(rq(d0, XS_WRITE, tx, V("/many/42\0new")), "OK");
	ck_assert_msg(live_bytes - before > 100 * 32, "no copy after a write (%ld bytes)",
		      live_bytes - before);
	ck_assert_str_eq(rq(d0, XS_READ, tx, S("/many/42")), "new");
	ck_assert_str_eq(rq(d0, XS_READ, 0, S("/many/42")), "value");
	ck_assert_str_eq(rq(d0, XS_TRANSACTION_END, tx, S("T")), "OK");
	ck_assert_str_eq(rq(d0, XS_READ, 0, S("/many/42")), "new");
	/* a read-only transaction commits when nothing intervened, and
	 * conflicts when something did */
	tx = (u32)atoi(rq(d0, XS_TRANSACTION_START, 0, S("")));
	rq(d0, XS_READ, tx, S("/many/1"));
	ck_assert_str_eq(rq(d0, XS_TRANSACTION_END, tx, S("T")), "OK");
	tx = (u32)atoi(rq(d0, XS_TRANSACTION_START, 0, S("")));
	rq(d0, XS_READ, tx, S("/many/1"));
	rq(d0, XS_WRITE, 0, V("/many/1\0changed"));
	ck_assert_str_eq(rq(d0, XS_TRANSACTION_END, tx, S("T")), "!EAGAIN");
	store_free(s);
}
END_TEST

/* ---- quotas --------------------------------------------------------------------- */

START_TEST(quota_nodes_enospc_and_rm_gives_back)
{
	struct xs_quota q = XS_QUOTA_DEFAULT;
	q.nodes = 5;
	struct xs_store *s = store_new(&q);
	struct xs_conn *d0 = conn(s, 0, 0, true);
	struct xs_conn *d6 = conn(s, 1, 6, false);
	char req[32];

	rq(d0, XS_MKDIR, 0, S("/local/domain/6"));
	rq(d0, XS_SET_PERMS, 0, S("/local/domain/6\0n6")); /* 1 node owned */
	for (int i = 0; i < 4; i++) {
		int n = snprintf(req, sizeof(req), "n%d", i);
		ck_assert_str_eq(rq(d6, XS_MKDIR, 0, req, (size_t)n + 1), "OK");
	}
	ck_assert_str_eq(rq(d6, XS_MKDIR, 0, S("n4")), "!ENOSPC");
	ck_assert_str_eq(rq(d6, XS_WRITE, 0, V("a/b\0")), "!ENOSPC");
	ck_assert_uint_eq(xs_store_nr_owned(s, 6), 5);
	ck_assert_str_eq(rq(d6, XS_RM, 0, S("n0")), "OK");
	ck_assert_str_eq(rq(d6, XS_MKDIR, 0, S("n4")), "OK");
	/* inside a transaction too, and the commit recounts */
	u32 tx = (u32)atoi(rq(d6, XS_TRANSACTION_START, 0, S("")));
	ck_assert_str_eq(rq(d6, XS_RM, tx, S("n1")), "OK");
	ck_assert_str_eq(rq(d6, XS_MKDIR, tx, S("m1")), "OK");
	ck_assert_str_eq(rq(d6, XS_MKDIR, tx, S("m2")), "!ENOSPC");
	ck_assert_str_eq(rq(d6, XS_TRANSACTION_END, tx, S("T")), "OK");
	ck_assert_uint_eq(xs_store_nr_owned(s, 6), 5);
	/* two transactions, each within the quota alone, not together */
	ck_assert_str_eq(rq(d6, XS_RM, 0, S("n2")), "OK");
	ck_assert_str_eq(rq(d6, XS_RM, 0, S("n3")), "OK"); /* owns 3: room for 2 */
	u32 t1 = (u32)atoi(rq(d6, XS_TRANSACTION_START, 0, S("")));
	u32 t2 = (u32)atoi(rq(d6, XS_TRANSACTION_START, 0, S("")));
	ck_assert_str_eq(rq(d6, XS_WRITE, t1, V("n4/a\0")), "OK");
	ck_assert_str_eq(rq(d6, XS_WRITE, t1, V("n4/b\0")), "OK");
	ck_assert_str_eq(rq(d6, XS_WRITE, t2, V("m1/c\0")), "OK");
	ck_assert_str_eq(rq(d6, XS_WRITE, t2, V("m1/d\0")), "OK");
	ck_assert_str_eq(rq(d6, XS_TRANSACTION_END, t1, S("T")), "OK");
	ck_assert_str_eq(rq(d6, XS_TRANSACTION_END, t2, S("T")), "!ENOSPC");
	ck_assert_uint_eq(xs_store_nr_owned(s, 6), 5);
	ck_assert_str_eq(rq(d0, XS_READ, 0, S("/local/domain/6/m1/c")), "!ENOENT");
	/* dom0 is not limited */
	for (int i = 0; i < 10; i++) {
		int n = snprintf(req, sizeof(req), "/d0/%d", i);
		ck_assert_str_eq(rq(d0, XS_MKDIR, 0, req, (size_t)n + 1), "OK");
	}
	store_free(s);
}
END_TEST

START_TEST(quota_watches_transactions_value_perms)
{
	struct xs_quota q = XS_QUOTA_DEFAULT;
	q.watches = 3;
	q.transactions = 2;
	q.value_size = 8;
	q.perms = 2;
	struct xs_store *s = store_new(&q);
	struct xs_conn *d0 = conn(s, 0, 0, true);
	struct xs_conn *d6 = conn(s, 1, 6, false);

	rq(d0, XS_MKDIR, 0, S("/local/domain/6"));
	rq(d0, XS_SET_PERMS, 0, S("/local/domain/6\0n6"));
	ck_assert_str_eq(rq(d6, XS_WATCH, 0, S("a\0" "1")), "OK");
	ck_assert_str_eq(rq(d6, XS_WATCH, 0, S("a\0" "2")), "OK");
	ck_assert_str_eq(rq(d6, XS_WATCH, 0, S("a\0" "3")), "OK");
	ck_assert_str_eq(rq(d6, XS_WATCH, 0, S("a\0" "4")), "!E2BIG");
	ck_assert_str_eq(rq(d6, XS_UNWATCH, 0, S("a\0" "1")), "OK");
	ck_assert_str_eq(rq(d6, XS_WATCH, 0, S("a\0" "4")), "OK");
	ck_assert_str_ne(rq(d6, XS_TRANSACTION_START, 0, S("")), "!ENOSPC");
	ck_assert_str_ne(rq(d6, XS_TRANSACTION_START, 0, S("")), "!ENOSPC");
	ck_assert_str_eq(rq(d6, XS_TRANSACTION_START, 0, S("")), "!ENOSPC");
	ck_assert_str_eq(rq(d6, XS_WRITE, 0, V("v\0" "12345678")), "OK");
	ck_assert_str_eq(rq(d6, XS_WRITE, 0, V("v\0" "123456789")), "!ENOSPC");
	ck_assert_str_eq(rq(d6, XS_READ, 0, S("v")), "12345678");
	ck_assert_str_eq(rq(d6, XS_SET_PERMS, 0, S("v\0n6\0r1")), "OK");
	ck_assert_str_eq(rq(d6, XS_SET_PERMS, 0, S("v\0n6\0r1\0r2")), "!ENOSPC");
	store_free(s);
}
END_TEST

START_TEST(quota_outstanding_pauses_input_until_output_is_taken)
{
	struct xs_quota q = XS_QUOTA_DEFAULT;
	q.outstanding = 2;
	struct xs_store *s = store_new(&q);
	struct xs_conn *d6 = conn(s, 0, 6, false);
	u8 stream[10 * 32];
	size_t len = 0;

	/* ten GET_DOMAIN_PATH requests in one burst */
	for (int i = 0; i < 10; i++) {
		struct xsd_sockmsg h = { .type = XS_GET_DOMAIN_PATH, .req_id = (u32)i, .len = 2 };
		memcpy(stream + len, &h, sizeof(h));
		memcpy(stream + len + sizeof(h), "6", 2);
		len += sizeof(h) + 2;
	}
	size_t msg = sizeof(struct xsd_sockmsg) + 2;
	long n = xs_conn_input(d6, stream, len);
	ck_assert_int_eq(n, (long)(2 * msg)); /* two handled, the rest waits */
	ck_assert_int_eq(xs_conn_input(d6, stream + n, len - (size_t)n), 0);
	u8 out[4096];
	size_t got = xs_conn_output(d6, out, sizeof(out));
	ck_assert_uint_eq(got, 2 * (sizeof(struct xsd_sockmsg) + sizeof("/local/domain/6")));
	/* once taken, input flows again */
	ck_assert_int_eq(xs_conn_input(d6, stream + n, len - (size_t)n), (long)(2 * msg));
	store_free(s);
}
END_TEST

START_TEST(quota_events_beyond_the_queue_are_dropped)
{
	struct xs_quota q = XS_QUOTA_DEFAULT;
	q.events = 4;
	struct xs_store *s = store_new(&q);
	struct xs_conn *d0 = conn(s, 0, 0, true);
	struct xs_conn *w = conn(s, 1, 0, true);
	char req[32];

	rq(w, XS_WATCH, 0, S("/f\0t"));
	for (int i = 0; i < 20; i++) {
		int n = snprintf(req, sizeof(req), "/f/%d%c", i, 0);
		rq(d0, XS_WRITE, 0, req, (size_t)n);
	}
	/* rq() took the registration event; 4 of the 20 others fit */
	ck_assert_uint_eq(xs_conn_events_dropped(w), 20 - 4);
	expect_events(w, 5, "/f t", "/f/0 t", "/f/1 t", "/f/2 t", "/f/3 t");
	store_free(s);
}
END_TEST

/* ---- the wire ---------------------------------------------------------------------- */

START_TEST(wire_byte_at_a_time_equals_one_burst)
{
	struct xs_store *s = store_new(NULL);
	struct xs_conn *d0 = conn(s, 0, 0, true);
	u8 m[64];
	struct xsd_sockmsg h = { .type = XS_WRITE, .req_id = 9, .len = 6 };

	memcpy(m, &h, sizeof(h));
	memcpy(m + sizeof(h), "/k\0val", 6);
	for (size_t i = 0; i < sizeof(h) + 6; i++)
		ck_assert_int_eq(xs_conn_input(d0, m + i, 1), 1);
	ck_assert_str_eq(rq(d0, XS_READ, 0, S("/k")), "val");
	/* the reply echoes req_id and tx_id */
	u8 out[64];
	struct xsd_sockmsg r;
	h = (struct xsd_sockmsg){ .type = XS_READ, .req_id = 0xabcd, .tx_id = 0, .len = 3 };
	memcpy(m, &h, sizeof(h));
	memcpy(m + sizeof(h), "/k", 3);
	xs_conn_input(d0, m, sizeof(h) + 3);
	ck_assert_uint_eq(xs_conn_output(d0, out, sizeof(out)), sizeof(r) + 3);
	memcpy(&r, out, sizeof(r));
	ck_assert_uint_eq(r.req_id, 0xabcd);
	ck_assert_uint_eq(r.type, XS_READ);
	ck_assert_uint_eq(r.len, 3);
	store_free(s);
}
END_TEST

START_TEST(wire_payload_beyond_max_drops_the_connection)
{
	struct xs_store *s = store_new(NULL);
	struct xs_conn *d6 = conn(s, 0, 6, false);
	struct xsd_sockmsg h = { .type = XS_READ, .len = XENSTORE_PAYLOAD_MAX + 1 };

	ck_assert_int_eq(xs_conn_input(d6, &h, sizeof(h)), -EIO);
	/* exactly the maximum is fine (and an unterminated path is EINVAL) */
	static u8 m[sizeof(h) + XENSTORE_PAYLOAD_MAX];
	struct xs_conn *d7 = conn(s, 1, 7, false);
	h.len = XENSTORE_PAYLOAD_MAX;
	memcpy(m, &h, sizeof(h));
	memset(m + sizeof(h), 'a', XENSTORE_PAYLOAD_MAX);
	ck_assert_int_eq(xs_conn_input(d7, m, sizeof(m)), (long)sizeof(m));
	drain(d7);
	ck_assert_uint_eq(seen[1].type, XS_ERROR);
	ck_assert_str_eq(seen[1].reply, "EINVAL");
	store_free(s);
}
END_TEST

START_TEST(wire_bad_requests_get_xen_error_names)
{
	struct xs_store *s = store_new(NULL);
	struct xs_conn *d0 = conn(s, 0, 0, true);
	struct xs_conn *d6 = conn(s, 1, 6, false);

	ck_assert_str_eq(rq(d0, XS_READ, 0, "/a", 2), "!EINVAL");     /* no NUL */
	ck_assert_str_eq(rq(d0, XS_READ, 0, "", 0), "!EINVAL");
	ck_assert_str_eq(rq(d0, XS_WATCH_EVENT, 0, S("/a")), "!ENOSYS");
	ck_assert_str_eq(rq(d0, XS_ERROR, 0, S("/a")), "!ENOSYS");
	ck_assert_str_eq(rq(d0, 20, 0, S("/a")), "!ENOSYS");            /* XS_RESTRICT's old number */
	ck_assert_str_eq(rq(d0, XS_SET_TARGET, 0, S("1\0" "2")), "!ENOSYS");
	ck_assert_str_eq(rq(d0, XS_TYPE_COUNT, 0, S("")), "!ENOSYS");
	ck_assert_str_eq(rq(d0, 0xffffffffu, 0, S("")), "!ENOSYS");
	ck_assert_str_eq(rq(d6, XS_CONTROL, 0, S("print")), "!EACCES");
	ck_assert_str_eq(rq(d0, XS_CONTROL, 0, S("print\0hi")), "OK");
	ck_assert_str_eq(rq(d0, XS_WRITE, 5, V("/a\0x")), "!ENOENT"); /* unknown tx */
	ck_assert_str_eq(rq(d0, XS_GET_DOMAIN_PATH, 0, S("70000")), "!EINVAL");
	ck_assert_str_eq(xs_error_name(-122), "EINVAL");
	ck_assert_str_eq(xs_error_name(-E2BIG), "E2BIG");
	ck_assert_str_eq(xs_error_name(-EISCONN), "EISCONN");
	store_free(s);
}
END_TEST

START_TEST(wire_args_split_strings)
{
	const char *argv[4];
	const u8 *rest;
	u32 restlen;

	ck_assert_uint_eq(xs_wire_args((const u8 *)"a\0bb\0c", 6, argv, 4, &rest, &restlen), 2);
	ck_assert_str_eq(argv[1], "bb");
	ck_assert_uint_eq(restlen, 1); /* the unterminated "c" */
	ck_assert_uint_eq(xs_wire_args((const u8 *)"p\0value\0x", 9, argv, 1, &rest, &restlen), 1);
	ck_assert_uint_eq(restlen, 7);
	ck_assert_int_eq(memcmp(rest, "value\0x", 7), 0);
	u64 v;
	ck_assert_int_eq(xs_parse_uint("65535", 0xffff, &v), 0);
	ck_assert_int_eq(xs_parse_uint("65536", 0xffff, &v), -EINVAL);
	ck_assert_int_eq(xs_parse_uint("", 10, &v), -EINVAL);
	ck_assert_int_eq(xs_parse_uint("1a", 100, &v), -EINVAL);
	ck_assert_int_eq(xs_parse_uint("99999999999999999999999", ~0ull, &v), -EINVAL);
}
END_TEST


/* ---- in-process callers ------------------------------------------------------------ */

static int notified;

static void count_notify(struct xs_conn *c, void *ctx)
{
	(void)c;
	ck_assert_ptr_eq(ctx, &notified);
	notified++;
}

START_TEST(conn_in_process_request_and_notify)
{
	struct xs_quota q = XS_QUOTA_DEFAULT;
	q.outstanding = 1;
	struct xs_store *s = store_new(&q);
	struct xs_conn *svc = xs_conn_new(s, 0, true, count_notify, &notified);
	struct xsd_sockmsg h = { .type = XS_WRITE, .req_id = 5, .len = 7 };
	u8 out[128];
	struct xsd_sockmsg r;

	notified = 0;
	ck_assert_int_eq(xs_conn_request(svc, &h, "/svc\0on"), 0);
	ck_assert_int_eq(notified, 1);
	/* the reply has not been taken: the next request must wait */
	h.type = XS_READ;
	h.len = 5;
	ck_assert_int_eq(xs_conn_request(svc, &h, "/svc"), -EBUSY);
	ck_assert_uint_eq(xs_conn_output(svc, out, sizeof(out)), sizeof(r) + 3);
	memcpy(&r, out, sizeof(r));
	ck_assert_uint_eq(r.req_id, 5);
	ck_assert_int_eq(memcmp(out + sizeof(r), "OK", 3), 0);
	ck_assert_int_eq(xs_conn_request(svc, &h, "/svc"), 0);
	ck_assert_uint_eq(xs_conn_output(svc, out, sizeof(out)), sizeof(r) + 2);
	ck_assert_int_eq(memcmp(out + sizeof(r), "on", 2), 0);
	ck_assert(!xs_conn_output_pending(svc));
	h.len = XENSTORE_PAYLOAD_MAX + 1;
	ck_assert_int_eq(xs_conn_request(svc, &h, "/svc"), -EIO);
	ck_assert_uint_eq(xs_conn_domid(svc), 0);
	store_free(s);
}
END_TEST

START_TEST(conn_xs_call_returns_reply_and_keeps_events)
{
	struct xs_store *s = store_new(NULL);
	struct xs_conn *svc = conn(s, 0, 0, true);
	char buf[64];
	u32 len;

	len = sizeof(buf);
	ck_assert_int_eq(xs_call(svc, XS_WRITE, 0, "/launch/name\0web", 16, buf, &len), 0);
	ck_assert_uint_eq(len, 3);
	ck_assert_int_eq(memcmp(buf, "OK", 3), 0);
	len = sizeof(buf);
	ck_assert_int_eq(xs_call(svc, XS_WATCH, 0, "/launch\0t", 10, buf, &len), 0);
	len = sizeof(buf);
	ck_assert_int_eq(xs_call(svc, XS_READ, 0, "/launch/name", 13, buf, &len), 0);
	ck_assert_uint_eq(len, 3);
	ck_assert_int_eq(memcmp(buf, "web", 3), 0);
	/* a reply longer than the buffer: truncated copy, full length */
	len = 2;
	ck_assert_int_eq(xs_call(svc, XS_READ, 0, "/launch/name", 13, buf, &len), 0);
	ck_assert_uint_eq(len, 3);
	len = sizeof(buf);
	ck_assert_int_eq(xs_call(svc, XS_READ, 0, "/nope", 6, buf, &len), -ENOENT);
	ck_assert_int_eq(xs_call(svc, XS_RM, 0, "/", 2, buf, &len), -EINVAL);
	/* the watch's registration event is still queued, alone */
	expect_events(svc, 1, "/launch t");
	ck_assert(!xs_conn_output_pending(svc));
	/* and events keep flowing after calls */
	len = sizeof(buf);
	ck_assert_int_eq(xs_call(svc, XS_WRITE, 0, "/launch/x\0" "1", 11, buf, &len), 0);
	expect_events(svc, 1, "/launch/x t");
	store_free(s);
}
END_TEST

/* ---- the ring transport ------------------------------------------------------------- */

/* The guest's side: put a request into req at req_prod. */
static void guest_put(struct xenstore_domain_interface *r, u32 type, u32 req_id, const void *p,
		      u32 len)
{
	struct xsd_sockmsg h = { .type = type, .req_id = req_id, .len = len };
	u8 m[sizeof(h) + 256];

	memcpy(m, &h, sizeof(h));
	memcpy(m + sizeof(h), p, len);
	for (u32 i = 0; i < sizeof(h) + len; i++)
		r->req[MASK_XENSTORE_IDX(r->req_prod + i)] = (char)m[i];
	r->req_prod += (u32)sizeof(h) + len;
}

/* The guest's side: take one whole message from rsp (false if none). */
static bool guest_get(struct xenstore_domain_interface *r, struct xsd_sockmsg *h, char *body)
{
	u8 m[sizeof(*h) + XENSTORE_PAYLOAD_MAX];
	u32 avail = r->rsp_prod - r->rsp_cons;

	if (avail < sizeof(*h))
		return false;
	for (u32 i = 0; i < sizeof(*h); i++)
		m[i] = (u8)r->rsp[MASK_XENSTORE_IDX(r->rsp_cons + i)];
	memcpy(h, m, sizeof(*h));
	if (avail < sizeof(*h) + h->len)
		return false;
	for (u32 i = 0; i < h->len; i++)
		body[i] = r->rsp[MASK_XENSTORE_IDX(r->rsp_cons + (u32)sizeof(*h) + i)];
	body[h->len] = '\0';
	r->rsp_cons += (u32)sizeof(*h) + h->len;
	return true;
}

START_TEST(ring_requests_and_replies_cross_the_wrap)
{
	struct xs_store *s = store_new(NULL);
	struct xs_conn *d0 = conn(s, 0, 0, true);
	struct xs_conn *d3 = conn(s, 1, 3, false);
	static struct xenstore_domain_interface r;
	struct xsd_sockmsg h;
	char body[XENSTORE_PAYLOAD_MAX + 1];

	memset(&r, 0, sizeof(r));
	/* free-running indices near the end of the ring and of u32 */
	r.req_cons = r.req_prod = 0xfffffff0u;
	r.rsp_cons = r.rsp_prod = 0xfffffff8u;
	xs_ring_init(&r);
	ck_assert_uint_eq(r.server_features, XENSTORE_SERVER_FEATURE_ERROR);
	rq(d0, XS_MKDIR, 0, S("/local/domain/3"));
	rq(d0, XS_SET_PERMS, 0, S("/local/domain/3\0n3"));
	rq(d0, XS_WRITE, 0, V("/local/domain/3/name\0guest-three"));
	guest_put(&r, XS_READ, 1, "name", 5);
	guest_put(&r, XS_WRITE, 2, "/x\0y", 4);
	ck_assert_int_eq(xs_ring_pump(&r, d3), 1);
	ck_assert_uint_eq(r.req_cons, r.req_prod);
	ck_assert(guest_get(&r, &h, body));
	ck_assert_uint_eq(h.req_id, 1);
	ck_assert_str_eq(body, "guest-three");
	ck_assert(guest_get(&r, &h, body));
	ck_assert_uint_eq(h.type, XS_ERROR); /* "/" is not its to write */
	ck_assert_str_eq(body, "EACCES");
	ck_assert(!guest_get(&r, &h, body));
	ck_assert_int_eq(xs_ring_pump(&r, d3), 0); /* nothing more to move */
	store_free(s);
}
END_TEST

START_TEST(ring_full_reply_side_waits_for_the_guest)
{
	struct xs_store *s = store_new(NULL);
	struct xs_conn *d3 = conn(s, 0, 3, false);
	static struct xenstore_domain_interface r;
	struct xsd_sockmsg h;
	char body[XENSTORE_PAYLOAD_MAX + 1];
	int got = 0, sent = 0;

	memset(&r, 0, sizeof(r));
	xs_ring_init(&r);
	/* 500 requests, more than both rings hold; the guest reads slowly */
	while (got < 500) {
		while (sent < 500 && XENSTORE_RING_SIZE - (r.req_prod - r.req_cons) >= 18) {
			guest_put(&r, XS_GET_DOMAIN_PATH, (u32)sent, "3", 2);
			sent++;
		}
		ck_assert_int_ge(xs_ring_pump(&r, d3), 0);
		ck_assert_uint_le(r.rsp_prod - r.rsp_cons, XENSTORE_RING_SIZE);
		for (int k = 0; k < 3 && guest_get(&r, &h, body); k++, got++) {
			ck_assert_uint_eq(h.req_id, (u32)got);
			ck_assert_str_eq(body, "/local/domain/3");
		}
	}
	store_free(s);
}
END_TEST

START_TEST(ring_bad_indices_or_length_break_the_connection)
{
	struct xs_store *s = store_new(NULL);
	struct xs_conn *d3 = conn(s, 0, 3, false);
	static struct xenstore_domain_interface r;

	memset(&r, 0, sizeof(r));
	xs_ring_init(&r);
	r.req_prod = XENSTORE_RING_SIZE + 1; /* more in flight than the ring holds */
	ck_assert_int_eq(xs_ring_pump(&r, d3), -EIO);
	ck_assert_uint_eq(r.error, XENSTORE_ERROR_RINGIDX);
	ck_assert_uint_eq(r.req_cons, 0);
	r.req_prod = 0; /* repairing it does not revive the connection */
	ck_assert_int_eq(xs_ring_pump(&r, d3), -EIO);

	memset(&r, 0, sizeof(r));
	xs_ring_init(&r);
	r.rsp_cons = 5; /* the guest consumed replies that were never produced */
	ck_assert_int_eq(xs_ring_pump(&r, d3), -EIO);
	ck_assert_uint_eq(r.error, XENSTORE_ERROR_RINGIDX);

	struct xs_conn *d4 = conn(s, 1, 4, false);
	struct xsd_sockmsg h = { .type = XS_READ, .len = XENSTORE_PAYLOAD_MAX + 1 };
	memset(&r, 0, sizeof(r));
	xs_ring_init(&r);
	memcpy(r.req, &h, sizeof(h));
	r.req_prod = sizeof(h);
	ck_assert_int_eq(xs_ring_pump(&r, d4), -EIO);
	ck_assert_uint_eq(r.error, XENSTORE_ERROR_PROTO);
	store_free(s);
}
END_TEST

const struct unit_case unit_cases[] = {
	{ "xenstore-tree-write-creates-parents-and-reads-back", &tree_write_creates_parents_and_reads_back_ttest },
	{ "xenstore-tree-mkdir-keeps-existing-value", &tree_mkdir_keeps_existing_value_ttest },
	{ "xenstore-tree-rm-is-recursive", &tree_rm_is_recursive_ttest },
	{ "xenstore-tree-directory-lists-children-in-creation-order", &tree_directory_lists_children_in_creation_order_ttest },
	{ "xenstore-tree-directory-too-long-is-e2big", &tree_directory_too_long_is_e2big_ttest },
	{ "xenstore-path-rules-follow-the-spec", &path_rules_follow_the_spec_ttest },
	{ "xenstore-perms-parse-and-format-round-trip", &perms_parse_and_format_round_trip_ttest },
	{ "xenstore-perms-owner-and-dom0-always-have-full-access", &perms_owner_and_dom0_always_have_full_access_ttest },
	{ "xenstore-perms-domu-is-refused-other-domains-nodes", &perms_domu_is_refused_other_domains_nodes_ttest },
	{ "xenstore-perms-inherited-on-create-and-creator-owns", &perms_inherited_on_create_and_creator_owns_ttest },
	{ "xenstore-watch-fires-once-on-registration", &watch_fires_once_on_registration_ttest },
	{ "xenstore-watch-fires-for-changes-at-or-below-its-path", &watch_fires_for_changes_at_or_below_its_path_ttest },
	{ "xenstore-watch-relative-path-gives-relative-events", &watch_relative_path_gives_relative_events_ttest },
	{ "xenstore-watch-special-paths-fire-on-introduce-and-release", &watch_special_paths_fire_on_introduce_and_release_ttest },
	{ "xenstore-watch-events-need-read-permission", &watch_events_need_read_permission_ttest },
	{ "xenstore-watch-reset-watches-drops-watches-and-transactions", &watch_reset_watches_drops_watches_and_transactions_ttest },
	{ "xenstore-tx-commit-applies-changes-and-fires-then", &tx_commit_applies_changes_and_fires_then_ttest },
	{ "xenstore-tx-conflict-gets-eagain-and-changes-nothing", &tx_conflict_gets_eagain_and_changes_nothing_ttest },
	{ "xenstore-tx-abort-discards", &tx_abort_discards_ttest },
	{ "xenstore-tx-unrelated-commits-do-not-conflict", &tx_unrelated_commits_do_not_conflict_ttest },
	{ "xenstore-tx-conflicts-on-what-it-looked-at", &tx_conflicts_on_what_it_looked_at_ttest },
	{ "xenstore-tx-remembering-too-much-falls-back-to-the-coarse-rule", &tx_remembering_too_much_falls_back_to_the_coarse_rule_ttest },
	{ "xenstore-tx-copy-is-taken-at-first-write-only", &tx_copy_is_taken_at_first_write_only_ttest },
	{ "xenstore-quota-nodes-enospc-and-rm-gives-back", &quota_nodes_enospc_and_rm_gives_back_ttest },
	{ "xenstore-quota-watches-transactions-value-perms", &quota_watches_transactions_value_perms_ttest },
	{ "xenstore-quota-outstanding-pauses-input-until-output-is-taken", &quota_outstanding_pauses_input_until_output_is_taken_ttest },
	{ "xenstore-quota-events-beyond-the-queue-are-dropped", &quota_events_beyond_the_queue_are_dropped_ttest },
	{ "xenstore-wire-byte-at-a-time-equals-one-burst", &wire_byte_at_a_time_equals_one_burst_ttest },
	{ "xenstore-wire-payload-beyond-max-drops-the-connection", &wire_payload_beyond_max_drops_the_connection_ttest },
	{ "xenstore-wire-bad-requests-get-xen-error-names", &wire_bad_requests_get_xen_error_names_ttest },
	{ "xenstore-wire-args-split-strings", &wire_args_split_strings_ttest },
	{ "xenstore-conn-in-process-request-and-notify", &conn_in_process_request_and_notify_ttest },
	{ "xenstore-conn-xs-call-returns-reply-and-keeps-events", &conn_xs_call_returns_reply_and_keeps_events_ttest },
	{ "xenstore-ring-requests-and-replies-cross-the-wrap", &ring_requests_and_replies_cross_the_wrap_ttest },
	{ "xenstore-ring-full-reply-side-waits-for-the-guest", &ring_full_reply_side_waits_for_the_guest_ttest },
	{ "xenstore-ring-bad-indices-or-length-break-the-connection", &ring_bad_indices_or_length_break_the_connection_ttest },
	{ 0 },
};
