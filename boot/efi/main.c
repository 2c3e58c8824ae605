/*
 * Keel's UEFI loader: the whole boot, in order (docs/boot.md).
 *
 * The hypervisor image goes first, because it needs fixed physical
 * addresses (its link address, 2 MiB) and every allocation made before it
 * -- ours or the firmware's on our behalf -- could land there. Everything
 * else may go anywhere below 4 GiB.
 */
#include "loader.h"

/* payload.S: keel.elf's bytes. */
extern const UINT8 keel_payload_start[] __attribute__((visibility("hidden")));
extern const UINT8 keel_payload_end[] __attribute__((visibility("hidden")));

/* Static: some 9 KiB, too big to be polite to the firmware's stack. */
static struct keel_cfg cfg;

static EFI_STATUS boot_info_alloc(struct boot_info **out)
{
	EFI_PHYSICAL_ADDRESS addr = LOADER_MAX_ADDR;
	struct boot_info *bi;
	EFI_STATUS st;

	st = pages_alloc(AllocateMaxAddress, EfiLoaderData,
			 EFI_SIZE_TO_PAGES(sizeof(*bi)), &addr);
	if (EFI_ERROR(st)) {
		LOG(L"no memory below 4 GiB for boot_info (%r)", st);
		return st;
	}
	bi = (struct boot_info *)(UINTN)addr;
	SetMem(bi, sizeof(*bi), 0);
	bi->magic = BOOT_INFO_MAGIC;
	bi->version = BOOT_INFO_VERSION;
	CopyMem(bi->loader, "uefi", sizeof("uefi"));
	*out = bi;
	return EFI_SUCCESS;
}

/* Returns only on failure; what failed has been printed. */
static EFI_STATUS boot(EFI_HANDLE image)
{
	struct boot_source src;
	struct boot_info *bi;
	UINT64 entry;
	EFI_STATUS st;

	st = elf_load(keel_payload_start, keel_payload_end - keel_payload_start, &entry);
	if (EFI_ERROR(st))
		return st;
	st = source_open(image, &src);
	if (EFI_ERROR(st))
		return st;
	st = config_load(&src, &cfg);
	if (EFI_ERROR(st))
		goto out_close;
	st = boot_info_alloc(&bi);
	if (EFI_ERROR(st))
		goto out_close;
	BUILD_BUG_ON(sizeof(cfg.cmdline) != sizeof(bi->cmdline));
	CopyMem(bi->cmdline, cfg.cmdline, sizeof(bi->cmdline));
	st = modules_load(&src, &cfg, bi);
	if (EFI_ERROR(st))
		goto out_close;
	source_close(&src);

	bi->rsdp = acpi_find_rsdp();
	gop_query(&bi->fb);
	LOG(L"cmdline '%a'", bi->cmdline);
	LOG(L"ACPI RSDP 0x%lx", bi->rsdp);
	if (bi->fb.base)
		LOG(L"framebuffer 0x%lx, %dx%d, %d bpp", bi->fb.base, bi->fb.width,
		    bi->fb.height, bi->fb.bpp);
	else
		LOG(L"no framebuffer (no GOP, or a Blt-only mode)");
	LOG(L"boot_info at 0x%lx; exiting boot services", (UINT64)(UINTN)bi);
	return handoff(image, bi, entry);

out_close:
	source_close(&src);
	return st;
}

/* Called by gnu-efi's crt0 with the System V ABI (not EFIAPI). */
EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab);

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
	EFI_STATUS st;

	InitializeLib(image, systab);
	LOG(L"Keel UEFI loader");
	st = boot(image);
	pages_free_all();
	LOG(L"boot failed (%r); returning to the firmware", st);
	return st;
}
