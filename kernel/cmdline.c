/* Hypervisor command-line parsing. Pure code: unit-tested on the host. */
#include <keel/cmdline.h>
#include <lib/errno.h>
#include <lib/string.h>
#include <keel/printk.h>
#include <asm/spec.h>

#define OPT_MAX 128

struct option_desc {
	const char *name;
	int (*parse)(const char *val, struct keel_options *o, char *err, size_t errlen);
};

static int parse_console(const char *val, struct keel_options *o, char *err, size_t errlen)
{
	static const struct { const char *name; u16 port; } ports[] = {
		{ "com1", 0x3f8 }, { "com2", 0x2f8 }, { "com3", 0x3e8 }, { "com4", 0x2e8 },
	};
	char name[16];
	size_t i = 0;
	const char *p = val;
	u64 v;

	while (*p && *p != ',' && i < sizeof(name) - 1)
		name[i++] = *p++;
	name[i] = 0;
	if (*p && *p != ',') {
		snprintf(err, errlen, "cmdline: console=%.40s: name too long", val);
		return -EINVAL;
	}
	if (strcmp(name, "none") == 0 && !*p) {
		o->console_port = 0;
		return 0;
	}
	o->console_port = 0xffff;
	for (i = 0; i < ARRAY_SIZE(ports); i++)
		if (strcmp(name, ports[i].name) == 0)
			o->console_port = ports[i].port;
	if (o->console_port == 0xffff) {
		const char *end;
		if (parse_u64(name, &end, &v) || *end || v == 0 || v > 0xfff8) {
			o->console_port = 0x3f8;
			snprintf(err, errlen, "cmdline: console=%s: expected com1..com4, none or an I/O port", val);
			return -EINVAL;
		}
		o->console_port = (u16)v;
	}
	if (*p == ',') {
		const char *end;
		if (parse_u64(p + 1, &end, &v) || *end) {
			snprintf(err, errlen, "cmdline: console=%s: bad baud rate '%s'", val, p + 1);
			return -EINVAL;
		}
		if (v < 50 || v > 115200 || 115200 % v) {
			snprintf(err, errlen, "cmdline: console=%s: baud %lu out of range (50..115200, dividing 115200)",
				 val, (unsigned long)v);
			return -ERANGE;
		}
		o->console_baud = (u32)v;
	}
	return 0;
}

static int parse_loglvl(const char *val, struct keel_options *o, char *err, size_t errlen)
{
	static const char *const names[] = { "err", "warn", "info", "debug" };
	for (unsigned i = 0; i < ARRAY_SIZE(names); i++) {
		if (strcmp(val, names[i]) == 0) {
			o->loglvl = (int)i;
			return 0;
		}
	}
	snprintf(err, errlen, "cmdline: loglvl=%s: expected err, warn, info or debug", val);
	return -EINVAL;
}

static int parse_dom0_mem(const char *val, struct keel_options *o, char *err, size_t errlen)
{
	const char *end;
	u64 v;
	if (parse_u64(val, &end, &v))
		goto bad;
	u64 shift = 0;
	switch (*end) {
	case 'K': case 'k': shift = 10; end++; break;
	case 'M': case 'm': shift = 20; end++; break;
	case 'G': case 'g': shift = 30; end++; break;
	case 0: break;
	default: goto bad;
	}
	if (*end)
		goto bad;
	if (v > (1ULL << 46) >> shift || (v << shift) < (16ULL << 20)) {
		snprintf(err, errlen, "cmdline: dom0_mem=%s out of range (16M..64T)", val);
		return -ERANGE;
	}
	o->dom0_mem = v << shift;
	return 0;
bad:
	snprintf(err, errlen, "cmdline: dom0_mem=%s: expected a size like 512M", val);
	return -EINVAL;
}

static int parse_debugexit(const char *val, struct keel_options *o, char *err, size_t errlen)
{
	const char *end;
	u64 v;
	if (parse_u64(val, &end, &v) || *end || v == 0 || v > 0xfffc) {
		snprintf(err, errlen, "cmdline: debugexit=%s: expected an I/O port (1..0xfffc)", val);
		return -EINVAL;
	}
	o->debugexit_port = (u16)v;
	return 0;
}

static int parse_test_fault(const char *val, struct keel_options *o, char *err, size_t errlen)
{
	if (strcmp(val, "pagefault") == 0)
		o->test_fault = TEST_FAULT_PAGEFAULT;
	else if (strcmp(val, "ud") == 0)
		o->test_fault = TEST_FAULT_UD;
	else if (strcmp(val, "gp") == 0)
		o->test_fault = TEST_FAULT_GP;
	else {
		snprintf(err, errlen, "cmdline: test_fault=%s: expected pagefault, ud or gp", val);
		return -EINVAL;
	}
	return 0;
}

/* spec=verw,l1d-flush: mitigations on even where the policy finds the
 * CPU unaffected (docs/speculation.md). */
static int parse_spec(const char *val, struct keel_options *o, char *err, size_t errlen)
{
	for (const char *p = val; *p;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		if (n == 4 && !strncmp(p, "verw", 4))
			o->spec_force |= SPEC_FORCE_VERW;
		else if (n == 9 && !strncmp(p, "l1d-flush", 9))
			o->spec_force |= SPEC_FORCE_L1D_FLUSH;
		else {
			snprintf(err, errlen, "cmdline: spec=%s: expected verw and/or l1d-flush", val);
			return -EINVAL;
		}
		p += n + (comma ? 1 : 0);
	}
	return 0;
}

static const struct option_desc options[] = {
	{ "console", parse_console },
	{ "loglvl", parse_loglvl },
	{ "dom0_mem", parse_dom0_mem },
	{ "debugexit", parse_debugexit },
	{ "test_fault", parse_test_fault },
	{ "spec", parse_spec },
};

int cmdline_parse(const char *cmdline, struct keel_options *opts, char *err, size_t errlen)
{
	int first = 0;
	char tmp[256];

	memset(opts, 0, sizeof(*opts));
	opts->console_port = 0x3f8;
	opts->console_baud = 115200;
	opts->loglvl = LOG_INFO;
	if (errlen)
		err[0] = 0;

	for (const char *p = cmdline; *p;) {
		char word[OPT_MAX];
		size_t n = 0;
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		while (*p && *p != ' ' && *p != '\t') {
			if (n < sizeof(word) - 1)
				word[n] = *p;
			n++;
			p++;
		}
		int rc = 0;
		if (n >= sizeof(word)) {
			word[sizeof(word) - 1] = 0;
			snprintf(tmp, sizeof(tmp), "cmdline: option '%.32s...' too long", word);
			rc = -EINVAL;
			goto record;
		}
		word[n] = 0;
		char *eq = strchr(word, '=');
		const struct option_desc *d = NULL;
		if (eq)
			*eq = 0;
		for (size_t i = 0; i < ARRAY_SIZE(options); i++)
			if (strcmp(word, options[i].name) == 0)
				d = &options[i];
		if (!d) {
			snprintf(tmp, sizeof(tmp), "cmdline: unknown option '%.100s'", word);
			rc = -EINVAL;
		} else if (!eq || !eq[1]) {
			snprintf(tmp, sizeof(tmp), "cmdline: option '%.40s' needs a value (%.40s=...)", word, word);
			rc = -EINVAL;
		} else {
			rc = d->parse(eq + 1, opts, tmp, sizeof(tmp));
		}
record:
		if (rc && !first) {
			first = rc;
			strlcpy(err, tmp, errlen);
		}
	}
	return first;
}
