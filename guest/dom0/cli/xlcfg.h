/*
 * xl.cfg syntax (guest/dom0/cli/xlcfg.c): the settings of a guest config
 * file as xl(1) reads them (xl.cfg(5), "Syntax"), before any meaning is
 * given to them (domcfg.h does that).
 *
 *     # a comment, to the end of the line
 *     name = "web"                   strings in double or single quotes
 *     memory = 512; vcpus = 2        numbers (decimal or 0x hex); ';' or a
 *                                    newline ends a setting
 *     disk = [ 'phy:vda2,xvda,w',    lists of strings and numbers, which
 *              'phy:vda3,xvdb,r', ]  may span lines, trailing comma allowed
 *
 * Escapes in strings: \\ \" \' \n \t \r and \xHH. A key is a letter or
 * '_' followed by letters, digits and '_' (at most XLCFG_KEY_MAX - 1).
 *
 * The file is untrusted input (it may come from a disk): every error is
 * -EINVAL (or -E2BIG past a limit) with one message "FILE:LINE: what"
 * naming the key where there is one; NUL bytes, unterminated strings
 * and lists, and numbers that do not fit 64 bits are errors. A key set
 * twice is an error too (xl would silently take one of them). Nothing is
 * allocated: everything lives in struct xlcfg.
 */
#ifndef GUEST_DOM0_CLI_XLCFG_H
#define GUEST_DOM0_CLI_XLCFG_H

#include <lib/types.h>

#define XLCFG_MAX_SETTINGS 64
#define XLCFG_MAX_ATOMS    256   /* values, over all settings and lists */
#define XLCFG_POOL         16384 /* bytes of keys and strings, NULs included */
#define XLCFG_KEY_MAX      32

enum xlcfg_kind { XLCFG_STRING, XLCFG_NUMBER };

struct xlcfg_atom {
	u8 kind;
	unsigned line;
	const char *str; /* the string, or a number's digits as written */
	u64 num;         /* XLCFG_NUMBER only */
};

struct xlcfg_setting {
	const char *key;
	unsigned line;
	bool list;      /* written as [ ... ] (possibly empty) */
	unsigned first; /* index of its first atom */
	unsigned count; /* atoms: 1 for a plain value */
	bool override;  /* from xlcfg_override (messages say "command line") */
};

struct xlcfg {
	const char *file; /* for messages */
	unsigned nr_settings, nr_atoms;
	size_t pool_used;
	struct xlcfg_setting settings[XLCFG_MAX_SETTINGS];
	struct xlcfg_atom atoms[XLCFG_MAX_ATOMS];
	char pool[XLCFG_POOL];
};

/*
 * Parses len bytes of text into c (overwritten). 0, or -EINVAL / -E2BIG
 * with "FILE:LINE: message" in err (errlen bytes, always terminated).
 */
int xlcfg_parse(struct xlcfg *c, const char *file, const char *text, size_t len, char *err,
		size_t errlen);

/*
 * Adds settings given after the file (xl's `create CFG KEY=VALUE ...`):
 * text in the same syntax, whose keys replace the file's. 0, or an error
 * as xlcfg_parse's, its message starting "command line:".
 */
int xlcfg_override(struct xlcfg *c, const char *text, size_t len, char *err, size_t errlen);

/* Where setting s came from, for messages: the file's name or "command
 * line". */
const char *xlcfg_origin(const struct xlcfg *c, const struct xlcfg_setting *s);

/* The setting named key, or NULL. */
const struct xlcfg_setting *xlcfg_find(const struct xlcfg *c, const char *key);

/* Atom i (< s->count) of setting s. */
const struct xlcfg_atom *xlcfg_atom(const struct xlcfg *c, const struct xlcfg_setting *s,
				    unsigned i);

#endif
