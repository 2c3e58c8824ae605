/*
 * The network-device interface every NIC driver presents (virtio-net,
 * e1000), and that dom0's network users (the self-test responder now,
 * netback and the bridge later) program against.
 *
 * Frames are Ethernet frames without the FCS: destination MAC first, at
 * most NETDEV_MAX_FRAME bytes. netdev_xmit() copies the frame into the
 * driver's own DMA buffer, so the caller's memory is free on return.
 * netdev_poll() hands each received frame to nd->rx, reaps finished
 * transmissions and refreshes the link state; the NIC's interrupt, where
 * it has one, only wakes a waiter (netdev_wait).
 */
#ifndef DRIVERS_NETDEV_H
#define DRIVERS_NETDEV_H

#include "drv.h"

struct pci_dev;
struct netdev;

#define NETDEV_MAX_FRAME 1514
#define NETDEV_MIN_FRAME 14

struct netdev_ops {
	/* Queues one frame. 0, -EBUSY (transmit ring full: poll, retry),
	 * -EINVAL (length out of range). */
	int (*xmit)(struct netdev *nd, const void *frame, size_t len);
	/* Delivers received frames, reaps transmissions, updates link.
	 * Returns the number of frames received. */
	unsigned (*poll)(struct netdev *nd);
};

typedef void (*netdev_rx_fn)(struct netdev *nd, const u8 *frame, size_t len, void *arg);

struct netdev {
	char name[8];         /* "eth0" */
	const char *driver;   /* "virtio-net", "e1000" */
	u8 mac[6];
	bool link_up;
	const struct netdev_ops *ops;
	void *priv;
	struct pci_dev *pci;
	struct drv_irq *irq;  /* the device's interrupt, NULL when polled */
	netdev_rx_fn rx;      /* NULL: received frames are counted and dropped */
	void *rx_arg;
	u64 rx_frames, rx_bytes, rx_dropped, rx_errors;
	u64 tx_frames, tx_bytes, tx_errors;
};

#define NETDEV_MAX 4

/* Names it ethN and adds it to the list. 0 or -ENOSPC. */
int netdev_register(struct netdev *nd);
unsigned netdev_count(void);
struct netdev *netdev_get(unsigned i);

int netdev_xmit(struct netdev *nd, const void *frame, size_t len);
unsigned netdev_poll(struct netdev *nd);
/* Sleeps until the NIC interrupts or `us` passes (busy-waits briefly
 * without an interrupt). True if it interrupted. */
bool netdev_wait(struct netdev *nd, u64 us);
/* Sets the receive callback. */
void netdev_set_rx(struct netdev *nd, netdev_rx_fn fn, void *arg);

/* For drivers: hands a received frame to the user. */
void netdev_deliver(struct netdev *nd, const u8 *frame, size_t len);

#endif
