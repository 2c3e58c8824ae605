/*
 * Speculation-control checks for Keel's guests (spec_check.c): for every
 * CPUID bit of leaf 7 (subleaves 0 and 2) and 0x80000008 EBX that names an
 * MSR, the MSR used as Linux uses it. dom0's `test=spec` and pvtest's
 * role=spec run them.
 */
#ifndef GUEST_SPEC_CHECK_H
#define GUEST_SPEC_CHECK_H

#include <lib/types.h>

/* Receives one check: its name ("spec-..."), verdict and detail. */
typedef void (*spec_report_fn)(const char *name, bool ok, const char *detail);

/* Prints "<who>: spec: cpuid ..." with the leaves, runs every check that
 * applies (reporting each through fn), prints "<who>: spec: N features
 * advertised" and returns N. Leaves IA32_SPEC_CTRL at 0 if it exists. */
unsigned spec_check_all(const char *who, spec_report_fn fn);

/* The IA32_SPEC_CTRL bits CPUID offers (0: no such MSR). */
u64 spec_ctrl_offered(void);

#endif
