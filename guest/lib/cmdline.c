/*
 * Command-line parsing: space-separated `key` or `key=value` words
 * (contract in guest.h).
 */
#include <lib/errno.h>
#include <lib/string.h>
#include "guest.h"

bool cmdline_next(const char **pos, struct cmdline_opt *opt)
{
	const char *p = *pos, *word, *eq = NULL;

	while (*p == ' ' || *p == '\t')
		p++;
	if (!*p)
		return false;
	word = p;
	while (*p && *p != ' ' && *p != '\t') {
		if (*p == '=' && !eq)
			eq = p;
		p++;
	}
	opt->key = word;
	if (eq) {
		opt->key_len = (size_t)(eq - word);
		opt->value = eq + 1;
		opt->value_len = (size_t)(p - eq - 1);
	} else {
		opt->key_len = (size_t)(p - word);
		opt->value = NULL;
		opt->value_len = 0;
	}
	*pos = p;
	return true;
}

/* The first option named `key`, in *opt. */
static bool cmdline_find(const char *cmdline, const char *key,
			 struct cmdline_opt *opt)
{
	size_t len = strlen(key);

	while (cmdline_next(&cmdline, opt))
		if (opt->key_len == len && !memcmp(opt->key, key, len))
			return true;
	return false;
}

bool cmdline_has(const char *cmdline, const char *key)
{
	struct cmdline_opt opt;

	return cmdline_find(cmdline, key, &opt);
}

bool cmdline_get(const char *cmdline, const char *key, char *buf, size_t size)
{
	struct cmdline_opt opt;
	size_t n;

	if (!cmdline_find(cmdline, key, &opt) || !opt.value)
		return false;
	if (size) {
		n = MIN(opt.value_len, size - 1);
		memcpy(buf, opt.value, n);
		buf[n] = '\0';
	}
	return true;
}

int cmdline_get_u64(const char *cmdline, const char *key, u64 *out)
{
	char buf[32];
	const char *end;
	int rc;

	if (!cmdline_get(cmdline, key, buf, sizeof(buf)))
		return -ENOENT;
	rc = parse_u64(buf, &end, out);
	if (rc < 0 || *end)
		return -EINVAL;
	return 0;
}
