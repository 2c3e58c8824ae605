/*
 * Where keel.cfg and the modules come from: the loader's own boot device
 * (EFI_LOADED_IMAGE_PROTOCOL.DeviceHandle, UEFI 2.10 section 9.1).
 *
 *   - a device with a file system holding \keel.cfg: that file system
 *     (USB stick, disk, the ISO's El Torito EFI image);
 *   - a device with the PXE base code protocol (the loader came from a
 *     network boot): the TFTP server that served it (tftp.c);
 *   - a device with both (iPXE's EFI driver puts a small file system of
 *     the files it downloaded next to its PXE base code): the file system
 *     if \keel.cfg is on it, else TFTP;
 *   - a file system without \keel.cfg and no PXE: the file system, so that
 *     the missing file is reported as such.
 */
#include "loader.h"

#define CFG_FILE "/keel.cfg"

/* One line naming the boot device, e.g.
 * PciRoot(0x0)/Pci(0x2,0x0)/USB(0x0,0x0)/HD(2,GPT,...,0x1000,0x22000) */
static void say_device(EFI_HANDLE device)
{
	EFI_DEVICE_PATH *dp = DevicePathFromHandle(device);
	CHAR16 *text = dp ? DevicePathToStr(dp) : NULL;

	if (text) {
		LOG(L"boot device %s", text);
		FreePool(text);
	} else {
		LOG(L"boot device: (no device path)");
	}
}

EFI_STATUS source_open(EFI_HANDLE image, struct boot_source *src)
{
	EFI_PXE_BASE_CODE_PROTOCOL *pxe = NULL;
	EFI_LOADED_IMAGE *li;
	EFI_STATUS st, fs_st;

	SetMem(src, sizeof(*src), 0);
	st = uefi_call_wrapper(BS->HandleProtocol, 3, image, &gEfiLoadedImageProtocolGuid,
			       (void **)&li);
	if (EFI_ERROR(st)) {
		LOG(L"no loaded-image protocol on our own image (%r)", st);
		return st;
	}
	say_device(li->DeviceHandle);
	if (EFI_ERROR(uefi_call_wrapper(BS->HandleProtocol, 3, li->DeviceHandle,
					&gEfiPxeBaseCodeProtocolGuid, (void **)&pxe)))
		pxe = NULL;

	fs_st = fs_open(li->DeviceHandle, &src->root);
	if (!EFI_ERROR(fs_st)) {
		if (!pxe || fs_exists(src->root, CFG_FILE))
			return EFI_SUCCESS;
		LOG(L"no %a on the boot device's file system: trying its TFTP server", CFG_FILE);
		uefi_call_wrapper(src->root->Close, 1, src->root);
		src->root = NULL;
	} else if (fs_st != EFI_UNSUPPORTED) {
		return fs_st; /* a file system we could not open: printed */
	}
	if (pxe)
		return tftp_open(li->DeviceHandle, pxe, src);
	LOG(L"the boot device has neither a file system nor PXE base code (%r)", fs_st);
	return fs_st;
}

void source_close(struct boot_source *src)
{
	if (src->root)
		uefi_call_wrapper(src->root->Close, 1, src->root);
	src->root = NULL;
	if (src->pxe)
		tftp_close(src);
}

EFI_STATUS source_load(struct boot_source *src, const char *path, const char *what,
		       EFI_PHYSICAL_ADDRESS *base, UINT64 *size)
{
	if (src->root)
		return fs_load(src->root, path, what, base, size);
	return tftp_load(src, path, what, base, size);
}
