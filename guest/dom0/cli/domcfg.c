/*
 * What the settings of an xl.cfg mean for a Keel domain (contract in
 * domcfg.h; xl.cfg(5), xl-disk-configuration(5), xl-network-
 * configuration(5), and Xen's docs/misc/vbd-interface.txt for the device
 * numbers).
 */
#include <lib/errno.h>
#include <lib/string.h>
#include <stdarg.h>
#include "domcfg.h"

static int errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* ---- virtual device names (vbd-interface.txt) ---- */

/* "a".."z", "aa".. as Xen numbers disks: bijective base 26. Returns the
 * letters' length, 0 if there are none or the number passes max. */
static size_t disk_letters(const char *s, u32 max, u32 *disk)
{
	size_t n = 0;
	u64 v = 0;

	while (s[n] >= 'a' && s[n] <= 'z') {
		v = v * 26 + (u64)(s[n] - 'a' + 1);
		if (v - 1 > max)
			return 0;
		n++;
	}
	*disk = (u32)(v - 1);
	return n;
}

/* A partition number after the letters: none (0), or decimal without a
 * leading zero. */
static bool partition_number(const char *s, u32 max, u32 *part)
{
	u32 v = 0;

	*part = 0;
	if (!*s)
		return true;
	if (*s == '0')
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (u32)(*s - '0');
		if (v > max)
			return false;
	}
	*part = v;
	return true;
}

int domcfg_vdev_to_devid(const char *vdev, u32 *devid)
{
	u32 disk, part;
	size_t n;

	if (!strncmp(vdev, "xvd", 3)) {
		if (!(n = disk_letters(vdev + 3, (1u << 20) - 1, &disk)) ||
		    !partition_number(vdev + 3 + n, 255, &part))
			return -EINVAL;
		if (disk < 16 && part < 16)
			*devid = 202u << 8 | disk << 4 | part;
		else
			*devid = 1u << 28 | disk << 8 | part;
		return 0;
	}
	if (!strncmp(vdev, "hd", 2)) {
		if (!(n = disk_letters(vdev + 2, 3, &disk)) ||
		    !partition_number(vdev + 2 + n, 63, &part))
			return -EINVAL;
		*devid = disk < 2 ? 3u << 8 | disk << 6 | part : 22u << 8 | (disk - 2) << 6 | part;
		return 0;
	}
	if (!strncmp(vdev, "sd", 2)) {
		if (!(n = disk_letters(vdev + 2, 15, &disk)) ||
		    !partition_number(vdev + 2 + n, 15, &part))
			return -EINVAL;
		*devid = 8u << 8 | disk << 4 | part;
		return 0;
	}
	return -EINVAL;
}

/* ---- disk and vif specifications ---- */

/* Copies s (n bytes) into dst (size bytes) with surrounding blanks
 * removed; false if it does not fit. */
static bool copy_trim(char *dst, size_t size, const char *s, size_t n)
{
	while (n && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n >= size)
		return false;
	memcpy(dst, s, n);
	dst[n] = 0;
	return true;
}

static bool is_format(const char *s)
{
	return !strcmp(s, "raw") || !strcmp(s, "qcow") || !strcmp(s, "qcow2") ||
	       !strcmp(s, "vhd") || !strcmp(s, "qed") || !strcmp(s, "empty");
}

static int disk_target(struct domcfg_disk *d, const char *t, char *err, size_t errlen)
{
	if (!strncmp(t, "phy:", 4))
		t += 4;
	else if (strchr(t, ':') && strncmp(t, "/", 1))
		return errf(err, errlen, "disk target '%s': only phy: targets (a disk or "
			    "partition dom0 owns) are supported by Keel", t);
	if (!*t)
		return errf(err, errlen, "disk: empty target");
	if (strlen(t) >= sizeof(d->target))
		return errf(err, errlen, "disk target '%s' too long", t);
	strlcpy(d->target, t, sizeof(d->target));
	return 0;
}

