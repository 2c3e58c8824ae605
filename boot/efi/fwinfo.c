/*
 * What only the firmware can tell: where the ACPI tables start and where
 * the screen is. Both are best-effort; the hypervisor copes without them.
 */
#include "loader.h"

/*
 * The RSDP is published in the EFI configuration table (UEFI 2.10 section
 * 4.6), under ACPI_20_TABLE_GUID for an ACPI 2.0+ RSDP (with the XSDT) and
 * under ACPI_TABLE_GUID for a 1.0 one. Firmware often publishes both; the
 * 2.0 entry wins wherever it appears in the table.
 */
UINT64 acpi_find_rsdp(void)
{
	static EFI_GUID acpi20 = ACPI_20_TABLE_GUID;
	static EFI_GUID acpi10 = ACPI_TABLE_GUID;
	UINT64 rsdp1 = 0;
	UINTN i;

	for (i = 0; i < ST->NumberOfTableEntries; i++) {
		EFI_CONFIGURATION_TABLE *t = &ST->ConfigurationTable[i];

		if (!CompareGuid(&t->VendorGuid, &acpi20))
			return (UINT64)(UINTN)t->VendorTable;
		if (!CompareGuid(&t->VendorGuid, &acpi10))
			rsdp1 = (UINT64)(UINTN)t->VendorTable;
	}
	return rsdp1;
}

/* Bits set in a GOP channel mask. */
static UINT32 mask_bits(UINT32 m)
{
	UINT32 n = 0;

	for (; m; m &= m - 1)
		n++;
	return n;
}

/*
 * The current mode's linear framebuffer (12.9, EFI_GRAPHICS_OUTPUT_PROTOCOL).
 * PixelBltOnly modes have none; the two RGB/BGR formats are 32 bits per
 * pixel; PixelBitMask says its depth through its masks.
 */
void gop_query(struct boot_fb *fb)
{
	EFI_GRAPHICS_OUTPUT_PROTOCOL *gop;
	EFI_GRAPHICS_OUTPUT_MODE_INFORMATION *info;
	UINT32 bpp;
	EFI_STATUS st;

	fb->base = 0;
	st = uefi_call_wrapper(BS->LocateProtocol, 3, &gEfiGraphicsOutputProtocolGuid,
			       NULL, (void **)&gop);
	if (EFI_ERROR(st) || !gop->Mode || !gop->Mode->Info)
		return;
	info = gop->Mode->Info;
	switch (info->PixelFormat) {
	case PixelRedGreenBlueReserved8BitPerColor:
	case PixelBlueGreenRedReserved8BitPerColor:
		bpp = 32;
		break;
	case PixelBitMask:
		bpp = mask_bits(info->PixelInformation.RedMask |
				info->PixelInformation.GreenMask |
				info->PixelInformation.BlueMask |
				info->PixelInformation.ReservedMask);
		break;
	default:
		return;
	}
	fb->base = gop->Mode->FrameBufferBase;
	fb->width = info->HorizontalResolution;
	fb->height = info->VerticalResolution;
	fb->bpp = bpp;
	/* PixelsPerScanLine may exceed the width (padding). */
	fb->pitch = info->PixelsPerScanLine * ((bpp + 7) / 8);
}
