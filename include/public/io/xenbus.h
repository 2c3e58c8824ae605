/*
 * XenBus device states (Xen public/io/xenbus.h): each end of a split
 * driver writes its state as a decimal number to its `state` node in
 * xenstore, and the other end watches it.
 */
#ifndef KEEL_PUBLIC_IO_XENBUS_H
#define KEEL_PUBLIC_IO_XENBUS_H

enum xenbus_state {
	XenbusStateUnknown = 0,
	XenbusStateInitialising = 1,
	XenbusStateInitWait = 2,    /* set up, waiting for the peer (or hotplug scripts) */
	XenbusStateInitialised = 3, /* ready, waiting for the peer to connect */
	XenbusStateConnected = 4,
	XenbusStateClosing = 5,     /* being closed: error or unplug */
	XenbusStateClosed = 6,
	XenbusStateReconfiguring = 7,
	XenbusStateReconfigured = 8,
};
typedef enum xenbus_state XenbusState;

#endif
