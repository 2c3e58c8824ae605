/*
 * Transactions (docs/misc/xenstore.txt "TRANSACTION_START/END").
 *
 * A transaction that writes works on its own copy of the tree; its changes
 * become visible, and its watches fire, only when it commits. The copy is
 * taken at its first write, not at START, so read-only and idle
 * transactions cost no copy.
 *
 * Conflicts are found per node, as cxenstored does: the transaction
 * remembers every path it looked at (read, listed, wrote, created,
 * removed -- and, for a path that did not exist, its closest existing
 * ancestor) with the node's generation when it first looked, or "absent".
 * Every change to a node's value, permissions or list of children gives
 * it a new generation. At commit, if each remembered path still has the
 * same generation (or is still absent) in the committed tree, everything
 * the transaction saw is still true, so applying its changes now is the
 * same as having run it now: it commits. Otherwise EAGAIN, and the client
 * retries. Other domains' unrelated writes therefore never make a
 * transaction fail; with one global "anything committed?" rule a domain
 * writing in a loop would starve every other domain's transactions.
 *
 * Applying: if nothing was committed since the copy was taken, the copy
 * becomes the tree. Otherwise the transaction's changes are replayed, in
 * order, on a fresh copy of the committed tree (with the same permission
 * checks, which see the same nodes), and that copy becomes the tree --
 * all or nothing: if a replayed change fails, nothing is applied and the
 * answer is EAGAIN.
 *
 * The remembered paths are bounded (XS_TX_ACCESS_BYTES); a transaction
 * that looks at more falls back to the coarse rule: it commits only if
 * nothing at all was committed since it started.
 */
#include "xs_internal.h"

#define XS_TX_ACCESS_BYTES 16384

struct xs_access {
	struct xs_access *next;
	u32 gen; /* 0: the path did not exist */
	char path[];
};

static void changes_free(struct xs_store *s, struct xs_tx *tx)
{
	while (tx->changes) {
		struct xs_change *ch = tx->changes;

		tx->changes = ch->next;
		xs_free(s, ch, sizeof(*ch) + strlen(ch->path) + 1 + ch->vlen);
	}
	tx->changes_tail = NULL;
	while (tx->accesses) {
		struct xs_access *a = tx->accesses;

		tx->accesses = a->next;
		xs_free(s, a, sizeof(*a) + strlen(a->path) + 1);
	}
}

static void tx_free(struct xs_conn *c, struct xs_tx *tx)
{
	struct xs_tx **pp = &c->txs;

	while (*pp != tx)
		pp = &(*pp)->next;
	*pp = tx->next;
	c->nr_tx--;
	changes_free(c->store, tx);
	if (tx->root)
		xs_node_free_tree(c->store, tx->root);
	xs_free(c->store, tx, sizeof(*tx));
}

int xs_tx_start(struct xs_conn *c, u32 *id)
{
	struct xs_store *s = c->store;
	struct xs_tx *tx;

	if (!c->privileged && c->nr_tx >= s->quota.transactions)
		return -ENOSPC;
	tx = xs_alloc(s, sizeof(*tx));
	if (!tx)
		return -ENOMEM;
	memset(tx, 0, sizeof(*tx));
	tx->base_gen = s->commit_gen;
	/* ids are never 0 (0 means "no transaction") and not reused soon */
	do {
		tx->id = c->next_txid++;
	} while (tx->id == 0 || xs_tx_find(c, tx->id));
	tx->next = c->txs;
	c->txs = tx;
	c->nr_tx++;
	*id = tx->id;
	return 0;
}

int xs_tx_prepare_write(struct xs_store *s, struct xs_tx *tx)
{
	if (tx->root)
		return 0;
	tx->root = xs_node_clone(s, s->root, NULL);
	if (!tx->root)
		return -ENOMEM;
	/* every node made or changed in the copy from now on has a larger
	 * generation: that is how the transaction's own work is told apart */
	tx->clone_node_gen = s->node_gen;
	tx->clone_commit_gen = s->commit_gen;
	return 0;
}

struct xs_tx *xs_tx_find(struct xs_conn *c, u32 id)
{
	for (struct xs_tx *tx = c->txs; tx; tx = tx->next)
		if (tx->id == id)
			return tx;
	return NULL;
}

/* Remembers path[0..len) with generation gen, unless already remembered
 * (the first look is the one that counts). */
static void remember(struct xs_store *s, struct xs_tx *tx, const char *path, size_t len, u32 gen)
{
	struct xs_access *a;

	if (tx->coarse)
		return;
	for (a = tx->accesses; a; a = a->next)
		if (strncmp(a->path, path, len) == 0 && a->path[len] == '\0')
			return;
	if (tx->access_bytes + len + 1 > XS_TX_ACCESS_BYTES) {
		tx->coarse = true;
		return;
	}
	a = xs_alloc(s, sizeof(*a) + len + 1);
	if (!a) {
		tx->coarse = true; /* still correct, only coarser */
		return;
	}
	a->gen = gen;
	memcpy(a->path, path, len);
	a->path[len] = '\0';
	a->next = tx->accesses;
	tx->accesses = a;
	tx->access_bytes += (u32)len + 1;
}

/* A node the transaction made or changed itself is not remembered: what
 * it was before is covered by the look that preceded the change. */
static bool own_work(const struct xs_tx *tx, const struct xs_node *n)
{
	return tx->root && n->gen > tx->clone_node_gen;
}

