/*
 * Leaving the firmware: final memory map, ExitBootServices(), jump.
 *
 * ExitBootServices() takes the key of the current memory map and fails
 * with EFI_INVALID_PARAMETER when the map changed since GetMemoryMap() --
 * which firmware events may do at any moment, even inside the call. After
 * such a failure only GetMemoryMap() and ExitBootServices() may be called
 * (UEFI 2.10 section 7.4, ExitBootServices()), so the buffer is sized once
 * beforehand with room to spare and we simply retry. All that runs in the
 * loop besides those two calls is mmap_convert(), which calls nothing.
 */
#include "loader.h"

#define HANDOFF_ATTEMPTS 8
/* Descriptors the map may gain between the size query and a retry: our
 * own pool allocation splits a free range, firmware events add a few. */
#define HANDOFF_MAP_SLACK 32

/*
 * Enter the hypervisor as docs/design.md says: 64-bit mode on the
 * firmware's identity-mapped page tables and GDT, interrupts off,
 * RDI = boot_info (System V AMD64 ABI: the entry is not an EFIAPI
 * function). The stack is the firmware's, aligned as a SysV callee
 * expects -- RSP + 8 a multiple of 16 -- with a zero return address that
 * ends backtraces; the entry switches to its own stack straight away.
 */
static __noreturn void enter(struct boot_info *bi, UINT64 entry)
{
	__asm__ volatile("cli\n\t"
			 "cld\n\t"
			 "and $-16, %%rsp\n\t"
			 "push $0\n\t"
			 "jmp *%1"
			 :
			 : "D"(bi), "r"(entry)
			 : "memory");
	__builtin_unreachable();
}

EFI_STATUS handoff(EFI_HANDLE image, struct boot_info *bi, UINT64 entry)
{
	EFI_MEMORY_DESCRIPTOR *map = NULL;
	UINTN size = 0, cap, key, desc_size;
	UINT32 desc_version;
	const CHAR16 *step = L"";
	bool exit_tried = false;
	EFI_STATUS st;
	int attempt;

	st = uefi_call_wrapper(BS->GetMemoryMap, 5, &size, NULL, &key, &desc_size,
			       &desc_version);
	if (st != EFI_BUFFER_TOO_SMALL) {
		LOG(L"cannot size the memory map (%r)", st);
		return EFI_ERROR(st) ? st : EFI_DEVICE_ERROR;
	}
	cap = size + HANDOFF_MAP_SLACK * desc_size;
	st = uefi_call_wrapper(BS->AllocatePool, 3, EfiLoaderData, cap, (void **)&map);
	if (EFI_ERROR(st)) {
		LOG(L"no memory for the memory map (%ld bytes: %r)", (UINT64)cap, st);
		return st;
	}

	for (attempt = 1; attempt <= HANDOFF_ATTEMPTS; attempt++) {
		size = cap;
		st = uefi_call_wrapper(BS->GetMemoryMap, 5, &size, map, &key, &desc_size,
				       &desc_version);
		if (EFI_ERROR(st)) {
			step = L"GetMemoryMap()";
			break;
		}
		st = mmap_convert(map, size, desc_size, bi);
		if (EFI_ERROR(st)) {
			step = L"converting the memory map (over BOOT_MMAP_MAX ranges)";
			break;
		}
		exit_tried = true;
		st = uefi_call_wrapper(BS->ExitBootServices, 2, image, key);
		if (!EFI_ERROR(st))
			enter(bi, entry);
		step = L"ExitBootServices()";
		if (st != EFI_INVALID_PARAMETER)
			break;
	}

	/*
	 * Reached only on failure. After a failed ExitBootServices() the
	 * firmware may be half shut down (7.4): no memory may be freed, the
	 * console may be gone, and returning to the boot manager is not safe.
	 * Say what happened, as a best effort, and stop.
	 */
	LOG(L"%s failed on attempt %d (%r)", step, MIN(attempt, HANDOFF_ATTEMPTS), st);
	if (exit_tried) {
		LOG(L"halting: boot services may already be gone");
		for (;;)
			__asm__ volatile("cli; hlt");
	}
	FreePool(map);
	return st;
}
