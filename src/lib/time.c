/* Wall-clock formatting and parsing (RFC 3339, UTC) and monotonic clocks. */
#include "lib/lib.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

void lib_rfc3339(const struct timespec *ts, char out[LIB_RFC3339_LEN])
{
	struct tm tm;
	time_t sec = ts->tv_sec;
	gmtime_r(&sec, &tm);
	/* Years stay within 4 digits for any time mitsu will see; clamp so the width is fixed. */
	int year = tm.tm_year + 1900;
	year = year < 0 ? 0 : year > 9999 ? 9999 : year;
	char tmp[96];
	snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", year,
		 (tm.tm_mon + 1) % 100, tm.tm_mday % 100, tm.tm_hour % 100, tm.tm_min % 100,
		 tm.tm_sec % 100, (ts->tv_nsec / 1000) % 1000000);
	lib_strlcpy(out, tmp, LIB_RFC3339_LEN);
}

/* Events are stamped many times a second: format the date and time once per second and
 * only patch the microseconds. */
void lib_rfc3339_now(char out[LIB_RFC3339_LEN])
{
	static __thread time_t cached_sec = -1;
	static __thread char cached[LIB_RFC3339_LEN];
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (ts.tv_sec != cached_sec) {
		lib_rfc3339(&ts, cached);
		cached_sec = ts.tv_sec;
	}
	memcpy(out, cached, LIB_RFC3339_LEN);
	/* "YYYY-MM-DDTHH:MM:SS." is 20 characters; six digits of microseconds follow. */
	long us = ts.tv_nsec / 1000;
	for (int i = 25; i >= 20; i--) {
		out[i] = (char)('0' + us % 10);
		us /= 10;
	}
}

static int digits(const char **p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -EINVAL;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

int lib_parse_time(const char *s, int64_t *usec)
{
	int y, mo, d, h = 0, mi = 0, sec = 0;
	long frac = 0;
	const char *p = s;
	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
	    digits(&p, 2, &d))
		return -EINVAL;
	int offset = 0;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi))
			return -EINVAL;
		if (*p == ':') {
			p++;
			if (digits(&p, 2, &sec))
				return -EINVAL;
		}
		if (*p == '.') {
			p++;
			int nd = 0;
			while (isdigit((unsigned char)*p)) {
				if (nd < 6) {
					frac = frac * 10 + (*p - '0');
					nd++;
				}
				p++;
			}
			while (nd++ < 6)
				frac *= 10;
		}
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			int sign = *p == '-' ? -1 : 1, oh, om;
			p++;
			if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om))
				return -EINVAL;
			offset = sign * (oh * 3600 + om * 60);
		}
	}
	if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -EINVAL;
	struct tm tm = {.tm_year = y - 1900,
			.tm_mon = mo - 1,
			.tm_mday = d,
			.tm_hour = h,
			.tm_min = mi,
			.tm_sec = sec};
	time_t t = timegm(&tm);
	*usec = ((int64_t)t - offset) * 1000000 + frac;
	return 0;
}

int lib_time_normalise(const char *s, char out[LIB_RFC3339_LEN], int64_t *usec)
{
	int64_t us;
	if (lib_parse_time(s, &us))
		return -EINVAL;
	int64_t sec = us / 1000000, frac = us % 1000000;
	if (frac < 0) {
		frac += 1000000;
		sec--;
	}
	struct timespec ts = {.tv_sec = (time_t)sec, .tv_nsec = (long)frac * 1000};
	lib_rfc3339(&ts, out);
	if (usec)
		*usec = us;
	return 0;
}

uint64_t lib_mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t lib_mono_ms(void)
{
	return lib_mono_us() / 1000u;
}

struct lib_loop_work lib_work;

uint64_t lib_thread_cpu_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int64_t lib_real_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
