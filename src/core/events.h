/* The one table of event ids. docs/events.md lists the same ids; a unit test keeps them equal.
 * X(ID, "eventid", "what it records") */
#ifndef MITSU_CORE_EVENTS_H
#define MITSU_CORE_EVENTS_H

#define CORE_EVENTS(X) \
	X(SESSION_CONNECT, "mitsu.session.connect", "a peer connected to a listener") \
	X(SESSION_PARAMS, "mitsu.session.params", \
	  "terminal parameters the client sent (window size, terminal type)") \
	X(LOGIN_FAILED, "mitsu.login.failed", "a login attempt was refused") \
	X(LOGIN_SUCCESS, "mitsu.login.success", "a login attempt was accepted") \
	X(COMMAND_INPUT, "mitsu.command.input", "a command line the attacker entered") \
	X(COMMAND_UNKNOWN, "mitsu.command.unknown", "a command the emulated device does not have") \
	X(SESSION_FILE_DOWNLOAD, "mitsu.session.file_download", \
	  "a file the attacker made the device download") \
	X(SESSION_FILE_DOWNLOAD_FAILED, "mitsu.session.file_download.failed", \
	  "a download that did not complete") \
	X(SESSION_FILE_UPLOAD, "mitsu.session.file_upload", \
	  "a file the attacker wrote through the shell") \
	X(SESSION_CLOSED, "mitsu.session.closed", "a session ended") \
	X(HTTP_REQUEST, "mitsu.http.request", "an HTTP request to a web honeypot") \
	X(HTTP_LOGIN, "mitsu.http.login", "a login attempt on a web admin page") \
	X(WEBUI_ACTION, "mitsu.webui.action", "a device-specific action on a web admin page") \
	X(EXPLOIT_MATCH, "mitsu.exploit.match", "a request matched an exploit signature") \
	X(SAMPLE_STORED, "mitsu.sample.stored", "a captured file was stored in the sample store") \
	X(BOX_RESULT, "mitsu.box.result", "the sandbox's verdict on a sample") \
	X(IDENT_RESULT, "mitsu.ident.result", "the device identified behind an address")

#endif
