/*
 * SVM #VMEXIT decoding: a fake VMCB, filled as the CPU would fill it
 * (AMD APM vol. 2 appendix C and 15.10-15.12, 15.25.6), must come out as
 * the right neutral struct vm_exit, including the instruction length the
 * kernel will skip.
 *
 * unit-sources: arch/x86/svm/exit.c
 */
#include <stdio.h>
#include <string.h>

#include <lib/errno.h>
#include <asm/cpu.h>
#include <asm/guest_walk.h>
#include <asm/insn.h>
#include <asm/paging.h>
#include "../../arch/x86/svm/svm.h"

#include "unit.h"

/* START_TEST(fn) also defines a pointer variable `fn`, which a file-scope
 * initialiser cannot read: unit_cases[] takes &fn_ttest instead. */
#pragma GCC diagnostic ignored "-Wunused-variable"

/* ---- environment: what exit.c uses from the rest of the back end -------- */

struct svm_caps svm_caps;

/* insn_fetch_and_length() stand-in: answers `fetch_len`, or fails with
 * `fetch_rc`; counts calls and remembers the RIP asked for. */
static int fetch_rc;
static u8 fetch_len;
static unsigned fetch_calls;
static u64 fetch_rip;

int insn_fetch_and_length(struct vcpu *v, u64 rip, u8 *len)
{
	(void)v;
	fetch_calls++;
	fetch_rip = rip;
	if (fetch_rc)
		return fetch_rc;
	*len = fetch_len;
	return 0;
}

/* The length cache's stand-ins: a miss unless a test sets `cached_len`
 * (then a hit of that length, counted), so every decoding exit asks
 * insn_fetch_and_length() (whose cache insn_fetch.c tests cover). A hit
 * describes itself (insn_len_cached_deps) with `guest_ptes` and
 * `guest_code`, which a test then changes as a guest would. */
static u8 cached_len;
static unsigned cached_calls;
static u64 guest_ptes[4];
static u8 guest_code[32];
static const u64 no_pte;

bool insn_len_cached(struct vcpu *v, const struct guest_paging *gp, u64 va, bool l64,
		     u8 *len)
{
	(void)v, (void)gp, (void)va, (void)l64;
	if (!cached_len)
		return false;
	cached_calls++;
	*len = cached_len;
	return true;
}

bool insn_len_cached_deps(struct vcpu *v, struct insn_deps *d)
{
	d->len = 0;
	if (!cached_len)
		return false;
	d->gen = v->dom->mem_gen;
	for (unsigned i = 0; i < 4; i++) {
		d->pte[i] = i < 3 ? &guest_ptes[i] : &no_pte; /* a 3-entry walk */
		d->val[i] = i < 3 ? guest_ptes[i] : 0;
	}
	d->host = (const volatile u64_unaligned *)&guest_code[1];
	memcpy(d->bytes, &guest_code[1], 16);
	d->mask[0] = (1ULL << (8 * cached_len)) - 1;
	d->mask[1] = 0;
	d->len = cached_len;
	return true;
}

void svm_get_paging(struct vcpu *v, struct guest_paging *gp)
{
	(void)v;
	*gp = (struct guest_paging){ 0 };
}

/* svm_cr_write_decode() stand-in (cr.c has its own tests): records the
 * CR it was asked about. */
static int cr_write_decoded = -1;

void svm_cr_write_decode(struct vcpu *v, const struct vmcb *vmcb_, unsigned cr,
			 struct vm_exit *e)
{
	(void)v;
	(void)vmcb_;
	cr_write_decoded = (int)cr;
	e->reason = EXIT_CR_ACCESS;
}

static struct vmcb vmcb;
static struct vcpu vcpu;
static struct vm_exit ex;

#define RIP 0x1000a0ULL

/* A VMCB after an exit with this code and information, at RIP. */
static void fake_exit(u64 code, u64 info1, u64 info2)
{
	memset(&vmcb, 0, sizeof(vmcb));
	memset(&vcpu, 0, sizeof(vcpu));
	memset(&ex, 0x5a, sizeof(ex));
	svm_caps = (struct svm_caps){ 0 };
	fetch_rc = 0;
	fetch_len = 0;
	fetch_calls = 0;
	cached_len = 0;
	cached_calls = 0;
	vmcb.control.exitcode = code;
	vmcb.control.exitinfo1 = info1;
	vmcb.control.exitinfo2 = info2;
	vmcb.save.rip = RIP;
}

