/*
 * dom0, the Keel control domain. guest_main reports what the domain
 * builder handed over (memory map, command line, modules), brings up the
 * machine's devices (hw.c), then runs the console shell (`shell`),
 * reboots (`reboot`) or powers off. `bench` runs the benchmarks
 * (bench.c) and `test=NAME` one self-test instead (dom0.h lists them).
 */
#include <lib/string.h>
#include "cpu.h"
#include "console/backend.h"
#include "dom0.h"
#include "hw/hw.h"
#include "guest.h"
#include "hypercall.h"
#include "test/selftests.h"
#include "blkback/blkback.h"
#include "bridge/netsvc.h"

const char guest_name[] = "dom0";
u64 dom0_tsc_entry, dom0_tsc_first_line;

static void print_hypervisor(void)
{
	const struct xen_info *x = xen_info();
	static const char *const modes[] = {
		[HYPERCALL_NONE] = "none",
		[HYPERCALL_PAGE] = "page",
		[HYPERCALL_VMCALL] = "vmcall",
		[HYPERCALL_VMMCALL] = "vmmcall",
	};

	if (x->mode == HYPERCALL_NONE) {
		printf("dom0: no hypervisor signature; console on port 0xe9\n");
		return;
	}
	printf("dom0: hypervisor at cpuid 0x%x, version %u.%u, hypercalls via %s\n",
	       x->cpuid_base, x->version >> 16, x->version & 0xffff, modes[x->mode]);
}

void dom0_print_memmap(const struct hvm_start_info *si)
{
	const struct hvm_memmap_table_entry *map;
	unsigned i, n;
	u64 ram;

	map = si_memmap(si, &n);
	printf("dom0: memory map: %u entries\n", n);
	for (i = 0; i < n; i++)
		printf("dom0: mem [0x%016lx-0x%016lx] %s\n", map[i].addr,
		       map[i].addr + map[i].size - 1, si_mem_type_name(map[i].type));
	ram = si_ram_total(si);
	printf("dom0: mem total ram 0x%lx bytes (%lu MiB)\n", ram, ram >> 20);
}

void dom0_print_modules(const struct hvm_start_info *si)
{
	const struct hvm_modlist_entry *mods;
	unsigned i, n;

	mods = si_modules(si, &n);
	printf("dom0: modules: %u\n", n);
	for (i = 0; i < n; i++)
		printf("dom0: module %u: [0x%016lx-0x%016lx] size 0x%lx cmdline \"%s\"\n",
		       i, mods[i].paddr, mods[i].paddr + mods[i].size - 1,
		       mods[i].size, si_module_cmdline(&mods[i]));
}

void guest_main(const struct hvm_start_info *si)
{
	char test[16];

	dom0_tsc_entry = __builtin_ia32_rdtsc();
	puts("dom0: Keel control domain");
	dom0_tsc_first_line = __builtin_ia32_rdtsc();
	print_hypervisor();
	if (cmdline_has(si_cmdline(si), "bench"))
		dom0_bench_run(si);
	/* cons_mirror=0: domUs' PV console output is kept, not shown. */
	if (cmdline_get(si_cmdline(si), "cons_mirror", test, sizeof(test)) && !strcmp(test, "0"))
		cons_back_mirror = false;
	/* blkback_data=copy: blkback moves data by grant copy (docs/pvblk.md). */
	if (cmdline_get(si_cmdline(si), "blkback_data", test, sizeof(test)))
		blkback_set_data_map(strcmp(test, "copy") != 0);
	/* blkback_persistent=N: at most N persistent grants per export (0:
	 * feature-persistent not offered; docs/pvblk.md). */
	u64 pmax;
	if (!cmdline_get_u64(si_cmdline(si), "blkback_persistent", &pmax))
		blkback_set_persistent_max(pmax);
	if (cmdline_get(si_cmdline(si), "test", test, sizeof(test)))
		dom0_selftest_run(si, test);

	printf("dom0: start_info version %u flags 0x%x rsdp 0x%lx\n", si->version,
	       si->flags, si->rsdp_paddr);
	dom0_print_memmap(si);
	printf("dom0: cmdline \"%s\"\n", si_cmdline(si));
	dom0_print_modules(si);
	dom0_hw_init(si);
	/* dom0's network (bridge/netsvc.h): xenbr0 over the NICs, and with
	 * ip= dom0's own address on it; served by the shell's event loop. */
	if (cmdline_has(si_cmdline(si), "ip") || cmdline_has(si_cmdline(si), "bridge")) {
		int rc = netsvc_start(si_cmdline(si));
		printf("dom0: network: %s (%d)\n", rc ? "FAILED" : "bridge xenbr0 up", rc);
	}
	if (cmdline_has(si_cmdline(si), "shell"))
		dom0_shell(si);
	if (cmdline_has(si_cmdline(si), "reboot")) {
		puts("dom0: rebooting");
		guest_reboot();
	}
	puts("dom0: powering off");
	guest_poweroff();
}
