/*
 * The hypervisor command line (kernel/cmdline.c), from keel.cfg or GRUB.
 *
 * Built like tests/unit/test_cmdline.c, and for the same reasons (read
 * there): lib/format.c and kernel/cmdline.c are included with
 * snprintf/vsnprintf renamed, so cmdline.c formats its messages with
 * Keel's own formatter (fuzzed along with it) while libFuzzer and the
 * sanitizers keep libc's. No unit-sources line: tests/fuzz/fuzz.mk names
 * the two files as dependencies.
 *
 * Checks keel/cmdline.h's contract: 0, -EINVAL or -ERANGE; a message
 * exactly when there is an error, NUL-terminated inside any errlen; every
 * option inside the range its parser enforces.
 */
#define vsnprintf keel_vsnprintf
#define snprintf keel_snprintf
#include "../../lib/format.c"
#include "../../kernel/cmdline.c"
#undef vsnprintf
#undef snprintf

#include "fuzz.h"

size_t strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size) {
		size_t n = len < size - 1 ? len : size - 1;
		memcpy(dst, src, n);
		dst[n] = 0;
	}
	return len;
}

#define LINE_MAX_FUZZ 4096

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	static char line[LINE_MAX_FUZZ + 1];
	struct keel_options o;
	char err[257];
	int rc;

	if (size > LINE_MAX_FUZZ)
		size = LINE_MAX_FUZZ;
	memcpy(line, data, size);
	line[size] = 0;

	memset(&o, 0x5a, sizeof(o));
	memset(err, 0x5a, sizeof(err));
	rc = cmdline_parse(line, &o, err, 256);
	fuzz_check(err[256] == 0x5a, "wrote past errlen");
	fuzz_check(memchr(err, 0, 256) != NULL, "err not NUL-terminated");
	fuzz_check(rc == 0 || rc == -EINVAL || rc == -ERANGE, "rc %d", rc);
	fuzz_check((rc == 0) == (err[0] == 0), "rc %d with message \"%s\"", rc, err);
	if (rc)
		fuzz_check(strncmp(err, "cmdline: ", 9) == 0, "message \"%s\"", err);

	fuzz_check(o.console_port == 0 || o.console_port <= 0xfff8, "console port %#x",
		   o.console_port);
	fuzz_check(o.console_baud >= 50 && o.console_baud <= 115200 && 115200 % o.console_baud == 0,
		   "baud %u", o.console_baud);
	fuzz_check(o.loglvl >= LOG_ERR && o.loglvl <= LOG_DEBUG, "loglvl %d", o.loglvl);
	fuzz_check(o.dom0_mem == 0 || (o.dom0_mem >= (16ULL << 20) && o.dom0_mem <= (1ULL << 46)),
		   "dom0_mem %#lx", (unsigned long)o.dom0_mem);
	fuzz_check(o.debugexit_port <= 0xfffc, "debugexit %#x", o.debugexit_port);
	fuzz_check(o.test_fault >= TEST_FAULT_NONE && o.test_fault <= TEST_FAULT_GP,
		   "test_fault %d", o.test_fault);

	/* A short err buffer still gets the same result, cut and terminated. */
	size_t errlen = size % 64;
	memset(err, 0x5a, sizeof(err));
	fuzz_check(cmdline_parse(line, &o, err, errlen) == rc, "rc changed with errlen %zu",
		   errlen);
	fuzz_check(err[errlen] == 0x5a, "errlen %zu: wrote past it", errlen);
	if (errlen)
		fuzz_check(memchr(err, 0, errlen) != NULL, "short err not NUL-terminated");
	return 0;
}
