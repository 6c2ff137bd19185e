/* report: charts as standalone SVG documents (lines or stacked areas over time, bars over
 * categories), with axes, ticks at round values and a legend. */
#include "report/report.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MARGIN_L 72
#define MARGIN_R 190
#define MARGIN_T 44
#define MARGIN_B 56
#define LEGEND_CHARS 26 /* characters of a series name shown in the legend */
#define LABEL_CHARS 14  /* characters of a category label under a bar */

static const char *const palette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b",
				      "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#aec7e8",
				      "#ffbb78", "#98df8a", "#c5b0d5", "#c49c94"};
static const char accent[] = "#d62728";

struct frame {
	double x0, x1, y0, y1; /* plot area in pixels */
	double vmin, vmax;     /* value range */
	int64_t tmin, tmax;
};

/* Values from this magnitude on (and infinities, NaN) are formatted by snprintf. */
#define TENTHS_FAST_MAX 1e15

/* a (finite, 0 <= a < TENTHS_FAST_MAX) in tenths, rounded as printf rounds: half to even. */
static uint64_t tenths_of(double a)
{
	/* a = m * 2^-sh exactly, m a 53-bit integer; under 1e15 < 2^50, sh > 3. Then a in tenths
	 * is 10m / 2^sh, with 10m < 2^57: its integer part and the remainder decide the rounding
	 * exactly. */
	int e;
	double fr = frexp(a, &e);
	uint64_t m = (uint64_t)ldexp(fr, 53);
	int sh = 53 - e;
	if (!m || sh >= 58)
		return 0; /* under a twentieth: 10m < 2^57 <= 2^(sh - 1) */
	uint64_t p = m * 10, half = (uint64_t)1 << (sh - 1);
	uint64_t rem = p & ((half << 1) - 1), t = p >> sh;
	if (rem > half || (rem == half && (t & 1)))
		t++;
	return t;
}

int report_fmt_tenths(char *out, size_t n, double v)
{
	if (!isfinite(v) || fabs(v) >= TENTHS_FAST_MAX)
		return snprintf(out, n, "%.1f", v);
	uint64_t tenths = tenths_of(fabs(v));
	char tmp[24], *w = tmp + sizeof(tmp);
	*--w = (char)('0' + tenths % 10);
	*--w = '.';
	uint64_t ip = tenths / 10;
	do {
		*--w = (char)('0' + ip % 10);
		ip /= 10;
	} while (ip);
	if (signbit(v))
		*--w = '-';
	size_t len = (size_t)(tmp + sizeof(tmp) - w);
	if (n) {
		size_t k = len < n - 1 ? len : n - 1;
		memcpy(out, w, k);
		out[k] = '\0';
	}
	return (int)len;
}

/* Appends sep (if not NUL), then "X,Y" as "%.1f,%.1f" would. */
#define TENTHS_LEN 24 /* a formatted value under TENTHS_FAST_MAX, with its NUL */
static void put_xy(struct buf *o, char sep, double x, double y)
{
	char s[2 * TENTHS_LEN + 2];
	size_t k = 0;
	if (sep)
		s[k++] = sep;
	int a = report_fmt_tenths(s + k, TENTHS_LEN, x);
	if (a > 0 && a < TENTHS_LEN) {
		k += (size_t)a;
		s[k++] = ',';
		int b = report_fmt_tenths(s + k, TENTHS_LEN, y);
		if (b > 0 && b < TENTHS_LEN) {
			buf_append(o, s, k + (size_t)b);
			return;
		}
	}
	if (sep)
		buf_append(o, &sep, 1);
	buf_printf(o, "%.1f,%.1f", x, y);
}

static double ypix(const struct frame *f, double v)
{
	return f->y1 - (v - f->vmin) / (f->vmax - f->vmin) * (f->y1 - f->y0);
}

static double xpix_time(const struct frame *f, int64_t t)
{
	if (f->tmax == f->tmin)
		return (f->x0 + f->x1) / 2;
	return f->x0 + (double)(t - f->tmin) / (double)(f->tmax - f->tmin) * (f->x1 - f->x0);
}

