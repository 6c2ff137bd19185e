/* The one options table. It drives the config file, --set, `mitsu help run`, the man page
 * (docs/mitsu.1) and the test that keeps them in agreement. Add an option by adding a line.
 *
 * X(ID, section, key, type, default, min, max, help)
 *   type: STR, INT, BOOL, SIZE (bytes, K/M/G suffixes), LIST (comma-separated; repeated lines
 *   and repeated command-line flags append), SECS (seconds, integer). */
#ifndef MITSU_CORE_OPTIONS_H
#define MITSU_CORE_OPTIONS_H

#define CORE_OPTIONS(X) \
	X(CORE_DATA_DIR, "core", "data_dir", STR, "./var", 0, 0, \
	  "Folder for mitsu.db, events.jsonl, samples/ and box/ (also --data-dir).") \
	X(CORE_LOG_LEVEL, "core", "log_level", STR, "info", 0, 0, \
	  "Diagnostic log level on stderr: debug, info, warn or error.") \
	X(CORE_USER, "core", "user", STR, "", 0, 0, \
	  "If set and started as root, drop to this user after binding the listeners.") \
	X(CORE_LOOP_STATS, "core", "loop_stats", INT, "0", 0, 60000, \
	  "For benchmarks: loop turns whose work takes at least this many milliseconds (CPU or " \
	  "wall time) are counted with what they did, and logged when the sensor stops; 0 is " \
	  "off.") \
	X(SENSOR_NAME, "sensor", "name", STR, "mitsu", 0, 0, \
	  "Sensor name, written into every event's sensor field.") \
	X(SENSOR_LISTEN, "sensor", "listen", LIST, "telnet@127.0.0.1:2323", 0, 0, \
	  "Listeners as PROTO@ADDR:PORT[/PROFILE]; --listen replaces the list from the config " \
	  "file.") \
	X(SENSOR_PROFILE, "sensor", "profile", STR, "dvr-hi3520d", 0, 0, \
	  "Device profile for listeners that name none (see mitsu profiles).") \
	X(SENSOR_PROFILES_DIR, "sensor", "profiles_dir", STR, "", 0, 0, \
	  "Folder of device profiles; empty means the profiles shipped with mitsu.") \
	X(LIMITS_MAX_SESSIONS, "limits", "max_sessions", INT, "20000", 1, 1000000, \
	  "Open sessions in total; a new connection beyond it is closed at once.") \
	X(LIMITS_MAX_PER_SOURCE, "limits", "max_sessions_per_source", INT, "64", 1, 1000000, \
	  "Open sessions from one source address.") \
	X(LIMITS_EVICT_IDLE, "limits", "evict_idle", SECS, "0", 0, 86400, \
	  "With max_sessions open, a new connection evicts the session that made no progress (a " \
	  "complete line) for longest, if that is at least this many seconds; else it is " \
	  "refused.") \
	X(LIMITS_IDLE_TIMEOUT, "limits", "idle_timeout", SECS, "180", 1, 86400, \
	  "Seconds without input before a session is closed.") \
	X(LIMITS_SESSION_TIMEOUT, "limits", "session_timeout", SECS, "900", 1, 86400, \
	  "Seconds a session may last in all.") \
	X(LIMITS_MAX_INPUT, "limits", "max_input_bytes", SIZE, "4M", 1024, 1073741824, \
	  "Bytes a peer may send in one session; beyond it the session is closed.") \
	X(LIMITS_MAX_LINE, "limits", "max_line", SIZE, "16K", 256, 16777216, \
	  "Longest input line; a longer one closes the session.") \
	X(LIMITS_MAX_OUTPUT_QUEUE, "limits", "max_output_queue", SIZE, "4M", 4096, 1073741824, \
	  "Bytes queued to a peer that does not read; beyond it the session is closed.") \
	X(LIMITS_MAX_OUTPUT_TOTAL, "limits", "max_output_total", SIZE, "256M", 65536, 17179869184, \
	  "Bytes queued to all peers together; a session that would pass it is closed.") \
	X(LIMITS_VFS_BYTES, "limits", "vfs_bytes", SIZE, "32M", 4096, 1073741824, \
	  "Bytes of files an attacker may create in one session's virtual filesystem.") \
	X(LIMITS_VFS_FILES, "limits", "vfs_files", INT, "1024", 16, 1000000, \
	  "Files and folders an attacker may create in one session.") \
	X(LIMITS_VFS_TOTAL, "limits", "vfs_total", SIZE, "1G", 65536, 1099511627776, \
	  "Bytes of attacker files in all sessions together; beyond it the session holding the " \
	  "most is closed (file_budget).") \
	X(LIMITS_SHELL_MEMORY_TOTAL, "limits", "shell_memory_total", SIZE, "512M", 65536, \
	  1099511627776, \
	  "Bytes of shell variables, functions and arguments, and of HTTP request, body and " \
	  "reply buffers and uploads not yet stored, in all sessions together; beyond it the " \
	  "session holding the most is closed (memory_budget).") \
	X(LIMITS_SHELL_COMMANDS, "limits", "shell_commands", INT, "20000", 100, 10000000, \
	  "Simple commands one session may run (scripts included).") \
	X(LIMITS_SCRIPT_DEPTH, "limits", "script_depth", INT, "8", 1, 64, \
	  "How deeply shell scripts may run other scripts (sh x.sh inside x.sh...).") \
	X(TELNET_ACCEPT_ANY_AFTER, "telnet", "accept_any_after", INT, "0", 0, 1000, \
	  "Accept any credentials after this many failed logins in a session (0: never).") \
	X(TELNET_LOGIN_TRIES, "telnet", "login_tries", INT, "3", 1, 1000, \
	  "Failed logins before the session is closed (BusyBox login allows 3).") \
	X(TELNET_FAIL_DELAY, "telnet", "fail_delay_ms", INT, "3000", 0, 60000, \
	  "Milliseconds before 'Login incorrect' is printed, as BusyBox login pauses.") \
	X(HTTP_PROFILE, "http", "profile", STR, "ipcam-a", 0, 0, \
	  "Web profile for http listeners that name none (see mitsu profiles).") \
	X(HTTP_RULES, "http", "rules", STR, "", 0, 0, \
	  "Folder of exploit signatures (*.rules); empty means the shipped rules/exploits.") \
	X(HTTP_MAX_LINE, "http", "max_line", SIZE, "8K", 256, 1048576, \
	  "Longest request line or header line; a longer one is answered 414 or 431 and closed.") \
	X(HTTP_MAX_HEADERS, "http", "max_headers", INT, "64", 4, 10000, \
	  "Header lines in one request; more are answered 431 and the connection closed.") \
	X(HTTP_MAX_HEAD, "http", "max_head", SIZE, "32K", 1024, 16777216, \
	  "Bytes of the request line and headers together; more are answered 431.") \
	X(HTTP_MAX_BODY, "http", "max_body", SIZE, "4M", 0, 1073741824, \
	  "Bytes of one request body (a firmware upload); more are answered 413.") \
	X(HTTP_REQUEST_TIMEOUT, "http", "request_timeout", SECS, "10", 1, 3600, \
	  "Seconds from the first byte of a request to its end; a slower peer (slowloris) " \
	  "is answered 408 and closed.") \
	X(HTTP_KEEPALIVE_TIMEOUT, "http", "keepalive_timeout", SECS, "15", 1, 3600, \
	  "Seconds a kept-alive connection may wait for its next request.") \
	X(HTTP_MAX_REQUESTS, "http", "max_requests", INT, "1000", 1, 100000000, \
	  "Requests served on one connection before it is closed.") \
	X(HTTP_MAX_PEERS, "http", "max_peers", INT, "10000", 1, 10000000, \
	  "Source addresses whose view of a device (changed settings, Digest nonce, form " \
	  "session) is kept; the least recently seen is forgotten first.") \
	X(HTTP_NONCE_TIMEOUT, "http", "nonce_timeout", SECS, "300", 1, 86400, \
	  "Seconds a Digest nonce stays valid; an older one is answered stale.") \
	X(SINKS_SQLITE, "sinks", "sqlite", BOOL, "true", 0, 0, \
	  "Store events in DATA/mitsu.db (WAL, one transaction per loop turn).") \
	X(SINKS_JSONL, "sinks", "jsonl", BOOL, "true", 0, 0, \
	  "Append events to DATA/events.jsonl.") \
	X(SINKS_POSTGRES, "sinks", "postgres", STR, "", 0, 0, \
	  "libpq connection string of the fleet store (empty: off), e.g. host=db dbname=mitsu " \
	  "user=mitsu.") \
	X(SINKS_POSTGRES_QUEUE, "sinks", "postgres_queue", INT, "100000", 100, 10000000, \
	  "Events held in memory for PostgreSQL; beyond it (or while it is away) they go to " \
	  "DATA/spool.") \
	X(CAPTURE_FETCH, "capture", "fetch", BOOL, "true", 0, 0, \
	  "Fetch the files attackers download; false records the URL only.") \
	X(CAPTURE_ALLOW_PRIVATE, "capture", "allow_private", BOOL, "false", 0, 0, \
	  "Allow downloads from loopback, private, CGNAT, link-local and reserved addresses.") \
	X(CAPTURE_MAX_SIZE, "capture", "max_size", SIZE, "16M", 1024, 1073741824, \
	  "Largest download kept; a larger one is cut at this size.") \
	X(CAPTURE_TIMEOUT, "capture", "timeout", SECS, "60", 1, 3600, \
	  "Seconds a download may take in all.") \
	X(CAPTURE_CONNECT_TIMEOUT, "capture", "connect_timeout", SECS, "10", 1, 600, \
	  "Seconds to wait for a download server to accept the connection.") \
	X(CAPTURE_MAX_CONCURRENT, "capture", "max_concurrent", INT, "64", 1, 10000, \
	  "Downloads running at once across the sensor; more wait in a queue.") \
	X(CAPTURE_RATE_LIMIT, "capture", "rate_limit", INT, "30", 0, 100000, \
	  "Downloads per destination host per rate_window (0: no limit).") \
	X(CAPTURE_RATE_WINDOW, "capture", "rate_window", SECS, "60", 1, 86400, \
	  "Window of the per-destination rate limit, in seconds.") \
	X(CAPTURE_MIN_UPLOAD, "capture", "min_upload", SIZE, "1", 1, 1073741824, \
	  "Smallest attacker-written file stored as a sample.") \
	X(BOX_AUTO, "box", "auto", BOOL, "true", 0, 0, \
	  "Analyse every new sample in the sandbox as soon as it is stored.") \
	X(BOX_WINDOW, "box", "window", SECS, "30", 1, 3600, \
	  "Seconds a sample runs in the sandbox.") \
	X(BOX_PARALLEL, "box", "parallel", INT, "4", 1, 64, \
	  "Sandbox runs at once (samples mostly wait on the network: 2 per core is a good " \
	  "start).") \
	X(BOX_QUEUE, "box", "queue", INT, "10000", 1, 1000000, \
	  "Samples waiting for the sandbox; a new one beyond it is not analysed (and logged).") \
	X(BOX_MEMORY, "box", "memory", SIZE, "256M", 16777216, 17179869184, \
	  "Memory limit of one sandbox run (cgroup; see docs/box.md when cgroups are " \
	  "unavailable).") \
	X(BOX_CPU, "box", "cpu", INT, "100", 5, 6400, \
	  "CPU one sandbox run may use, in percent of one core (cgroup).") \
	X(BOX_CAPTURE_BYTES, "box", "capture_bytes", SIZE, "16M", 65536, 1073741824, \
	  "Bytes of packets kept from one sandbox run (capture.pcap); counting goes on past it.") \
	X(BOX_RULES, "box", "rules", STR, "", 0, 0, \
	  "Folder of YARA rules (*.yar); empty means the rules shipped with mitsu (rules/yara).") \
	X(SCOPE_INTERVAL, "scope", "interval", SECS, "1h", 1, 3153600000, \
	  "Length of one interval of mitsu scope's statistics: 300, 5m, 1h, 1d.") \
	X(SCOPE_DARKNET, "scope", "darknet", LIST, "", 0, 0, \
	  "The dark address space as CIDRs; other destinations are counted apart. Empty: every " \
	  "destination is dark.") \
	X(SCOPE_FILTER, "scope", "filter", STR, "", 0, 0, \
	  "BPF filter (tcpdump syntax) applied to every packet read; empty: none.") \
	X(SCOPE_DURATION, "scope", "duration", SECS, "0", 0, 3153600000, \
	  "With --live: stop after this long (0: on SIGINT or SIGTERM).") \
	X(SCOPE_THREADS, "scope", "threads", INT, "1", 1, 32, \
	  "Analysis threads for capture files (a live capture uses one).") \
	X(SCOPE_GEO, "scope", "geo", LIST, "", 0, 0, \
	  "MaxMind-format databases (country and/or ASN) used instead of libloc; at most 8.") \
	X(SCOPE_LOCATION_DB, "scope", "location_db", STR, "/var/lib/location/database.db", 0, 0, \
	  "libloc database for countries and AS numbers (Debian's libloc-database).") \
	X(SCOPE_GEO_CACHE, "scope", "geo_cache", STR, "", 0, 0, \
	  "Folder caching the flat libloc table; empty: ~/.cache/mitsu; none: no cache.") \
	X(SCOPE_COUNTRIES, "scope", "countries", BOOL, "true", 0, 0, \
	  "Look up countries and AS numbers (false: none).") \
	X(SCOPE_P0F, "scope", "p0f", STR, "/etc/p0f/p0f.fp", 0, 0, \
	  "p0f v3 signatures for OS families; empty: OS family from the initial TTL only.") \
	X(SCOPE_TOP, "scope", "top", INT, "20", 1, 1000000, \
	  "Rows per table, and scanners and attacks listed.") \
	X(SCOPE_INTERVAL_PORTS, "scope", "interval_ports", INT, "100", 1, 196864, \
	  "Ports kept per interval (the rest are folded into one row).") \
	X(SCOPE_INTERVAL_ASNS, "scope", "interval_asns", INT, "50", 1, 1000000, \
	  "AS rows kept per interval.") \
	X(SCOPE_SCAN_DESTS, "scope", "scan_dests", INT, "100", 1, 1073741824, \
	  "A scanner: one source hitting at least this many dark addresses on one port in one " \
	  "interval.") \
	X(SCOPE_DOS_PACKETS, "scope", "dos_packets", INT, "25", 1, 1073741824, \
	  "Backscatter: an attack has at least this many packets (Corsaro's threshold).") \
	X(SCOPE_DOS_SECONDS, "scope", "dos_seconds", INT, "60", 0, 1073741824, \
	  "Backscatter: an attack lasts at least this many seconds.") \
	X(SCOPE_DOS_PPM, "scope", "dos_ppm", INT, "30", 0, 1073741824, \
	  "Backscatter: an attack peaks at least at this many packets per minute.") \
	X(SCOPE_DOS_TIMEOUT, "scope", "dos_timeout", INT, "300", 1, 1073741824, \
	  "Backscatter: a victim silent this many seconds ends its attack.") \
	X(SCOPE_MAX_SOURCES, "scope", "max_sources", INT, "4000000", 1, 4294967296, \
	  "Table bound: distinct sources (beyond it counts become lower bounds; docs/scope.md).") \
	X(SCOPE_MAX_PAIRS, "scope", "max_pairs", INT, "8000000", 1, 17179869184, \
	  "Table bound: distinct (source, port) pairs.") \
	X(SCOPE_MAX_SCAN, "scope", "max_scan", INT, "16000000", 1, 17179869184, \
	  "Table bound: (source, port, dark address) triples of the scanner count.") \
	X(SCOPE_MAX_DESTS, "scope", "max_dests", INT, "4000000", 1, 4294967296, \
	  "Table bound: distinct dark addresses hit.") \
	X(SCOPE_MAX_VICTIMS, "scope", "max_victims", INT, "1000000", 1, 4294967296, \
	  "Table bound: backscatter victims followed at once.") \
	X(SCOPE_MAX_SCANNERS, "scope", "max_scanners", INT, "1000000", 1, 4294967296, \
	  "Table bound: scanners listed over a run.") \
	X(IDENT_AUTO, "ident", "auto", BOOL, "false", 0, 0, \
	  "mitsu run: probe each attacking source's own services back once (connects out to " \
	  "other hosts: see docs/ident.md).") \
	X(IDENT_AUTO_DELAY, "ident", "auto_delay", SECS, "5", 0, 86400, \
	  "mitsu run: seconds after a source's first connection before it is probed (soon, " \
	  "before its address changes hands).") \
	X(IDENT_AUTO_REPROBE, "ident", "auto_reprobe", SECS, "1d", 60, 31536000, \
	  "mitsu run: a source already probed is probed again only after this long.") \
	X(IDENT_AUTO_QUEUE, "ident", "auto_queue", INT, "10000", 1, 10000000, \
	  "mitsu run: sources waiting to be probed; beyond it new ones are skipped (logged).") \
	X(IDENT_ALLOW_PRIVATE, "ident", "allow_private", BOOL, "false", 0, 0, \
	  "Probe loopback, private, CGNAT, link-local and reserved addresses too (tests, a " \
	  "LAN audit).") \
	X(IDENT_RATE, "ident", "rate", INT, "100", 1, 1000000, \
	  "New connections per second, all hosts together.") \
	X(IDENT_HOST_RATE, "ident", "host_rate", INT, "10", 1, 100000, \
	  "New connections per second to one host.") \
	X(IDENT_MAX_HOSTS, "ident", "max_hosts", INT, "256", 1, 100000, \
	  "Hosts probed at once; more wait in a queue.") \
	X(IDENT_MAX_CONNS, "ident", "max_conns", INT, "1024", 1, 100000, \
	  "Connections open at once, all hosts together.") \
	X(IDENT_HOST_CONNS, "ident", "host_conns", INT, "4", 1, 64, \
	  "Connections open at once to one host.") \
	X(IDENT_CONNECT_TIMEOUT, "ident", "connect_timeout_ms", INT, "3000", 10, 600000, \
	  "Milliseconds to wait for a connection to be accepted.") \
	X(IDENT_READ_TIMEOUT, "ident", "read_timeout_ms", INT, "3000", 10, 600000, \
	  "Milliseconds without a byte before a probe stops waiting (a socket that accepts " \
	  "and says nothing is 'silent').") \
	X(IDENT_HOST_TIMEOUT, "ident", "host_timeout", SECS, "30", 1, 3600, \
	  "Time cap for all probes of one host.") \
	X(IDENT_MAX_TIME, "ident", "max_time", SECS, "0", 0, 604800, \
	  "mitsu ident and mitsu audit: time cap of the whole run (0: none).") \
	X(IDENT_MAX_READ, "ident", "max_read", SIZE, "64K", 512, 16777216, \
	  "Bytes read from one connection; a peer that sends more is cut off (truncated).") \
	X(IDENT_MIN_CONFIDENCE, "ident", "min_confidence", INT, "50", 1, 100, \
	  "A host counts as identified when its category's confidence reaches this percentage.") \
	X(IDENT_FINGERPRINTS, "ident", "fingerprints", LIST, "", 0, 0, \
	  "Folders of Recog-format XML fingerprints loaded after the shipped ones (Recog's own " \
	  "xml/ folder works).") \
	X(IDENT_TELNET_PORTS, "ident", "telnet_ports", LIST, "23,2323", 0, 0, \
	  "Ports of the Telnet probe (empty: none).") \
	X(IDENT_HTTP_PORTS, "ident", "http_ports", LIST, "80,8080,81,8000", 0, 0, \
	  "Ports of the HTTP probe.") \
	X(IDENT_HTTPS_PORTS, "ident", "https_ports", LIST, "443,8443", 0, 0, \
	  "Ports of the HTTPS probe.") \
	X(IDENT_RTSP_PORTS, "ident", "rtsp_ports", LIST, "554", 0, 0, \
	  "Ports of the RTSP probe (OPTIONS, DESCRIBE).") \
	X(IDENT_FTP_PORTS, "ident", "ftp_ports", LIST, "21", 0, 0, \
	  "Ports of the FTP probe (banner).") \
	X(IDENT_SSH_PORTS, "ident", "ssh_ports", LIST, "22", 0, 0, \
	  "Ports of the SSH probe (version line).") \
	X(IDENT_UPNP_PORTS, "ident", "upnp_ports", LIST, "1900", 0, 0, \
	  "UDP ports of the SSDP M-SEARCH; the description is fetched from the LOCATION the " \
	  "host gives, only on that same host.") \
	X(IDENT_HTTP_PATHS, "ident", "http_paths", LIST, "/favicon.ico", 0, 0, \
	  "Paths fetched after / on each HTTP(S) port (the favicon's MD5 is a field).") \
	X(AUDIT_MAX_LOGINS, "audit", "max_logins", INT, "10", 0, 1000, \
	  "Default credentials tried per login service (0: none).") \
	X(AUDIT_PORTMAP_ENTRIES, "audit", "portmap_entries", INT, "64", 1, 65536, \
	  "UPnP port mappings read from an IGD (GetGenericPortMappingEntry).") \
	X(AUDIT_VULN_PORTS, "audit", "vuln_ports", LIST, "37215,52869,7547", 0, 0, \
	  "HTTP ports of IoT services with known exploits (Huawei HG532 UPnP, Realtek miniigd, " \
	  "TR-064) the audit probes besides ident.http_ports.") \
	X(WEB_LISTEN, "web", "listen", STR, "127.0.0.1:8088", 0, 0, \
	  "Dashboard address; empty disables it. Off loopback it requires web.token.") \
	X(WEB_TOKEN, "web", "token", STR, "", 0, 0, \
	  "Bearer token the dashboard requires (mandatory off loopback).") \
	X(WEB_REFRESH, "web", "refresh", SECS, "5", 1, 3600, \
	  "Seconds between a dashboard page's refreshes (with JavaScript on; the overview's " \
	  "event stream polls twice as often).")

#endif