void xs_tx_access(struct xs_store *s, struct xs_tx *tx, struct xs_node *root, const char *path)
{
	unsigned missing;
	struct xs_node *n = xs_node_closest(root, path, &missing);

	if (!missing) {
		if (!own_work(tx, n))
			remember(s, tx, path, strlen(path), n->gen);
		return;
	}
	remember(s, tx, path, strlen(path), 0);
	/* and the closest existing ancestor: its children decide whether
	 * the path can appear */
	if (own_work(tx, n))
		return;
	size_t len = 0;
	unsigned depth = 0;

	for (const struct xs_node *k = n; k->parent; k = k->parent)
		depth++;
	for (unsigned i = 0; i < depth; i++)
		len = (size_t)(strchr(path + len + 1, '/') - path);
	remember(s, tx, path, depth ? len : 1, n->gen);
}

int xs_tx_record(struct xs_store *s, struct xs_tx *tx, u32 op, const char *path, bool removed,
		 const struct xs_perms *perms, const void *value, u32 vlen)
{
	size_t len = strlen(path) + 1;
	struct xs_change *ch = xs_alloc(s, sizeof(*ch) + len + vlen);

	if (!ch)
		return -ENOMEM;
	ch->next = NULL;
	ch->op = op;
	ch->removed = removed;
	ch->perms = *perms;
	ch->vlen = vlen;
	memcpy(ch->path, path, len);
	if (vlen)
		memcpy(ch->path + len, value, vlen);
	if (tx->changes_tail)
		tx->changes_tail->next = ch;
	else
		tx->changes = ch;
	tx->changes_tail = ch;
	return 0;
}

/* Does everything the transaction looked at still look the same? */
static bool still_valid(const struct xs_store *s, const struct xs_tx *tx)
{
	if (tx->coarse)
		return tx->base_gen == s->commit_gen;
	for (const struct xs_access *a = tx->accesses; a; a = a->next) {
		const struct xs_node *n = xs_node_lookup(s->root, a->path);

		if (n ? n->gen != a->gen : a->gen != 0)
			return false;
	}
	return true;
}

/* Replays the transaction's changes on a copy of the committed tree.
 * Returns the new tree, or NULL (nothing changed) when a change fails or
 * memory runs out. */
static struct xs_node *replay(struct xs_conn *c, struct xs_tx *tx)
{
	struct xs_store *s = c->store;
	struct xs_ctx x = { .conn = c, .replay = true };
	int err = 0;

	x.root = xs_node_clone(s, s->root, NULL);
	if (!x.root)
		return NULL;
	for (struct xs_change *ch = tx->changes; ch && !err; ch = ch->next) {
		const u8 *value = (const u8 *)ch->path + strlen(ch->path) + 1;

		switch (ch->op) {
		case XS_WRITE: err = xs_op_write(&x, ch->path, value, ch->vlen); break;
		case XS_MKDIR: err = xs_op_mkdir(&x, ch->path); break;
		case XS_RM: err = xs_op_rm(&x, ch->path); break;
		case XS_SET_PERMS: err = xs_op_set_perms(&x, ch->path, &ch->perms); break;
		default: err = -EINVAL; break;
		}
	}
	if (err) {
		xs_node_free_tree(s, x.root);
		return NULL;
	}
	return x.root;
}

struct owned {
	u16 domid;
	u32 count;
};

static void count_owned(struct xs_node *n, void *arg)
{
	struct owned *o = arg;

	if (n->perms.p[0].domid == o->domid)
		o->count++;
}

/* The node quota, checked on the tree a commit would install: each
 * transaction was checked against the committed count when it ran, but
 * several of a domain's transactions replayed one after the other could
 * together exceed it. */
static int quota_after(struct xs_conn *c, struct xs_node *next)
{
	struct owned o = { .domid = c->domid };

	if (c->privileged)
		return 0;
	xs_node_walk(next, count_owned, &o);
	if (o.count > c->store->quota.nodes && o.count > xs_store_nr_owned(c->store, c->domid))
		return -ENOSPC;
	return 0;
}

int xs_tx_end(struct xs_conn *c, struct xs_tx *tx, bool commit)
{
	struct xs_store *s = c->store;
	struct xs_node *next;

	if (!commit) {
		tx_free(c, tx);
		return 0;
	}
	if (!still_valid(s, tx)) {
		tx_free(c, tx);
		return -EAGAIN;
	}
	if (tx->changes) {
		if (s->commit_gen == tx->clone_commit_gen) {
			next = tx->root; /* nothing committed since the copy */
		} else {
			next = replay(c, tx);
			if (!next) {
				tx_free(c, tx);
				return -EAGAIN;
			}
		}
		int err = quota_after(c, next);

		if (err) {
			if (next != tx->root)
				xs_node_free_tree(s, next);
			tx_free(c, tx);
			return err;
		}
		if (next == tx->root)
			tx->root = NULL;
		xs_node_free_tree(s, s->root);
		s->root = next;
		xs_domain_recount(s);
		s->commit_gen++;
		for (struct xs_change *ch = tx->changes; ch; ch = ch->next)
			xs_watch_fire(s, ch->path, ch->removed, &ch->perms);
	}
	tx_free(c, tx);
	return 0;
}

void xs_tx_end_all(struct xs_conn *c)
{
	while (c->txs)
		tx_free(c, c->txs);
}