static void decode(void)
{
	svm_exit_decode(&vcpu, &vmcb, &ex);
	ck_assert_uint_eq(ex.raw, vmcb.control.exitcode);
	ck_assert_uint_eq(ex.qual, vmcb.control.exitinfo1);
}

/* ---- port I/O ------------------------------------------------------------- */

START_TEST(io_out_byte_decodes_port_and_length)
{
	/* outb %al, %dx to the UART: port in 31:16, SZ8, not IN; EXITINFO2 =
	 * next RIP even without NRIP save. */
	fake_exit(VMEXIT_IOIO, (0x3f8ULL << 16) | IOIO_SZ8, RIP + 1);
	decode();
	ck_assert_int_eq(ex.reason, EXIT_IO);
	ck_assert_uint_eq(ex.io.port, 0x3f8);
	ck_assert_uint_eq(ex.io.size, 1);
	ck_assert(!ex.io.in && !ex.io.string && !ex.io.rep);
	ck_assert_uint_eq(ex.insn_len, 1);
	ck_assert_msg(fetch_calls == 0, "IOIO needs no instruction fetch");
}
END_TEST

START_TEST(io_rep_insw_decodes_string_rep_and_size)
{
	/* rep insw (f3 66 6d): 3 bytes. */
	fake_exit(VMEXIT_IOIO,
		  (0x1f0ULL << 16) | IOIO_SZ16 | IOIO_TYPE_IN | IOIO_STR | IOIO_REP,
		  RIP + 3);
	decode();
	ck_assert_int_eq(ex.reason, EXIT_IO);
	ck_assert_uint_eq(ex.io.port, 0x1f0);
	ck_assert_uint_eq(ex.io.size, 2);
	ck_assert(ex.io.in && ex.io.string && ex.io.rep);
	ck_assert_uint_eq(ex.insn_len, 3);
}
END_TEST

START_TEST(io_dword_in_high_port)
{
	fake_exit(VMEXIT_IOIO, (0xcfcULL << 16) | IOIO_SZ32 | IOIO_TYPE_IN, RIP + 1);
	decode();
	ck_assert_uint_eq(ex.io.port, 0xcfc);
	ck_assert_uint_eq(ex.io.size, 4);
	ck_assert(ex.io.in);
}
END_TEST

/* ---- instruction lengths -------------------------------------------------- */

START_TEST(cpuid_length_from_nrip_when_saved)
{
	fake_exit(VMEXIT_CPUID, 0, 0);
	svm_caps.nrips = true;
	vmcb.control.nrip = RIP + 2;
	decode();
	ck_assert_int_eq(ex.reason, EXIT_CPUID);
	ck_assert_uint_eq(ex.insn_len, 2);
	ck_assert_msg(fetch_calls == 0, "nRIP was valid, yet the instruction was fetched");
}
END_TEST

START_TEST(cpuid_length_decoded_without_nrip_save)
{
	fake_exit(VMEXIT_CPUID, 0, 0);
	fetch_len = 2;
	decode();
	ck_assert_int_eq(ex.reason, EXIT_CPUID);
	ck_assert_uint_eq(ex.insn_len, 2);
	ck_assert_uint_eq(fetch_calls, 1);
	ck_assert_uint_eq(fetch_rip, RIP);
}
END_TEST

START_TEST(length_unknown_when_fetch_fails)
{
	fake_exit(VMEXIT_HLT, 0, 0);
	fetch_rc = -EFAULT;
	decode();
	ck_assert_int_eq(ex.reason, EXIT_HLT);
	ck_assert_msg(ex.insn_len == 0, "insn_len %u after a failed fetch, want 0", ex.insn_len);
}
END_TEST

START_TEST(implausible_nrip_falls_back_to_decoding)
{
	/* nRIP behind RIP (or absurdly far ahead) is not a length. */
	fake_exit(VMEXIT_VMMCALL, 0, 0);
	svm_caps.nrips = true;
	vmcb.control.nrip = 0;
	fetch_len = 3;
	decode();
	ck_assert_int_eq(ex.reason, EXIT_HYPERCALL);
	ck_assert_uint_eq(ex.insn_len, 3);
	ck_assert_uint_eq(fetch_calls, 1);
}
END_TEST

