#include "lib/timeutil.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t
time_now_mono_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

int64_t
time_now_real_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_REALTIME, &ts);
  return (int64_t) ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

void
time_to_timestamp (int64_t unix_ns, int64_t *seconds, int32_t *nanos)
{
  int64_t s = unix_ns / NSEC_PER_SEC;
  int64_t n = unix_ns % NSEC_PER_SEC;
  if (n < 0)
    {
      n += NSEC_PER_SEC;
      s -= 1;
    }
  *seconds = s;
  *nanos = (int32_t) n;
}

int
time_format_rfc3339_nano (int64_t unix_ns, bool utc, char *buf, size_t len)
{
  int64_t sec;
  int32_t nsec;
  time_to_timestamp (unix_ns, &sec, &nsec);
  time_t t = (time_t) sec;
  struct tm tm;
  if (utc)
    gmtime_r (&t, &tm);
  else
    localtime_r (&t, &tm);
  char frac[16] = "";
  if (nsec != 0)
    {
      snprintf (frac, sizeof frac, ".%09d", (int) nsec);
      size_t fl = strlen (frac);
      while (fl > 1 && frac[fl - 1] == '0')
        frac[--fl] = '\0';
    }
  char zone[24];
  long off = utc ? 0 : tm.tm_gmtoff;
  if (off == 0)
    strcpy (zone, "Z");
  else
    {
      long a = off < 0 ? -off : off;
      snprintf (zone, sizeof zone, "%c%02ld:%02ld", off < 0 ? '-' : '+', a / 3600, (a % 3600) / 60);
    }
  int n = snprintf (buf, len, "%04d-%02d-%02dT%02d:%02d:%02d%s%s", tm.tm_year + 1900, tm.tm_mon + 1,
                    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac, zone);
  if (n < 0 || (size_t) n >= len)
    return -1;
  return n;
}

static int
digits (const char **p, int n, int *out)
{
  int v = 0;
  for (int i = 0; i < n; i++)
    {
      if (!isdigit ((unsigned char) (*p)[i]))
        return -1;
      v = v * 10 + ((*p)[i] - '0');
    }
  *p += n;
  *out = v;
  return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static int64_t
days_from_civil (int64_t y, int m, int d)
{
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

int
time_parse_rfc3339 (const char *s, int64_t *sec_out, int32_t *nsec_out)
{
  const char *p = s;
  int Y, M, D, h, m, sec;
  if (digits (&p, 4, &Y) || *p++ != '-' || digits (&p, 2, &M) || *p++ != '-' || digits (&p, 2, &D)
      || (*p != 'T' && *p != 't') || !*p++ || digits (&p, 2, &h) || *p++ != ':'
      || digits (&p, 2, &m) || *p++ != ':' || digits (&p, 2, &sec))
    return -1;
  if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60)
    return -1;
  int64_t ns = 0;
  if (*p == '.')
    {
      p++;
      int nd = 0;
      while (isdigit ((unsigned char) *p))
        {
          if (nd < 9)
            {
              ns = ns * 10 + (*p - '0');
              nd++;
            }
          p++;
        }
      if (nd == 0)
        return -1;
      for (; nd < 9; nd++)
        ns *= 10;
    }
  int64_t off = 0;
  if (*p == 'Z' || *p == 'z')
    p++;
  else if (*p == '+' || *p == '-')
    {
      int sign = *p++ == '-' ? -1 : 1, oh, om;
      if (digits (&p, 2, &oh) || *p++ != ':' || digits (&p, 2, &om) || oh > 23 || om > 59)
        return -1;
      off = sign * (oh * 3600 + om * 60);
    }
  else
    return -1;
  if (*p != '\0')
    return -1;
  int64_t days = days_from_civil (Y, M, D);
  int64_t secs = days * 86400 + h * 3600 + m * 60 + sec - off;
  *sec_out = secs;
  *nsec_out = (int32_t) ns;
  return 0;
}

int
duration_parse (const char *s, int64_t *out)
{
  static const struct
  {
    const char *u;
    double mult;
  } units[] = {
    { "ns", 1 },   { "us", 1e3 }, { "\xc2\xb5s", 1e3 }, { "\xce\xbcs", 1e3 },
    { "ms", 1e6 }, { "s", 1e9 },  { "m", 60e9 },        { "h", 3600e9 },
  };
  if (s == NULL || *s == '\0')
    return -1;
  const char *p = s;
  int sign = 1;
  if (*p == '-' || *p == '+')
    sign = *p++ == '-' ? -1 : 1;
  if (strcmp (p, "0") == 0)
    {
      *out = 0;
      return 0;
    }
  if (*p == '\0')
    return -1;
  double total = 0;
  while (*p)
    {
      if (!isdigit ((unsigned char) *p) && *p != '.')
        return -1;
      char *end;
      double v = strtod (p, &end);
      if (end == p || (*p == '.' && !isdigit ((unsigned char) p[1])))
        return -1;
      p = end;
      size_t best = 0;
      double mult = 0;
      for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        {
          size_t ul = strlen (units[i].u);
          /* longest match: "ms" before "m" */
          if (strncmp (p, units[i].u, ul) == 0 && ul > best)
            {
              best = ul;
              mult = units[i].mult;
            }
        }
      if (best == 0)
        return -1;
      p += best;
      total += v * mult;
      if (total > 9.2e18)
        return -1;
    }
  *out = (int64_t) (total + 0.5) * sign;
  return 0;
}

void
duration_format (int64_t ns, char *buf, size_t len)
{
  if (ns == 0)
    {
      snprintf (buf, len, "0s");
      return;
    }
  const char *neg = ns < 0 ? "-" : "";
  uint64_t u = ns < 0 ? (uint64_t) (-(ns + 1)) + 1 : (uint64_t) ns;
  char frac[16];
  if (u < (uint64_t) NSEC_PER_SEC)
    {
      /* below one second Go uses ns, µs or ms with a fraction */
      const char *unit = "ns";
      uint64_t div = 1;
      if (u >= 1000000)
        unit = "ms", div = 1000000;
      else if (u >= 1000)
        unit = "\xc2\xb5s", div = 1000;
      uint64_t ip = u / div, fp = u % div;
      frac[0] = '\0';
      if (fp)
        {
          int w = div == 1000000 ? 6 : 3;
          snprintf (frac, sizeof frac, ".%0*llu", w, (unsigned long long) fp);
          size_t fl = strlen (frac);
          while (frac[fl - 1] == '0')
            frac[--fl] = '\0';
        }
      snprintf (buf, len, "%s%llu%s%s", neg, (unsigned long long) ip, frac, unit);
      return;
    }
  uint64_t secs = u / NSEC_PER_SEC, fp = u % NSEC_PER_SEC;
  frac[0] = '\0';
  if (fp)
    {
      snprintf (frac, sizeof frac, ".%09llu", (unsigned long long) fp);
      size_t fl = strlen (frac);
      while (frac[fl - 1] == '0')
        frac[--fl] = '\0';
    }
  uint64_t h = secs / 3600, m = (secs % 3600) / 60, s = secs % 60;
  if (h)
    snprintf (buf, len, "%s%lluh%llum%llu%ss", neg, (unsigned long long) h, (unsigned long long) m,
              (unsigned long long) s, frac);
  else if (m)
    snprintf (buf, len, "%s%llum%llu%ss", neg, (unsigned long long) m, (unsigned long long) s,
              frac);
  else
    snprintf (buf, len, "%s%llu%ss", neg, (unsigned long long) s, frac);
}
