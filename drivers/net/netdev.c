/* The net-device layer shared by the NIC drivers; see netdev.h. */
#include "netdev.h"

static struct netdev *nics[NETDEV_MAX];
static unsigned nr_nics;

int netdev_register(struct netdev *nd)
{
	if (nr_nics == NETDEV_MAX)
		return -ENOSPC;
	snprintf(nd->name, sizeof(nd->name), "eth%u", nr_nics);
	nics[nr_nics++] = nd;
	return 0;
}

unsigned netdev_count(void)
{
	return nr_nics;
}

struct netdev *netdev_get(unsigned i)
{
	return i < nr_nics ? nics[i] : NULL;
}

int netdev_xmit(struct netdev *nd, const void *frame, size_t len)
{
	if (len < NETDEV_MIN_FRAME || len > NETDEV_MAX_FRAME)
		return -EINVAL;
	int rc = nd->ops->xmit(nd, frame, len);
	if (rc == 0) {
		nd->tx_frames++;
		nd->tx_bytes += len;
	}
	return rc;
}

unsigned netdev_poll(struct netdev *nd)
{
	unsigned n = nd->ops->poll(nd);
	drv_irq_done(nd->irq);
	return n;
}

bool netdev_wait(struct netdev *nd, u64 us)
{
	if (!nd->irq) {
		__asm__ volatile("pause");
		return false;
	}
	return drv_irq_wait(nd->irq, us);
}

void netdev_set_rx(struct netdev *nd, netdev_rx_fn fn, void *arg)
{
	nd->rx = fn;
	nd->rx_arg = arg;
}

void netdev_deliver(struct netdev *nd, const u8 *frame, size_t len)
{
	nd->rx_frames++;
	nd->rx_bytes += len;
	if (nd->rx)
		nd->rx(nd, frame, len, nd->rx_arg);
	else
		nd->rx_dropped++;
}
