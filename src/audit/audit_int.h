/* audit: what the files of src/audit share. */
#ifndef MITSU_AUDIT_INT_H
#define MITSU_AUDIT_INT_H

#include "audit/audit.h"

/* Hosts one audit run takes (an owner's network, not the internet). */
#define AUDIT_MAX_HOSTS 65536

struct audit_run {
	struct audit_cred *creds;
	size_t ncreds;
	size_t max_logins; /* min(audit.max_logins, ncreds) */
	int portmap_entries;
	const struct audit_vulns *vulns; /* NULL: no known-vulnerable checks */
	struct ident_engine *engine;
	bool json;
	size_t open_hosts; /* identified, checks still running */
	uint64_t hosts, highs, refused;
	void (*host_done)(struct audit_run *run);
};

struct audit_host {
	struct audit_run *run;
	struct ident_hostctx *hc;
	char addr[46];
	json_t *ident; /* the identification, as mitsu ident gives it */
	struct audit_finding findings[AUDIT_MAX_FINDINGS];
	size_t nfindings;
	int pending; /* active checks running */
};

/* Adds a finding with the kind's severity; NULL when the host has AUDIT_MAX_FINDINGS. */
struct audit_finding *audit_add(struct audit_host *ah, enum audit_finding_kind k, const char *fmt,
				...) LIB_PRINTF(3, 4);
void audit_check_done(struct audit_host *ah);
/* Prints the host's findings and frees it (cmd.c). */
void audit_host_report(struct audit_host *ah);

void audit_telnet_logins(struct audit_host *ah, int port);
void audit_web_logins(struct audit_host *ah, int port, bool tls);
void audit_upnp_mappings(struct audit_host *ah, const struct ident_host *h);
/* The known-vulnerable checks of run->vulns on the host's HTTP(S) ports (vuln.c). */
void audit_vuln_checks(struct audit_host *ah, const struct ident_host *h);

#endif
