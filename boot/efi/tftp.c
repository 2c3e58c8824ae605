/*
 * keel.cfg and the modules over the network: when the loader was started
 * by a network boot, its device handle carries the firmware's PXE base
 * code protocol (UEFI 2.10 section 24.3), already started and holding the
 * DHCP answers. We read each file from the TFTP server that served the
 * boot file, relative to the boot file's directory, with Mtftp(): first
 * TFTP_GET_FILE_SIZE (the RFC 2349 "tsize" option), then TFTP_READ_FILE
 * into pages of that size.
 *
 * Progress: the PXE base code calls an EFI_PXE_BASE_CODE_CALLBACK_PROTOCOL
 * on its handle for every packet while MakeCallbacks is set (24.3,
 * SetParameters()); we install one for the duration of the boot and count
 * TFTP DATA bytes in it. (edk2's PxeBcDxe does the same for its own
 * "Downloading NBP file" dots and removes its callback before starting us.)
 */
#include "loader.h"

/* RFC 2348 block size we ask for; a server may answer smaller (QEMU's
 * built-in server: 1428) and Mtftp() follows its answer. */
#define TFTP_BLKSIZE 1468

#define TFTP_OP_DATA 3

#define DHCP_MAGIC_OFFSET 236
#define DHCP_OPTIONS_OFFSET 240
#define DHCP_OPT_PAD 0
#define DHCP_OPT_OVERLOAD 52
#define DHCP_OPT_SERVER_ID 54
#define DHCP_OPT_BOOTFILE 67
#define DHCP_OPT_END 255

/* ---- small string helpers (gnu-efi 3.0.15 has no ASCII sprintf) -------- */

static UINTN append(char *out, UINTN size, UINTN pos, const char *src)
{
	while (*src && pos + 1 < size)
		out[pos++] = *src++;
	out[pos] = '\0';
	return pos;
}

static void ipv4_str(const EFI_IPv4_ADDRESS *ip, char out[16])
{
	UINTN pos = 0;

	for (int i = 0; i < 4; i++) {
		UINT8 b = ip->Addr[i];
		char d[4];
		int n = 0;

		do {
			d[n++] = (char)('0' + b % 10);
			b /= 10;
		} while (b);
		while (n)
			out[pos++] = d[--n];
		if (i < 3)
			out[pos++] = '.';
	}
	out[pos] = '\0';
}

/* ---- the DHCP answers ------------------------------------------------- */

/* Option `code` in the DHCPv4 options area [p, end): its value and
 * length, or NULL. */
static const UINT8 *dhcp_option(const UINT8 *p, const UINT8 *end, UINT8 code, UINT8 *len)
{
	while (p < end && *p != DHCP_OPT_END) {
		if (*p == DHCP_OPT_PAD) {
			p++;
			continue;
		}
		if (p + 2 > end || p + 2 + p[1] > end)
			break;
		if (*p == code) {
			*len = p[1];
			return p + 2;
		}
		p += 2 + p[1];
	}
	return NULL;
}

/* The boot file name and TFTP server of one DHCP/proxyDHCP/PXE answer:
 * option 67 (also in an overloaded file/sname field, RFC 2132 9.3), else
 * the BOOTP file field; the server is siaddr ("next server"), else
 * option 54. false if the answer names no boot file. */
