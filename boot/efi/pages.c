/*
 * Page allocations with a ledger, so that a failed boot gives everything
 * back before returning to the firmware. That matters most for the
 * hypervisor's fixed-address pages: a boot option tried after ours (or our
 * own image started again from the shell) would find them taken.
 */
#include "loader.h"

/* cfg + modules + image + boot_info + memory map, with room to spare. */
#define PAGES_LEDGER_MAX (BOOT_MODULES_MAX + 16)

static struct {
	EFI_PHYSICAL_ADDRESS addr;
	UINTN pages; /* 0 = free slot */
} ledger[PAGES_LEDGER_MAX];

EFI_STATUS pages_alloc(EFI_ALLOCATE_TYPE how, EFI_MEMORY_TYPE type, UINTN pages,
		       EFI_PHYSICAL_ADDRESS *addr)
{
	EFI_STATUS st;
	UINTN i;

	for (i = 0; i < PAGES_LEDGER_MAX && ledger[i].pages; i++)
		;
	if (i == PAGES_LEDGER_MAX)
		return EFI_OUT_OF_RESOURCES;
	st = uefi_call_wrapper(BS->AllocatePages, 4, how, type, pages, addr);
	if (EFI_ERROR(st))
		return st;
	ledger[i].addr = *addr;
	ledger[i].pages = pages;
	return EFI_SUCCESS;
}

void pages_free(EFI_PHYSICAL_ADDRESS addr)
{
	UINTN i;

	for (i = 0; i < PAGES_LEDGER_MAX; i++) {
		if (ledger[i].pages && ledger[i].addr == addr) {
			uefi_call_wrapper(BS->FreePages, 2, addr, ledger[i].pages);
			ledger[i].pages = 0;
			return;
		}
	}
}

void pages_free_all(void)
{
	UINTN i;

	for (i = 0; i < PAGES_LEDGER_MAX; i++)
		if (ledger[i].pages)
			pages_free(ledger[i].addr);
}
