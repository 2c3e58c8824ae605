/*
 * Transactions (docs/misc/xenstore.txt "TRANSACTION_START/END"). A
 * transaction that writes works on its own copy of the whole tree, as the
 * spec describes; its changes become visible, and its watches fire, only
 * when it commits. The copy is taken at its first write, not at START:
 * until then its reads see the committed tree, which is the snapshot as
 * long as nothing was committed -- and once something was, the
 * transaction can only end in EAGAIN, so what it read no longer matters.
 * Read-only transactions (and a domain's idle ones) thus cost no copy. Conflicts are detected the way the spec's text states them:
 * if anything was committed since the transaction started, its commit
 * fails with EAGAIN and the client retries. (Finer-grained detection,
 * only for paths the transaction touched, would cut retries under load;
 * docs/xenstore.md lists it as future work.)
 */
#include "xs_internal.h"

static void changes_free(struct xs_store *s, struct xs_tx *tx)
{
	while (tx->changes) {
		struct xs_change *ch = tx->changes;

		tx->changes = ch->next;
		xs_free(s, ch, sizeof(*ch) + strlen(ch->path) + 1);
	}
	tx->changes_tail = NULL;
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
	return tx->root ? 0 : -ENOMEM;
}

struct xs_tx *xs_tx_find(struct xs_conn *c, u32 id)
{
	for (struct xs_tx *tx = c->txs; tx; tx = tx->next)
		if (tx->id == id)
			return tx;
	return NULL;
}

int xs_tx_record(struct xs_store *s, struct xs_tx *tx, const char *path, bool removed,
		 const struct xs_perms *perms)
{
	size_t len = strlen(path) + 1;
	struct xs_change *ch = xs_alloc(s, sizeof(*ch) + len);

	if (!ch)
		return -ENOMEM;
	ch->next = NULL;
	ch->removed = removed;
	ch->perms = *perms;
	memcpy(ch->path, path, len);
	if (tx->changes_tail)
		tx->changes_tail->next = ch;
	else
		tx->changes = ch;
	tx->changes_tail = ch;
	return 0;
}

int xs_tx_end(struct xs_conn *c, struct xs_tx *tx, bool commit)
{
	struct xs_store *s = c->store;

	if (!commit) {
		tx_free(c, tx);
		return 0;
	}
	if (tx->base_gen != s->commit_gen) {
		tx_free(c, tx);
		return -EAGAIN;
	}
	if (tx->changes) {
		struct xs_node *old = s->root;

		s->root = tx->root;
		tx->root = NULL;
		xs_node_free_tree(s, old);
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