static bool packet_boot_info(const EFI_PXE_BASE_CODE_PACKET *pkt, char *file, UINTN file_size,
			     EFI_IPv4_ADDRESS *server)
{
	static const UINT8 magic[4] = { 0x63, 0x82, 0x53, 0x63 };
	const EFI_PXE_BASE_CODE_DHCPV4_PACKET *d = &pkt->Dhcpv4;
	const UINT8 *opts = pkt->Raw + DHCP_OPTIONS_OFFSET, *end = pkt->Raw + sizeof(pkt->Raw);
	const UINT8 *v = NULL;
	UINT8 len = 0, overload = 0;
	UINTN n = 0;

	file[0] = '\0';
	SetMem(server, sizeof(*server), 0);
	if (!CompareMem(pkt->Raw + DHCP_MAGIC_OFFSET, magic, sizeof(magic))) {
		v = dhcp_option(opts, end, DHCP_OPT_OVERLOAD, &len);
		if (v && len == 1)
			overload = *v;
		v = dhcp_option(opts, end, DHCP_OPT_BOOTFILE, &len);
		if (!v && (overload & 1))
			v = dhcp_option(d->BootpBootFile, d->BootpBootFile + sizeof(d->BootpBootFile),
					DHCP_OPT_BOOTFILE, &len);
		if (!v && (overload & 2))
			v = dhcp_option(d->BootpSrvName, d->BootpSrvName + sizeof(d->BootpSrvName),
					DHCP_OPT_BOOTFILE, &len);
	}
	if (!v && !(overload & 1)) {
		v = d->BootpBootFile;
		len = sizeof(d->BootpBootFile);
	}
	for (; v && n < len && v[n] && n + 1 < file_size; n++)
		file[n] = (char)v[n];
	file[n] = '\0';
	if (!file[0])
		return false;

	CopyMem(server, d->BootpSiAddr, sizeof(*server));
	if (!server->Addr[0] && !server->Addr[1] && !server->Addr[2] && !server->Addr[3]) {
		v = dhcp_option(opts, end, DHCP_OPT_SERVER_ID, &len);
		if (v && len == 4)
			CopyMem(server, v, 4);
	}
	return true;
}

/* ---- progress callback -------------------------------------------------- */

static struct {
	EFI_PXE_BASE_CODE_CALLBACK_PROTOCOL proto;
	struct progress *prog; /* NULL: not in a transfer */
	UINT16 last_block;
	UINT64 bytes;
} cb;

static EFI_PXE_BASE_CODE_CALLBACK_STATUS EFIAPI
tftp_callback(EFI_PXE_BASE_CODE_CALLBACK_PROTOCOL *This, EFI_PXE_BASE_CODE_FUNCTION function,
	      BOOLEAN received, UINT32 len, EFI_PXE_BASE_CODE_PACKET *packet)
{
	const UINT8 *p = (const UINT8 *)packet;

	/* `function` is not checked: edk2 passes whatever PXE function ran
	 * last; cb.prog is set only around our own TFTP_READ_FILE */
	(void)This;
	(void)function;
	if (cb.prog && received && p && len >= 4 && ((p[0] << 8) | p[1]) == TFTP_OP_DATA) {
		UINT16 block = (UINT16)((p[2] << 8) | p[3]);

		/* count each block once: retransmissions repeat numbers */
		if (block == (UINT16)(cb.last_block + 1)) {
			cb.last_block = block;
			cb.bytes += len - 4;
			progress_update(cb.prog, cb.bytes);
		}
	}
	return EFI_PXE_BASE_CODE_CALLBACK_STATUS_CONTINUE;
}

static void callback_install(struct boot_source *src)
{
	BOOLEAN on = TRUE;
	EFI_STATUS st;

	cb.proto.Revision = EFI_PXE_BASE_CODE_CALLBACK_PROTOCOL_REVISION;
	cb.proto.Callback = tftp_callback;
	cb.prog = NULL;
	st = uefi_call_wrapper(BS->InstallProtocolInterface, 4, &src->nic,
			       &gEfiPxeBaseCodeCallbackProtocolGuid, EFI_NATIVE_INTERFACE, &cb.proto);
	if (!EFI_ERROR(st)) {
		st = uefi_call_wrapper(src->pxe->SetParameters, 6, src->pxe, NULL, NULL, NULL, NULL,
				       &on);
		if (EFI_ERROR(st))
			uefi_call_wrapper(BS->UninstallProtocolInterface, 3, src->nic,
					  &gEfiPxeBaseCodeCallbackProtocolGuid, &cb.proto);
	}
	src->callback_installed = !EFI_ERROR(st);
	if (EFI_ERROR(st))
		LOG(L"(no progress lines for TFTP transfers: %r)", st);
}

/* ---- the source --------------------------------------------------------- */

