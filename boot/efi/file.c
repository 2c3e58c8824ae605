/*
 * Files on the boot volume, through the Simple File System protocol of the
 * device the loader itself came from (UEFI 2.10 sections 9.1
 * EFI_LOADED_IMAGE_PROTOCOL.DeviceHandle, 13.4 and 13.5), and the page
 * handling both sources share.
 */
#include "loader.h"

/* Reads go in chunks of this size, so that big files report progress. */
#define FS_CHUNK (1ULL << 20)

EFI_STATUS fs_open(EFI_HANDLE device, EFI_FILE_HANDLE *root)
{
	EFI_SIMPLE_FILE_SYSTEM_PROTOCOL *fs;
	EFI_STATUS st;

	st = uefi_call_wrapper(BS->HandleProtocol, 3, device,
			       &gEfiSimpleFileSystemProtocolGuid, (void **)&fs);
	if (EFI_ERROR(st))
		return st; /* the caller decides whether that is an error */
	st = uefi_call_wrapper(fs->OpenVolume, 2, fs, root);
	if (EFI_ERROR(st))
		LOG(L"cannot open the boot volume (%r)", st);
	return st;
}

/* keel.cfg paths are ASCII with either separator; the file protocol wants
 * UCS-2 with '\' and takes them relative to the root we open them from.
 * CFG_PATH_MAX bounds every path here (cfg.c checked it). */
static EFI_STATUS path_to_ucs2(const char *path, CHAR16 *out, UINTN out_len)
{
	UINTN i = 0;

	if (*path != '/' && *path != '\\')
		out[i++] = L'\\';
	for (; *path; path++) {
		if (i + 1 >= out_len)
			return EFI_BAD_BUFFER_SIZE;
		out[i++] = *path == '/' ? L'\\' : (CHAR16)(unsigned char)*path;
	}
	out[i] = 0;
	return EFI_SUCCESS;
}

bool fs_exists(EFI_FILE_HANDLE root, const char *path)
{
	CHAR16 path16[CFG_PATH_MAX + 2];
	EFI_FILE_HANDLE f;

	if (EFI_ERROR(path_to_ucs2(path, path16, sizeof(path16) / sizeof(path16[0]))))
		return false;
	if (EFI_ERROR(uefi_call_wrapper(root->Open, 5, root, &f, path16, EFI_FILE_MODE_READ, 0ULL)))
		return false;
	uefi_call_wrapper(f->Close, 1, f);
	return true;
}

/* Read exactly `size` bytes: Read() may return fewer than asked (13.5,
 * EFI_FILE_PROTOCOL.Read()), and 0 bytes means the file shrank under us. */
static EFI_STATUS read_all(EFI_FILE_HANDLE f, UINT8 *buf, UINT64 size, struct progress *p)
{
	UINT64 done = 0;

	while (done < size) {
		UINTN chunk = MIN(size - done, FS_CHUNK);
		EFI_STATUS st = uefi_call_wrapper(f->Read, 3, f, &chunk, buf + done);

		if (EFI_ERROR(st))
			return st;
		if (!chunk)
			return EFI_END_OF_FILE;
		done += chunk;
		progress_update(p, done);
	}
	return EFI_SUCCESS;
}

EFI_STATUS file_pages(const char *what, const char *name, UINT64 size,
		      EFI_PHYSICAL_ADDRESS *base)
{
	EFI_STATUS st;

	*base = LOADER_MAX_ADDR;
	st = pages_alloc(AllocateMaxAddress, EfiLoaderData, EFI_SIZE_TO_PAGES(size), base);
	if (EFI_ERROR(st))
		LOG(L"%a: no memory below 4 GiB for '%a' (%ld bytes: %r)", what, name, size, st);
	return st;
}

void file_zero_tail(EFI_PHYSICAL_ADDRESS base, UINT64 size)
{
	/* The page tail would otherwise hold stale firmware data, which the
	 * hypervisor may hand to a guest along with the module. */
	ZeroMem((UINT8 *)(UINTN)(base + size), EFI_SIZE_TO_PAGES(size) * EFI_PAGE_SIZE - size);
}

EFI_STATUS fs_load(EFI_FILE_HANDLE root, const char *path, const char *what,
		   EFI_PHYSICAL_ADDRESS *base, UINT64 *size)
{
	CHAR16 path16[CFG_PATH_MAX + 2];
	struct progress prog;
	EFI_FILE_HANDLE f;
	EFI_FILE_INFO *info;
	EFI_STATUS st;

	st = path_to_ucs2(path, path16, sizeof(path16) / sizeof(path16[0]));
	if (EFI_ERROR(st)) {
		LOG(L"%a: path '%a' too long", what, path);
		return st;
	}
	st = uefi_call_wrapper(root->Open, 5, root, &f, path16, EFI_FILE_MODE_READ, 0ULL);
	if (EFI_ERROR(st)) {
		LOG(L"%a: cannot open '%a' (%r)", what, path, st);
		return st;
	}

	info = LibFileInfo(f); /* pool memory, ours to free */
	if (!info) {
		LOG(L"%a: cannot get the size of '%a'", what, path);
		st = EFI_DEVICE_ERROR;
		goto out_close;
	}
	*size = info->FileSize;
	if (info->Attribute & EFI_FILE_DIRECTORY) {
		LOG(L"%a: '%a' is a directory", what, path);
		st = EFI_LOAD_ERROR;
	} else if (!*size) {
		LOG(L"%a: '%a' is empty", what, path);
		st = EFI_LOAD_ERROR;
	}
	FreePool(info);
	if (EFI_ERROR(st))
		goto out_close;

	LOG(L"%a: loading '%a', %ld bytes", what, path, *size);
	st = file_pages(what, path, *size, base);
	if (EFI_ERROR(st))
		goto out_close;
	progress_start(&prog, path, *size);
	st = read_all(f, (UINT8 *)(UINTN)*base, *size, &prog);
	if (EFI_ERROR(st)) {
		LOG(L"%a: cannot read '%a' (%r after %ld of %ld bytes)", what, path, st,
		    prog.done, *size);
		pages_free(*base);
		goto out_close;
	}
	file_zero_tail(*base, *size);

out_close:
	uefi_call_wrapper(f->Close, 1, f);
	return st;
}
