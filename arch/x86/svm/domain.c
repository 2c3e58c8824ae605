/*
 * Per-domain SVM state (struct svm_domain, kept in the domain): only an
 * optional I/O permission map (iomap.c; none until the first io_allow).
 * ASIDs belong to vCPUs, not domains (npt.c), so d->arch.tag stays 0.
 */
#include <lib/string.h>
#include "svm.h"

int svm_domain_init(struct domain *d)
{
	memset(domain_svm(d), 0, sizeof(struct svm_domain));
	d->arch.tag = 0;
	return 0;
}

void svm_domain_destroy(struct domain *d)
{
	svm_io_domain_destroy(d);
}
