/*
 * The tree operations behind READ, WRITE, MKDIR, RM and SET_PERMS, on the
 * committed tree or a transaction's copy, with the permission and quota
 * checks of cxenstored:
 *  - reading needs READ on the node; a missing node answers ENOENT only if
 *    its closest existing ancestor is readable, else EACCES (so a domain
 *    cannot probe for nodes it may not see);
 *  - changing a node needs WRITE on it; creating one needs WRITE on the
 *    closest existing ancestor;
 *  - a new node inherits its parent's permissions; when an unprivileged
 *    domain creates it, that domain becomes its owner ("domains own what
 *    they create");
 *  - only the owner (or the privileged domain) may set permissions, and
 *    an unprivileged owner may not give the node away.
 */
#include "xs_internal.h"

static int read_denied(struct xs_ctx *x, const struct xs_perms *p)
{
	return (xs_perm_for(p, x->conn->domid, x->conn->privileged) & XS_PERM_READ) ? 0 : -EACCES;
}

static int write_denied(struct xs_ctx *x, const struct xs_perms *p)
{
	return (xs_perm_for(p, x->conn->domid, x->conn->privileged) & XS_PERM_WRITE) ? 0 : -EACCES;
}

/* Accounting for a node created or removed in this context: the committed
 * tree keeps exact per-owner counts; a transaction counts what it adds for
 * its own domain and the commit recounts everything. */
static void account(struct xs_ctx *x, u16 owner, int delta)
{
	if (x->replay)
		return; /* the commit recounts */
	if (!x->tx)
		xs_domain_own(x->conn->store, owner, delta);
	else if (owner == x->conn->domid)
		x->tx->node_delta += delta;
}

int xs_changed(struct xs_ctx *x, u32 op, const char *path, bool removed,
	       const struct xs_perms *perms, const void *value, u32 vlen)
{
	if (x->replay)
		return 0; /* recorded already; fired after the commit */
	if (x->tx)
		return xs_tx_record(x->conn->store, x->tx, op, path, removed, perms, value, vlen);
	x->conn->store->commit_gen++;
	xs_watch_fire(x->conn->store, path, removed, perms);
	return 0;
}

/* Inside a transaction: remember what this request looks at. */
static void look(struct xs_ctx *x, const char *path)
{
	if (x->tx)
		xs_tx_access(x->conn->store, x->tx, x->root, path);
}

int xs_op_read(struct xs_ctx *x, const char *path, struct xs_node **out)
{
	unsigned missing;
	struct xs_node *n;
	int err;

	look(x, path);
	n = xs_node_closest(x->root, path, &missing);
	err = read_denied(x, &n->perms);
	if (err)
		return err;
	if (missing)
		return -ENOENT;
	*out = n;
	return 0;
}

/* Creates the missing part of path below its closest existing ancestor.
 * All or nothing: on failure nothing is left behind. */
static int create(struct xs_ctx *x, const char *path, struct xs_node **out)
{
	struct xs_store *s = x->conn->store;
	unsigned missing;
	struct xs_node *n = xs_node_closest(x->root, path, &missing);
	struct xs_node *top = NULL, *at = n;
	int err = write_denied(x, &n->perms);

	if (err)
		return err;
	if (!x->replay) {
		err = xs_quota_nodes(x->conn, x->tx ? x->tx->node_delta : 0, missing);
		if (err)
			return err;
	}

	/* skip the components that exist */
	const char *p = path + 1;

	for (struct xs_node *k = n; k != x->root; k = k->parent)
		p = strchr(p, '/') + 1;
	if (n == x->root && path[1] == '\0')
		return -EEXIST; /* "/" always exists; callers look it up first */

	struct xs_perms perms = n->perms;

	if (!x->conn->privileged)
		perms.p[0].domid = x->conn->domid;
	for (unsigned i = 0; i < missing; i++) {
		const char *end = strchr(p, '/');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		struct xs_node *c = xs_node_new(s, p, len);

		if (!c) {
			if (top) {
				xs_node_unlink(top);
				xs_node_free_tree(s, top);
			}
			return -ENOMEM;
		}
		c->perms = perms;
		c->parent = at;
		/* append: DIRECTORY lists children in creation order */
		struct xs_node **tail = &at->child;

		while (*tail)
			tail = &(*tail)->sibling;
		*tail = c;
		if (!top)
			top = c;
		at = c;
		p += len + 1;
	}
	n->gen = ++s->node_gen;
	for (unsigned i = 0; i < missing; i++)
		account(x, perms.p[0].domid, 1);
	*out = at;
	return 0;
}

