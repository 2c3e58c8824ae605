/* Memory and string functions (include/lib/string.h). Shared by the
 * hypervisor and Keel's guests; gcc may emit calls to memset/memcpy/
 * memmove/memcmp itself, so these are built with -fno-builtin. */
#include <lib/string.h>

/*
 * memset and memcpy are REP STOSQ/MOVSQ for the 8-byte words and REP
 * STOSB/MOVSB for the tail (SDM vol. 2, REP prefix; the System V ABI
 * guarantees DF=0 on function entry). The hypervisor clears and copies
 * small structures on every VM exit and zeroes whole frames at boot: a
 * byte loop cost about 4 instructions a byte, a word loop about 5 per 8
 * bytes, and QEMU's TCG (the bench platform, docs/PERFORMANCE.md) counts
 * one instruction per repetition; fast-string microcode does better than
 * both on hardware.
 */
void *memset(void *s, int c, size_t n)
{
	void *d = s;
	size_t words = n >> 3, tail = n & 7;
	u64 v = 0x0101010101010101ULL * (u8)c;

	__asm__ volatile("rep stosq" : "+D"(d), "+c"(words) : "a"(v) : "memory");
	__asm__ volatile("rep stosb" : "+D"(d), "+c"(tail) : "a"(v) : "memory");
	return s;
}

/* The forward copy memcpy and memmove share. memmove must not call
 * memcpy for its overlapping case: memcpy's contract forbids overlap, and
 * a sanitizer that intercepts memcpy (the fuzz harnesses link this file)
 * rightly reports it. */
static inline void copy_forward(void *dst, const void *src, size_t n)
{
	void *d = dst;
	const void *s = src;
	size_t words = n >> 3, tail = n & 7;

	__asm__ volatile("rep movsq" : "+D"(d), "+S"(s), "+c"(words) : : "memory");
	__asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(tail) : : "memory");
}

void *memcpy(void *dst, const void *src, size_t n)
{
	copy_forward(dst, src, n);
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	u8 *d = dst;
	const u8 *s = src;
	/* A forward copy (REP MOVSQ/MOVSB, DF clear) reads each byte before
	 * any store can reach it unless dst starts inside src; only that
	 * case goes backwards byte by byte. (The grant copy of every PV
	 * block byte runs through here: a byte loop made it the largest
	 * cost of a PV read, docs/PERFORMANCE.md.) */
	if ((uintptr_t)d <= (uintptr_t)s || (uintptr_t)d >= (uintptr_t)s + n) {
		copy_forward(dst, src, n);
		return dst;
	}
	while (n--)
		d[n] = s[n];
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const u8 *x = a, *y = b;
	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;
	while (n < max && s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (u8)*a - (u8)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (u8)*a - (u8)*b;
		if (!*a)
			return 0;
	}
	return 0;
}

char *strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)s;
		if (!*s)
			return NULL;
	}
}

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
