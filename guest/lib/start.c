/*
 * C start-up for Keel's guests: from pvh_entry.asm to guest_main()
 * (sequence in guest.h).
 */
#include <lib/string.h>
#include "cpu.h"
#include "guest.h"
#include "hypercall.h"
#include "simd.h"

static const struct hvm_start_info *boot_si;

const struct hvm_start_info *start_info(void)
{
	return boot_si;
}

void guest_start(u64 start_info_paddr)
{
	const struct hvm_start_info *si =
		(const struct hvm_start_info *)(uintptr_t)start_info_paddr;
	char mode[16];
	bool direct = false;

	/* Traps first: hypercall_init() probes an MSR that may fault. */
	traps_init();

	if (!si || si->magic != XEN_HVM_START_MAGIC_VALUE) {
		/* Console works before hypercall_init (port 0xE9). */
		printf("%s: bad hvm_start_info at 0x%lx (magic 0x%x); stopped\n",
		       guest_name, start_info_paddr, si ? si->magic : 0);
		console_flush();
		cpu_halt_forever();
	}
	boot_si = si;

	if (cmdline_get(si_cmdline(si), "hypercall", mode, sizeof(mode))) {
		if (!strcmp(mode, "direct"))
			direct = true;
		else if (strcmp(mode, "page"))
			printf("%s: unknown hypercall=%s; using the page\n",
			       guest_name, mode);
	}
	hypercall_init(direct);
	/* SSE/AVX on for the flavours built with vector code (simd.h). */
	if (&guest_simd && guest_simd)
		simd_enable();

	guest_main(si);
	guest_poweroff();
}
