/*
 * The request dispatcher: one table indexed by message type
 * (include/public/io/xs_wire.h), each entry saying who may send it and
 * whether it runs inside the transaction named by the header's tx_id.
 * Every handler validates its own arguments (every byte may come from a
 * hostile domain) and returns 0 once it has queued its reply, or a
 * negative errno that becomes an XS_ERROR reply with Xen's name for it.
 */
#include "xs_internal.h"

struct xs_req {
	struct xs_conn *c;
	const struct xsd_sockmsg *h;
	const u8 *payload;
	struct xs_ctx x;
};

struct xs_op {
	int (*handle)(struct xs_req *r);
	const char *name;
	bool priv; /* privileged connections only (EACCES otherwise) */
	bool tx;   /* runs in the transaction named by tx_id */
	bool writes; /* may change the tree (a transaction then needs its copy) */
};

static int reply_ok(struct xs_req *r)
{
	return xs_reply(r->c, r->h, r->h->type, "OK", 3, NULL, 0);
}

/* The first `want` arguments, exactly: -EINVAL if fewer are there. */
static int args(struct xs_req *r, const char **argv, unsigned want)
{
	return xs_wire_args(r->payload, r->h->len, argv, want, NULL, NULL) == want ? 0 : -EINVAL;
}

/* One path argument, canonical. */
static int path_arg(struct xs_req *r, char *abs)
{
	const char *argv[1];
	int err = args(r, argv, 1);

	return err ? err : xs_path_canon(argv[0], r->c->domid, false, abs);
}

static int domid_arg(const char *s, u16 *domid)
{
	u64 v;

	if (xs_parse_uint(s, 0xffff, &v))
		return -EINVAL;
	*domid = (u16)v;
	return 0;
}

static int do_read(struct xs_req *r)
{
	char path[XENSTORE_ABS_PATH_MAX + 1];
	struct xs_node *n;
	int err = path_arg(r, path);

	if (!err)
		err = xs_op_read(&r->x, path, &n);
	return err ? err : xs_reply(r->c, r->h, XS_READ, n->value, n->vlen, NULL, 0);
}

static int do_write(struct xs_req *r)
{
	char path[XENSTORE_ABS_PATH_MAX + 1];
	const char *argv[1];
	const u8 *value;
	u32 vlen;
	int err;

	/* "<path>\0<value>": the value is binary and has no NUL of its own */
	if (xs_wire_args(r->payload, r->h->len, argv, 1, &value, &vlen) != 1)
		return -EINVAL;
	err = xs_path_canon(argv[0], r->c->domid, false, path);
	if (!err)
		err = xs_op_write(&r->x, path, value, vlen);
	return err ? err : reply_ok(r);
}

static int do_mkdir(struct xs_req *r)
{
	char path[XENSTORE_ABS_PATH_MAX + 1];
	int err = path_arg(r, path);

	if (!err)
		err = xs_op_mkdir(&r->x, path);
	return err ? err : reply_ok(r);
}

static int do_rm(struct xs_req *r)
{
	char path[XENSTORE_ABS_PATH_MAX + 1];
	int err = path_arg(r, path);

	if (!err)
		err = xs_op_rm(&r->x, path);
	return err ? err : reply_ok(r);
}

/* The children's names, each with its NUL, into buf; returns the bytes
 * the whole list needs (may exceed size: then buf holds a prefix). */
static size_t list_children(const struct xs_node *n, char *buf, size_t size)
{
	size_t pos = 0;

	for (const struct xs_node *c = n->child; c; c = c->sibling) {
		size_t len = strlen(c->name) + 1;

		if (pos + len <= size)
			memcpy(buf + pos, c->name, len);
		pos += len;
	}
	return pos;
}

static int do_directory(struct xs_req *r)
{
	char path[XENSTORE_ABS_PATH_MAX + 1];
	static char list[XENSTORE_PAYLOAD_MAX];
	struct xs_node *n;
	size_t len;
	int err = path_arg(r, path);

	if (!err)
		err = xs_op_read(&r->x, path, &n);
	if (err)
		return err;
	len = list_children(n, list, sizeof(list));
	/* too long for one reply: the client must use DIRECTORY_PART */
	if (len > XENSTORE_PAYLOAD_MAX)
		return -E2BIG;
	return xs_reply(r->c, r->h, XS_DIRECTORY, list, (u32)len, NULL, 0);
}

