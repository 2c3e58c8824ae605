/*
 * xl.cfg for the CLI (guest/dom0/cli/): the syntax (xlcfg.c) and what
 * the settings mean (domcfg.c), with the exact messages users will see.
 *
 * unit-sources: guest/dom0/cli/xlcfg.c guest/dom0/cli/domcfg.c lib/format.c lib/string.c
 */
#include <lib/errno.h>
#include <lib/string.h>

#include "../../guest/dom0/cli/domcfg.h"
#include "unit.h"

#pragma GCC diagnostic ignored "-Wunused-variable"

static struct xlcfg cfg;
static struct domcfg dom;
static char err[256];

static int parse(const char *text)
{
	return xlcfg_parse(&cfg, "web.cfg", text, strlen(text), err, sizeof(err));
}

static int parse_dom(const char *text)
{
	int rc = parse(text);
	return rc ? rc : domcfg_from_xlcfg(&cfg, &dom, err, sizeof(err));
}

#define ASSERT_ERR(call, msg)                                                                \
	do {                                                                                 \
		ck_assert_int_eq((call), -EINVAL);                                           \
		ck_assert_str_eq(err, msg);                                                  \
	} while (0)

START_TEST(xlcfg_values_lists_comments)
{
	const char *t = "# a guest\n"
			"name = \"web\"   # its name\n"
			"memory = 512; vcpus=0x2\n"
			"kernel = '/boot/vmlinuz'\n"
			"disk = [ 'phy:vda2,xvda,w',\n"
			"         # a comment inside the list\n"
			"         \"phy:vda3,xvdb,r\", ]\n"
			"empty = []\n"
			"esc = \"a\\\"b\\\\c\\x41\\n\"\n";
	ck_assert_int_eq(parse(t), 0);
	ck_assert_uint_eq(cfg.nr_settings, 7);
	const struct xlcfg_setting *s = xlcfg_find(&cfg, "memory");
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(s->line, 3);
	ck_assert_int_eq(xlcfg_atom(&cfg, s, 0)->kind, XLCFG_NUMBER);
	ck_assert_uint_eq(xlcfg_atom(&cfg, s, 0)->num, 512);
	ck_assert_uint_eq(xlcfg_atom(&cfg, xlcfg_find(&cfg, "vcpus"), 0)->num, 2);
	s = xlcfg_find(&cfg, "disk");
	ck_assert(s->list);
	ck_assert_uint_eq(s->count, 2);
	ck_assert_str_eq(xlcfg_atom(&cfg, s, 1)->str, "phy:vda3,xvdb,r");
	ck_assert_uint_eq(xlcfg_atom(&cfg, s, 1)->line, 7);
	s = xlcfg_find(&cfg, "empty");
	ck_assert(s->list);
	ck_assert_uint_eq(s->count, 0);
	ck_assert_str_eq(xlcfg_atom(&cfg, xlcfg_find(&cfg, "esc"), 0)->str, "a\"b\\cA\n");
	ck_assert_ptr_null(xlcfg_find(&cfg, "nope"));
}
END_TEST

