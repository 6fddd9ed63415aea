#include "lib/gotext.h"

#include <string.h>

#include "lib/util.h"

size_t
gotext_utf8_decode (const unsigned char *s, uint32_t *cp)
{
  if (s[0] < 0x80)
    return *cp = s[0], 1;
  size_t n = (s[0] & 0xe0) == 0xc0 ? 2 : (s[0] & 0xf0) == 0xe0 ? 3 : (s[0] & 0xf8) == 0xf0 ? 4 : 0;
  if (n == 0)
    return 0;
  uint32_t c = s[0] & (0x7f >> n);
  for (size_t i = 1; i < n; i++)
    {
      if ((s[i] & 0xc0) != 0x80)
        return 0; /* also stops at the NUL */
      c = (c << 6) | (s[i] & 0x3f);
    }
  static const uint32_t min[] = { 0, 0, 0x80, 0x800, 0x10000 };
  if (c < min[n] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
    return 0;
  *cp = c;
  return n;
}

/* The two-character escape both Go forms share (\" \\ \n \t \r) into o;
 * 0 for any other character. */
static size_t
short_escape (uint32_t c, char *o)
{
  static const char from[] = "\"\\\n\t\r", to[] = "\"\\ntr";
  const char *hit = c && c < 0x80 ? strchr (from, (int) c) : NULL;
  if (!hit)
    return 0;
  o[0] = '\\';
  o[1] = to[hit - from];
  return 2;
}

/* One byte of strconv.Quote into o (room for 4); returns its length. */
static size_t
quote_byte (unsigned char c, char *o)
{
  static const char hex[] = "0123456789abcdef";
  size_t n = short_escape (c, o);
  if (n)
    return n;
  if (c >= 0x20 && c != 0x7f)
    return o[0] = (char) c, 1;
  o[0] = '\\', o[1] = 'x', o[2] = hex[c >> 4], o[3] = hex[c & 0xf];
  return 4;
}

char *
gotext_quote (const char *s, size_t len)
{
  char *o = xmalloc (len * 4 + 3), *p = o;
  *p++ = '"';
  for (size_t i = 0; i < len; i++)
    p += quote_byte ((unsigned char) s[i], p);
  *p++ = '"';
  *p = '\0';
  return o;
}

void
gotext_quote_write (FILE *out, const char *s)
{
  char buf[4];
  fputc ('"', out);
  for (; *s; s++)
    fwrite (buf, 1, quote_byte ((unsigned char) *s, buf), out);
  fputc ('"', out);
}

/* The JSON form of the character at s into o (room for 6 bytes); *used is
 * set to the input bytes it stands for. Returns the output length. */
static size_t
json_char (const unsigned char *s, size_t *used, char *o)
{
  static const char hex[] = "0123456789abcdef";
  uint32_t cp;
  size_t n = gotext_utf8_decode (s, &cp);
  if (n == 0)
    {
      *used = 1;
      return memcpy (o, "\\ufffd", 6), 6;
    }
  *used = n;
  size_t e = short_escape (cp, o);
  if (e)
    return e;
  if (cp < 0x20 || cp == '<' || cp == '>' || cp == '&' || cp == 0x2028 || cp == 0x2029)
    {
      o[0] = '\\', o[1] = 'u';
      for (int i = 0; i < 4; i++)
        o[2 + i] = hex[(cp >> (12 - 4 * i)) & 0xf];
      return 6;
    }
  memcpy (o, s, n);
  return n;
}

void
gotext_json_write (FILE *out, const char *str)
{
  const unsigned char *s = (const unsigned char *) str;
  char buf[6];
  fputc ('"', out);
  while (*s)
    {
      size_t used;
      fwrite (buf, 1, json_char (s, &used, buf), out);
      s += used;
    }
  fputc ('"', out);
}

size_t
gotext_json_escape (char *buf, size_t cap, size_t len, const char *str)
{
  if (cap == 0)
    return 0;
  const unsigned char *s = (const unsigned char *) str;
  while (*s)
    {
      char tmp[6];
      size_t used, n = json_char (s, &used, tmp);
      if (len + n >= cap)
        break;
      memcpy (buf + len, tmp, n);
      len += n;
      s += used;
    }
  buf[len] = '\0';
  return len;
}