/*
 * The tight re-check (exit.c insn_last_hit) answers a repeated exit only
 * while everything the generic cache's answer rested on is unchanged: the
 * RIP, CS, the paging registers and CPL inputs, the p2m generation, every
 * guest page-table entry of the walk and the instruction's own bytes (not
 * the bytes after it). Anything else changed: asked again.
 */
START_TEST(tight_length_recheck_follows_everything_it_rests_on)
{
	static struct domain dom;
	/* Each change, applied to a fresh exit, must force the generic check. */
	enum { NONE, PTE0, PTE2, BYTE, CR3, CR0, CR4, EFER, CPL, VM, CS_BASE, CS_ATTR, GEN, RIP_,
	       BYTE_AFTER, NR };
	static const char *const name[NR] = {
		"nothing", "PML4E", "PTE", "opcode byte", "CR3", "CR0", "CR4", "EFER", "CPL",
		"RFLAGS.VM", "CS.base", "CS.attrib", "mem_gen", "RIP", "byte after the instruction",
	};

	for (int change = NONE; change < NR; change++) {
		fake_exit(VMEXIT_VMMCALL, 0, 0);
		vcpu.dom = &dom;
		dom.mem_gen = 7;
		vmcb.save.cr0 = 0x80050033, vmcb.save.cr3 = 0x123000, vmcb.save.cr4 = 0x6f0;
		vmcb.save.efer = 0x1d00, vmcb.save.cs.attrib = 0x29b, vmcb.save.cpl = 0;
		for (unsigned i = 0; i < 3; i++)
			guest_ptes[i] = 0x1000 * (i + 1) | 0x63;
		memset(guest_code, 0x90, sizeof(guest_code));
		memcpy(&guest_code[1], "\x0f\x01\xd9", 3);
		cached_len = 3;
		decode(); /* the generic check answers and is recorded */
		ck_assert_uint_eq(ex.insn_len, 3);
		ck_assert_uint_eq(cached_calls, 1);
		decode(); /* the same exit again: the tight check answers */
		ck_assert_uint_eq(ex.insn_len, 3);
		ck_assert_msg(cached_calls == 1, "the repeated exit was not answered by the re-check");

		switch (change) {
		case PTE0: guest_ptes[0] ^= 1ULL << 12; break;
		case PTE2: guest_ptes[2] ^= 1ULL << 63; break;
		case BYTE: guest_code[3] = 0xc1; break;
		case CR3: vmcb.save.cr3 += 0x1000; break;
		case CR0: vmcb.save.cr0 ^= CR0_PE; break;
		case CR4: vmcb.save.cr4 ^= 1u << 5; break;
		case EFER: vmcb.save.efer ^= EFER_LMA; break;
		case CPL: vmcb.save.cpl = 3; break;
		case VM: vmcb.save.rflags |= RFLAGS_VM; break;
		case CS_BASE: vmcb.save.cs.base = 0x10000; break;
		case CS_ATTR: vmcb.save.cs.attrib ^= 1u << 9; break;
		case GEN: dom.mem_gen++; break;
		case RIP_: vmcb.save.rip += 0x40; break;
		case BYTE_AFTER: guest_code[4] = 0xcc; break;
		}
		decode();
		ck_assert_uint_eq(ex.insn_len, 3);
		if (change == NONE || change == BYTE_AFTER)
			ck_assert_msg(cached_calls == 1, "%s changed: re-check missed", name[change]);
		else
			ck_assert_msg(cached_calls == 2, "%s changed, yet the re-check answered",
				      name[change]);
	}
}
END_TEST

/* ---- MSRs ----------------------------------------------------------------- */

START_TEST(msr_write_takes_index_from_ecx)
{
	fake_exit(VMEXIT_MSR, 1, 0);
	vcpu.arch.gprs[GPR_RCX] = 0xffffffffc0000080ULL; /* upper half ignored */
	fetch_len = 2;
	decode();
	ck_assert_int_eq(ex.reason, EXIT_MSR_WRITE);
	ck_assert_uint_eq(ex.msr.index, 0xc0000080);
	ck_assert_uint_eq(ex.insn_len, 2);
}
END_TEST

START_TEST(msr_read_is_exitinfo1_zero)
{
	fake_exit(VMEXIT_MSR, 0, 0);
	vcpu.arch.gprs[GPR_RCX] = 0x277;
	fetch_len = 2;
	decode();
	ck_assert_int_eq(ex.reason, EXIT_MSR_READ);
	ck_assert_uint_eq(ex.msr.index, 0x277);
}
END_TEST