/* A round step (1, 2, 2.5 or 5 times a power of ten) giving about `ticks` ticks. */
static double nice_step(double range, int ticks)
{
	double raw = range / ticks;
	double p = pow(10, floor(log10(raw)));
	double m = raw / p;
	double s = m <= 1 ? 1 : m <= 2 ? 2 : m <= 2.5 ? 2.5 : m <= 5 ? 5 : 10;
	return s * p;
}

static void fmt_value(char *out, size_t n, double v, bool percent)
{
	if (percent) {
		snprintf(out, n, "%g%%", round(v * 1000) / 10);
		return;
	}
	double a = fabs(v);
	if (a >= 1e9)
		snprintf(out, n, "%gG", round(v / 1e7) / 100);
	else if (a >= 1e6)
		snprintf(out, n, "%gM", round(v / 1e4) / 100);
	else if (a >= 1e4)
		snprintf(out, n, "%gk", round(v / 10) / 100);
	else
		snprintf(out, n, "%g", round(v * 100) / 100);
}

static void text(struct buf *o, double x, double y, const char *anchor, const char *extra,
		 const char *s, size_t maxchars)
{
	buf_printf(o, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\"%s>", x, y, anchor,
		   extra ? extra : "");
	size_t n = strlen(s), chars = 0, i = 0;
	for (; i < n; i++) {
		if (((unsigned char)s[i] & 0xc0) != 0x80 && ++chars > maxchars)
			break;
	}
	report_escape_xml(o, s, i);
	if (i < n)
		buf_append_str(o, "\xe2\x80\xa6"); /* an ellipsis */
	buf_append_str(o, "</text>\n");
}

static const char *colour(const struct report_chart *c, size_t i)
{
	if (c->series[i].highlight)
		return accent;
	return palette[i % LIB_ARRAY_LEN(palette)];
}

static void y_axis(struct buf *o, const struct frame *f, const struct report_chart *c)
{
	double step = nice_step(f->vmax - f->vmin, 5);
	for (double v = ceil(f->vmin / step) * step; v <= f->vmax + step * 1e-9; v += step) {
		double y = ypix(f, v);
		buf_printf(
			o,
			"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"grid\"/>\n",
			f->x0, y, f->x1, y);
		char lab[32];
		fmt_value(lab, sizeof(lab), v, c->percent);
		text(o, f->x0 - 6, y + 4, "end", NULL, lab, 12);
	}
	if (c->y_label) {
		char extra[96];
		double cy = (f->y0 + f->y1) / 2;
		snprintf(extra, sizeof(extra), " transform=\"rotate(-90 16 %.1f)\"", cy);
		text(o, 16, cy, "middle", extra, c->y_label, 40);
	}
	buf_printf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"axis\"/>\n",
		   f->x0, f->y1, f->x1, f->y1);
	buf_printf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"axis\"/>\n",
		   f->x0, f->y0, f->x0, f->y1);
}

