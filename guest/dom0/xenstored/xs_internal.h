/*
 * Internal structures shared by the store's files (not for its users:
 * they see xenstored.h). Each file's functions are declared here with
 * their contracts; the file that implements them says why it works so.
 */
#ifndef XS_INTERNAL_H
#define XS_INTERNAL_H

#include <lib/errno.h>
#include <lib/string.h>
#include "xenstored.h"

#define XS_PRIV_DOMID 0         /* dom0: full access to every node */
#define XS_DOMID_FIRST_RESERVED 0x7ff0 /* DOMID_FIRST_RESERVED (public/xen.h) */
#define XS_PERMS_MAX 16          /* hard bound; the quota is usually lower */

/* ---- permissions (perms.c) ---------------------------------------------- */

#define XS_PERM_NONE 0
#define XS_PERM_READ 1
#define XS_PERM_WRITE 2
#define XS_PERM_BOTH (XS_PERM_READ | XS_PERM_WRITE)
#define XS_PERM_OWNER 4 /* only in xs_perm_for()'s answer */

struct xs_perm {
	u16 domid;
	u8 mode; /* XS_PERM_NONE/READ/WRITE/BOTH */
};

/* p[0] names the owner and, in its mode, what every domain without an
 * entry of its own may do; p[1..n-1] are per-domain entries. n >= 1. */
struct xs_perms {
	u8 n;
	struct xs_perm p[XS_PERMS_MAX];
};

/* Parses `count` strings "r5", "w0", "b12", "n3" (letter, then a decimal
 * domid below XS_DOMID_FIRST_RESERVED) into out. 0 or -EINVAL (bad
 * string, no string, or more than XS_PERMS_MAX). */
int xs_perms_parse(const char *const *strs, unsigned count, struct xs_perms *out);
/* Writes the strings, each NUL-terminated, into buf; returns the bytes
 * (the size needed, even if larger than size). */
size_t xs_perms_format(const struct xs_perms *p, char *buf, size_t size);
/* What domain `domid` may do on a node with these permissions: privileged
 * callers and the owner get XS_PERM_BOTH | XS_PERM_OWNER; a domain with an
 * entry gets its mode; anyone else gets p[0]'s mode. */
unsigned xs_perm_for(const struct xs_perms *p, u16 domid, bool privileged);

/* ---- the node tree (tree.c) ---------------------------------------------- */

struct xs_node {
	struct xs_node *parent, *child, *sibling; /* children kept in creation order */
	char *name;    /* leaf name, NUL-terminated ("" for the root) */
	u8 *value;     /* may be NULL when vlen is 0 */
	u32 vlen;
	u32 gen;       /* changes when value, perms or children change */
	struct xs_perms perms;
};

/* Resolves a client path to an absolute, canonical one in out (size
 * XENSTORE_ABS_PATH_MAX + 1): a relative path is taken relative to
 * /local/domain/<domid>. 0 or -EINVAL (empty, bad characters, "//",
 * trailing "/", too long, or a special "@" path when !allow_special). */
int xs_path_canon(const char *in, u16 domid, bool allow_special, char *out);
/* True when child equals parent or lies below it. */
bool xs_path_is_child(const char *child, const char *parent);

struct xs_node *xs_node_new(struct xs_store *s, const char *name, size_t namelen);
/* Frees n and its whole subtree (no accounting). */
void xs_node_free_tree(struct xs_store *s, struct xs_node *n);
/* Node at absolute path under root, or NULL. */
struct xs_node *xs_node_lookup(struct xs_node *root, const char *path);
/* Deepest existing node on the way to path (root at worst); *missing gets
 * the number of path components below it that do not exist. */
struct xs_node *xs_node_closest(struct xs_node *root, const char *path, unsigned *missing);
/* Replaces a node's value (copy). 0 or -ENOMEM (value unchanged). */
int xs_node_set_value(struct xs_store *s, struct xs_node *n, const void *v, u32 len);
/* Deep copy of a subtree, or NULL when out of memory. */
struct xs_node *xs_node_clone(struct xs_store *s, const struct xs_node *n, struct xs_node *parent);
/* Unlinks n from its parent. */
void xs_node_unlink(struct xs_node *n);
/* Calls fn on every node of the subtree, parents before children. */
void xs_node_walk(struct xs_node *n, void (*fn)(struct xs_node *n, void *arg), void *arg);

/* ---- domains and quotas (quota.c) ------------------------------------------ */