static int disk_format(const char *f, char *err, size_t errlen)
{
	if (!*f || !strcmp(f, "raw"))
		return 0;
	if (is_format(f))
		return errf(err, errlen, "disk format %s is not supported by Keel (raw only)", f);
	return errf(err, errlen, "disk: unknown format '%s'", f);
}

static int disk_access(struct domcfg_disk *d, const char *a, char *err, size_t errlen)
{
	if (!*a || !strcmp(a, "w") || !strcmp(a, "rw"))
		d->readonly = false;
	else if (!strcmp(a, "r") || !strcmp(a, "ro"))
		d->readonly = true;
	else
		return errf(err, errlen, "disk access '%s': expected r, ro, w or rw", a);
	return 0;
}

static int disk_vdev(struct domcfg_disk *d, const char *v, char *err, size_t errlen)
{
	/* xl's legacy "xvda:disk" / ":cdrom" suffix */
	char name[sizeof(d->vdev)];
	const char *colon = strchr(v, ':');
	size_t n = colon ? (size_t)(colon - v) : strlen(v);

	if (colon && strcmp(colon + 1, "disk"))
		return errf(err, errlen, "disk vdev '%s': only disks are supported by Keel", v);
	if (n >= sizeof(name))
		return errf(err, errlen, "disk vdev '%s' too long", v);
	memcpy(name, v, n);
	name[n] = 0;
	if (domcfg_vdev_to_devid(name, &d->devid))
		return errf(err, errlen, "disk vdev '%s': not a Xen virtual device name (xvdX, "
			    "hdX or sdX with an optional partition number)", name);
	strlcpy(d->vdev, name, sizeof(d->vdev));
	return 0;
}

int domcfg_parse_disk(const char *spec, struct domcfg_disk *d, char *err, size_t errlen)
{
	/* Positional slots: target, format, vdev, access. */
	enum { P_TARGET, P_FORMAT, P_VDEV, P_ACCESS, P_DONE } slot = P_TARGET;
	bool have_target = false, have_vdev = false;
	char tok[DOMCFG_PATH_MAX + 16];
	int rc;

	memset(d, 0, sizeof(*d));
	for (const char *p = spec;;) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (!copy_trim(tok, sizeof(tok), p, n))
			return errf(err, errlen, "disk: parameter too long in '%s'", spec);
		const char *eq = strchr(tok, '=');
		if (eq && !have_target) {
			size_t kl = (size_t)(eq - tok);
			const char *v = eq + 1;
			if (kl == 6 && !strncmp(tok, "target", 6)) {
				/* target= takes the rest, commas included */
				const char *rest = strchr(p, '=') + 1;
				char t[DOMCFG_PATH_MAX + 16];
				if (!copy_trim(t, sizeof(t), rest, strlen(rest)))
					return errf(err, errlen, "disk target too long in '%s'", spec);
				if ((rc = disk_target(d, t, err, errlen)))
					return rc;
				have_target = true;
				break;
			} else if (kl == 6 && !strncmp(tok, "format", 6)) {
				rc = disk_format(v, err, errlen);
			} else if (kl == 4 && !strncmp(tok, "vdev", 4)) {
				rc = disk_vdev(d, v, err, errlen);
				have_vdev = !rc;
			} else if (kl == 6 && !strncmp(tok, "access", 6)) {
				rc = disk_access(d, v, err, errlen);
			} else if (kl == 7 && !strncmp(tok, "devtype", 7)) {
				rc = strcmp(v, "disk") ? errf(err, errlen, "disk devtype '%s': only "
							      "disk is supported by Keel", v) : 0;
			} else if (kl == 11 && !strncmp(tok, "backendtype", 11)) {
				rc = strcmp(v, "phy") ? errf(err, errlen, "disk backendtype '%s': "
							     "only phy is supported by Keel", v) : 0;
			} else {
				rc = errf(err, errlen, "disk: unknown parameter '%s'", tok);
			}
			if (rc)
				return rc;
		} else if (eq) {
			return errf(err, errlen, "disk: '%s' after the target", tok);
		} else {
			switch (slot) {
			case P_TARGET:
				if (*tok && (rc = disk_target(d, tok, err, errlen)))
					return rc;
				have_target = *tok != 0;
				slot = P_FORMAT;
				break;
			case P_FORMAT:
				/* Not a format: xl's legacy TARGET,VDEV,ACCESS. */
				if (*tok && !is_format(tok)) {
					if ((rc = disk_vdev(d, tok, err, errlen)))
						return rc;
					have_vdev = true;
					slot = P_ACCESS;
					break;
				}
				if ((rc = disk_format(tok, err, errlen)))
					return rc;
				slot = P_VDEV;
				break;
			case P_VDEV:
				if (*tok && (rc = disk_vdev(d, tok, err, errlen)))
					return rc;
				have_vdev = *tok != 0;
				slot = P_ACCESS;
				break;
			case P_ACCESS:
				if ((rc = disk_access(d, tok, err, errlen)))
					return rc;
				slot = P_DONE;
				break;
			case P_DONE:
				return errf(err, errlen, "disk: too many parameters in '%s'", spec);
			}
		}
		if (!end)
			break;
		p = end + 1;
	}
	if (!have_target)
		return errf(err, errlen, "disk '%s': no target", spec);
	if (!have_vdev)
		return errf(err, errlen, "disk '%s': no vdev (e.g. xvda)", spec);
	return 0;
}

