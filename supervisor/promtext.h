/* Writing the Prometheus text exposition format, version 0.0.4: metric
 * families (# HELP, # TYPE), samples with labels, and histograms as their
 * cumulative _bucket{le=...}, _sum and _count series. */
#ifndef CTRD_SUPERVISOR_PROMTEXT_H
#define CTRD_SUPERVISOR_PROMTEXT_H

#include <stddef.h>
#include <stdint.h>

#define PROMTEXT_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct promtext
{
  char *buf;
  size_t len, cap;
};

/* "# HELP name help" (help escaped: backslash, newline) and "# TYPE name
 * type" (counter, gauge, histogram, untyped). */
void promtext_family (struct promtext *t, const char *name, const char *type, const char *help);
/* One sample line. labels: NULL, or NULL-terminated name/value pairs
 * {"state", "running", NULL}; values are escaped (backslash, quote,
 * newline). */
void promtext_sample (struct promtext *t, const char *name, const char *const *labels,
                      double value);
/* A histogram's series for one label set: counts[i] observations in
 * (bounds[i-1], bounds[i]] for i < n, counts[n] above bounds[n-1]; sum of
 * the observed values. */
void promtext_histogram (struct promtext *t, const char *name, const char *const *labels,
                         const double *bounds, const uint64_t *counts, size_t n, double sum);
/* The text so far (NUL-terminated, never NULL) and its length; t is empty
 * afterwards. */
char *promtext_take (struct promtext *t, size_t *len);

/* A value as Go's strconv.FormatFloat(v, 'g', -1, 64) would (shortest
 * text that reads back exactly; +Inf, -Inf, NaN). buf ≥ 32 bytes. */
void promtext_format_double (double v, char *buf, size_t len);

#endif
