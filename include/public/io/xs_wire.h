/*
 * The xenstore wire protocol (Xen public/io/xs_wire.h, Xen 4.17, and
 * docs/misc/xenstore.txt): the message header both directions use, the
 * message types, the error names sent as strings, and the shared ring page
 * a domain talks to xenstored through. Layouts and numbers are Xen's;
 * docs/xenstore.md says what Keel's xenstored does with them.
 */
#ifndef KEEL_PUBLIC_IO_XS_WIRE_H
#define KEEL_PUBLIC_IO_XS_WIRE_H

#include <lib/types.h>

/* Message types (the header's `type`). Number 20 was XS_RESTRICT, removed
 * from Xen; it stays unused so that later numbers keep their values. */
enum xsd_sockmsg_type {
	XS_CONTROL = 0,
	XS_DIRECTORY = 1,
	XS_READ = 2,
	XS_GET_PERMS = 3,
	XS_WATCH = 4,
	XS_UNWATCH = 5,
	XS_TRANSACTION_START = 6,
	XS_TRANSACTION_END = 7,
	XS_INTRODUCE = 8,
	XS_RELEASE = 9,
	XS_GET_DOMAIN_PATH = 10,
	XS_WRITE = 11,
	XS_MKDIR = 12,
	XS_RM = 13,
	XS_SET_PERMS = 14,
	XS_WATCH_EVENT = 15,   /* server -> client only */
	XS_ERROR = 16,         /* server -> client only */
	XS_IS_DOMAIN_INTRODUCED = 17,
	XS_RESUME = 18,
	XS_SET_TARGET = 19,
	XS_RESET_WATCHES = 21,
	XS_DIRECTORY_PART = 22,
	XS_TYPE_COUNT,         /* one past the highest type Xen 4.17 defines */
	XS_INVALID = 0xffff,   /* Xen promises never to use this number */
};
#define XS_DEBUG XS_CONTROL /* the old name of type 0 */

/* Every message, both ways: this header then `len` payload bytes. Replies
 * echo req_id and tx_id; watch events carry 0 in both. */
struct xsd_sockmsg {
	uint32_t type;   /* enum xsd_sockmsg_type */
	uint32_t req_id; /* chosen by the client, echoed in the reply */
	uint32_t tx_id;  /* transaction id, 0 outside a transaction */
	uint32_t len;    /* payload bytes that follow */
};

/* Fields of an XS_WATCH_EVENT payload ("<path>\0<token>\0"). */
enum xs_watch_type {
	XS_WATCH_PATH = 0,
	XS_WATCH_TOKEN = 1,
};

/* Errors travel as the errno's name ("ENOENT\0" in an XS_ERROR reply), not
 * its number. Clients (libxenstore, Linux's xenbus) know exactly these
 * names and turn any other into EINVAL. The includer supplies the E*
 * numbers (Keel: <lib/errno.h>), as with Xen's header. */
struct xsd_errors {
	int errnum;
	const char *errstring;
};
#define XSD_ERROR(x) { x, #x }
#define XSD_ERROR_TABLE                                                        \
	{                                                                      \
		XSD_ERROR(EINVAL), XSD_ERROR(EACCES), XSD_ERROR(EEXIST),       \
		XSD_ERROR(EISDIR), XSD_ERROR(ENOENT), XSD_ERROR(ENOMEM),       \
		XSD_ERROR(ENOSPC), XSD_ERROR(EIO), XSD_ERROR(ENOTEMPTY),       \
		XSD_ERROR(ENOSYS), XSD_ERROR(EROFS), XSD_ERROR(EBUSY),         \
		XSD_ERROR(EAGAIN), XSD_ERROR(EISCONN), XSD_ERROR(E2BIG),       \
	}

/* WRITE's optional flag strings in old protocol versions (unused today). */
#define XS_WRITE_NONE "NONE"
#define XS_WRITE_CREATE "CREATE"
#define XS_WRITE_CREATE_EXCL "CREATE|EXCL"

/*
 * The ring page (its frame is HVM_PARAM_STORE_PFN, its event channel
 * HVM_PARAM_STORE_EVTCHN). Two byte rings of XENSTORE_RING_SIZE: the guest
 * produces into req and consumes from rsp. Indices run freely and are
 * reduced with MASK_XENSTORE_IDX; prod - cons is the bytes in flight and
 * can never exceed XENSTORE_RING_SIZE (anything else is a corrupt ring).
 */
#define XENSTORE_RING_SIZE 1024
typedef uint32_t XENSTORE_RING_IDX;
#define MASK_XENSTORE_IDX(idx) ((idx) & (XENSTORE_RING_SIZE - 1))

struct xenstore_domain_interface {
	char req[XENSTORE_RING_SIZE]; /* guest -> xenstored */
	char rsp[XENSTORE_RING_SIZE]; /* xenstored -> guest: replies, watch events */
	XENSTORE_RING_IDX req_cons, req_prod;
	XENSTORE_RING_IDX rsp_cons, rsp_prod;
	uint32_t server_features; /* XENSTORE_SERVER_FEATURE_* the server offers */
	uint32_t connection;      /* XENSTORE_CONNECTED / XENSTORE_RECONNECT */
	uint32_t error;           /* XENSTORE_ERROR_*, with FEATURE_ERROR */
};

/* The largest payload either side may send; a client that exceeds it has
 * its connection dropped (docs/misc/xenstore.txt). */
#define XENSTORE_PAYLOAD_MAX 4096

/* Longer paths get EINVAL (the connection survives). */
#define XENSTORE_ABS_PATH_MAX 3072
#define XENSTORE_REL_PATH_MAX 2048

/* server_features bits. */
#define XENSTORE_SERVER_FEATURE_RECONNECTION 1 /* `connection` is honoured */
#define XENSTORE_SERVER_FEATURE_ERROR 2        /* `error` is filled in */

/* connection values. */
#define XENSTORE_CONNECTED 0 /* normal operation */
#define XENSTORE_RECONNECT 1 /* the guest asks for a reset of its state */

/* error values (why the server stopped serving the ring). */
#define XENSTORE_ERROR_NONE 0
#define XENSTORE_ERROR_COMM 1    /* communication problem */
#define XENSTORE_ERROR_RINGIDX 2 /* indices out of range */
#define XENSTORE_ERROR_PROTO 3   /* protocol violation (e.g. payload too long) */

#endif
