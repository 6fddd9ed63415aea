/* Parsing one HTTP/1.1 request head for httpd.c (the rules are in
 * httpd.h). Everything points into the head; nothing is allocated. */
#ifndef CTRD_SUPERVISOR_HTTPD_REQUEST_H
#define CTRD_SUPERVISOR_HTTPD_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

struct http_request
{
  const char *method, *target, *path; /* path: of the target, without the query */
  size_t method_len, target_len, path_len;
  int minor; /* HTTP/1.<minor> */
  unsigned n_host;
  bool has_body; /* Content-Length > 0 or Transfer-Encoding */
  bool conn_close, conn_keep_alive;
  long long content_length; /* -1 when absent */
};

/* head: head_len bytes from the request line to the empty line (CRLF CRLF
 * included; no bare LF or NUL, the caller checked). Returns 0, or the
 * status to answer: 400 (malformed, no or two Hosts with HTTP/1.1,
 * conflicting Content-Length) or 505 (a version other than 1.0/1.1). */
int http_request_parse (struct http_request *r, const char *head, size_t head_len);

#endif
