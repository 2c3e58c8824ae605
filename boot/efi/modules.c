/*
 * The modules named in keel.cfg: each file goes into its own page-aligned
 * EfiLoaderData pages and becomes one boot_info module, in file order.
 * Those pages are "usable" in the memory map the hypervisor gets
 * (mmap.c); it reserves them itself from bi->modules.
 */
#include "loader.h"

/* Append src to the NUL-terminated string of size `size` whose end is at
 * `pos`, as far as it fits; returns the new end. */
static UINTN append(char *out, UINTN size, UINTN pos, const char *src)
{
	while (*src && pos + 1 < size)
		out[pos++] = *src++;
	out[pos] = '\0';
	return pos;
}

/* "module 'NAME' (keel.cfg:LINE)" for source_load()'s lines (gnu-efi
 * 3.0.15 has no AsciiSPrint()). */
static void describe(char *out, UINTN size, const struct keel_cfg_module *m)
{
	char num[12];
	UINTN n = sizeof(num) - 1, pos;
	UINT32 line = m->line;

	num[n] = '\0';
	do {
		num[--n] = (char)('0' + line % 10);
		line /= 10;
	} while (line);
	pos = append(out, size, 0, "module '");
	pos = append(out, size, pos, m->name);
	pos = append(out, size, pos, "' (keel.cfg:");
	pos = append(out, size, pos, num + n);
	append(out, size, pos, ")");
}

EFI_STATUS modules_load(struct boot_source *src, const struct keel_cfg *cfg,
			struct boot_info *bi)
{
	/* "module 'NAME' (keel.cfg:LINE)": the longest name is 31 bytes. */
	char what[BOOT_NAME_MAX + 40];
	UINT32 i;

	BUILD_BUG_ON(sizeof(cfg->modules[0].name) != sizeof(bi->modules[0].name));
	BUILD_BUG_ON(sizeof(cfg->modules[0].cmdline) != sizeof(bi->modules[0].cmdline));

	for (i = 0; i < cfg->nr_modules; i++) {
		const struct keel_cfg_module *m = &cfg->modules[i];
		struct boot_module *bm = &bi->modules[i];
		EFI_PHYSICAL_ADDRESS base;
		UINT64 len;
		EFI_STATUS st;

		describe(what, sizeof(what), m);
		st = source_load(src, m->path, what, &base, &len);
		if (EFI_ERROR(st))
			return st;
		bm->base = base;
		bm->len = len;
		append(bm->name, sizeof(bm->name), 0, m->name);
		append(bm->cmdline, sizeof(bm->cmdline), 0, m->cmdline);
		bi->nr_modules = i + 1;
		LOG(L"module %a: %a, %ld bytes at 0x%lx", m->name, m->path, len, base);
	}
	return EFI_SUCCESS;
}
