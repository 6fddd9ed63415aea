/* Text the way Go's standard library writes it, for the outputs whose bytes
 * clients of containerd 0.2 compare: strconv.Quote (the runtime's output in
 * error texts, `ctr containers watch`) and encoding/json strings
 * (events.log, `ctr state`, shim-log.json). One implementation for the
 * daemon, ctr and the shim. libc only. */
#ifndef CTRD_LIB_GOTEXT_H
#define CTRD_LIB_GOTEXT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Decode the UTF-8 sequence at s (NUL-terminated): its length (1–4) with
 * *cp set, or 0 when it is not valid UTF-8 (bad lead or continuation byte,
 * overlong, surrogate, above U+10FFFF). */
size_t gotext_utf8_decode (const unsigned char *s, uint32_t *cp);

/* strconv.Quote of len bytes (NULs included) as Go prints it for ASCII and
 * UTF-8 text: `"` and `\` escaped, \n \t \r, other control bytes and DEL as
 * \xNN, everything else as is. Caller frees. */
char *gotext_quote (const char *s, size_t len);
/* The same for a NUL-terminated string, written to out. */
void gotext_quote_write (FILE *out, const char *s);

/* A JSON string as encoding/json writes it, quotes included: `"` `\` \n \r
 * \t escaped, other control characters and the HTML-sensitive < > & as
 * \u00XX, U+2028 and U+2029 as \u2028 \u2029, invalid UTF-8 as \ufffd (one
 * per bad byte). */
void gotext_json_write (FILE *out, const char *s);
/* The same escaping without the quotes, appended at buf+len for a buffer
 * of cap bytes (no allocation: the shim's log path). Stops before an
 * escape that would not fit, so the result is never cut inside an escape
 * or a UTF-8 sequence; always NUL-terminated; returns the new length. */
size_t gotext_json_escape (char *buf, size_t cap, size_t len, const char *s);

#endif
