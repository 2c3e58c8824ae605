/*
 * Node permissions (docs/misc/xenstore.txt "GET_PERMS"/"SET_PERMS", and
 * the Xen wiki's XenBus "Permissions"): a list whose first entry names the
 * owner and the access of everyone not listed, followed by per-domain
 * entries. The owner and the privileged domain always have full access,
 * whatever the list says -- the rule cxenstored applies.
 */
#include "xs_internal.h"

static int mode_of(char c)
{
	switch (c) {
	case 'n': return XS_PERM_NONE;
	case 'r': return XS_PERM_READ;
	case 'w': return XS_PERM_WRITE;
	case 'b': return XS_PERM_BOTH;
	default: return -EINVAL;
	}
}

int xs_perms_parse(const char *const *strs, unsigned count, struct xs_perms *out)
{
	if (count == 0 || count > XS_PERMS_MAX)
		return -EINVAL;
	for (unsigned i = 0; i < count; i++) {
		int mode = mode_of(strs[i][0]);
		u64 domid;

		if (mode < 0 || xs_parse_uint(strs[i] + 1, XS_DOMID_FIRST_RESERVED - 1, &domid))
			return -EINVAL;
		out->p[i].mode = (u8)mode;
		out->p[i].domid = (u16)domid;
	}
	out->n = (u8)count;
	return 0;
}

size_t xs_perms_format(const struct xs_perms *p, char *buf, size_t size)
{
	static const char letter[4] = { 'n', 'r', 'w', 'b' };
	size_t pos = 0;

	for (unsigned i = 0; i < p->n; i++) {
		char one[8];
		int len = snprintf(one, sizeof(one), "%c%u", letter[p->p[i].mode & 3],
				   (unsigned)p->p[i].domid);

		/* each string travels with its NUL */
		for (int k = 0; k <= len; k++, pos++)
			if (pos < size)
				buf[pos] = k < len ? one[k] : '\0';
	}
	return pos;
}

unsigned xs_perm_for(const struct xs_perms *p, u16 domid, bool privileged)
{
	if (privileged || p->p[0].domid == domid)
		return XS_PERM_BOTH | XS_PERM_OWNER;
	for (unsigned i = 1; i < p->n; i++)
		if (p->p[i].domid == domid)
			return p->p[i].mode;
	return p->p[0].mode;
}
