/*
 * Read-only FAT16/FAT32 (contract in fat.h). Offsets and rules are the
 * FAT specification's ("Microsoft Extensible Firmware Initiative FAT32
 * File System Specification" 1.03): the BPB in sector 0, the FAT type
 * decided by the count of data clusters alone, 32-byte directory
 * entries, long names as runs of 0x0F-attribute entries before their
 * short entry.
 */
#include <lib/errno.h>
#include <lib/string.h>
#include <stdarg.h>
#include "fat.h"

static int fail(struct fat_vol *v, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v->err, sizeof(v->err), fmt, ap);
	va_end(ap);
	return rc;
}

static u16 le16(const u8 *p)
{
	return (u16)(p[0] | p[1] << 8);
}

static u32 le32(const u8 *p)
{
	return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

static bool pow2(u32 x)
{
	return x && !(x & (x - 1));
}

/* FAT sector `s` (bytes_per_sector units) into buf. */
static int read_sector(struct fat_vol *v, u64 s, void *buf)
{
	u32 per = v->bytes_per_sector / v->dev.sector_size;
	u64 dev_sector = s * per;

	if (dev_sector + per > v->dev.sectors)
		return fail(v, -EINVAL, "sector %lu is past the end of the volume", s);
	int rc = v->dev.read(v->dev.ctx, dev_sector, per, buf);
	if (rc)
		return fail(v, rc, "read error %d at sector %lu", rc, s);
	return 0;
}

int fat_mount(struct fat_vol *v, const struct fat_dev *dev)
{
	u8 *b = v->buf;
	int rc;

	memset(v, 0, sizeof(*v));
	v->dev = *dev;
	if ((dev->sector_size != 512 && dev->sector_size != 4096) || !dev->sectors)
		return fail(v, -EINVAL, "device sector size %u unsupported", dev->sector_size);
	if ((rc = dev->read(dev->ctx, 0, 1, b)))
		return fail(v, rc, "read error %d at the boot sector", rc);
	if (!memcmp(b + 3, "EXFAT   ", 8))
		return fail(v, -EOPNOTSUPP, "exFAT is not supported (FAT16 and FAT32 are)");
	if (b[510] != 0x55 || b[511] != 0xaa)
		return fail(v, -EINVAL, "no boot sector signature (55 aa at byte 510)");
	v->bytes_per_sector = le16(b + 11);
	v->sectors_per_cluster = b[13];
	v->reserved = le16(b + 14);
	v->nr_fats = b[16];
	v->root_entries = le16(b + 17);
	u32 total = le16(b + 19) ? le16(b + 19) : le32(b + 32);
	u32 fat16_size = le16(b + 22);
	v->fat_sectors = fat16_size ? fat16_size : le32(b + 36);

	if (v->bytes_per_sector < 512 || v->bytes_per_sector > FAT_SECTOR_MAX ||
	    !pow2(v->bytes_per_sector) || v->bytes_per_sector < dev->sector_size)
		return fail(v, -EINVAL, "bytes per sector %u invalid (512..4096, a power of two, at "
			    "least the device's %u)", v->bytes_per_sector, dev->sector_size);
	if (!pow2(v->sectors_per_cluster) || v->sectors_per_cluster > 128)
		return fail(v, -EINVAL, "sectors per cluster %u invalid", v->sectors_per_cluster);
	if (!v->reserved || !v->nr_fats || v->nr_fats > 4 || !v->fat_sectors || !total)
		return fail(v, -EINVAL, "boot sector: reserved %u, FATs %u, FAT sectors %u, total "
			    "%u: not a FAT file system", v->reserved, v->nr_fats, v->fat_sectors, total);
	u64 vol_bytes = (u64)total * v->bytes_per_sector;
	if (vol_bytes > dev->sectors * dev->sector_size)
		return fail(v, -EINVAL, "the file system claims %lu bytes, the volume has %lu",
			    vol_bytes, dev->sectors * dev->sector_size);
	u32 root_sectors = (v->root_entries * 32 + v->bytes_per_sector - 1) / v->bytes_per_sector;
	u64 meta = (u64)v->reserved + (u64)v->nr_fats * v->fat_sectors + root_sectors;
	if (meta >= total)
		return fail(v, -EINVAL, "FATs and root directory (%lu sectors) fill the volume "
			    "(%u)", meta, total);
	v->nr_clusters = (u32)((total - meta) / v->sectors_per_cluster);
	v->cluster_bytes = v->bytes_per_sector * v->sectors_per_cluster;
	v->root_sector = v->reserved + (u64)v->nr_fats * v->fat_sectors;
	v->data_sector = meta;
	/* The type is the cluster count's (spec, "FAT type determination"). */
	if (v->nr_clusters < 4085)
		return fail(v, -EOPNOTSUPP, "FAT12 (%u clusters) is not supported (FAT16 and FAT32 "
			    "are)", v->nr_clusters);
	v->bits = v->nr_clusters < 65525 ? 16 : 32;
	if (v->bits == 32) {
		if (fat16_size || v->root_entries)
			return fail(v, -EINVAL, "FAT32 by its %u clusters, but with a FAT16 layout",
				    v->nr_clusters);
		v->root_cluster = le32(b + 44) & 0x0fffffff;
		if (v->root_cluster < 2 || v->root_cluster > v->nr_clusters + 1)
			return fail(v, -EINVAL, "root directory cluster %u outside 2..%u",
				    v->root_cluster, v->nr_clusters + 1);
		memcpy(v->label, b + 71, 11);
	} else {
		if (!v->root_entries)
			return fail(v, -EINVAL, "FAT16 without a root directory");
		memcpy(v->label, b + 43, 11);
	}
	for (int i = 10; i >= 0 && v->label[i] == ' '; i--)
		v->label[i] = 0;
	/* Every cluster needs its FAT entry. */
	if ((u64)v->fat_sectors * v->bytes_per_sector * 8 / v->bits < (u64)v->nr_clusters + 2)
		return fail(v, -EINVAL, "the FAT (%u sectors) is too small for %u clusters",
			    v->fat_sectors, v->nr_clusters);
	return 0;
}

void fat_root(const struct fat_vol *v, struct fat_file *f)
{
	memset(f, 0, sizeof(*f));
	f->dir = f->root = true;
	f->first_cluster = v->bits == 32 ? v->root_cluster : 0;
	f->name[0] = '/';
}

static bool cluster_ok(const struct fat_vol *v, u32 c)
{
	return c >= 2 && c <= v->nr_clusters + 1;
}

/* The FAT entry of cluster c (valid): the next cluster, 0 at the end of
 * the chain, or -errno for a free or bad entry or one outside the volume. */
static long fat_next(struct fat_vol *v, u32 c)
{
	u64 off = (u64)c * (v->bits / 8);
	u64 s = v->reserved + off / v->bytes_per_sector;
	u32 in = (u32)(off % v->bytes_per_sector);
	int rc;

	if (v->fat_cached != s + 1) {
		if ((rc = read_sector(v, s, v->fat_buf)))
			return rc;
		v->fat_cached = s + 1;
	}
	u32 e = v->bits == 32 ? le32(v->fat_buf + in) & 0x0fffffff : le16(v->fat_buf + in);
	u32 eoc = v->bits == 32 ? 0x0ffffff8 : 0xfff8, bad = eoc - 1;
	if (e >= eoc)
		return 0;
	if (e == bad)
		return fail(v, -EINVAL, "cluster %u is marked bad but is in use", c);
	if (!cluster_ok(v, e))
		return fail(v, -EINVAL, "cluster %u's FAT entry 0x%x is %s", c, e,
			    e ? "outside the volume" : "free but in a chain");
	return e;
}

/*
 * Walking a chain: a loop is found with Brent's cycle finding (a
 * remembered cluster, moved to the walker's position at powers of two
 * steps; meeting it again is a loop), and the walk is never longer than
 * the volume has clusters, so a damaged FAT can neither hang the reader
 * nor make it hand out a file's clusters twice.
 */
struct walk {
	u32 mark;
	u64 power, steps, total;
};

static void walk_start(struct walk *w, u32 first)
{
	w->mark = first;
	w->power = 1;
	w->steps = 0;
	w->total = 0;
}

/* Moves *c to the next cluster: 1, 0 at the end of the chain, or -errno. */
static int walk_next(struct fat_vol *v, struct walk *w, u32 *c, const char *what)
{
	long nx = fat_next(v, *c);

	if (nx <= 0)
		return (int)nx;
	*c = (u32)nx;
	if (*c == w->mark || ++w->total > v->nr_clusters)
		return fail(v, -EINVAL, "%s: its cluster chain loops (at cluster %u)", what, *c);
	if (++w->steps == w->power) {
		w->mark = *c;
		w->power *= 2;
		w->steps = 0;
	}
	return 1;
}

static u64 cluster_sector(const struct fat_vol *v, u32 c)
{
	return v->data_sector + (u64)(c - 2) * v->sectors_per_cluster;
}

long fat_read(struct fat_vol *v, const struct fat_file *f, u64 off, void *buf, size_t n)
{
	if (f->dir)
		return fail(v, -EISDIR, "%s is a directory", f->name);
	if (off >= f->size)
		return 0;
	if (n > f->size - off)
		n = (size_t)(f->size - off);
	if (!n)
		return 0;
	u32 c = f->first_cluster;
	if (!cluster_ok(v, c))
		return fail(v, -EINVAL, "%s: first cluster %u outside the volume", f->name, c);
	/* Skip to the cluster holding off; a chain longer than the volume
	 * has clusters is a loop. */
	u64 skip = off / v->cluster_bytes;
	if (skip > v->nr_clusters)
		return fail(v, -EINVAL, "%s: size %u needs more clusters than the volume has",
			    f->name, f->size);
	struct walk w;
	int rc;
	walk_start(&w, c);
	for (u64 i = 0; i < skip; i++) {
		if ((rc = walk_next(v, &w, &c, f->name)) <= 0)
			return rc ? rc : fail(v, -EINVAL, "%s: chain ends before its size %u",
					      f->name, f->size);
	}
	size_t done = 0;
	u32 in = (u32)(off % v->cluster_bytes);
	while (done < n) {
		u32 sec = in / v->bytes_per_sector, sin = in % v->bytes_per_sector;
		if ((rc = read_sector(v, cluster_sector(v, c) + sec, v->buf)))
			return rc;
		size_t take = MIN((size_t)(v->bytes_per_sector - sin), n - done);
		memcpy((u8 *)buf + done, v->buf + sin, take);
		done += take;
		in += (u32)take;
		if (done < n && in == v->cluster_bytes) {
			if ((rc = walk_next(v, &w, &c, f->name)) <= 0)
				return rc ? rc : fail(v, -EINVAL, "%s: chain ends before its size "
						      "%u", f->name, f->size);
			in = 0;
		}
	}
	return (long)done;
}

/* ---- directories ---- */

struct lfn {
	u8 expect;      /* next sequence number expected (counting down), 0: none */
	u8 checksum;
	u16 chars[20 * 13];
	unsigned len;   /* chars known */
};

static u8 short_checksum(const u8 *name11)
{
	u8 sum = 0;

	for (int i = 0; i < 11; i++)
		sum = (u8)(((sum & 1) << 7) + (sum >> 1) + name11[i]);
	return sum;
}

static void lfn_part(struct lfn *l, const u8 *e)
{
	static const u8 at[13] = { 1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30 };
	u8 ord = e[0], seq = ord & 0x1f;

	if (ord & 0x40) { /* the last part comes first */
		if (!seq || seq > 20) {
			l->expect = 0;
			return;
		}
		l->expect = seq;
		l->checksum = e[13];
		l->len = seq * 13u;
		for (unsigned i = 0; i < l->len; i++)
			l->chars[i] = 0xffff;
	} else if (!l->expect || seq != l->expect || e[13] != l->checksum) {
		l->expect = 0; /* out of order: an orphan, ignored as the spec says */
		return;
	}
	for (unsigned i = 0; i < 13; i++)
		l->chars[(seq - 1) * 13 + i] = le16(e + at[i]);
	l->expect = seq - 1 ? (u8)(seq - 1) : 0x80; /* 0x80: complete */
}

/* The long name into out (ASCII; others become '?'), if l is complete
 * and belongs to the short entry `name11`. */
static bool lfn_take(struct lfn *l, const u8 *name11, char *out)
{
	bool ok = l->expect == 0x80 && l->checksum == short_checksum(name11);
	unsigned n = 0;

	l->expect = 0;
	if (!ok)
		return false;
	for (unsigned i = 0; i < l->len && l->chars[i] && l->chars[i] != 0xffff; i++) {
		if (n == FAT_NAME_MAX)
			return false;
		u16 ch = l->chars[i];
		out[n++] = ch >= 0x20 && ch < 0x7f && ch != '/' ? (char)ch : '?';
	}
	out[n] = 0;
	return n > 0;
}

static void short_name(const u8 *e, char *out)
{
	unsigned n = 0;

	for (int i = 0; i < 8 && e[i] != ' '; i++)
		out[n++] = (char)(i == 0 && e[0] == 0x05 ? 0xe5 : e[i]);
	if (e[8] != ' ') {
		out[n++] = '.';
		for (int i = 8; i < 11 && e[i] != ' '; i++)
			out[n++] = (char)e[i];
	}
	out[n] = 0;
	for (unsigned i = 0; i < n; i++)
		if ((u8)out[i] < 0x20 || (u8)out[i] >= 0x7f || out[i] == '/')
			out[i] = '?';
}

int fat_readdir(struct fat_vol *v, const struct fat_file *dir,
		int (*fn)(void *arg, const struct fat_file *entry), void *arg)
{
	static struct lfn lfn; /* single-threaded; too big for a small stack */
	struct fat_file f;
	u32 c = dir->first_cluster;
	u64 sector, sectors_left;
	u32 per_sector = v->bytes_per_sector / 32;
	struct walk w;
	bool fixed = dir->root && v->bits == 16;
	int rc;

	if (!dir->dir)
		return fail(v, -ENOTDIR, "%s is not a directory", dir->name);
	if (fixed) {
		sector = v->root_sector;
		sectors_left = (v->root_entries * 32 + v->bytes_per_sector - 1) / v->bytes_per_sector;
	} else {
		if (!cluster_ok(v, c))
			return fail(v, -EINVAL, "directory %s: cluster %u outside the volume",
				    dir->name, c);
		sector = cluster_sector(v, c);
		sectors_left = v->sectors_per_cluster;
	}
	walk_start(&w, c);
	lfn.expect = 0;
	for (u32 seen = 0; seen < FAT_MAX_DIR_ENTRIES;) {
		if (!sectors_left) {
			if (fixed)
				return 0;
			if ((rc = walk_next(v, &w, &c, dir->name)) <= 0)
				return rc;
			sector = cluster_sector(v, c);
			sectors_left = v->sectors_per_cluster;
		}
		if ((rc = read_sector(v, sector, v->buf)))
			return rc;
		sector++;
		sectors_left--;
		for (u32 i = 0; i < per_sector; i++, seen++) {
			const u8 *e = v->buf + i * 32;
			u8 attr = e[11];
			if (e[0] == 0x00)
				return 0; /* the end of the directory */
			if (e[0] == 0xe5) {
				lfn.expect = 0;
				continue;
			}
			if ((attr & 0x3f) == 0x0f) {
				lfn_part(&lfn, e);
				continue;
			}
			if (attr & 0x08) { /* volume label */
				lfn.expect = 0;
				continue;
			}
			memset(&f, 0, sizeof(f));
			short_name(e, f.short_name);
			if (!lfn_take(&lfn, e, f.name))
				memcpy(f.name, f.short_name, sizeof(f.short_name));
			if (!strcmp(f.short_name, ".") || !strcmp(f.short_name, ".."))
				continue;
			f.dir = attr & 0x10;
			f.first_cluster = (v->bits == 32 ? (u32)le16(e + 20) << 16 : 0) | le16(e + 26);
			f.size = f.dir ? 0 : le32(e + 28);
			if (f.first_cluster && !cluster_ok(v, f.first_cluster))
				return fail(v, -EINVAL, "%s in %s: first cluster %u outside the volume",
					    f.name, dir->name, f.first_cluster);
			if (f.dir && !f.first_cluster)
				return fail(v, -EINVAL, "directory %s in %s has no cluster", f.name,
					    dir->name);
			if (!f.dir && f.size && !f.first_cluster)
				return fail(v, -EINVAL, "%s in %s: %u bytes but no cluster", f.name,
					    dir->name, f.size);
			if ((rc = fn(arg, &f)))
				return rc;
		}
	}
	return fail(v, -EINVAL, "directory %s has more than %u entries", dir->name,
		    FAT_MAX_DIR_ENTRIES);
}

static bool same_name(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char x = a[i], y = b[i];
		if (x >= 'A' && x <= 'Z')
			x = (char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (char)(y - 'A' + 'a');
		if (x != y || !x)
			return false;
	}
	return !b[n];
}

struct find {
	const char *name;
	size_t len;
	struct fat_file *out;
};

static int find_one(void *arg, const struct fat_file *e)
{
	struct find *fd = arg;

	if (!same_name(fd->name, e->name, fd->len) && !same_name(fd->name, e->short_name, fd->len))
		return 0;
	*fd->out = *e;
	return 1;
}

int fat_lookup(struct fat_vol *v, const char *path, struct fat_file *f)
{
	struct fat_file cur;
	int rc;

	if (path[0] != '/')
		return fail(v, -EINVAL, "path '%s' is not absolute", path);
	fat_root(v, &cur);
	for (const char *p = path; *p;) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		size_t n = 0;
		while (p[n] && p[n] != '/')
			n++;
		if (n > FAT_NAME_MAX)
			return fail(v, -ENAMETOOLONG, "a name in '%s' is longer than %u", path,
				    FAT_NAME_MAX);
		if (!cur.dir)
			return fail(v, -ENOTDIR, "%s in '%s' is not a directory", cur.name, path);
		struct fat_file next;
		struct find fd = { p, n, &next };
		rc = fat_readdir(v, &cur, find_one, &fd);
		if (rc < 0)
			return rc;
		if (!rc)
			return fail(v, -ENOENT, "'%s': no %.*s", path, (int)n, p);
		cur = next;
		p += n;
	}
	*f = cur;
	return 0;
}