/* ---- nested page faults --------------------------------------------------- */

START_TEST(npf_not_present_read)
{
	/* The value QEMU TCG reported for a read of an unmapped GPA
	 * (TEST-HOSTS.md): final-address walk, US, not present. */
	fake_exit(VMEXIT_NPF, 0x100000004ULL, 0xfee00000ULL);
	decode();
	ck_assert_int_eq(ex.reason, EXIT_NPF);
	ck_assert_uint_eq(ex.npf.gpa, 0xfee00000ULL);
	ck_assert(!ex.npf.present);
	ck_assert_uint_eq(ex.npf.access, PT_R);
	ck_assert(!ex.npf.gva_valid);
	ck_assert_uint_eq(ex.insn_len, 0);
}
END_TEST

START_TEST(npf_write_to_read_only_page)
{
	fake_exit(VMEXIT_NPF, NPF_FINAL_GPA | NPF_US | NPF_RW | NPF_P, 0x2000);
	decode();
	ck_assert(ex.npf.present);
	ck_assert_uint_eq(ex.npf.access, PT_W);
}
END_TEST

START_TEST(npf_instruction_fetch)
{
	fake_exit(VMEXIT_NPF, NPF_FINAL_GPA | NPF_US | NPF_ID | NPF_P, 0x3000);
	decode();
	ck_assert_uint_eq(ex.npf.access, PT_X);
}
END_TEST

/* ---- exceptions ----------------------------------------------------------- */

START_TEST(exception_ud_has_no_error_code)
{
	fake_exit(VMEXIT_EXCP_BASE + X86_EXC_UD, 0x1234, 0);
	decode();
	ck_assert_int_eq(ex.reason, EXIT_EXCEPTION);
	ck_assert_uint_eq(ex.exc.vector, X86_EXC_UD);
	ck_assert(!ex.exc.has_error);
	ck_assert_uint_eq(ex.exc.error_code, 0);
	ck_assert_uint_eq(ex.insn_len, 0);
}
END_TEST

START_TEST(exception_pf_has_error_code_and_cr2)
{
	fake_exit(VMEXIT_EXCP_BASE + X86_EXC_PF, 0x6, 0xdeadb000);
	decode();
	ck_assert_uint_eq(ex.exc.vector, X86_EXC_PF);
	ck_assert(ex.exc.has_error);
	ck_assert_uint_eq(ex.exc.error_code, 6);
	ck_assert_uint_eq(ex.exc.cr2, 0xdeadb000);
}
END_TEST

START_TEST(exception_ac_has_error_code)
{
	fake_exit(VMEXIT_EXCP_BASE + X86_EXC_AC, 0, 0);
	decode();
	ck_assert_uint_eq(ex.exc.vector, X86_EXC_AC);
	ck_assert(ex.exc.has_error);
}
END_TEST

/* ---- the rest ------------------------------------------------------------- */

static void expect_reason(u64 code, enum exit_reason want, bool has_len)
{
	fake_exit(code, 0, 0);
	fetch_len = 3;
	decode();
	ck_assert_msg(ex.reason == want, "exit code 0x%lx decoded as %d, want %d",
		      (unsigned long)code, ex.reason, want);
	ck_assert_msg(ex.insn_len == (has_len ? 3 : 0), "exit code 0x%lx: insn_len %u",
		      (unsigned long)code, ex.insn_len);
}

START_TEST(events_and_failures_map_to_neutral_reasons)
{
	expect_reason(VMEXIT_SHUTDOWN, EXIT_TRIPLE_FAULT, false);
	expect_reason(VMEXIT_INVALID, EXIT_ENTRY_FAILED, false);
	expect_reason(VMEXIT_INVALID_32, EXIT_ENTRY_FAILED, false); /* QEMU TCG */
	expect_reason(VMEXIT_INTR, EXIT_EXTINT, false);
	expect_reason(VMEXIT_SMI, EXIT_EXTINT, false);
	expect_reason(VMEXIT_INIT, EXIT_EXTINT, false);
	expect_reason(VMEXIT_NMI, EXIT_NMI, false);
	expect_reason(VMEXIT_VINTR, EXIT_INTR_WINDOW, false);
	expect_reason(0x401, EXIT_UNKNOWN, false);   /* AVIC, never enabled */
	expect_reason(VMEXIT_DR0_READ, EXIT_UNKNOWN, false);
}
END_TEST