EFI_STATUS tftp_open(EFI_HANDLE device, EFI_PXE_BASE_CODE_PROTOCOL *pxe,
		     struct boot_source *src)
{
	EFI_PXE_BASE_CODE_MODE *m = pxe->Mode;
	const struct {
		BOOLEAN valid;
		const EFI_PXE_BASE_CODE_PACKET *pkt;
		const char *name;
	} answers[] = {
		/* most specific first: PXE boot server, proxyDHCP, DHCP */
		{ m->PxeReplyReceived, &m->PxeReply, "PXE boot server reply" },
		{ m->ProxyOfferReceived, &m->ProxyOffer, "proxyDHCP offer" },
		{ m->DhcpAckReceived, &m->DhcpAck, "DHCP ACK" },
	};
	char file[sizeof(m->DhcpAck.Dhcpv4.BootpBootFile) + 1];
	char station[16];
	const char *from = NULL;
	EFI_IPv4_ADDRESS server;
	UINTN i, last = 0;

	if (!m->Started) {
		LOG(L"network boot: the PXE base code is not started (no DHCP answer to go by)");
		return EFI_NOT_STARTED;
	}
	if (m->UsingIpv6) {
		LOG(L"network boot over IPv6 is not supported: boot over IPv4 (docs/boot-media.md)");
		return EFI_UNSUPPORTED;
	}
	for (i = 0; i < sizeof(answers) / sizeof(answers[0]); i++) {
		if (answers[i].valid &&
		    packet_boot_info(answers[i].pkt, file, sizeof(file), &server)) {
			from = answers[i].name;
			break;
		}
	}
	if (!from) {
		LOG(L"network boot: no DHCP answer names a boot file: cannot tell where keel.cfg is");
		return EFI_NOT_FOUND;
	}
	if (!server.Addr[0] && !server.Addr[1] && !server.Addr[2] && !server.Addr[3]) {
		LOG(L"network boot: the %a names boot file '%a' but no server (siaddr, option 54)",
		    from, file);
		return EFI_NOT_FOUND;
	}

	src->pxe = pxe;
	src->nic = device;
	SetMem(&src->server, sizeof(src->server), 0);
	CopyMem(&src->server.v4, &server, sizeof(server));
	ipv4_str(&server, src->server_str);
	ipv4_str(&m->StationIp.v4, station);
	/* files live next to the boot file: "keel/BOOTX64.EFI" -> "keel/" */
	for (i = 0; file[i]; i++)
		if (file[i] == '/' || file[i] == '\\')
			last = i + 1;
	file[last] = '\0';
	append(src->dir, sizeof(src->dir), 0, file);
	LOG(L"network boot: station %a, TFTP server %a (%a), files from '%a'", station,
	    src->server_str, from, src->dir[0] ? src->dir : "/");
	callback_install(src);
	return EFI_SUCCESS;
}

void tftp_close(struct boot_source *src)
{
	BOOLEAN off = FALSE;

	if (src->callback_installed) {
		uefi_call_wrapper(src->pxe->SetParameters, 6, src->pxe, NULL, NULL, NULL, NULL, &off);
		uefi_call_wrapper(BS->UninstallProtocolInterface, 3, src->nic,
				  &gEfiPxeBaseCodeCallbackProtocolGuid, &cb.proto);
		src->callback_installed = false;
	}
	src->pxe = NULL;
}

/* One line saying why Mtftp() failed: the server's TFTP error if it sent
 * one (e.g. 1 "File not found"), an ICMP error, or the status. */
static void say_failure(struct boot_source *src, const char *what, const char *path,
			const char *url, const char *doing, EFI_STATUS st)
{
	EFI_PXE_BASE_CODE_MODE *m = src->pxe->Mode;

	if (st == EFI_TFTP_ERROR && m->TftpErrorReceived) {
		char msg[sizeof(m->TftpError.ErrorString) + 1];

		CopyMem(msg, m->TftpError.ErrorString, sizeof(m->TftpError.ErrorString));
		msg[sizeof(msg) - 1] = '\0';
		/* not the error code: edk2 stores only one byte of it, the
		 * wrong one (always 0) */
		LOG(L"%a: cannot %a '%a' (%a): TFTP error '%a'", what, doing, path, url, msg);
	} else if (st == EFI_ICMP_ERROR && m->IcmpErrorReceived) {
		LOG(L"%a: cannot %a '%a' (%a): ICMP error type %d code %d", what, doing, path, url,
		    (UINT32)m->IcmpError.Type, (UINT32)m->IcmpError.Code);
	} else {
		LOG(L"%a: cannot %a '%a' (%a): %r", what, doing, path, url, st);
	}
}

