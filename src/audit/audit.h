/* audit: `mitsu audit`, a device maker's or owner's check of their own devices with the
 * grabbers of src/ident: what identification sees, Telnet and SSH reachable, the default
 * credentials IoT bots try (from the project's device profiles) accepted on Telnet or on the
 * web login (Basic, Digest, form), and UPnP port forwards an IGD exposes
 * (GetGenericPortMappingEntry), and devices the WebUI's exploit signatures work on (by CVE:
 * fingerprints/vulnerable.ini, vuln.c). Each finding has a severity, its evidence and the seed's
 * advice in one line; the exit status is 1 when a high finding exists, so it fits CI.
 *
 * Public addresses are refused unless --i-own-this; private, loopback and reserved ones are
 * the usual case (a LAN, a lab). Every connection goes through the ident engine, so the rate
 * caps of [ident] hold. */
#ifndef MITSU_AUDIT_H
#define MITSU_AUDIT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/core.h"
#include "ident/ident.h"

#define AUDIT_MAX_FINDINGS 64 /* findings kept per host */
#define AUDIT_MAX_CREDS 1000  /* credentials collected from the profiles */
#define AUDIT_MAX_MAPPINGS 64 /* port mappings listed in one finding's evidence */
#define AUDIT_MAX_VULNS 256   /* sections of fingerprints/vulnerable.ini */

enum audit_severity { AUDIT_INFO, AUDIT_LOW, AUDIT_MEDIUM, AUDIT_HIGH };
const char *audit_severity_name(enum audit_severity s);

/* The kinds of finding, with their severity and the seed's advice (audit.c's table). */
#define AUDIT_FINDINGS(X) \
	X(IDENTIFIED, "identified", INFO) \
	X(TELNET_OPEN, "telnet-reachable", MEDIUM) \
	X(TELNET_DEFAULT, "telnet-default-credentials", HIGH) \
	X(SSH_OPEN, "ssh-reachable", LOW) \
	X(WEBUI_OPEN, "webui-reachable", LOW) \
	X(WEB_DEFAULT, "web-default-credentials", HIGH) \
	X(UPNP_OPEN, "upnp-reachable", LOW) \
	X(UPNP_FORWARDS, "upnp-port-forwards", HIGH) \
	X(SILENT_PORT, "port-held-silent", MEDIUM) \
	X(KNOWN_VULN, "known-vulnerable", HIGH)
#define AUDIT_FINDING_ENUM(id, name, sev) AUDIT_F_##id,
enum audit_finding_kind { AUDIT_FINDINGS(AUDIT_FINDING_ENUM) AUDIT_F__COUNT };
#undef AUDIT_FINDING_ENUM

struct audit_finding {
	enum audit_finding_kind kind;
	enum audit_severity severity;
	char cve[64]; /* known-vulnerable: the signature's CVE(s) */
	char evidence[512];
};

/* A credential a bot tries. */
struct audit_cred {
	char *user, *pass;
};
/* Collects the credentials of every profile of a folder, round-robin across profiles so the
 * first few cover every device (duplicates and "*" wildcards dropped), at most `max`. */
int audit_creds_from_profiles(const char *dir, size_t max, struct audit_cred **out, size_t *n,
			      char *err, size_t errlen);
void audit_creds_free(struct audit_cred *c, size_t n);

/* Known-vulnerable devices (vuln.c): the sections of FILE (fingerprints/vulnerable.ini), with
 * the CVE and description of the exploit signatures of RULES_DIR they name. Refuses a section
 * whose signature is missing or has no CVE, and a GET that a signature would label. */
struct audit_vulns;
int audit_vulns_load(struct audit_vulns **out, const char *file, const char *rules_dir, char *err,
		     size_t errlen);
void audit_vulns_free(struct audit_vulns *vs);
size_t audit_vulns_count(const struct audit_vulns *vs);

/* The advice line and the title of a finding kind. */
const char *audit_advice(enum audit_finding_kind k);
const char *audit_finding_name(enum audit_finding_kind k);

/* `mitsu audit`. */
extern const struct core_command audit_command;

#endif