/* Time ticks at a round step (UTC), at most about 8. */
static void x_axis_time(struct buf *o, const struct frame *f)
{
	static const int64_t steps[] = {1,           5,           10,
					30,          60,          300,
					900,         1800,        3600,
					3 * 3600,    6 * 3600,    12 * 3600,
					86400,       2 * 86400,   7 * 86400,
					14 * 86400,  30 * 86400,  91 * 86400,
					182 * 86400, 365 * 86400, 5 * 365 * 86400ll};
	int64_t range = f->tmax - f->tmin;
	int64_t step = steps[LIB_ARRAY_LEN(steps) - 1];
	for (size_t i = 0; i < LIB_ARRAY_LEN(steps); i++)
		if (range / steps[i] <= 8) {
			step = steps[i];
			break;
		}
	int style = step >= 30 * 86400 ? 0
		    : step >= 86400    ? 1
		    : range >= 86400   ? 2
		    : step >= 60       ? 3
				       : 4;
	int64_t first =
		f->tmin % step == 0 ? f->tmin : f->tmin - ((f->tmin % step) + step) % step + step;
	for (int64_t t = first; t <= f->tmax && step > 0; t += step) {
		double x = xpix_time(f, t);
		buf_printf(
			o,
			"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"axis\"/>\n",
			x, f->y1, x, f->y1 + 5);
		time_t tt = (time_t)t;
		struct tm tm;
		char lab[32] = "";
		if (gmtime_r(&tt, &tm)) {
			switch (style) {
			case 0: strftime(lab, sizeof(lab), "%Y-%m", &tm); break;
			case 1: strftime(lab, sizeof(lab), "%Y-%m-%d", &tm); break;
			case 2: strftime(lab, sizeof(lab), "%m-%d %H:%M", &tm); break;
			case 3: strftime(lab, sizeof(lab), "%H:%M", &tm); break;
			default: strftime(lab, sizeof(lab), "%H:%M:%S", &tm); break;
			}
		}
		text(o, x, f->y1 + 20, "middle", NULL, lab, 16);
	}
	if (f->tmax == f->tmin) {
		time_t tt = (time_t)f->tmin;
		struct tm tm;
		char lab[40] = "";
		if (gmtime_r(&tt, &tm))
			strftime(lab, sizeof(lab), "%Y-%m-%d %H:%M:%S", &tm);
		text(o, (f->x0 + f->x1) / 2, f->y1 + 20, "middle", NULL, lab, 24);
	}
	text(o, (f->x0 + f->x1) / 2, f->y1 + 42, "middle", " class=\"small\"", "time (UTC)", 20);
}

static void legend(struct buf *o, const struct report_chart *c, size_t ns, double x, double y0,
		   int height)
{
	double y = y0;
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < ns; i++) {
			if (c->series[i].highlight != (pass == 0))
				continue;
			buf_printf(o,
				   "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" "
				   "fill=\"%s\"/>\n",
				   x, y - 10, colour(c, i));
			text(o, x + 18, y, "start",
			     c->series[i].highlight ? " font-weight=\"bold\"" : NULL,
			     c->series[i].name ? c->series[i].name : "", LEGEND_CHARS);
			y += 18;
			if (y > height - 10)
				return;
		}
}

static bool finite_or_zero(double v, double *out)
{
	*out = isfinite(v) ? v : 0;
	return isfinite(v);
}

/* A line's points in one pixel column: the first, lowest, highest and last (indices). */
struct column {
	long x; /* the column: the whole pixels of the points' x */
	size_t first, lo, hi, last;
	double ylo, yhi;
};

/* Appends the column's points in time order, each once (idx is sorted: lo and hi lie between
 * first and last). */
static void put_column(struct buf *o, const struct column *k, const double *xs, const double *ys,
		       size_t *run)
{
	size_t idx[4] = {k->first, k->lo < k->hi ? k->lo : k->hi, k->lo < k->hi ? k->hi : k->lo,
			 k->last};
	for (int j = 0; j < 4; j++) {
		if (j && idx[j] == idx[j - 1])
			continue;
		put_xy(o, (*run)++ ? ' ' : 0, xs[idx[j]], ys[idx[j]]);
	}
}

