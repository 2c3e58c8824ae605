/*
 * Watches (docs/misc/xenstore.txt "WATCH"). A watch on <wpath> sees every
 * committed change at or below <wpath>; when a node above <wpath> is
 * removed, the event names <wpath> itself. Relative watches get relative
 * event paths (the /local/domain/<id>/ prefix taken off). Special watches
 * ("@introduceDomain", "@releaseDomain") match only their own events, and
 * only privileged connections receive them: Xen 4.17 gives those special
 * nodes the permissions "n0", which nobody has changed in Keel.
 * An event is sent only to a connection that may read the changed node
 * (with the node's permissions at the time of the change).
 */
#include "xs_internal.h"

struct xs_watch {
	struct xs_watch *next;
	char *path;        /* absolute (or "@special") */
	char *token;
	u32 rel_prefix;    /* bytes to strip for a relative watch, else 0 */
};

static void watch_free(struct xs_store *s, struct xs_watch *w)
{
	xs_free(s, w->path, strlen(w->path) + 1);
	xs_free(s, w->token, strlen(w->token) + 1);
	xs_free(s, w, sizeof(*w));
}

/* The event path as this watch's owner sees it. */
static const char *event_path(const struct xs_watch *w, const char *path)
{
	if (!w->rel_prefix)
		return path;
	/* a relative watch only ever matches paths under its prefix */
	return path + w->rel_prefix;
}

int xs_watch_add(struct xs_conn *c, const char *path, const char *token)
{
	struct xs_store *s = c->store;
	char abs[XENSTORE_ABS_PATH_MAX + 1];
	struct xs_domain *d;
	struct xs_watch *w;
	int err = xs_path_canon(path, c->domid, true, abs);

	if (err)
		return err;
	for (w = c->watches; w; w = w->next)
		if (strcmp(w->path, abs) == 0 && strcmp(w->token, token) == 0)
			return -EEXIST;
	d = xs_domain_get(s, c->domid);
	if (!d)
		return -ENOMEM;
	if (!c->privileged && d->watches >= s->quota.watches)
		return -E2BIG;
	w = xs_alloc(s, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->path = xs_strdup(s, abs);
	w->token = xs_strdup(s, token);
	if (!w->path || !w->token) {
		if (w->path)
			xs_free(s, w->path, strlen(w->path) + 1);
		if (w->token)
			xs_free(s, w->token, strlen(w->token) + 1);
		xs_free(s, w, sizeof(*w));
		return -ENOMEM;
	}
	/* relative: abs is "/local/domain/<id>/" + path */
	w->rel_prefix = path[0] != '/' && path[0] != '@' ? (u32)(strlen(abs) - strlen(path)) : 0;
	w->next = c->watches;
	c->watches = w;
	d->watches++;
	return 0;
}

int xs_watch_remove(struct xs_conn *c, const char *path, const char *token)
{
	char abs[XENSTORE_ABS_PATH_MAX + 1];
	int err = xs_path_canon(path, c->domid, true, abs);

	if (err)
		return err;
	for (struct xs_watch **pp = &c->watches; *pp; pp = &(*pp)->next) {
		struct xs_watch *w = *pp;

		if (strcmp(w->path, abs) == 0 && strcmp(w->token, token) == 0) {
			struct xs_domain *d = xs_domain_find(c->store, c->domid);

			*pp = w->next;
			if (d)
				d->watches--;
			watch_free(c->store, w);
			return 0;
		}
	}
	return -ENOENT;
}

void xs_watch_remove_all(struct xs_conn *c)
{
	struct xs_domain *d = xs_domain_find(c->store, c->domid);

	while (c->watches) {
		struct xs_watch *w = c->watches;

		c->watches = w->next;
		if (d)
			d->watches--;
		watch_free(c->store, w);
	}
}

u32 xs_watch_count(const struct xs_conn *c)
{
	u32 n = 0;

	for (const struct xs_watch *w = c->watches; w; w = w->next)
		n++;
	return n;
}

void xs_watch_fire(struct xs_store *s, const char *path, bool removed,
		   const struct xs_perms *perms)
{
	bool special = path[0] == '@';

	for (struct xs_conn *c = s->conns; c; c = c->next) {
		if (special ? !c->privileged
			    : !(xs_perm_for(perms, c->domid, c->privileged) & XS_PERM_READ))
			continue;
		for (struct xs_watch *w = c->watches; w; w = w->next) {
			if (special || w->path[0] == '@') {
				if (strcmp(w->path, path) == 0)
					xs_queue_event(c, path, w->token);
			} else if (xs_path_is_child(path, w->path)) {
				if (!w->rel_prefix || strlen(path) > w->rel_prefix)
					xs_queue_event(c, event_path(w, path), w->token);
			} else if (removed && xs_path_is_child(w->path, path)) {
				xs_queue_event(c, event_path(w, w->path), w->token);
			}
		}
	}
}
