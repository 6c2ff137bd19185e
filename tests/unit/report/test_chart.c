/* Unit tests of src/report/chart.c's speed-ups: report_fmt_tenths against snprintf("%.1f")
 * over millions of doubles (random bit patterns, values next to the rounding edges, exact ties,
 * negatives, zeros, large and non-finite values, short buffers), and a long line drawn with at
 * most 4 points per pixel column that keeps each column's first, lowest, highest and last
 * point (every_point: all of them). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static unsigned long checked;

static void same(double v)
{
	char a[400], b[400];
	int na = report_fmt_tenths(a, sizeof(a), v), nb = snprintf(b, sizeof(b), "%.1f", v);
	if (na != nb || strcmp(a, b) != 0)
		fail_msg("%.17g (%a): \"%s\" (%d), snprintf \"%s\" (%d)", v, v, a, na, b, nb);
	checked++;
}

static void test_fmt_tenths(void **state)
{
	(void)state;
	static const double fixed[] = {0.0,
				       -0.0,
				       0.05,
				       -0.05,
				       0.25,
				       0.35,
				       0.45,
				       0.75,
				       -0.25,
				       -0.75,
				       1.25,
				       2.5,
				       9.95,
				       99.95,
				       999.95,
				       0.04999,
				       1e-300,
				       -1e-300,
				       5e-324,
				       0.95,
				       1e15,
				       -1e15,
				       999999999999999.9,
				       1e16,
				       1.5e300,
				       -1.5e300,
				       INFINITY,
				       -INFINITY,
				       NAN,
				       0.1,
				       0.2,
				       0.3,
				       1234.5,
				       880.0};
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		same(fixed[i]);
		same(nextafter(fixed[i], INFINITY));
		same(nextafter(fixed[i], -INFINITY));
	}
	/* Every multiple of a twentieth up to 2^18 (the ties and near ties of tenths), and the
	 * doubles next to it, both signs. */
	for (int64_t k = 0; k < (1 << 18); k++) {
		double v = (double)k / 20;
		same(v);
		same(-v);
		same(nextafter(v, INFINITY));
		same(nextafter(v, 0));
	}
	/* Exact binary ties (k + 0.25, k + 0.75) of large magnitudes. */
	for (int e = 0; e < 50; e++)
		for (int j = 0; j < 200; j++) {
			double k = ldexp(1.0, e) + j;
			same(k + 0.25);
			same(k + 0.75);
			same(-(k + 0.25));
		}
	/* Random bit patterns (every magnitude), and random values of chart coordinates. */
	for (int i = 0; i < 400000; i++) {
		uint64_t bits = next();
		double v;
		memcpy(&v, &bits, sizeof(v));
		same(v);
		same((double)(next() % 20000000) / 10000.0 - 1000.0);
		same(ldexp((double)(int64_t)(next() >> 8), -(int)(next() % 64)));
	}
	/* Short buffers: truncated and terminated as snprintf does, the length it wanted. */
	for (size_t n = 0; n < 8; n++) {
		char a[8] = "xxxxxxx", b[8] = "xxxxxxx";
		int na = report_fmt_tenths(a, n, -123.45), nb = snprintf(b, n, "%.1f", -123.45);
		assert_int_equal(na, nb);
		assert_memory_equal(a, b, sizeof(a));
	}
	assert_true(checked > 2000000);
}

/* The points of each polyline in an SVG as (x, y) pairs; runs: the polyline of each. */
static size_t points(const char *svg, double *xs, double *ys, int *runs, size_t max)
{
	size_t n = 0;
	int run = 0;
	for (const char *p = svg; (p = strstr(p, "points=\"")) != NULL; run++) {
		p += 8;
		while (*p && *p != '"') {
			char *end;
			double x = strtod(p, &end);
			assert_true(*end == ',');
			double y = strtod(end + 1, &end);
			assert_true(n < max);
			xs[n] = x;
			runs[n] = run;
			ys[n++] = y;
			p = *end == ' ' ? end + 1 : end;
		}
	}
	return n;
}

