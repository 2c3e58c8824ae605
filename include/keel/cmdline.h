/* The hypervisor command line (options in docs/design.md). */
#ifndef KEEL_CMDLINE_H
#define KEEL_CMDLINE_H

#include <lib/types.h>

enum test_fault {
	TEST_FAULT_NONE,
	TEST_FAULT_PAGEFAULT,
	TEST_FAULT_UD,
	TEST_FAULT_GP,
};

struct keel_options {
	u16 console_port;  /* 0 = console=none */
	u32 console_baud;
	int loglvl;        /* enum log_level */
	u64 dom0_mem;      /* bytes; 0 = all RAM Keel does not use */
	u16 debugexit_port; /* 0 = off */
	enum test_fault test_fault;
	unsigned spec_force; /* spec=: SPEC_FORCE_* (asm/spec.h) */
};

/*
 * Parses `cmdline` into *opts (defaults first: COM1 at 115200, loglvl info).
 * Every option is parsed even after an error, so options that decide how to
 * report (console=, debugexit=) take effect; the first error is returned
 * (-EINVAL or -ERANGE) with a one-line message in err, naming the option:
 * "cmdline: unknown option 'foo'", "cmdline: baud 7 out of range (...)".
 */
int cmdline_parse(const char *cmdline, struct keel_options *opts, char *err,
		  size_t errlen);

#endif