START_TEST(svm_instructions_are_virt_insn_with_length)
{
	static const u64 codes[] = { VMEXIT_VMRUN, VMEXIT_VMLOAD, VMEXIT_VMSAVE, VMEXIT_STGI,
				     VMEXIT_CLGI, VMEXIT_SKINIT, VMEXIT_INVLPGA };
	for (unsigned i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		expect_reason(codes[i], EXIT_VIRT_INSN, true);
	expect_reason(VMEXIT_XSETBV, EXIT_XSETBV, true);
	expect_reason(VMEXIT_INVD, EXIT_CACHE_FLUSH, true);
	expect_reason(VMEXIT_WBINVD, EXIT_CACHE_FLUSH, true);
	expect_reason(VMEXIT_HLT, EXIT_HLT, true);
	expect_reason(VMEXIT_VMMCALL, EXIT_HYPERCALL, true);
}
END_TEST

START_TEST(cr_write_goes_to_the_cr_write_decoder)
{
	fake_exit(VMEXIT_CR0_WRITE + 4, 0, 0);
	cr_write_decoded = -1;
	decode();
	ck_assert_int_eq(cr_write_decoded, 4);
	ck_assert_int_eq(ex.reason, EXIT_CR_ACCESS);
}
END_TEST

START_TEST(cr_read_with_decode_assists_names_gpr)
{
	fake_exit(VMEXIT_CR0_READ + 3, CR_EXITINFO_MOV | 9, 0);
	svm_caps.decode_assists = true;
	fetch_len = 3;
	decode();
	ck_assert_int_eq(ex.reason, EXIT_CR_ACCESS);
	ck_assert_uint_eq(ex.cr.cr, 3);
	ck_assert(!ex.cr.write);
	ck_assert_uint_eq(ex.cr.gpr, 9);
}
END_TEST

const struct unit_case unit_cases[] = {
	{ "svm-exit-io-out-byte-decodes-port-and-length", &io_out_byte_decodes_port_and_length_ttest },
	{ "svm-exit-io-rep-insw-decodes-string-rep-and-size", &io_rep_insw_decodes_string_rep_and_size_ttest },
	{ "svm-exit-io-dword-in-high-port", &io_dword_in_high_port_ttest },
	{ "svm-exit-cpuid-length-from-nrip-when-saved", &cpuid_length_from_nrip_when_saved_ttest },
	{ "svm-exit-cpuid-length-decoded-without-nrip-save", &cpuid_length_decoded_without_nrip_save_ttest },
	{ "svm-exit-length-unknown-when-fetch-fails", &length_unknown_when_fetch_fails_ttest },
	{ "svm-exit-implausible-nrip-falls-back-to-decoding", &implausible_nrip_falls_back_to_decoding_ttest },
	{ "svm-exit-tight-length-recheck-follows-everything-it-rests-on", &tight_length_recheck_follows_everything_it_rests_on_ttest },
	{ "svm-exit-msr-write-takes-index-from-ecx", &msr_write_takes_index_from_ecx_ttest },
	{ "svm-exit-msr-read-is-exitinfo1-zero", &msr_read_is_exitinfo1_zero_ttest },
	{ "svm-exit-npf-not-present-read", &npf_not_present_read_ttest },
	{ "svm-exit-npf-write-to-read-only-page", &npf_write_to_read_only_page_ttest },
	{ "svm-exit-npf-instruction-fetch", &npf_instruction_fetch_ttest },
	{ "svm-exit-exception-ud-has-no-error-code", &exception_ud_has_no_error_code_ttest },
	{ "svm-exit-exception-pf-has-error-code-and-cr2", &exception_pf_has_error_code_and_cr2_ttest },
	{ "svm-exit-exception-ac-has-error-code", &exception_ac_has_error_code_ttest },
	{ "svm-exit-events-and-failures-map-to-neutral-reasons", &events_and_failures_map_to_neutral_reasons_ttest },
	{ "svm-exit-svm-instructions-are-virt-insn-with-length", &svm_instructions_are_virt_insn_with_length_ttest },
	{ "svm-exit-cr-write-goes-to-the-cr-write-decoder", &cr_write_goes_to_the_cr_write_decoder_ttest },
	{ "svm-exit-cr-read-with-decode-assists-names-gpr", &cr_read_with_decode_assists_names_gpr_ttest },
	{ 0 },
};
