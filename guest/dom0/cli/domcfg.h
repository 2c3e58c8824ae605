/*
 * A guest's configuration as xl.cfg(5) gives it (guest/dom0/cli/domcfg.c):
 * the meaning of the settings xlcfg.h parsed, for what Keel supports.
 *
 * Keys: name, type ("pvh"; builder = "hvm"/"pv" and type = "pv"/"hvm" are
 * refused), memory, maxmem (MiB), vcpus, kernel, ramdisk, cmdline, extra,
 * root, disk, vif, on_poweroff, on_reboot, on_crash (destroy, restart,
 * preserve, rename-restart; coredump-* refused). xl's other keys are
 * refused with "not supported by Keel", anything else as unknown; each
 * message is "FILE:LINE: key 'K': why".
 *
 * The command line is xl's: `cmdline` if set, else "root=ROOT EXTRA"
 * from whichever of root and extra are set (xl.cfg(5), "Direct kernel
 * boot"); cmdline together with root or extra is an error, as in xl.
 *
 * disk entries follow xl-disk-configuration(5): comma-separated, either
 * key=value (target=, format=, vdev=, access=, devtype=disk) with target
 * last, or positional target, format, vdev, access, where the legacy
 * form "phy:TARGET,VDEV,ACCESS" (no format) is accepted as xl does. The
 * target names a disk or partition dom0 owns (`phy:` prefix optional);
 * format raw only; access r/ro or w/rw (default rw); vdev xvdX, hdX or
 * sdX, turned into the xenstore device number of Xen's
 * vbd-interface.txt. vif entries are key=value lists: mac=, bridge=
 * (default "xenbr0"); type=vif accepted.
 */
#ifndef GUEST_DOM0_CLI_DOMCFG_H
#define GUEST_DOM0_CLI_DOMCFG_H

#include <lib/types.h>
#include <public/domctl.h>
#include "xlcfg.h"

#define DOMCFG_MAX_DISKS 8
#define DOMCFG_MAX_VIFS  8
#define DOMCFG_NAME_MAX  64
#define DOMCFG_PATH_MAX  128
#define DOMCFG_CMDLINE_MAX 1024

enum domcfg_action {
	DOMCFG_DESTROY,
	DOMCFG_RESTART,
	DOMCFG_PRESERVE,
	DOMCFG_RENAME_RESTART,
};

struct domcfg_disk {
	char target[DOMCFG_PATH_MAX]; /* without "phy:" */
	char vdev[16];
	u32 devid;      /* xenstore device number (vbd-interface.txt) */
	bool readonly;
};

struct domcfg_vif {
	bool has_mac;
	u8 mac[6];
	char bridge[16];
};

struct domcfg {
	char name[DOMCFG_NAME_MAX];
	u32 memory_mib, maxmem_mib, vcpus;
	char kernel[DOMCFG_PATH_MAX];
	char ramdisk[DOMCFG_PATH_MAX]; /* "" for none */
	char cmdline[DOMCFG_CMDLINE_MAX];
	unsigned nr_disks, nr_vifs;
	struct domcfg_disk disks[DOMCFG_MAX_DISKS];
	struct domcfg_vif vifs[DOMCFG_MAX_VIFS];
	u8 on_poweroff, on_reboot, on_crash; /* enum domcfg_action */
};

/* Limits Keel applies (the launcher's and the hypervisor's). */
#define DOMCFG_MEMORY_MAX_MIB (1u << 20)
#define DOMCFG_VCPUS_MAX KEEL_DOMCTL_MAX_VCPUS /* the hypervisor's MAX_VCPUS */

/*
 * Fills d from the parsed settings c. Defaults as xl's: memory 128,
 * maxmem = memory, vcpus 1, on_poweroff destroy, on_reboot restart,
 * on_crash destroy. name and kernel are required. 0, or -EINVAL with
 * "FILE:LINE: key 'K': why" in err.
 */
int domcfg_from_xlcfg(const struct xlcfg *c, struct domcfg *d, char *err, size_t errlen);

/* One disk / vif specification string (what a list entry holds, or what
 * block-attach / network-attach take). 0 or -EINVAL with the reason in
 * err (no file or line). */
int domcfg_parse_disk(const char *spec, struct domcfg_disk *disk, char *err, size_t errlen);
int domcfg_parse_vif(const char *spec, struct domcfg_vif *vif, char *err, size_t errlen);

/* The xenstore device number of a virtual device name ("xvda" -> 51712,
 * "xvdb1" -> 51729, "hda" -> 768, "sdb" -> 2064, "xvdaa" -> extended).
 * 0, or -EINVAL for a name Xen's scheme has no number for. */
int domcfg_vdev_to_devid(const char *vdev, u32 *devid);
/* Whether `name` is a domain name the config accepts (letters, digits,
 * '-', '_', '.'; 1 to DOMCFG_NAME_MAX - 1 of them): xl rename's rule too. */
bool domcfg_name_ok(const char *name);

/* "destroy", "restart", ... */
const char *domcfg_action_name(u8 action);

#endif
