/*
 * kernel_main: from the loader's boot_info to dom0 running.
 *
 * Order matters: copy boot_info before touching memory outside the image
 * (it may sit in memory the allocator will hand out); bring up the console
 * before anything can fail; reserve every module and the image before the
 * first allocation.
 */
#include <keel/boot_info.h>
#include <keel/cmdline.h>
#include <keel/domain.h>
#include <keel/dom0.h>
#include <lib/errno.h>
#include <keel/frame.h>
#include <lib/string.h>
#include <keel/machine.h>
#include <keel/mmap.h>
#include <keel/page.h>
#include <keel/passthrough.h>
#include <keel/printk.h>
#include <keel/priv.h>
#include <keel/sched.h>
#include <keel/uart.h>
#include <keel/version.h>
#include <keel/vtimer.h>
#include <asm/cpu.h>
#include <asm/fpu.h>
#include <asm/hostpt.h>
#include <asm/pic.h>
#include <asm/spec.h>
#include <asm/traps.h>
#include <asm/vendor.h>

void kernel_main(const struct boot_info *loader_bi);
void io_init(void);

static struct boot_info bi;
static struct boot_mem_range map[BOOT_MMAP_MAX];
static unsigned nmap;
static struct keel_options opts;

extern char __image_start[], __image_end[];

static __noreturn void boot_fail(void)
{
	machine_stop(STOP_PANIC);
}

static bool range_overlaps(u64 a, u64 alen, u64 b, u64 blen)
{
	return a < b + blen && b < a + alen;
}

/* A place for the frame bitmap: the highest usable range with room,
 * clear of the image, the modules and the first MiB. */
static u64 *place_bitmap(u64 bytes)
{
	bytes = ALIGN_UP(bytes, PAGE_SIZE);
	for (unsigned i = nmap; i-- > 0;) {
		if (map[i].type != BOOT_MEM_USABLE || map[i].len < bytes)
			continue;
		for (u64 at = ALIGN_DOWN(map[i].base + map[i].len - bytes, PAGE_SIZE);
		     at >= map[i].base && at >= 0x100000; at -= PAGE_SIZE) {
			bool ok = !range_overlaps(at, bytes, (u64)(uintptr_t)__image_start,
						  __image_end - __image_start);
			for (unsigned m = 0; ok && m < bi.nr_modules; m++)
				ok = !range_overlaps(at, bytes, bi.modules[m].base,
						     ALIGN_UP(bi.modules[m].len, PAGE_SIZE));
			if (ok) {
				frame_reserve(at, bytes); /* no-op before init; redone after */
				return phys_to_virt(at);
			}
		}
	}
	return NULL;
}

static bool in_usable_ram(u64 base, u64 len)
{
	for (unsigned i = 0; i < nmap; i++)
		if (map[i].type == BOOT_MEM_USABLE && base >= map[i].base &&
		    base + len <= map[i].base + map[i].len)
			return true;
	return false;
}

static void check_modules(void)
{
	if (bi.nr_modules > BOOT_MODULES_MAX) {
		pr_err("boot: %u modules, at most %d are supported\n", bi.nr_modules, BOOT_MODULES_MAX);
		boot_fail();
	}
	pr_info("%u boot modules:\n", bi.nr_modules);
	for (unsigned i = 0; i < bi.nr_modules; i++) {
		const struct boot_module *m = &bi.modules[i];
		pr_info("module %u: %s 0x%lx+0x%lx '%s'\n", i, m->name, m->base, m->len, m->cmdline);
		if (!m->len) {
			pr_err("module '%s': empty (0 bytes)\n", m->name);
			boot_fail();
		}
		if (m->base & ~PAGE_MASK) {
			pr_err("module '%s': at 0x%lx, not page-aligned\n", m->name, m->base);
			boot_fail();
		}
		/* Modules sit in memory the loader took from RAM; anything
		 * else means a confused loader or a bad memory map. */
		if (!in_usable_ram(m->base, ALIGN_UP(m->len, PAGE_SIZE))) {
			pr_err("module '%s': 0x%lx+0x%lx is not in usable RAM\n", m->name, m->base, m->len);
			boot_fail();
		}
		frame_reserve(m->base, m->len);
	}
}

/* The RSDP the loader gave, or for multiboot2 (whose tag holds a copy in
 * the boot information, memory we are about to reuse) the firmware's
 * own in the BIOS area (ACPI 6.4, 5.2.5.1). */
static u64 find_rsdp(void)
{
	if (!bi.rsdp || !in_usable_ram(ALIGN_DOWN(bi.rsdp, PAGE_SIZE), PAGE_SIZE))
		return bi.rsdp;
	for (u64 p = 0xe0000; p < 0x100000; p += 16)
		if (memcmp(phys_to_virt(p), "RSD PTR ", 8) == 0)
			return p;
	return 0;
}