/* One polyline per run of finite values of series se; xs, ys: scratch of np pixels. */
static void draw_line(struct buf *o, const struct report_chart *c, const struct frame *f,
		      const struct report_series *se, size_t np, const char *col, double width,
		      double *xs, double *ys)
{
	size_t i = 0;
	while (i < np) {
		if (!isfinite(se->values[i])) {
			i++;
			continue;
		}
		buf_printf(o,
			   "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"%.1f\" points=\"",
			   col, width);
		size_t run = 0;
		struct column k = {0};
		bool have = false;
		for (; i < np && isfinite(se->values[i]); i++) {
			xs[i] = xpix_time(f, c->times[i]);
			ys[i] = ypix(f, se->values[i]);
			if (c->every_point) {
				put_xy(o, run++ ? ' ' : 0, xs[i], ys[i]);
				continue;
			}
			/* The pixel of x as written (rounded to a tenth). */
			long x = xs[i] >= 0 && xs[i] < TENTHS_FAST_MAX
					 ? (long)(tenths_of(xs[i]) / 10)
					 : (long)floor(xs[i]);
			if (have && x == k.x) {
				k.last = i;
				if (ys[i] < k.ylo) {
					k.ylo = ys[i];
					k.lo = i;
				}
				if (ys[i] > k.yhi) {
					k.yhi = ys[i];
					k.hi = i;
				}
				continue;
			}
			if (have)
				put_column(o, &k, xs, ys, &run);
			k = (struct column){.x = x,
					    .first = i,
					    .lo = i,
					    .hi = i,
					    .last = i,
					    .ylo = ys[i],
					    .yhi = ys[i]};
			have = true;
		}
		if (have)
			put_column(o, &k, xs, ys, &run);
		buf_append_str(o, "\"/>\n");
	}
}

static void draw_lines(struct buf *o, const struct report_chart *c, const struct frame *f,
		       size_t ns, size_t np)
{
	double *xs = xcalloc(np, sizeof(double)), *ys = xcalloc(np, sizeof(double));
	/* Highlighted series last, so they are drawn on top. */
	for (int pass = 0; pass < 2; pass++)
		for (size_t s = 0; s < ns; s++) {
			const struct report_series *se = &c->series[s];
			if (se->highlight != (pass == 1))
				continue;
			const char *col = colour(c, s);
			double width = se->highlight ? 3 : 1.5;
			draw_line(o, c, f, se, np, col, width, xs, ys);
			/* Points, so that single values show. */
			if (np <= 60)
				for (size_t i = 0; i < np; i++)
					if (isfinite(se->values[i]))
						buf_printf(o,
							   "<circle cx=\"%.1f\" cy=\"%.1f\" "
							   "r=\"%.1f\" fill=\"%s\"/>\n",
							   xpix_time(f, c->times[i]),
							   ypix(f, se->values[i]), width + 0.5,
							   col);
		}
	free(xs);
	free(ys);
}

static void draw_stacked(struct buf *o, const struct report_chart *c, const struct frame *f,
			 size_t ns, size_t np, double *below, double *above)
{
	for (size_t i = 0; i < np; i++)
		below[i] = 0;
	for (size_t s = 0; s < ns; s++) {
		for (size_t i = 0; i < np; i++) {
			double v;
			finite_or_zero(c->series[s].values[i], &v);
			above[i] = below[i] + (v > 0 ? v : 0);
		}
		buf_printf(o,
			   "<polygon fill=\"%s\" fill-opacity=\"0.85\" stroke=\"%s\" "
			   "stroke-width=\"%.1f\" points=\"",
			   colour(c, s), colour(c, s), c->series[s].highlight ? 2.0 : 0.5);
		for (size_t i = 0; i < np; i++)
			put_xy(o, i ? ' ' : 0, xpix_time(f, c->times[i]), ypix(f, above[i]));
		for (size_t i = np; i-- > 0;)
			put_xy(o, ' ', xpix_time(f, c->times[i]), ypix(f, below[i]));
		buf_append_str(o, "\"/>\n");
		memcpy(below, above, np * sizeof(double));
	}
}

