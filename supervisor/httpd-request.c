/* Request heads of httpd.c, parsed in place (httpd-request.h). */
#include "supervisor/httpd-request.h"

#include <string.h>
#include <strings.h>

/* RFC 9110 tchar */
static bool
is_tchar (unsigned char ch)
{
  return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')
         || (ch && strchr ("!#$%&'*+-.^_`|~", ch));
}

static bool
is_token (const char *s, size_t n)
{
  if (n == 0)
    return false;
  for (size_t i = 0; i < n; i++)
    if (!is_tchar ((unsigned char) s[i]))
      return false;
  return true;
}

/* Does the comma-separated list v (length n) contain token t (any case)? */
static bool
list_has (const char *v, size_t n, const char *t)
{
  size_t tl = strlen (t);
  size_t i = 0;
  while (i < n)
    {
      while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
        i++;
      size_t start = i;
      while (i < n && v[i] != ',')
        i++;
      size_t end = i;
      while (end > start && (v[end - 1] == ' ' || v[end - 1] == '\t'))
        end--;
      if (end - start == tl && strncasecmp (v + start, t, tl) == 0)
        return true;
    }
  return false;
}

/* One header line (without CRLF). 0, or -1 when malformed. */
static int
parse_header (struct http_request *r, const char *l, size_t n)
{
  const char *colon = memchr (l, ':', n);
  if (colon == NULL || !is_token (l, (size_t) (colon - l)))
    return -1; /* also rejects obs-fold and space before the colon */
  size_t name_len = (size_t) (colon - l);
  const char *v = colon + 1;
  size_t vl = n - name_len - 1;
  for (size_t i = 0; i < vl; i++)
    {
      unsigned char ch = (unsigned char) v[i];
      if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
        return -1;
    }
  while (vl && (*v == ' ' || *v == '\t'))
    v++, vl--;
  while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
    vl--;
#define IS(name) (name_len == sizeof name - 1 && strncasecmp (l, name, name_len) == 0)
  if (IS ("host"))
    r->n_host++;
  else if (IS ("transfer-encoding"))
    r->has_body = true;
  else if (IS ("content-length"))
    {
      long long cl = 0;
      if (vl == 0 || vl > 18)
        return -1;
      for (size_t i = 0; i < vl; i++)
        {
          if (v[i] < '0' || v[i] > '9')
            return -1;
          cl = cl * 10 + (v[i] - '0');
        }
      if (r->content_length >= 0 && r->content_length != cl)
        return -1;
      r->content_length = cl;
      r->has_body |= cl > 0;
    }
  else if (IS ("connection"))
    {
      r->conn_close |= list_has (v, vl, "close");
      r->conn_keep_alive |= list_has (v, vl, "keep-alive");
    }
#undef IS
  return 0;
}

/* The request line "METHOD SP target SP HTTP/1.x". Returns 0, 400 or 505. */
static int
parse_request_line (struct http_request *r, const char *l, size_t n)
{
  const char *sp1 = memchr (l, ' ', n);
  if (sp1 == NULL)
    return 400;
  const char *t = sp1 + 1;
  const char *sp2 = memchr (t, ' ', n - (size_t) (t - l));
  if (sp2 == NULL)
    return 400;
  const char *ver = sp2 + 1;
  size_t vl = n - (size_t) (ver - l);
  r->method = l;
  r->method_len = (size_t) (sp1 - l);
  r->target = t;
  r->target_len = (size_t) (sp2 - t);
  if (!is_token (r->method, r->method_len) || r->target_len == 0)
    return 400;
  for (size_t i = 0; i < r->target_len; i++)
    if ((unsigned char) t[i] <= 0x20 || (unsigned char) t[i] >= 0x7f)
      return 400;
  if (vl != 8 || strncmp (ver, "HTTP/", 5) != 0 || ver[6] != '.' || ver[5] < '0' || ver[5] > '9'
      || ver[7] < '0' || ver[7] > '9')
    return 400;
  if (ver[5] != '1' || (ver[7] != '0' && ver[7] != '1'))
    return 505;
  r->minor = ver[7] - '0';
  return 0;
}

/* The path of an origin-form or absolute-form target, without the query. */
static void
target_path (const char *t, size_t n, const char **path, size_t *path_len)
{
  const char *scheme_end = NULL;
  if (n > 7 && strncasecmp (t, "http://", 7) == 0)
    scheme_end = t + 7;
  else if (n > 8 && strncasecmp (t, "https://", 8) == 0)
    scheme_end = t + 8;
  if (scheme_end)
    {
      const char *slash = memchr (scheme_end, '/', n - (size_t) (scheme_end - t));
      if (slash == NULL)
        {
          *path = "/";
          *path_len = 1;
          return;
        }
      n -= (size_t) (slash - t);
      t = slash;
    }
  const char *q = memchr (t, '?', n);
  *path = t;
  *path_len = q ? (size_t) (q - t) : n;
}

int
http_request_parse (struct http_request *r, const char *head, size_t head_len)
{
  memset (r, 0, sizeof *r);
  r->content_length = -1;
  const char *p = head, *end = head + head_len - 2; /* the last CRLF ends the headers */
  const char *eol = memmem (p, (size_t) (end - p), "\r\n", 2);
  int bad = parse_request_line (r, p, (size_t) (eol - p));
  if (bad)
    return bad;
  for (p = eol + 2; p < end; p = eol + 2)
    {
      eol = memmem (p, (size_t) (end - p), "\r\n", 2);
      if (parse_header (r, p, (size_t) (eol - p)) < 0)
        return 400;
    }
  if (r->minor == 1 && r->n_host != 1)
    return 400;
  target_path (r->target, r->target_len, &r->path, &r->path_len);
  return 0;
}
