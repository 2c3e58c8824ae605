/* Error numbers. Keel returns negative errno values internally and at the
 * guest ABI; the numbers are Xen's (xen/include/public/errno.h), which equal
 * Linux's for everything used here. */
#ifndef LIB_ERRNO_H
#define LIB_ERRNO_H

#define EPERM 1
#define ENOENT 2
#define ESRCH 3
#define EINTR 4
#define EIO 5
#define ENXIO 6
#define E2BIG 7
#define ENOEXEC 8
#define EBADF 9
#define ECHILD 10
#define EAGAIN 11
#define ENOMEM 12
#define EACCES 13
#define EFAULT 14
#define EBUSY 16
#define EEXIST 17
#define EXDEV 18
#define ENODEV 19
#define ENOTDIR 20
#define EISDIR 21
#define EINVAL 22
#define ENFILE 23
#define EMFILE 24
#define ENOSPC 28
#define EROFS 30
#define EDOM 33
#define ERANGE 34
#define ENAMETOOLONG 36
#define ENOSYS 38
#define ENOTEMPTY 39
#define ETIME 62
#define EOVERFLOW 75
/* Internal (Xen's ERESTART): the hypercall continues, see
 * hypercall_continue(); never returned to a guest. */
#define ERESTART 85
#define EOPNOTSUPP 95
#define ETIMEDOUT 110
#define EALREADY 114
#define EISCONN 106

#endif
