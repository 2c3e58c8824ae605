/*
 * Choosing the virtualization back end, once, at boot (asm/vendor.h).
 *
 * CPUID says which of SVM (AMD) and VMX (Intel) the CPU has; at most one
 * is ever present, so exactly one back end is probed and it explains its
 * own success (the features it found) or failure (what is missing or
 * disabled). Only a CPU with neither is reported here. Everything after
 * this goes through `vendor`.
 */
#include <lib/errno.h>
#include <keel/printk.h>
#include <asm/cpu.h>
#include <asm/vendor.h>

const struct vendor_ops *vendor;
static struct vendor_caps caps;
const struct vendor_caps *vendor_caps = &caps;

int vendor_probe(void)
{
	const struct vendor_ops *ops = NULL;
	int rc;

	if (cpu_features.svm)
		rc = svm_probe(&ops, &caps);
	else if (cpu_features.vmx)
		rc = vmx_probe(&ops, &caps);
	else {
		pr_err("no hardware virtualization: CPU has neither SVM nor VMX\n");
		return -ENODEV;
	}
	if (rc)
		return -ENODEV; /* the probe printed why */

	rc = ops->cpu_init();
	if (rc) {
		pr_err("%s: enabling virtualization on the boot CPU failed (%d)\n", ops->name, rc);
		return rc;
	}
	vendor = ops;
	return 0;
}
