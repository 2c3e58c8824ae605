/*
 * xl.cfg files from wherever dom0 reads them (a disk, a boot module): the
 * syntax (guest/dom0/cli/xlcfg.c) and the meaning (domcfg.c).
 *
 * unit-sources: guest/dom0/cli/xlcfg.c guest/dom0/cli/domcfg.c lib/format.c lib/string.c
 *
 * Input: the file's bytes, as is (libFuzzer's own buffer, so a read past
 * its end is an ASan report). Invariants: 0 or -EINVAL/-E2BIG; on an
 * error the message is terminated, non-empty and starts with the file's
 * name; on success every setting's atoms are inside the atom table and
 * every string is terminated inside the pool; a domain config that
 * passes has its limits (memory >= 1, maxmem >= memory, 1..64 vCPUs, at
 * most 8 disks and vifs with distinct device numbers).
 */
#include <lib/errno.h>
#include "../../guest/dom0/cli/domcfg.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	static struct xlcfg c;
	static struct domcfg d;
	static char err[200];

	int rc = xlcfg_parse(&c, "f.cfg", (const char *)data, size, err, sizeof(err));
	fuzz_check(rc == 0 || rc == -EINVAL || rc == -E2BIG, "parse returned %d", rc);
	if (rc) {
		fuzz_check(strlen(err) > 0 && !strncmp(err, "f.cfg:", 6), "message '%s'", err);
		return 0;
	}
	fuzz_check(c.nr_settings <= XLCFG_MAX_SETTINGS && c.nr_atoms <= XLCFG_MAX_ATOMS, "counts");
	for (unsigned i = 0; i < c.nr_settings; i++) {
		const struct xlcfg_setting *s = &c.settings[i];
		fuzz_check(s->first + s->count <= c.nr_atoms, "setting %u atoms out of range", i);
		fuzz_check(s->list || s->count == 1, "plain setting with %u atoms", s->count);
		for (unsigned k = 0; k < s->count; k++) {
			const char *str = xlcfg_atom(&c, s, k)->str;
			fuzz_check(str >= c.pool && str < c.pool + c.pool_used, "string outside the pool");
			fuzz_check(strnlen(str, (size_t)(c.pool + c.pool_used - str)) <
					   (size_t)(c.pool + c.pool_used - str),
				   "string not terminated inside the pool");
		}
	}
	rc = domcfg_from_xlcfg(&c, &d, err, sizeof(err));
	fuzz_check(rc == 0 || rc == -EINVAL, "domcfg returned %d", rc);
	if (rc) {
		fuzz_check(strlen(err) > 0 && !strncmp(err, "f.cfg", 5), "message '%s'", err);
		return 0;
	}
	fuzz_check(d.memory_mib >= 1 && d.maxmem_mib >= d.memory_mib, "memory %u max %u",
		   d.memory_mib, d.maxmem_mib);
	fuzz_check(d.vcpus >= 1 && d.vcpus <= DOMCFG_VCPUS_MAX, "vcpus %u", d.vcpus);
	fuzz_check(d.nr_disks <= DOMCFG_MAX_DISKS && d.nr_vifs <= DOMCFG_MAX_VIFS, "devices");
	for (unsigned i = 0; i < d.nr_disks; i++)
		for (unsigned j = 0; j < i; j++)
			fuzz_check(d.disks[i].devid != d.disks[j].devid, "two disks share a devid");
	fuzz_check(d.name[0] && d.kernel[0], "name or kernel empty");
	return 0;
}