struct xs_domain {
	struct xs_domain *next;
	u16 domid;
	bool introduced;
	bool shutdown; /* @releaseDomain already fired for its shutdown */
	u64 mfn;
	u32 port;
	u32 nodes;   /* nodes it owns in the committed tree */
	u32 watches; /* over all its connections */
};

/* The record for domid, created on first use; NULL only when out of memory. */
struct xs_domain *xs_domain_get(struct xs_store *s, u16 domid);
struct xs_domain *xs_domain_find(const struct xs_store *s, u16 domid);
/* Recounts every domain's owned nodes from the committed tree (after a
 * transaction replaced it). */
void xs_domain_recount(struct xs_store *s);
/* Accounting of one committed node gaining (+1) or losing (-1) an owner. */
void xs_domain_own(struct xs_store *s, u16 domid, int delta);
/* 0 if a connection may own `extra` more nodes (its own count plus what
 * its transaction already added), else -ENOSPC. Privileged: always 0. */
int xs_quota_nodes(struct xs_conn *c, int tx_delta, unsigned extra);

/* ---- connections and output (conn.c) ---------------------------------------- */

struct xs_msg {
	struct xs_msg *next;
	bool event;
	u32 size; /* header + payload */
	u8 data[];
};

struct xs_watch;
struct xs_tx;

/* Reassembly of one message from a byte stream (wire.c). */
struct xs_wire_in {
	u32 have; /* bytes in buf */
	u8 buf[sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX];
};

struct xs_conn {
	struct xs_conn *next;
	struct xs_store *store;
	u16 domid;
	bool privileged;
	void (*notify)(struct xs_conn *c, void *ctx);
	void *ctx;
	struct xs_wire_in in;
	struct xs_msg *out_head, *out_tail;
	u32 out_off;      /* bytes of out_head already taken */
	u32 out_replies;  /* replies queued */
	u32 out_events;   /* watch events queued */
	u32 events_dropped;
	struct xs_watch *watches;
	struct xs_tx *txs;
	u32 nr_tx;
	u32 next_txid;
};

/* Queues a reply of `type` to request hdr (req_id and tx_id echoed) with
 * the given payload parts concatenated. 0 or -ENOMEM. */
int xs_reply(struct xs_conn *c, const struct xsd_sockmsg *hdr, u32 type,
	     const void *p1, u32 l1, const void *p2, u32 l2);
/* Queues an XS_ERROR reply carrying err's name (err < 0). */
void xs_reply_error(struct xs_conn *c, const struct xsd_sockmsg *hdr, int err);
/* The wire name of a negative errno ("EINVAL" for any the table lacks). */
const char *xs_error_name(int err);
/* Queues a watch event "<path>\0<token>\0"; dropped (and counted) when the
 * connection's event queue is full. */
void xs_queue_event(struct xs_conn *c, const char *path, const char *token);

/* ---- the wire parser (wire.c) ------------------------------------------------ */

/* Takes bytes from buf into w until one message is complete. Returns the
 * bytes taken; *done is set when w->buf then holds a whole message
 * (header + hdr.len payload). -EIO when the header's len exceeds
 * XENSTORE_PAYLOAD_MAX. After a message, the caller resets w->have = 0. */
long xs_wire_take(struct xs_wire_in *w, const u8 *buf, size_t len, bool *done);

/* Splits a payload into NUL-terminated strings: the first `want` strings
 * go to argv. Returns the number found (<= want); *rest and *restlen (may be
 * NULL) get the bytes after the last string taken. A final string without
 * its NUL does not count. */
unsigned xs_wire_args(const u8 *payload, u32 len, const char **argv, unsigned want,
		      const u8 **rest, u32 *restlen);
/* Parses a decimal number (digits only, no sign, no junk) up to max.
 * 0 or -EINVAL. */
int xs_parse_uint(const char *s, u64 max, u64 *out);

/* ---- watches (watch.c) ------------------------------------------------------- */

/* Registers a watch (path as the client sent it). 0, -EINVAL (bad path),
 * -EEXIST (same path and token), -E2BIG (quota), -ENOMEM. The caller
 * replies, then queues the registration event (xs_queue_event with the
 * path as sent), so that the event follows the reply. */
int xs_watch_add(struct xs_conn *c, const char *path, const char *token);
/* 0 or -ENOENT / -EINVAL. */
int xs_watch_remove(struct xs_conn *c, const char *path, const char *token);
void xs_watch_remove_all(struct xs_conn *c);
/* Watches the connection holds. */
u32 xs_watch_count(const struct xs_conn *c);
/* A committed change at `path` (absolute, or a special "@..." name):
 * every watch at or above it (and, when removed, every watch below it)
 * whose connection may read a node with `perms` gets an event. */