EFI_STATUS tftp_load(struct boot_source *src, const char *path, const char *what,
		     EFI_PHYSICAL_ADDRESS *base, UINT64 *size)
{
	char name[2 * CFG_PATH_MAX], url[2 * CFG_PATH_MAX + 32];
	EFI_PXE_BASE_CODE_PROTOCOL *pxe = src->pxe;
	const char *rel;
	struct progress prog;
	UINTN blksize = TFTP_BLKSIZE, pos, i;
	UINT64 got;
	EFI_STATUS st;

	/* keel.cfg paths are relative to the boot file's directory; TFTP
	 * wants '/' and no leading separator (a leading '/' means the
	 * server's root to some servers, the file system root to others) */
	pos = append(name, sizeof(name), 0, src->dir);
	for (rel = path; *rel == '/' || *rel == '\\'; rel++)
		;
	for (i = 0; rel[i] && pos + 1 < sizeof(name); i++)
		name[pos++] = rel[i] == '\\' ? '/' : rel[i];
	name[pos] = '\0';
	pos = append(url, sizeof(url), 0, "tftp://");
	pos = append(url, sizeof(url), pos, src->server_str);
	pos = append(url, sizeof(url), pos, "/");
	append(url, sizeof(url), pos, name);

	*size = 0;
	st = uefi_call_wrapper(pxe->Mtftp, 10, pxe, EFI_PXE_BASE_CODE_TFTP_GET_FILE_SIZE, NULL,
			       FALSE, size, NULL, &src->server, (UINT8 *)name, NULL, FALSE);
	if (st == EFI_UNSUPPORTED) {
		/* iPXE's PXE base code reads files but cannot size them */
		LOG(L"%a: this firmware's PXE base code cannot ask a TFTP server for a file's "
		    L"size (%r): see docs/boot-media.md, 'iPXE'", what, st);
		return st;
	}
	if (EFI_ERROR(st)) {
		say_failure(src, what, path, url, "get the size of", st);
		return st;
	}
	if (!*size) {
		LOG(L"%a: '%a' (%a) is empty", what, path, url);
		return EFI_LOAD_ERROR;
	}

	LOG(L"%a: loading '%a' from %a, %ld bytes", what, path, url, *size);
	st = file_pages(what, path, *size, base);
	if (EFI_ERROR(st))
		return st;
	progress_start(&prog, url, *size);
	cb.prog = &prog;
	cb.last_block = 0;
	cb.bytes = 0;
	got = *size;
	st = uefi_call_wrapper(pxe->Mtftp, 10, pxe, EFI_PXE_BASE_CODE_TFTP_READ_FILE,
			       (void *)(UINTN)*base, FALSE, &got, &blksize, &src->server,
			       (UINT8 *)name, NULL, FALSE);
	cb.prog = NULL;
	if (!EFI_ERROR(st) && got != *size) {
		LOG(L"%a: '%a' (%a): got %ld bytes, the server announced %ld", what, path, url, got,
		    *size);
		st = EFI_LOAD_ERROR;
	} else if (EFI_ERROR(st)) {
		say_failure(src, what, path, url, "read", st);
		if (src->callback_installed)
			LOG(L"%a: the transfer stopped after %ld of %ld bytes", what, prog.done, *size);
	}
	if (EFI_ERROR(st)) {
		pages_free(*base);
		return st;
	}
	progress_update(&prog, got); /* the 100% line when no callbacks came */
	file_zero_tail(*base, *size);
	return EFI_SUCCESS;
}