START_TEST(xlcfg_syntax_errors_name_file_line_key)
{
	ASSERT_ERR(parse("name = \"web\"\nmemory = \n"),
		   "web.cfg:2: key 'memory': expected a value, found the end of the line");
	ASSERT_ERR(parse("name = web\n"), "web.cfg:1: key 'name': value web needs quotes (\"web\")");
	ASSERT_ERR(parse("name = \"web\n\"\n"), "web.cfg:1: string not closed on its line (missing \")");
	ASSERT_ERR(parse("disk = [ 'a',\n 'b'\n"),
		   "web.cfg:3: key 'disk': list opened on line 1 is not closed");
	ASSERT_ERR(parse("disk = [ 'a' 'b' ]"), "web.cfg:1: key 'disk': missing ',' between list values");
	ASSERT_ERR(parse("disk = [ 'a',, 'b' ]"), "web.cfg:1: key 'disk': empty value in the list");
	ASSERT_ERR(parse("disk = [ [ 'a' ] ]"),
		   "web.cfg:1: key 'disk': '[' in a list (lists hold strings and numbers)");
	ASSERT_ERR(parse("memory = 1\nmemory = 2\n"), "web.cfg:2: key 'memory' set again (first on line 1)");
	ASSERT_ERR(parse("memory = 99999999999999999999"), "web.cfg:1: number too large");
	ASSERT_ERR(parse("memory = 12ab"), "web.cfg:1: bad digit 'a' in a number");
	ASSERT_ERR(parse("memory 12"), "web.cfg:1: key 'memory': expected '=', found a number");
	ASSERT_ERR(parse("memory = 1 2"),
		   "web.cfg:1: key 'memory': expected the end of the setting, found a number");
	ASSERT_ERR(parse("= 1"), "web.cfg:1: expected a setting (name = value), found '='");
	ASSERT_ERR(parse("x = \"a\\qb\""), "web.cfg:1: unknown escape \\q in a string");
	ASSERT_ERR(parse("x = \"a\\x00\""), "web.cfg:1: \\x00 (a NUL) in a string");
	ASSERT_ERR(parse("x = @"), "web.cfg:1: unexpected '@'");
	/* a NUL byte in the middle of the file */
	ck_assert_int_eq(xlcfg_parse(&cfg, "web.cfg", "a = 1\n\0b = 2", 12, err, sizeof(err)),
			 -EINVAL);
	ck_assert_str_eq(err, "web.cfg:2: NUL byte in the file");
}
END_TEST

START_TEST(xlcfg_limits_are_errors_not_overflows)
{
	static char big[XLCFG_POOL * 2];
	size_t n = 0;

	/* more settings than fit */
	for (unsigned i = 0; i <= XLCFG_MAX_SETTINGS; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "k%u = %u\n", i, i);
	ck_assert_int_eq(xlcfg_parse(&cfg, "big.cfg", big, n, err, sizeof(err)), -E2BIG);
	ck_assert_str_eq(err, "big.cfg:65: more than 64 settings");
	/* more string bytes than the pool holds */
	n = 0;
	n += (size_t)snprintf(big + n, sizeof(big) - n, "a = \"");
	memset(big + n, 'x', XLCFG_POOL);
	n += XLCFG_POOL;
	n += (size_t)snprintf(big + n, sizeof(big) - n, "\"\n");
	ck_assert_int_eq(xlcfg_parse(&cfg, "big.cfg", big, n, err, sizeof(err)), -E2BIG);
	/* a key too long */
	ASSERT_ERR(parse("abcdefghijabcdefghijabcdefghijabc = 1"),
		   "web.cfg:1: name longer than 31 characters");
	/* a tiny error buffer is still terminated */
	char small[8];
	ck_assert_int_eq(xlcfg_parse(&cfg, "web.cfg", "= 1", 3, small, sizeof(small)), -EINVAL);
	ck_assert_uint_eq(strlen(small), 7);
}
END_TEST