static int hexbyte(const char *s, u8 *out)
{
	int v = 0;

	for (int i = 0; i < 2; i++) {
		char ch = s[i];
		int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 :
			ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	*out = (u8)v;
	return 0;
}

int domcfg_parse_vif(const char *spec, struct domcfg_vif *vif, char *err, size_t errlen)
{
	char tok[64];

	memset(vif, 0, sizeof(*vif));
	strlcpy(vif->bridge, "xenbr0", sizeof(vif->bridge));
	for (const char *p = spec;;) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (!copy_trim(tok, sizeof(tok), p, n))
			return errf(err, errlen, "vif: parameter too long in '%s'", spec);
		const char *eq = strchr(tok, '=');
		if (!*tok && !end && p == spec) {
			break; /* '' : all defaults */
		} else if (!eq) {
			return errf(err, errlen, "vif: '%s' is not KEY=VALUE", tok);
		} else if (!strncmp(tok, "mac=", 4)) {
			const char *m = eq + 1;
			if (strlen(m) != 17)
				return errf(err, errlen, "vif mac '%s': expected xx:xx:xx:xx:xx:xx", m);
			for (int i = 0; i < 6; i++)
				if (hexbyte(m + 3 * i, &vif->mac[i]) || (i < 5 && m[3 * i + 2] != ':'))
					return errf(err, errlen, "vif mac '%s': expected "
						    "xx:xx:xx:xx:xx:xx", m);
			if (vif->mac[0] & 1)
				return errf(err, errlen, "vif mac '%s' is a multicast address", m);
			vif->has_mac = true;
		} else if (!strncmp(tok, "bridge=", 7)) {
			const char *b = eq + 1;
			if (!*b || strlen(b) >= sizeof(vif->bridge))
				return errf(err, errlen, "vif bridge '%s': 1 to %u characters", b,
					    (unsigned)sizeof(vif->bridge) - 1);
			strlcpy(vif->bridge, b, sizeof(vif->bridge));
		} else if (!strncmp(tok, "type=", 5)) {
			if (strcmp(eq + 1, "vif"))
				return errf(err, errlen, "vif type '%s': only vif (PV) is supported "
					    "by Keel", eq + 1);
		} else {
			return errf(err, errlen, "vif: parameter '%s' is not supported by Keel "
				    "(mac, bridge and type are)", tok);
		}
		if (!end)
			break;
		p = end + 1;
	}
	return 0;
}

