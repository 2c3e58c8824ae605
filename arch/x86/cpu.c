/* Boot-CPU identification (CPUID; Intel SDM vol. 2A, AMD APM vol. 3). */
#include <lib/string.h>
#include <asm/cpu.h>

struct cpu_features cpu_features;

void cpu_detect(void)
{
	struct cpuid_regs r;
	struct cpu_features *f = &cpu_features;

	cpuid(0, &r);
	memcpy(f->vendor + 0, &r.ebx, 4);
	memcpy(f->vendor + 4, &r.edx, 4);
	memcpy(f->vendor + 8, &r.ecx, 4);
	f->vendor[12] = 0;
	f->intel = strcmp(f->vendor, "GenuineIntel") == 0;
	f->amd = strcmp(f->vendor, "AuthenticAMD") == 0 || strcmp(f->vendor, "HygonGenuine") == 0;

	cpuid(1, &r);
	f->vmx = r.ecx & (1u << 5);
	f->x2apic = r.ecx & (1u << 21);
	f->xsave = r.ecx & (1u << 26);

	cpuid(0x80000000, &r);
	u32 max_ext = r.eax;
	if (max_ext >= 0x80000001) {
		cpuid(0x80000001, &r);
		f->svm = r.ecx & (1u << 2);
		f->nx = r.edx & (1u << 20);
		f->pdpe1gb = r.edx & (1u << 26);
	}
	f->phys_addr_bits = 36;
	if (max_ext >= 0x80000008) {
		cpuid(0x80000008, &r);
		f->phys_addr_bits = r.eax & 0xff;
	}
}

void cpu_halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}