#define NP 20000

static void test_lines_per_column(void **state)
{
	(void)state;
	int64_t *times = calloc(NP, sizeof(*times));
	double *v = calloc(NP, sizeof(double));
	for (size_t i = 0; i < NP; i++) {
		times[i] = 1700000000 + (int64_t)i * 3600;
		v[i] = (double)(next() % 1000) + (i == NP / 3 ? 50000 : 0); /* one spike */
		if (i % 5000 == 4999)
			v[i] = NAN; /* gaps split the line */
	}
	struct report_series s = {.name = "packets", .values = v};
	struct report_chart c = {.kind = REPORT_LINES,
				 .title = "long",
				 .times = times,
				 .npoints = NP,
				 .series = &s,
				 .nseries = 1};
	struct buf few, all;
	buf_init(&few, 0);
	buf_init(&all, 0);
	assert_int_equal(report_chart_svg(&c, &few), 0);
	c.every_point = true;
	assert_int_equal(report_chart_svg(&c, &all), 0);
	double *ax = calloc(NP, sizeof(double)), *ay = calloc(NP, sizeof(double));
	double *fx = calloc(NP, sizeof(double)), *fy = calloc(NP, sizeof(double));
	int *ar = calloc(NP, sizeof(int)), *fr = calloc(NP, sizeof(int));
	size_t na = points((const char *)all.data, ax, ay, ar, NP);
	size_t nf = points((const char *)few.data, fx, fy, fr, NP);
	assert_int_equal(na, NP - NP / 5000);
	/* 880 pixels wide at most: 4 points a column, 4 gaps. */
	assert_true(nf <= 4 * (880 + 4));
	assert_true(nf > 600);
	size_t polylines = 0;
	for (const char *p = (const char *)few.data; (p = strstr(p, "<polyline")); p++)
		polylines++;
	assert_int_equal(polylines, NP / 5000);
	assert_true(few.len * 4 < all.len);
	/* Every column (its pixel as drawn, in one polyline) has the same first, last, lowest
	 * and highest point both ways. */
	size_t j = 0;
	for (size_t i = 0; i < na;) {
		size_t e = i;
		double lo = ay[i], hi = ay[i];
		while (e < na && floor(ax[e]) == floor(ax[i]) && ar[e] == ar[i]) {
			lo = ay[e] < lo ? ay[e] : lo;
			hi = ay[e] > hi ? ay[e] : hi;
			e++;
		}
		assert_true(j < nf);
		assert_true(fx[j] == ax[i] && fy[j] == ay[i] && fr[j] == ar[i]);
		double flo = fy[j], fhi = fy[j];
		size_t k = j;
		while (k < nf && floor(fx[k]) == floor(ax[i]) && fr[k] == fr[j]) {
			flo = fy[k] < flo ? fy[k] : flo;
			fhi = fy[k] > fhi ? fy[k] : fhi;
			k++;
		}
		assert_true(k - j <= 4);
		assert_true(fx[k - 1] == ax[e - 1] && fy[k - 1] == ay[e - 1]);
		assert_true(flo == lo && fhi == hi);
		i = e;
		j = k;
	}
	assert_int_equal(j, nf);
	/* A short line is drawn point by point either way. */
	c.npoints = 100;
	c.every_point = false;
	buf_reset(&few);
	buf_reset(&all);
	assert_int_equal(report_chart_svg(&c, &few), 0);
	c.every_point = true;
	assert_int_equal(report_chart_svg(&c, &all), 0);
	assert_string_equal((const char *)few.data, (const char *)all.data);
	buf_free(&few);
	buf_free(&all);
	free(ax);
	free(ay);
	free(fx);
	free(fy);
	free(ar);
	free(fr);
	free(times);
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fmt_tenths),
		cmocka_unit_test(test_lines_per_column),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