void xs_watch_fire(struct xs_store *s, const char *path, bool removed,
		   const struct xs_perms *perms);

/* ---- transactions (transaction.c) --------------------------------------------- */

/* A change made inside a transaction: replayed (if need be) and fired
 * when it commits. path[] is followed by the vlen bytes of a WRITE's value. */
struct xs_change {
	struct xs_change *next;
	u32 op;          /* XS_WRITE, XS_MKDIR, XS_RM, XS_SET_PERMS */
	bool removed;
	struct xs_perms perms; /* the node's after the change (SET_PERMS: the new list) */
	u32 vlen;
	char path[];
};

struct xs_access;

struct xs_tx {
	struct xs_tx *next;
	u32 id;
	u32 base_gen;         /* the store's commit generation when it started */
	u32 clone_commit_gen; /* ... when its copy was taken */
	u32 clone_node_gen;   /* the last node generation in use then */
	int node_delta;       /* nodes it added for its own domain (quota) */
	struct xs_node *root;     /* its copy, taken at its first write (NULL before) */
	struct xs_change *changes, *changes_tail;
	struct xs_access *accesses; /* paths it looked at (transaction.c) */
	u32 access_bytes;
	bool coarse;          /* too many to remember: any commit conflicts */
};

/* Starts a transaction. Returns its id in *id. 0, -ENOSPC (quota),
 * -ENOMEM. */
int xs_tx_start(struct xs_conn *c, u32 *id);
/* Before a transaction's first change: gives it its private copy of the
 * tree. 0 or -ENOMEM. */
int xs_tx_prepare_write(struct xs_store *s, struct xs_tx *tx);
struct xs_tx *xs_tx_find(struct xs_conn *c, u32 id);
/* Ends a transaction: commit (0, or -EAGAIN if anything was committed
 * since it started: then nothing of it is applied) or abort (0). */
int xs_tx_end(struct xs_conn *c, struct xs_tx *tx, bool commit);
void xs_tx_end_all(struct xs_conn *c);
/* Records a change for replay and firing at commit. -ENOMEM. */
int xs_tx_record(struct xs_store *s, struct xs_tx *tx, u32 op, const char *path, bool removed,
		 const struct xs_perms *perms, const void *value, u32 vlen);
/* Remembers that the transaction looked at path (in the tree `root` it
 * reads): the node's generation, or its absence and its closest existing
 * ancestor. Never fails (it falls back to coarse conflict detection). */
void xs_tx_access(struct xs_store *s, struct xs_tx *tx, struct xs_node *root, const char *path);

/* ---- operations on a tree (ops.c): the context of one request --------------- */

struct xs_ctx {
	struct xs_conn *conn;
	struct xs_tx *tx;    /* NULL: the committed tree */
	struct xs_node *root;
	bool replay;         /* a commit replaying changes: no quota, no events, no accounting */
};

/* A change just made through ctx: fired now, or recorded in the
 * transaction (op and value for the replay). Returns 0 or -ENOMEM
 * (transaction only). */
int xs_changed(struct xs_ctx *x, u32 op, const char *path, bool removed,
	       const struct xs_perms *perms, const void *value, u32 vlen);

int xs_op_read(struct xs_ctx *x, const char *path, struct xs_node **out);
int xs_op_write(struct xs_ctx *x, const char *path, const void *v, u32 len);
int xs_op_mkdir(struct xs_ctx *x, const char *path);
int xs_op_rm(struct xs_ctx *x, const char *path);
int xs_op_set_perms(struct xs_ctx *x, const char *path, const struct xs_perms *p);

/* ---- the store --------------------------------------------------------------- */

struct xs_store {
	struct xs_alloc a;
	struct xs_quota quota;
	struct xs_hooks hooks;
	struct xs_node *root;      /* the committed tree */
	u32 commit_gen;            /* bumped by every committed change */
	u32 node_gen;              /* source of xs_node.gen values */
	struct xs_domain *domains;
	struct xs_conn *conns;
};

void *xs_alloc(struct xs_store *s, size_t size);
void xs_free(struct xs_store *s, void *p, size_t size);
/* Copy of a string in store memory (free with xs_free(s, p, strlen(p)+1)). */
char *xs_strdup(struct xs_store *s, const char *str);

/* The request dispatcher (dispatch.c): handles one complete message. */
void xs_dispatch(struct xs_conn *c, const struct xsd_sockmsg *hdr, const u8 *payload);

#endif