/* "<path>\0<offset>\0" -> "<gen>\0" + the names from byte `offset` of the
 * full list, whole names only, and one more "\0" when the list ends
 * (docs/misc/xenstore.txt "DIRECTORY_PART"). */
static int do_directory_part(struct xs_req *r)
{
	char path[XENSTORE_ABS_PATH_MAX + 1];
	static char out[XENSTORE_PAYLOAD_MAX];
	const char *argv[2];
	struct xs_node *n;
	u64 offset;
	size_t pos, skipped = 0;
	int err = args(r, argv, 2);

	if (!err)
		err = xs_path_canon(argv[0], r->c->domid, false, path);
	if (!err)
		err = xs_parse_uint(argv[1], 0xffffffffu, &offset);
	if (!err)
		err = xs_op_read(&r->x, path, &n);
	if (err)
		return err;
	pos = (size_t)snprintf(out, sizeof(out), "%u", (unsigned)n->gen) + 1;
	const struct xs_node *c = n->child;

	for (; c && skipped < offset; c = c->sibling)
		skipped += strlen(c->name) + 1;
	if (skipped != offset && c)
		return -EINVAL; /* the offset is not at a name boundary */
	for (; c; c = c->sibling) {
		size_t len = strlen(c->name) + 1;

		if (pos + len + 1 > sizeof(out))
			break;
		memcpy(out + pos, c->name, len);
		pos += len;
	}
	if (!c)
		out[pos++] = '\0';
	return xs_reply(r->c, r->h, XS_DIRECTORY_PART, out, (u32)pos, NULL, 0);
}

static int do_get_perms(struct xs_req *r)
{
	char path[XENSTORE_ABS_PATH_MAX + 1];
	char buf[XS_PERMS_MAX * 8];
	struct xs_node *n;
	int err = path_arg(r, path);

	if (!err)
		err = xs_op_read(&r->x, path, &n);
	if (err)
		return err;
	size_t len = xs_perms_format(&n->perms, buf, sizeof(buf));

	return xs_reply(r->c, r->h, XS_GET_PERMS, buf, (u32)len, NULL, 0);
}

static int do_set_perms(struct xs_req *r)
{
	char path[XENSTORE_ABS_PATH_MAX + 1];
	const char *argv[1 + XS_PERMS_MAX + 1];
	struct xs_perms perms;
	unsigned n = xs_wire_args(r->payload, r->h->len, argv, ARRAY_SIZE(argv), NULL, NULL);
	int err;

	if (n < 2)
		return -EINVAL;
	if (n > 1 + XS_PERMS_MAX)
		return -ENOSPC;
	err = xs_path_canon(argv[0], r->c->domid, false, path);
	if (!err)
		err = xs_perms_parse(argv + 1, n - 1, &perms);
	if (!err)
		err = xs_op_set_perms(&r->x, path, &perms);
	return err ? err : reply_ok(r);
}

static int do_watch(struct xs_req *r)
{
	const char *argv[2];
	int err = args(r, argv, 2);

	if (!err)
		err = xs_watch_add(r->c, argv[0], argv[1]);
	if (err)
		return err;
	err = reply_ok(r);
	/* fires once on registration, after the reply */
	xs_queue_event(r->c, argv[0], argv[1]);
	return err;
}

static int do_unwatch(struct xs_req *r)
{
	const char *argv[2];
	int err = args(r, argv, 2);

	if (!err)
		err = xs_watch_remove(r->c, argv[0], argv[1]);
	return err ? err : reply_ok(r);
}

static int do_reset_watches(struct xs_req *r)
{
	xs_watch_remove_all(r->c);
	xs_tx_end_all(r->c);
	return reply_ok(r);
}

static int do_transaction_start(struct xs_req *r)
{
	char id[12];
	u32 txid;
	int err;

	if (r->h->tx_id)
		return -EBUSY; /* no nested transactions */
	err = xs_tx_start(r->c, &txid);
	if (err)
		return err;
	int len = snprintf(id, sizeof(id), "%u", (unsigned)txid);

	return xs_reply(r->c, r->h, XS_TRANSACTION_START, id, (u32)len + 1, NULL, 0);
}