/* ---- the settings ---- */

const char *domcfg_action_name(u8 action)
{
	static const char *const names[] = { "destroy", "restart", "preserve", "rename-restart" };
	return action < 4 ? names[action] : "?";
}

/* Keys xl knows that Keel does not implement (xl.cfg(5)). */
static const char *const unsupported[] = {
	"builder", "pci", "vfb", "vnc", "vnclisten", "sdl", "serial", "usb", "usbdevice",
	"cpus", "cpus_soft", "cpu_weight", "cap", "maxvcpus", "vcpu_hard_affinity",
	"bootloader", "bootloader_args", "nestedhvm", "viridian", "acpi", "apic", "pae",
	"hap", "device_model_version", "device_model_override", "device_model_args",
	"soundhw", "boot", "vga", "videoram", "stdvga", "channel", "vtpm", "p9", "vdispl",
	"vsnd", "vkb", "uuid", "seclabel", "pool", "tsc_mode", "localtime", "rtc_timeoffset",
	"on_watchdog", "on_soft_reset", "xen_platform_pci", "gfx_passthru", "iomem",
	"ioports", "irqs", "dtdev", "e820_host", "max_grant_frames", "max_maptrack_frames",
	"driver_domain", "passthrough", "altp2m", "shadow_memory", "firmware", "bios",
	"device_tree", "kernel_modules", "extra_config", "claim_mode", "vif2",
};

static const char *const known[] = {
	"name", "type", "memory", "maxmem", "vcpus", "kernel", "ramdisk", "cmdline", "extra",
	"root", "disk", "vif", "on_poweroff", "on_reboot", "on_crash",
};

struct ctx {
	const struct xlcfg *c;
	char *err;
	size_t errlen;
};