int xs_op_write(struct xs_ctx *x, const char *path, const void *v, u32 len)
{
	struct xs_store *s = x->conn->store;
	struct xs_node *n;
	bool created = false;
	int err;

	look(x, path);
	n = xs_node_lookup(x->root, path);

	if (!x->conn->privileged && len > s->quota.value_size)
		return -ENOSPC;
	if (n) {
		err = write_denied(x, &n->perms);
		if (err)
			return err;
	} else {
		err = create(x, path, &n);
		if (err)
			return err;
		created = true;
	}
	err = xs_node_set_value(s, n, v, len);
	if (err) {
		if (created)
			xs_op_rm(x, path); /* undo: no half-made nodes */
		return err;
	}
	return xs_changed(x, XS_WRITE, path, false, &n->perms, v, len);
}

int xs_op_mkdir(struct xs_ctx *x, const char *path)
{
	struct xs_node *n;
	int err;

	look(x, path);
	n = xs_node_lookup(x->root, path);
	if (n)
		return 0; /* exists: left unchanged, no event */
	err = create(x, path, &n);
	if (err)
		return err;
	return xs_changed(x, XS_MKDIR, path, false, &n->perms, NULL, 0);
}

/* The last '/' of an absolute path (Keel's libc has no strrchr). */
static const char *strrchr_slash(const char *path)
{
	const char *last = path;

	for (const char *p = path; *p; p++)
		if (*p == '/')
			last = p;
	return last;
}

struct unaccount {
	struct xs_ctx *x;
};

static void unaccount_one(struct xs_node *n, void *arg)
{
	account(((struct unaccount *)arg)->x, n->perms.p[0].domid, -1);
}

int xs_op_rm(struct xs_ctx *x, const char *path)
{
	struct xs_store *s = x->conn->store;
	unsigned missing;
	struct xs_node *n = xs_node_closest(x->root, path, &missing);
	struct xs_perms perms;
	struct unaccount u = { x };
	int err;

	if (!missing && n != x->root && x->tx) {
		/* the parent's list of children changes too */
		char parent[XENSTORE_ABS_PATH_MAX + 1];
		size_t plen = (size_t)(strrchr_slash(path) - path);

		memcpy(parent, path, plen ? plen : 1);
		parent[plen ? plen : 1] = '\0';
		look(x, parent);
	}
	look(x, path);
	if (missing) {
		/* not there: fine if its parent exists (docs/misc/xenstore.txt) */
		err = read_denied(x, &n->perms);
		if (err)
			return err;
		return missing == 1 ? 0 : -ENOENT;
	}
	if (n == x->root)
		return -EINVAL; /* the root is never removed */
	err = write_denied(x, &n->perms);
	if (err)
		return err;
	perms = n->perms;
	xs_node_walk(n, unaccount_one, &u);
	struct xs_node *parent = n->parent;

	xs_node_unlink(n);
	parent->gen = ++s->node_gen;
	xs_node_free_tree(s, n);
	return xs_changed(x, XS_RM, path, true, &perms, NULL, 0);
}

int xs_op_set_perms(struct xs_ctx *x, const char *path, const struct xs_perms *p)
{
	struct xs_store *s = x->conn->store;
	struct xs_node *n;

	look(x, path);
	n = xs_node_lookup(x->root, path);

	if (p->n > s->quota.perms && !x->conn->privileged)
		return -ENOSPC;
	if (!n) {
		struct xs_node *dummy;
		int err = xs_op_read(x, path, &dummy);

		return err ? err : -ENOENT;
	}
	if (!(xs_perm_for(&n->perms, x->conn->domid, x->conn->privileged) & XS_PERM_OWNER))
		return -EACCES;
	/* Xen answers EPERM here, a name clients do not know (they see
	 * EINVAL); Keel says EACCES, which they do. */
	if (!x->conn->privileged && p->p[0].domid != n->perms.p[0].domid)
		return -EACCES;
	if (p->p[0].domid != n->perms.p[0].domid) {
		account(x, n->perms.p[0].domid, -1);
		account(x, p->p[0].domid, 1);
	}
	n->perms = *p;
	n->gen = ++s->node_gen;
	return xs_changed(x, XS_SET_PERMS, path, false, &n->perms, NULL, 0);
}
