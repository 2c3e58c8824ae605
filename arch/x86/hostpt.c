/* The hypervisor's page tables: see asm/hostpt.h. */
#include <lib/errno.h>
#include <keel/frame.h>
#include <keel/printk.h>
#include <asm/cpu.h>
#include <asm/hostpt.h>
#include <asm/paging.h>

extern char __image_start[], __text_start[], __text_end[], __rodata_start[],
	__rodata_end[], __data_start[], __image_end[];

static struct pt host_pt;

#define VA(sym) ((u64)(uintptr_t)(sym))

int hostpt_init(const struct boot_mem_range *map, unsigned n)
{
	int rc;
	unsigned max_level = cpu_features.pdpe1gb ? 3 : 2;

	rc = pt_init(&host_pt, &x86_pt_format, max_level);
	if (rc)
		return rc;

	/* Low 4 GiB: device memory by default (APIC, IOAPIC, PCI holes). */
	rc = pt_map(&host_pt, 0, 0, 4 * SZ_1G, PT_R | PT_W, MT_UC);
	/* RAM, ACPI tables and NVS anywhere: write-back. */
	for (unsigned i = 0; i < n && !rc; i++) {
		if (map[i].type == BOOT_MEM_RESERVED || map[i].type == BOOT_MEM_UNUSABLE)
			continue;
		u64 b = ALIGN_DOWN(map[i].base, PAGE_SIZE);
		u64 e = ALIGN_UP(map[i].base + map[i].len, PAGE_SIZE);
		rc = pt_map(&host_pt, b, b, e - b, PT_R | PT_W, MT_WB);
	}
	/* The image, W^X. */
	if (!rc)
		rc = pt_map(&host_pt, VA(__text_start), VA(__text_start),
			    VA(__text_end) - VA(__text_start), PT_R | PT_X, MT_WB);
	if (!rc)
		rc = pt_map(&host_pt, VA(__rodata_start), VA(__rodata_start),
			    VA(__rodata_end) - VA(__rodata_start), PT_R, MT_WB);
	if (!rc)
		rc = pt_map(&host_pt, VA(__data_start), VA(__data_start),
			    VA(__image_end) - VA(__data_start), PT_R | PT_W, MT_WB);
	if (!rc)
		rc = pt_unmap(&host_pt, 0, PAGE_SIZE);
	if (rc) {
		pr_err("host page tables: %d (out of memory)\n", rc);
		return rc;
	}

	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
	write_cr0(read_cr0() | CR0_WP);
	write_cr3(host_pt.root);
	return 0;
}

int hostpt_map_mmio(u64 pa, u64 len)
{
	u64 b = ALIGN_DOWN(pa, PAGE_SIZE), e = ALIGN_UP(pa + len, PAGE_SIZE);

	if (!len || e <= b)
		return -EINVAL;
	if (e <= 4 * SZ_1G)
		return 0; /* the low 4 GiB are mapped (uncached) already */
	int rc = pt_map(&host_pt, b, b, e - b, PT_R | PT_W, MT_UC);
	if (rc)
		return rc;
	write_cr3(host_pt.root); /* one CPU: flushing its TLB is enough */
	return 0;
}