static int do_transaction_end(struct xs_req *r)
{
	const char *argv[1];
	int err = args(r, argv, 1);

	if (err)
		return err;
	if (!r->x.tx)
		return -ENOENT;
	if (strcmp(argv[0], "T") && strcmp(argv[0], "F"))
		return -EINVAL;
	err = xs_tx_end(r->c, r->x.tx, argv[0][0] == 'T');
	return err ? err : reply_ok(r);
}

static int do_introduce(struct xs_req *r)
{
	struct xs_store *s = r->c->store;
	const char *argv[3];
	struct xs_domain *d;
	u16 domid;
	u64 mfn, port;
	int err = args(r, argv, 3);

	if (!err)
		err = domid_arg(argv[0], &domid);
	if (!err)
		err = xs_parse_uint(argv[1], ~0ull, &mfn);
	if (!err)
		err = xs_parse_uint(argv[2], 0xffffffffu, &port);
	if (err)
		return err;
	if (domid == XS_PRIV_DOMID || domid >= XS_DOMID_FIRST_RESERVED)
		return -EINVAL;
	d = xs_domain_get(s, domid);
	if (!d)
		return -ENOMEM;
	if (d->introduced) {
		/* a repeat with the same ring is harmless (Xen allows it) */
		return d->mfn == mfn && d->port == port ? reply_ok(r) : -EEXIST;
	}
	if (s->hooks.introduce) {
		err = s->hooks.introduce(s->hooks.ctx, domid, mfn, (u32)port);
		if (err)
			return err;
	}
	d->introduced = true;
	d->shutdown = false;
	d->mfn = mfn;
	d->port = (u32)port;
	err = reply_ok(r);
	xs_watch_fire(s, "@introduceDomain", false, &s->root->perms);
	return err;
}

/* RELEASE and domain death: the same steps. */
static void release(struct xs_store *s, struct xs_domain *d)
{
	d->introduced = false;
	if (s->hooks.release)
		s->hooks.release(s->hooks.ctx, d->domid);
	xs_watch_fire(s, "@releaseDomain", false, &s->root->perms);
}

void xs_store_domain_gone(struct xs_store *s, u16 domid)
{
	struct xs_domain *d = xs_domain_find(s, domid);

	if (d && d->introduced)
		release(s, d);
}

/* Xen's check_domains(): a shut-down domain is announced once; its
 * connection goes only when the domain dies (xs_store_domain_gone). */
void xs_store_domain_shutdown(struct xs_store *s, u16 domid)
{
	struct xs_domain *d = xs_domain_find(s, domid);

	if (!d || !d->introduced || d->shutdown)
		return;
	d->shutdown = true;
	xs_watch_fire(s, "@releaseDomain", false, &s->root->perms);
}

/* The requests whose one argument is a domain id (RELEASE,
 * GET_DOMAIN_PATH, IS_DOMAIN_INTRODUCED). */
static int one_domid(struct xs_req *r, u16 *domid)
{
	const char *argv[1];
	int err = args(r, argv, 1);

	return err ? err : domid_arg(argv[0], domid);
}

static int do_release(struct xs_req *r)
{
	struct xs_domain *d;
	u16 domid;
	int err = one_domid(r, &domid);

	if (err)
		return err;
	d = xs_domain_find(r->c->store, domid);
	if (!d || !d->introduced)
		return -ENOENT;
	err = reply_ok(r);
	release(r->c->store, d);
	return err;
}

static int do_get_domain_path(struct xs_req *r)
{
	char path[32];
	u16 domid;
	int err = one_domid(r, &domid);

	if (err)
		return err;
	int len = snprintf(path, sizeof(path), "/local/domain/%u", (unsigned)domid);

	return xs_reply(r->c, r->h, XS_GET_DOMAIN_PATH, path, (u32)len + 1, NULL, 0);
}

static int do_is_domain_introduced(struct xs_req *r)
{
	struct xs_domain *d;
	u16 domid;
	int err = one_domid(r, &domid);

	if (err)
		return err;
	d = xs_domain_find(r->c->store, domid);
	/* dom0 is xenstored's own domain: always there */
	bool yes = domid == XS_PRIV_DOMID || (d && d->introduced);

	return xs_reply(r->c, r->h, XS_IS_DOMAIN_INTRODUCED, yes ? "T" : "F", 2, NULL, 0);
}