static int bad(struct ctx *x, const struct xlcfg_setting *s, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(x->err, x->errlen, "%s:%u: key '%s': ", xlcfg_origin(x->c, s), s->line,
			 s->key);

	if (n >= 0 && (size_t)n < x->errlen) {
		va_start(ap, fmt);
		vsnprintf(x->err + n, x->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* A setting that must be one string: its text, or NULL after bad(). */
static const char *one_string(struct ctx *x, const struct xlcfg_setting *s, int *rc)
{
	if (s->list || s->count != 1 || xlcfg_atom(x->c, s, 0)->kind != XLCFG_STRING) {
		*rc = bad(x, s, "expected a string in quotes");
		return NULL;
	}
	return xlcfg_atom(x->c, s, 0)->str;
}

static int get_string(struct ctx *x, const char *key, char *dst, size_t size, bool required)
{
	const struct xlcfg_setting *s = xlcfg_find(x->c, key);
	int rc = 0;

	if (!s) {
		if (required)
			return errf(x->err, x->errlen, "%s: key '%s' is required", x->c->file, key);
		dst[0] = 0;
		return 0;
	}
	const char *v = one_string(x, s, &rc);
	if (!v)
		return rc;
	if (!*v && required)
		return bad(x, s, "must not be empty");
	if (strlen(v) >= size)
		return bad(x, s, "longer than %u characters", (unsigned)size - 1);
	strlcpy(dst, v, size);
	return 0;
}

/* A number, written bare or quoted (xl reads both), in [min, max]. */
static int get_number(struct ctx *x, const char *key, u32 min, u32 max, u32 *out)
{
	const struct xlcfg_setting *s = xlcfg_find(x->c, key);

	if (!s)
		return 0;
	if (s->list || s->count != 1)
		return bad(x, s, "expected a number");
	const struct xlcfg_atom *a = xlcfg_atom(x->c, s, 0);
	u64 v = a->num;
	if (a->kind == XLCFG_STRING) {
		const char *p = a->str;
		v = 0;
		if (!*p)
			return bad(x, s, "expected a number, found \"\"");
		for (; *p; p++) {
			if (*p < '0' || *p > '9' || v > 0xffffffffULL)
				return bad(x, s, "expected a number, found \"%s\"", a->str);
			v = v * 10 + (u64)(*p - '0');
		}
	}
	if (v < min || v > max)
		return bad(x, s, "%s is out of range (%u to %u)", a->str, min, max);
	*out = (u32)v;
	return 0;
}

static int get_action(struct ctx *x, const char *key, u8 *out)
{
	static const char *const names[] = { "destroy", "restart", "preserve", "rename-restart" };
	const struct xlcfg_setting *s = xlcfg_find(x->c, key);
	int rc = 0;

	if (!s)
		return 0;
	const char *v = one_string(x, s, &rc);
	if (!v)
		return rc;
	for (u8 i = 0; i < 4; i++)
		if (!strcmp(v, names[i])) {
			*out = i;
			return 0;
		}
	if (!strncmp(v, "coredump-", 9))
		return bad(x, s, "%s is not supported by Keel (no core dumps)", v);
	return bad(x, s, "'%s': expected destroy, restart, preserve or rename-restart", v);
}

static int get_list(struct ctx *x, const char *key, unsigned max, unsigned *n,
		    int (*one)(struct ctx *x, const struct xlcfg_setting *s, unsigned i,
			       const char *spec, void *out),
		    void *out)
{
	const struct xlcfg_setting *s = xlcfg_find(x->c, key);
	int rc;

	*n = 0;
	if (!s)
		return 0;
	if (!s->list)
		return bad(x, s, "expected a list: %s = [ '...', ... ]", key);
	if (s->count > max)
		return bad(x, s, "%u entries, Keel takes at most %u", s->count, max);
	for (unsigned i = 0; i < s->count; i++) {
		const struct xlcfg_atom *a = xlcfg_atom(x->c, s, i);
		if (a->kind != XLCFG_STRING)
			return bad(x, s, "entry %u: expected a string in quotes", i + 1);
		if ((rc = one(x, s, i, a->str, out)))
			return rc;
	}
	*n = s->count;
	return 0;
}

static int one_disk(struct ctx *x, const struct xlcfg_setting *s, unsigned i, const char *spec,
		    void *out)
{
	struct domcfg *d = out;
	char why[160];

	if (domcfg_parse_disk(spec, &d->disks[i], why, sizeof(why)))
		return bad(x, s, "entry %u: %s", i + 1, why);
	for (unsigned j = 0; j < i; j++)
		if (d->disks[j].devid == d->disks[i].devid)
			return bad(x, s, "entry %u: vdev %s is used twice", i + 1,
				   d->disks[i].vdev);
	return 0;
}

static int one_vif(struct ctx *x, const struct xlcfg_setting *s, unsigned i, const char *spec,
		   void *out)
{
	struct domcfg *d = out;
	char why[160];

	if (domcfg_parse_vif(spec, &d->vifs[i], why, sizeof(why)))
		return bad(x, s, "entry %u: %s", i + 1, why);
	return 0;
}

static int check_keys(struct ctx *x)
{
	for (unsigned i = 0; i < x->c->nr_settings; i++) {
		const struct xlcfg_setting *s = &x->c->settings[i];
		bool ok = false;
		if (!s->key[0])
			continue; /* replaced by an override */
		for (unsigned k = 0; k < ARRAY_SIZE(known) && !ok; k++)
			ok = !strcmp(s->key, known[k]);
		if (ok)
			continue;
		for (unsigned k = 0; k < ARRAY_SIZE(unsupported); k++)
			if (!strcmp(s->key, unsupported[k]))
				return bad(x, s, "an xl option that is not supported by Keel");
		return bad(x, s, "unknown key");
	}
	return 0;
}

static bool name_char_ok(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '-' || ch == '_' || ch == '.';
}

bool domcfg_name_ok(const char *name)
{
	if (!*name || strlen(name) >= DOMCFG_NAME_MAX)
		return false;
	for (; *name; name++)
		if (!name_char_ok(*name))
			return false;
	return true;
}

static int build_cmdline(struct ctx *x, struct domcfg *d)
{
	char root[256], extra[DOMCFG_CMDLINE_MAX];
	const struct xlcfg_setting *cs = xlcfg_find(x->c, "cmdline");
	int rc;

	if ((rc = get_string(x, "root", root, sizeof(root), false)) ||
	    (rc = get_string(x, "extra", extra, sizeof(extra), false)) ||
	    (rc = get_string(x, "cmdline", d->cmdline, sizeof(d->cmdline), false)))
		return rc;
	if (cs) {
		if (root[0] || extra[0])
			return bad(x, cs, "cmdline replaces root and extra: set one or the others");
		return 0;
	}
	int n = snprintf(d->cmdline, sizeof(d->cmdline), "%s%s%s%s", root[0] ? "root=" : "",
			 root, root[0] && extra[0] ? " " : "", extra);
	if (n < 0 || (size_t)n >= sizeof(d->cmdline))
		return errf(x->err, x->errlen, "%s: root and extra make a command line longer than "
			    "%u characters", x->c->file, DOMCFG_CMDLINE_MAX - 1);
	return 0;
}

int domcfg_from_xlcfg(const struct xlcfg *c, struct domcfg *d, char *err, size_t errlen)
{
	struct ctx x = { c, err, errlen };
	char type[16];
	int rc;

	memset(d, 0, sizeof(*d));
	d->memory_mib = 128;
	d->vcpus = 1;
	d->on_poweroff = DOMCFG_DESTROY;
	d->on_reboot = DOMCFG_RESTART;
	d->on_crash = DOMCFG_DESTROY;
	if (errlen)
		err[0] = 0;
	if ((rc = check_keys(&x)))
		return rc;
	if ((rc = get_string(&x, "name", d->name, sizeof(d->name), true)))
		return rc;
	for (const char *p = d->name; *p; p++)
		if (!name_char_ok(*p))
			return bad(&x, xlcfg_find(c, "name"), "'%s': use letters, digits, '-', '_' "
				   "and '.'", d->name);
	if ((rc = get_string(&x, "type", type, sizeof(type), false)))
		return rc;
	if (type[0] && strcmp(type, "pvh"))
		return bad(&x, xlcfg_find(c, "type"), "type \"%s\" is not supported by Keel "
			   "(type = \"pvh\")", type);
	if ((rc = get_number(&x, "memory", 1, DOMCFG_MEMORY_MAX_MIB, &d->memory_mib)))
		return rc;
	d->maxmem_mib = d->memory_mib;
	if ((rc = get_number(&x, "maxmem", 1, DOMCFG_MEMORY_MAX_MIB, &d->maxmem_mib)))
		return rc;
	if (d->maxmem_mib < d->memory_mib)
		return bad(&x, xlcfg_find(c, "maxmem"), "%u MiB is less than memory (%u MiB)",
			   d->maxmem_mib, d->memory_mib);
	if ((rc = get_number(&x, "vcpus", 1, DOMCFG_VCPUS_MAX, &d->vcpus)))
		return rc;
	if ((rc = get_string(&x, "kernel", d->kernel, sizeof(d->kernel), true)) ||
	    (rc = get_string(&x, "ramdisk", d->ramdisk, sizeof(d->ramdisk), false)) ||
	    (rc = build_cmdline(&x, d)))
		return rc;
	if ((rc = get_list(&x, "disk", DOMCFG_MAX_DISKS, &d->nr_disks, one_disk, d)) ||
	    (rc = get_list(&x, "vif", DOMCFG_MAX_VIFS, &d->nr_vifs, one_vif, d)))
		return rc;
	if ((rc = get_action(&x, "on_poweroff", &d->on_poweroff)) ||
	    (rc = get_action(&x, "on_reboot", &d->on_reboot)) ||
	    (rc = get_action(&x, "on_crash", &d->on_crash)))
		return rc;
	return 0;
}