START_TEST(xlcfg_domain_settings_and_defaults)
{
	const char *t = "name = \"web-1\"\ntype = \"pvh\"\nkernel = \"/boot/pvtest.elf\"\n"
			"memory = \"256\"\nmaxmem = 512\nvcpus = 2\n"
			"ramdisk = \"/esp/initrd\"\nroot = \"/dev/xvda1\"\nextra = \"console=hvc0 quiet\"\n"
			"disk = [ 'phy:nvme0n1p2,xvda,w', 'format=raw, vdev=xvdb, access=ro, target=vda' ]\n"
			"vif = [ 'mac=00:16:3e:01:02:03,bridge=xenbr1', '' ]\n"
			"on_crash = \"preserve\"\n";
	ck_assert_int_eq(parse_dom(t), 0);
	ck_assert_str_eq(dom.name, "web-1");
	ck_assert_uint_eq(dom.memory_mib, 256);
	ck_assert_uint_eq(dom.maxmem_mib, 512);
	ck_assert_uint_eq(dom.vcpus, 2);
	ck_assert_str_eq(dom.ramdisk, "/esp/initrd");
	ck_assert_str_eq(dom.cmdline, "root=/dev/xvda1 console=hvc0 quiet");
	ck_assert_uint_eq(dom.nr_disks, 2);
	ck_assert_str_eq(dom.disks[0].target, "nvme0n1p2");
	ck_assert_str_eq(dom.disks[0].vdev, "xvda");
	ck_assert_uint_eq(dom.disks[0].devid, 51712);
	ck_assert(!dom.disks[0].readonly);
	ck_assert_str_eq(dom.disks[1].target, "vda");
	ck_assert_uint_eq(dom.disks[1].devid, 51728);
	ck_assert(dom.disks[1].readonly);
	ck_assert_uint_eq(dom.nr_vifs, 2);
	ck_assert(dom.vifs[0].has_mac);
	ck_assert_uint_eq(dom.vifs[0].mac[5], 3);
	ck_assert_str_eq(dom.vifs[0].bridge, "xenbr1");
	ck_assert(!dom.vifs[1].has_mac);
	ck_assert_str_eq(dom.vifs[1].bridge, "xenbr0");
	ck_assert_uint_eq(dom.on_poweroff, DOMCFG_DESTROY);
	ck_assert_uint_eq(dom.on_reboot, DOMCFG_RESTART);
	ck_assert_uint_eq(dom.on_crash, DOMCFG_PRESERVE);

	ck_assert_int_eq(parse_dom("name='a'\nkernel='k'\n"), 0);
	ck_assert_uint_eq(dom.memory_mib, 128);
	ck_assert_uint_eq(dom.maxmem_mib, 128);
	ck_assert_uint_eq(dom.vcpus, 1);
	ck_assert_str_eq(dom.cmdline, "");
	ck_assert_int_eq(parse_dom("name='a'\nkernel='k'\ncmdline='console=hvc0'\n"), 0);
	ck_assert_str_eq(dom.cmdline, "console=hvc0");
}
END_TEST

START_TEST(xlcfg_domain_errors_name_file_line_key)
{
	ASSERT_ERR(parse_dom("name='a'\nkernel='k'\nmemroy=5\n"), "web.cfg:3: key 'memroy': unknown key");
	ASSERT_ERR(parse_dom("name='a'\nkernel='k'\npci=['01:00.0']\n"),
		   "web.cfg:3: key 'pci': an xl option that is not supported by Keel");
	ASSERT_ERR(parse_dom("kernel='k'\n"), "web.cfg: key 'name' is required");
	ASSERT_ERR(parse_dom("name='a'\n"), "web.cfg: key 'kernel' is required");
	ASSERT_ERR(parse_dom("name='a b'\nkernel='k'\n"),
		   "web.cfg:1: key 'name': 'a b': use letters, digits, '-', '_' and '.'");
	ASSERT_ERR(parse_dom("name='a'\ntype='hvm'\nkernel='k'\n"),
		   "web.cfg:2: key 'type': type \"hvm\" is not supported by Keel (type = \"pvh\")");
	ASSERT_ERR(parse_dom("name='a'\nkernel='k'\nmemory=0\n"),
		   "web.cfg:3: key 'memory': 0 is out of range (1 to 1048576)");
	ASSERT_ERR(parse_dom("name='a'\nkernel='k'\nmemory='12x'\n"),
		   "web.cfg:3: key 'memory': expected a number, found \"12x\"");
	ASSERT_ERR(parse_dom("name='a'\nkernel='k'\nmemory=256\nmaxmem=128\n"),
		   "web.cfg:4: key 'maxmem': 128 MiB is less than memory (256 MiB)");
	ASSERT_ERR(parse_dom("name='a'\nkernel='k'\nvcpus=[1]\n"), "web.cfg:3: key 'vcpus': expected a number");
	ASSERT_ERR(parse_dom("name='a'\nkernel=5\n"), "web.cfg:2: key 'kernel': expected a string in quotes");
	ASSERT_ERR(parse_dom("name='a'\nkernel='k'\ndisk='phy:vda,xvda'\n"),
		   "web.cfg:3: key 'disk': expected a list: disk = [ '...', ... ]");
	ASSERT_ERR(parse_dom("name='a'\nkernel='k'\ndisk=['phy:vda,xvda','phy:vdb,xvda']\n"),
		   "web.cfg:3: key 'disk': entry 2: vdev xvda is used twice");
	ASSERT_ERR(parse_dom("name='a'\nkernel='k'\ndisk=['file:/x.img,xvda']\n"),
		   "web.cfg:3: key 'disk': entry 1: disk target 'file:/x.img': only phy: targets "
		   "(a disk or partition dom0 owns) are supported by Keel");
	ASSERT_ERR(parse_dom("name='a'\nkernel='k'\ndisk=['vda,qcow2,xvda']\n"),
		   "web.cfg:3: key 'disk': entry 1: disk format qcow2 is not supported by Keel (raw only)");
	ASSERT_ERR(parse_dom("name='a'\nkernel='k'\nvif=['ip=10.0.0.1']\n"),
		   "web.cfg:3: key 'vif': entry 1: vif: parameter 'ip=10.0.0.1' is not supported by "
		   "Keel (mac, bridge and type are)");
	ASSERT_ERR(parse_dom("name='a'\nkernel='k'\non_crash='coredump-destroy'\n"),
		   "web.cfg:3: key 'on_crash': coredump-destroy is not supported by Keel (no core dumps)");
	ASSERT_ERR(parse_dom("name='a'\nkernel='k'\non_reboot='again'\n"),
		   "web.cfg:3: key 'on_reboot': 'again': expected destroy, restart, preserve or rename-restart");
	ASSERT_ERR(parse_dom("name='a'\nkernel='k'\ncmdline='x'\nextra='y'\n"),
		   "web.cfg:3: key 'cmdline': cmdline replaces root and extra: set one or the others");
}
END_TEST

