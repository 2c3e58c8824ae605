/*
 * Fetching an intercepted instruction from the guest to learn its length
 * (asm/insn.h). Apart from insn.c, the pure decoder, because it reads the
 * vCPU's registers and guest memory: the unit tests and fuzzers compile
 * insn.c alone on the host (tests/unit/test_insn.c, tests/fuzz/fuzz_insn.c).
 */
#include <lib/errno.h>
#include <keel/domain.h>
#include <asm/cpu.h>
#include <asm/guest_mem.h>
#include <asm/insn.h>
#include <asm/paging.h>
#include <asm/vendor.h>

#define SEG_ATTR_L (1u << 9) /* CS.L: 64-bit code (struct vseg attr) */

/*
 * Fetches up to the end of RIP's page first and decodes; only if the
 * instruction runs on does it fetch from the next page, so an instruction
 * ending just before an unmapped page still decodes. Outside 64-bit mode
 * the linear address is CS.base + EIP, wrapping at 4 GiB; in 64-bit mode
 * the CS base is ignored (SDM vol. 3 3.4.4).
 */
int insn_fetch_decode(struct vcpu *v, u64 rip, insn_decode_fn decode, void *ctx)
{
	u8 buf[INSN_MAX_LEN];
	struct vseg cs;
	bool l64;
	u64 va;
	size_t have = 0;
	int rc = -EAGAIN;

	vendor->get_seg(v, VSEG_CS, &cs);
	l64 = (vendor->get_reg(v, VREG_EFER) & EFER_LMA) && (cs.attr & SEG_ATTR_L);
	va = l64 ? rip : (cs.base + rip) & 0xffffffffULL;

	while (rc == -EAGAIN && have < INSN_MAX_LEN) {
		u64 at = l64 ? va + have : (va + have) & 0xffffffffULL;
		size_t n = MIN(INSN_MAX_LEN - have, PAGE_SIZE - (at & (PAGE_SIZE - 1)));
		gpa_t gpa;

		if (gva_to_gpa(v, at, PT_X, &gpa) || copy_from_gpa(v->dom, buf + have, gpa, n))
			return -EFAULT;
		have += n;
		rc = decode(buf, have, l64, ctx);
	}
	return rc == -EAGAIN ? -EINVAL : rc;
}

static int length_of(const u8 *bytes, size_t avail, bool l64, void *ctx)
{
	(void)ctx;
	return insn_length(bytes, avail, l64);
}

int insn_fetch_and_length(struct vcpu *v, u64 rip, u8 *len)
{
	int rc = insn_fetch_decode(v, rip, length_of, NULL);

	if (rc < 0)
		return rc;
	*len = (u8)rc;
	return 0;
}
