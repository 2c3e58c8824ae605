/*
 * The freestanding string and formatting functions of lib/ (string.c,
 * format.c): a tiny libc that belongs to no one image. It is compiled once
 * per image flavour -- build/lib/hv/lib.a with the hypervisor's flags,
 * build/lib/guest/lib.a with the guests' (lib/lib.mk) -- and the host unit
 * tests and fuzzers include format.c directly (tests/unit/test_cmdline.c
 * says why).
 */
#ifndef LIB_STRING_H
#define LIB_STRING_H

#include <lib/types.h>
#include <stdarg.h>

void *memset(void *s, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
/* Copies at most size-1 bytes and always NUL-terminates (size > 0). */
size_t strlcpy(char *dst, const char *src, size_t size);

/* Formats like C's vsnprintf (the subset printk documents). Returns the
 * length the full output would have. */
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
__printf(3, 4) int snprintf(char *buf, size_t size, const char *fmt, ...);

/* Parses an unsigned number (0x hex, else decimal) from s; *end points
 * after it. Returns -EINVAL if there is no digit, -ERANGE on overflow. */
int parse_u64(const char *s, const char **end, u64 *out);

#endif