static void draw_bars(struct buf *o, const struct report_chart *c, const struct frame *f, size_t ns,
		      size_t np)
{
	double group = (f->x1 - f->x0) / (double)np;
	double bw = group * 0.8 / (double)ns;
	for (size_t i = 0; i < np; i++) {
		double gx = f->x0 + group * (double)i + group * 0.1;
		for (size_t s = 0; s < ns; s++) {
			double v;
			finite_or_zero(c->series[s].values[i], &v);
			double y = ypix(f, v > f->vmin ? v : f->vmin),
			       y0 = ypix(f, 0 > f->vmin ? 0 : f->vmin);
			buf_printf(o,
				   "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
				   "fill=\"%s\"/>\n",
				   gx + bw * (double)s, y < y0 ? y : y0, bw > 1 ? bw - 1 : bw,
				   fabs(y0 - y), colour(c, s));
		}
		if (c->categories && c->categories[i] && np <= 40)
			text(o, gx + group * 0.4, f->y1 + 16, "middle", " class=\"small\"",
			     c->categories[i], LABEL_CHARS);
	}
}

int report_chart_svg(const struct report_chart *c, struct buf *out)
{
	size_t np = c->npoints < REPORT_MAX_POINTS ? c->npoints : REPORT_MAX_POINTS;
	size_t ns = c->nseries < REPORT_MAX_SERIES ? c->nseries : REPORT_MAX_SERIES;
	if (!np || (c->kind != REPORT_BARS && !c->times))
		return -EINVAL;
	for (size_t i = 1; c->kind != REPORT_BARS && i < np; i++)
		if (c->times[i] <= c->times[i - 1])
			return -EINVAL;
	struct report_chart cc = *c;
	cc.width = c->width > 200 ? c->width : 880;
	cc.height = c->height > 150 ? c->height : 420;
	struct frame f = {.x0 = MARGIN_L,
			  .x1 = cc.width - MARGIN_R,
			  .y0 = MARGIN_T,
			  .y1 = cc.height - MARGIN_B};
	/* Value range. */
	double vmin = 0, vmax = 0;
	for (size_t i = 0; i < np; i++) {
		double sum = 0;
		for (size_t s = 0; s < ns; s++) {
			double v;
			if (!finite_or_zero(c->series[s].values[i], &v))
				continue;
			if (c->kind == REPORT_STACKED) {
				sum += v > 0 ? v : 0;
				continue;
			}
			if (v > vmax)
				vmax = v;
			if (v < vmin)
				vmin = v;
		}
		if (sum > vmax)
			vmax = sum;
	}
	if (vmax <= vmin)
		vmax = vmin + (c->percent ? 0.01 : 1);
	double step = nice_step(vmax - vmin, 5);
	f.vmax = ceil(vmax / step) * step;
	f.vmin = floor(vmin / step) * step;
	if (c->kind != REPORT_BARS) {
		f.tmin = c->times[0];
		f.tmax = c->times[np - 1];
	}
	buf_printf(out,
		   "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		   "viewBox=\"0 0 %d %d\" "
		   "font-family=\"sans-serif\" font-size=\"12\">\n",
		   cc.width, cc.height, cc.width, cc.height);
	buf_append_str(out, "<title>");
	report_escape_xml(out, c->title ? c->title : "chart",
			  strlen(c->title ? c->title : "chart"));
	buf_append_str(out, "</"
			    "title>\n<style>.grid{stroke:#e0e0e0;stroke-width:1}.axis{stroke:#444;"
			    "stroke-width:1}"
			    ".small{font-size:10px}</style>\n");
	buf_printf(out, "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", cc.width,
		   cc.height);
	if (c->title)
		text(out, cc.width / 2.0, 24, "middle", " font-size=\"15\" font-weight=\"bold\"",
		     c->title, 90);
	y_axis(out, &f, c);
	switch (c->kind) {
	case REPORT_LINES:
		x_axis_time(out, &f);
		draw_lines(out, c, &f, ns, np);
		break;
	case REPORT_STACKED: {
		x_axis_time(out, &f);
		double *below = xcalloc(np, sizeof(double)), *above = xcalloc(np, sizeof(double));
		draw_stacked(out, c, &f, ns, np, below, above);
		free(below);
		free(above);
		break;
	}
	case REPORT_BARS: draw_bars(out, c, &f, ns, np); break;
	}
	legend(out, c, ns, f.x1 + 16, f.y0 + 10, cc.height);
	return buf_append_str(out, "</svg>\n");
}