START_TEST(xlcfg_disk_specs)
{
	struct domcfg_disk d;

	ck_assert_int_eq(domcfg_parse_disk("/dev/vg/guest,raw,xvda,rw", &d, err, sizeof(err)), 0);
	ck_assert_str_eq(d.target, "/dev/vg/guest");
	ck_assert_int_eq(domcfg_parse_disk("vda2,,hdc,r", &d, err, sizeof(err)), 0);
	ck_assert_uint_eq(d.devid, 22u << 8);
	ck_assert(d.readonly);
	ck_assert_int_eq(domcfg_parse_disk("phy:sda1,xvdc:disk,w", &d, err, sizeof(err)), 0);
	ck_assert_str_eq(d.vdev, "xvdc");
	ck_assert_int_eq(domcfg_parse_disk(" vdev=xvdb , target=phy:name=data,x", &d, err,
					   sizeof(err)), 0);
	ck_assert_str_eq(d.target, "name=data,x"); /* target= takes the rest */
	ck_assert_int_eq(domcfg_parse_disk("vda", &d, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "disk 'vda': no vdev (e.g. xvda)");
	ck_assert_int_eq(domcfg_parse_disk("vda,raw,xvda,w,extra", &d, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(domcfg_parse_disk("vda,xvda:cdrom", &d, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(domcfg_parse_disk("vda,xvda,x", &d, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "disk access 'x': expected r, ro, w or rw");
	ck_assert_int_eq(domcfg_parse_disk("vdev=xvda,colour=red,target=vda", &d, err, sizeof(err)),
			 -EINVAL);
	ck_assert_str_eq(err, "disk: unknown parameter 'colour=red'");
	ck_assert_int_eq(domcfg_parse_disk(",,xvda", &d, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "disk ',,xvda': no target");
}
END_TEST

START_TEST(xlcfg_vdev_numbers_follow_vbd_interface)
{
	u32 id;
	static const struct { const char *name; u32 id; } good[] = {
		{ "xvda", 51712 }, { "xvdb", 51728 }, { "xvda1", 51713 }, { "xvdp15", 202u << 8 | 15 << 4 | 15 },
		{ "xvdq", 1u << 28 | 16 << 8 }, { "xvda16", 1u << 28 | 16 }, { "xvdaa", 1u << 28 | 26 << 8 },
		{ "hda", 768 }, { "hdb", 832 }, { "hdc", 5632 }, { "hdd", 5696 }, { "hda63", 768 + 63 },
		{ "sda", 2048 }, { "sdb", 2064 }, { "sdp15", 8u << 8 | 15 << 4 | 15 },
	};
	for (unsigned i = 0; i < ARRAY_SIZE(good); i++) {
		ck_assert_msg(domcfg_vdev_to_devid(good[i].name, &id) == 0, "%s", good[i].name);
		ck_assert_msg(id == good[i].id, "%s: %u, want %u", good[i].name, id, good[i].id);
	}
	static const char *const bad[] = { "xvd", "xvdA", "xvda0", "xvda256", "hde", "hda64",
					   "sdq", "sda16", "vda", "", "xvda1x", "xvdzzzzzzz" };
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++)
		ck_assert_msg(domcfg_vdev_to_devid(bad[i], &id) == -EINVAL, "%s accepted", bad[i]);
}
END_TEST

START_TEST(xlcfg_vif_specs)
{
	struct domcfg_vif v;

	ck_assert_int_eq(domcfg_parse_vif("bridge=xenbr0, mac=00:16:3E:aa:bb:cc, type=vif", &v, err,
					  sizeof(err)), 0);
	ck_assert_uint_eq(v.mac[3], 0xaa);
	ck_assert_int_eq(domcfg_parse_vif("mac=01:16:3e:aa:bb:cc", &v, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "vif mac '01:16:3e:aa:bb:cc' is a multicast address");
	ck_assert_int_eq(domcfg_parse_vif("mac=00:16:3e:aa:bb", &v, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(domcfg_parse_vif("mac=00-16-3e-aa-bb-cc", &v, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(domcfg_parse_vif("bridge=", &v, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(domcfg_parse_vif("type=ioemu", &v, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(domcfg_parse_vif("xenbr0", &v, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "vif: 'xenbr0' is not KEY=VALUE");
}
END_TEST

START_TEST(xlcfg_command_line_overrides_replace_the_file)
{
	ck_assert_int_eq(parse("name='a'\nkernel='k'\nmemory=4\n"), 0);
	ck_assert_int_eq(xlcfg_override(&cfg, "memory=8", 8, err, sizeof(err)), 0);
	ck_assert_int_eq(xlcfg_override(&cfg, "name=\"b\"", 8, err, sizeof(err)), 0);
	ck_assert_int_eq(domcfg_from_xlcfg(&cfg, &dom, err, sizeof(err)), 0);
	ck_assert_uint_eq(dom.memory_mib, 8);
	ck_assert_str_eq(dom.name, "b");
	/* errors in an override say so */
	ck_assert_int_eq(xlcfg_override(&cfg, "vcpus=[", 7, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "command line:1: key 'vcpus': list opened on line 1 is not closed");
	ck_assert_int_eq(parse("name='a'\nkernel='k'\n"), 0);
	ck_assert_int_eq(xlcfg_override(&cfg, "vcpus=0", 7, err, sizeof(err)), 0);
	ASSERT_ERR(domcfg_from_xlcfg(&cfg, &dom, err, sizeof(err)),
		   "command line:1: key 'vcpus': 0 is out of range (1 to 4)");
	/* two overrides of the same key: the second is an error */
	ck_assert_int_eq(xlcfg_override(&cfg, "vcpus=2", 7, err, sizeof(err)), -EINVAL);
}
END_TEST

const struct unit_case unit_cases[] = {
	{ "xlcfg-command-line-overrides-replace-the-file",
	  &xlcfg_command_line_overrides_replace_the_file_ttest },
	{ "xlcfg-values-lists-comments", &xlcfg_values_lists_comments_ttest },
	{ "xlcfg-syntax-errors-name-file-line-key", &xlcfg_syntax_errors_name_file_line_key_ttest },
	{ "xlcfg-limits-are-errors-not-overflows", &xlcfg_limits_are_errors_not_overflows_ttest },
	{ "xlcfg-domain-settings-and-defaults", &xlcfg_domain_settings_and_defaults_ttest },
	{ "xlcfg-domain-errors-name-file-line-key", &xlcfg_domain_errors_name_file_line_key_ttest },
	{ "xlcfg-disk-specs", &xlcfg_disk_specs_ttest },
	{ "xlcfg-vdev-numbers-follow-vbd-interface", &xlcfg_vdev_numbers_follow_vbd_interface_ttest },
	{ "xlcfg-vif-specs", &xlcfg_vif_specs_ttest },
	{ 0 },
};
