/*
 * The node tree: paths, lookup, creation and copies. Every existing path
 * has all its parents (docs/misc/xenstore.txt); a node is both a value and
 * a directory. Children sit in a list in creation order, which is the
 * order DIRECTORY reports.
 */
#include "xs_internal.h"

static bool path_char_ok(char c)
{
	/* ASCII alphanumerics and -/_@ (docs/misc/xenstore.txt) */
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '/' || c == '_' || c == '@';
}

int xs_path_canon(const char *in, u16 domid, bool allow_special, char *out)
{
	size_t len = strnlen(in, XENSTORE_ABS_PATH_MAX + 1);
	size_t pos = 0;

	if (len == 0)
		return -EINVAL;
	if (in[0] == '@') {
		/* special watch names: any characters, never a node */
		if (!allow_special || len > XENSTORE_ABS_PATH_MAX)
			return -EINVAL;
		memcpy(out, in, len + 1);
		return 0;
	}
	if (in[0] != '/') {
		if (len > XENSTORE_REL_PATH_MAX)
			return -EINVAL;
		pos = (size_t)snprintf(out, XENSTORE_ABS_PATH_MAX + 1, "/local/domain/%u/",
				       (unsigned)domid);
	}
	if (pos + len > XENSTORE_ABS_PATH_MAX)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (!path_char_ok(in[i]))
			return -EINVAL;
		/* no "//", no trailing "/" (except the root itself) */
		if (in[i] == '/' && (in[i + 1] == '/' || (in[i + 1] == '\0' && len > 1)))
			return -EINVAL;
	}
	memcpy(out + pos, in, len + 1);
	return 0;
}

bool xs_path_is_child(const char *child, const char *parent)
{
	size_t n = strlen(parent);

	if (strcmp(parent, "/") == 0)
		return child[0] == '/';
	return strncmp(child, parent, n) == 0 && (child[n] == '\0' || child[n] == '/');
}

struct xs_node *xs_node_new(struct xs_store *s, const char *name, size_t namelen)
{
	struct xs_node *n = xs_alloc(s, sizeof(*n));

	if (!n)
		return NULL;
	memset(n, 0, sizeof(*n));
	n->name = xs_alloc(s, namelen + 1);
	if (!n->name) {
		xs_free(s, n, sizeof(*n));
		return NULL;
	}
	memcpy(n->name, name, namelen);
	n->name[namelen] = '\0';
	n->gen = ++s->node_gen;
	return n;
}

void xs_node_free_tree(struct xs_store *s, struct xs_node *n)
{
	while (n->child) {
		struct xs_node *c = n->child;

		n->child = c->sibling;
		xs_node_free_tree(s, c);
	}
	if (n->value)
		xs_free(s, n->value, n->vlen);
	xs_free(s, n->name, strlen(n->name) + 1);
	xs_free(s, n, sizeof(*n));
}

/* The child of n called name[0..len), or NULL. */
static struct xs_node *child_named(struct xs_node *n, const char *name, size_t len)
{
	for (struct xs_node *c = n->child; c; c = c->sibling)
		if (strncmp(c->name, name, len) == 0 && c->name[len] == '\0')
			return c;
	return NULL;
}

struct xs_node *xs_node_closest(struct xs_node *root, const char *path, unsigned *missing)
{
	struct xs_node *n = root;
	const char *p = path + 1; /* after the leading '/' */

	*missing = 0;
	while (*p) {
		const char *end = strchr(p, '/');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		struct xs_node *c = child_named(n, p, len);

		if (!c) {
			/* count this component and every one after it */
			for (*missing = 1; end; end = strchr(end + 1, '/'))
				(*missing)++;
			return n;
		}
		n = c;
		p += len + (end ? 1 : 0);
	}
	return n;
}

struct xs_node *xs_node_lookup(struct xs_node *root, const char *path)
{
	unsigned missing;
	struct xs_node *n = xs_node_closest(root, path, &missing);

	return missing ? NULL : n;
}

int xs_node_set_value(struct xs_store *s, struct xs_node *n, const void *v, u32 len)
{
	u8 *copy = NULL;

	if (len) {
		copy = xs_alloc(s, len);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, v, len);
	}
	if (n->value)
		xs_free(s, n->value, n->vlen);
	n->value = copy;
	n->vlen = len;
	n->gen = ++s->node_gen;
	return 0;
}

struct xs_node *xs_node_clone(struct xs_store *s, const struct xs_node *n, struct xs_node *parent)
{
	struct xs_node *c = xs_node_new(s, n->name, strlen(n->name));
	struct xs_node **tail;

	if (!c)
		return NULL;
	c->parent = parent;
	c->perms = n->perms;
	c->gen = n->gen;
	if (n->vlen) {
		c->value = xs_alloc(s, n->vlen);
		if (!c->value) {
			xs_node_free_tree(s, c);
			return NULL;
		}
		memcpy(c->value, n->value, n->vlen);
		c->vlen = n->vlen;
	}
	tail = &c->child;
	for (const struct xs_node *k = n->child; k; k = k->sibling) {
		struct xs_node *kc = xs_node_clone(s, k, c);

		if (!kc) {
			xs_node_free_tree(s, c);
			return NULL;
		}
		*tail = kc;
		tail = &kc->sibling;
	}
	return c;
}

void xs_node_unlink(struct xs_node *n)
{
	struct xs_node **pp = &n->parent->child;

	while (*pp != n)
		pp = &(*pp)->sibling;
	*pp = n->sibling;
	n->sibling = NULL;
}

void xs_node_walk(struct xs_node *n, void (*fn)(struct xs_node *n, void *arg), void *arg)
{
	fn(n, arg);
	for (struct xs_node *c = n->child; c; c = c->sibling)
		xs_node_walk(c, fn, arg);
}