static void provoke_test_fault(void)
{
	switch (opts.test_fault) {
	case TEST_FAULT_PAGEFAULT:
		pr_info("test_fault: reading unmapped address 0x8\n");
		__asm__ volatile("movq 0x8, %%rax" ::: "rax", "memory");
		break;
	case TEST_FAULT_UD:
		pr_info("test_fault: executing ud2\n");
		__asm__ volatile("ud2");
		break;
	case TEST_FAULT_GP:
		pr_info("test_fault: non-canonical access\n");
		__asm__ volatile("movq 0x800000000000, %%rax" ::: "rax", "memory");
		break;
	case TEST_FAULT_NONE:
		break;
	}
}

void kernel_main(const struct boot_info *loader_bi)
{
	char err[160];

	bi = *loader_bi;
	int cmd_rc = cmdline_parse(bi.cmdline, &opts, err, sizeof(err));
	if (opts.console_port)
		uart_init(opts.console_port, opts.console_baud);
	printk_set_level(opts.loglvl);
	machine_set_debugexit(opts.debugexit_port);

	printk(LOG_INFO, "\n");
	pr_info("Keel %s (%s)\n", KEEL_VERSION, bi.loader);
	if (bi.magic != BOOT_INFO_MAGIC || bi.version != BOOT_INFO_VERSION) {
		pr_err("boot: loader handed over boot info version %u (magic 0x%lx), expected %u\n",
		       bi.version, bi.magic, BOOT_INFO_VERSION);
		boot_fail();
	}
	pr_info("command line: '%s'\n", bi.cmdline);
	if (cmd_rc) {
		pr_err("%s\n", err);
		boot_fail();
	}

	cpu_detect();
	traps_init();
	/* Before the back end records the host's CR0/CR4 (asm/fpu.h). */
	fpu_init();
	pic_disable();
	pr_info("CPU: %s, %u physical address bits%s%s\n", cpu_features.vendor,
		cpu_features.phys_addr_bits, cpu_features.nx ? ", NX" : "",
		cpu_features.pdpe1gb ? ", 1G pages" : "");
	if (!cpu_features.nx) {
		pr_err("CPU: no NX (execute-disable) bit: Keel needs it for W^X\n");
		boot_fail();
	}

	/* Memory map. */
	nmap = MIN(bi.nr_mmap, BOOT_MMAP_MAX);
	memcpy(map, bi.mmap, nmap * sizeof(map[0]));
	nmap = mmap_sanitize(map, nmap, BOOT_MMAP_MAX);
	u64 usable = mmap_usable_bytes(map, nmap);
	pr_info("memory: %u ranges, %lu MiB usable\n", nmap, usable >> 20);
	for (unsigned i = 0; i < nmap; i++)
		printk(LOG_DEBUG, "keel:   0x%016lx-0x%016lx %s\n", map[i].base,
		       map[i].base + map[i].len, mmap_type_name(map[i].type));
	if (!usable) {
		pr_err("memory: the memory map (%u entries from %s) has no usable RAM\n",
		       bi.nr_mmap, bi.loader);
		boot_fail();
	}

	paddr_t top = mmap_usable_top(map, nmap);
	u64 bitmap_bytes = ALIGN_UP(top >> PAGE_SHIFT, 64) / 8;
	u64 *bitmap = place_bitmap(bitmap_bytes);
	if (!bitmap || frame_init(map, nmap, bitmap, top)) {
		pr_err("memory: no room for the frame bitmap (%lu KiB)\n", bitmap_bytes >> 10);
		boot_fail();
	}
	frame_reserve(virt_to_phys(bitmap), bitmap_bytes);
	frame_reserve((paddr_t)(uintptr_t)__image_start, __image_end - __image_start);
	frame_reserve(0, PAGE_SIZE);
	check_modules();

	if (hostpt_init(map, nmap))
		boot_fail();
	if (page_table_init(top)) {
		pr_err("memory: no room for the page ownership table\n");
		boot_fail();
	}
	pr_info("frames: %lu free of %lu (%lu MiB free)\n", frames_free(), frames_total(),
		frames_free() >> 8);
	provoke_test_fault();

	bi.rsdp = find_rsdp();
	if (!dom0_check_module(&bi))
		boot_fail();
	if (vendor_probe())
		boot_fail();
	spec_init(opts.spec_force);
	io_init();
	/* The host timer and system time, before any domain exists: the
	 * scheduler's slices and the guests' clocks run on them. */
	if (time_init())
		boot_fail();
	sched_init();
	if (dom0_build(&bi, map, nmap, &opts))
		boot_fail();
	if (dom0_devices_init(control_domain(), bi.rsdp, map, nmap, &opts))
		boot_fail();
	pr_info("starting dom0\n");
	sched_run();
}