static int do_resume(struct xs_req *r)
{
	struct xs_domain *d;
	u16 domid;
	int err = one_domid(r, &domid);

	if (err)
		return err;
	d = xs_domain_find(r->c->store, domid);
	return d && d->introduced ? reply_ok(r) : -ENOENT;
}

static int do_control(struct xs_req *r)
{
	const char *argv[1];

	/* Implementation-specific (docs/misc/xenstore.txt "CONTROL"): Keel
	 * offers only "print", which dom0 tooling can use as a ping. */
	if (args(r, argv, 1) == 0 && strcmp(argv[0], "print") == 0)
		return reply_ok(r);
	return -ENOSYS;
}

static const struct xs_op ops[XS_TYPE_COUNT] = {
	[XS_CONTROL] = { .handle = do_control, .name = "CONTROL", .priv = true },
	[XS_DIRECTORY] = { .handle = do_directory, .name = "DIRECTORY", .tx = true },
	[XS_READ] = { .handle = do_read, .name = "READ", .tx = true },
	[XS_GET_PERMS] = { .handle = do_get_perms, .name = "GET_PERMS", .tx = true },
	[XS_WATCH] = { .handle = do_watch, .name = "WATCH" },
	[XS_UNWATCH] = { .handle = do_unwatch, .name = "UNWATCH" },
	[XS_TRANSACTION_START] = { .handle = do_transaction_start, .name = "TRANSACTION_START" },
	[XS_TRANSACTION_END] = { .handle = do_transaction_end, .name = "TRANSACTION_END", .tx = true },
	[XS_INTRODUCE] = { .handle = do_introduce, .name = "INTRODUCE", .priv = true },
	[XS_RELEASE] = { .handle = do_release, .name = "RELEASE", .priv = true },
	[XS_GET_DOMAIN_PATH] = { .handle = do_get_domain_path, .name = "GET_DOMAIN_PATH" },
	[XS_WRITE] = { .handle = do_write, .name = "WRITE", .tx = true, .writes = true },
	[XS_MKDIR] = { .handle = do_mkdir, .name = "MKDIR", .tx = true, .writes = true },
	[XS_RM] = { .handle = do_rm, .name = "RM", .tx = true, .writes = true },
	[XS_SET_PERMS] = { .handle = do_set_perms, .name = "SET_PERMS", .tx = true, .writes = true },
	/* privileged since XSA-115, as in Xen */
	[XS_IS_DOMAIN_INTRODUCED] = { .handle = do_is_domain_introduced,
				      .name = "IS_DOMAIN_INTRODUCED", .priv = true },
	[XS_RESUME] = { .handle = do_resume, .name = "RESUME", .priv = true },
	/* XS_SET_TARGET (device-model stub domains) is not implemented:
	 * ENOSYS like any type without a handler. */
	[XS_RESET_WATCHES] = { .handle = do_reset_watches, .name = "RESET_WATCHES" },
	[XS_DIRECTORY_PART] = { .handle = do_directory_part, .name = "DIRECTORY_PART", .tx = true },
};

void xs_dispatch(struct xs_conn *c, const struct xsd_sockmsg *hdr, const u8 *payload)
{
	struct xs_req r = { .c = c, .h = hdr, .payload = payload };
	const struct xs_op *op = hdr->type < ARRAY_SIZE(ops) ? &ops[hdr->type] : NULL;
	int err;

	/* unknown types, and the server-to-client ones, are not requests:
	 * ENOSYS, and EACCES for privileged ones, as cxenstored answers */
	if (!op || !op->handle) {
		xs_reply_error(c, hdr, -ENOSYS);
		return;
	}
	if (op->priv && !c->privileged) {
		xs_reply_error(c, hdr, -EACCES);
		return;
	}
	r.x.conn = c;
	r.x.root = c->store->root;
	if (op->tx && hdr->tx_id) {
		r.x.tx = xs_tx_find(c, hdr->tx_id);
		if (!r.x.tx) {
			xs_reply_error(c, hdr, -ENOENT);
			return;
		}
		if (op->writes) {
			err = xs_tx_prepare_write(c->store, r.x.tx);
			if (err) {
				xs_reply_error(c, hdr, err);
				return;
			}
		}
		if (r.x.tx->root)
			r.x.root = r.x.tx->root;
	}
	err = op->handle(&r);
	if (err)
		xs_reply_error(c, hdr, err);
}
