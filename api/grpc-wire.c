#include "api/grpc-wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

int
grpc_wire_parse_timeout (const char *value, size_t len, int64_t *ns)
{
  /* The spec allows at most 8 digits: the value fits easily in 64 bits
   * before the unit multiplication, which is then checked. */
  if (len < 2 || len > 9)
    return -1;
  uint64_t n = 0;
  for (size_t i = 0; i + 1 < len; i++)
    {
      if (value[i] < '0' || value[i] > '9')
        return -1;
      n = n * 10 + (uint64_t) (value[i] - '0');
    }
  uint64_t mult;
  switch (value[len - 1])
    {
    case 'H':
      mult = 3600ull * 1000000000ull;
      break;
    case 'M':
      mult = 60ull * 1000000000ull;
      break;
    case 'S':
      mult = 1000000000ull;
      break;
    case 'm':
      mult = 1000000ull;
      break;
    case 'u':
      mult = 1000ull;
      break;
    case 'n':
      mult = 1;
      break;
    default:
      return -1;
    }
  if (n > (uint64_t) INT64_MAX / mult)
    *ns = INT64_MAX;
  else
    *ns = (int64_t) (n * mult);
  return 0;
}

static bool
needs_escape (unsigned char c)
{
  return c < 0x20 || c > 0x7e || c == '%';
}

char *
grpc_wire_percent_encode_max (const char *msg, size_t max)
{
  static const char hex[] = "0123456789ABCDEF";
  size_t len = strlen (msg), enc = 0, cut = len;
  for (size_t i = 0; i < len; i++)
    {
      size_t w = needs_escape ((unsigned char) msg[i]) ? 3 : 1;
      if (enc + w > max)
        {
          /* room for "...", and never inside a UTF-8 sequence */
          cut = i;
          while (cut > 0 && enc > max - 3)
            {
              cut--;
              enc -= needs_escape ((unsigned char) msg[cut]) ? 3 : 1;
            }
          while (cut > 0 && ((unsigned char) msg[cut] & 0xc0) == 0x80)
            {
              cut--;
              enc -= needs_escape ((unsigned char) msg[cut]) ? 3 : 1;
            }
          break;
        }
      enc += w;
    }
  char *out = xmalloc (len * 3 + 4);
  char *p = out;
  for (size_t i = 0; i < cut; i++)
    {
      unsigned char c = (unsigned char) msg[i];
      if (!needs_escape (c))
        *p++ = (char) c;
      else
        {
          *p++ = '%';
          *p++ = hex[c >> 4];
          *p++ = hex[c & 15];
        }
    }
  if (cut < len)
    {
      memcpy (p, "...", 3);
      p += 3;
    }
  *p = '\0';
  /* An HTTP/2 header value may not begin or end with a space (RFC 9113
   * §8.2.1; nghttp2 clients drop such a trailer), yet messages such as
   * "containerd: unknown container status " do: encode those spaces. */
  size_t n = (size_t) (p - out);
  bool lead = n > 0 && out[0] == ' ', trail = n > 1 && out[n - 1] == ' ';
  if (lead || trail)
    {
      char *fixed = xmalloc (n + 5);
      size_t o = 0;
      if (lead)
        o += (size_t) sprintf (fixed, "%%20");
      memcpy (fixed + o, out + lead, n - lead - trail);
      o += n - lead - trail;
      if (trail)
        o += (size_t) sprintf (fixed + o, "%%20");
      fixed[o] = '\0';
      free (out);
      out = fixed;
    }
  return out;
}

char *
grpc_wire_percent_encode (const char *msg)
{
  return grpc_wire_percent_encode_max (msg, SIZE_MAX);
}

static int
hex_value (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

char *
grpc_wire_percent_decode (const char *msg)
{
  size_t len = strlen (msg);
  char *out = xmalloc (len + 1);
  char *p = out;
  for (size_t i = 0; i < len; i++)
    {
      int hi, lo;
      if (msg[i] == '%' && i + 2 < len && (hi = hex_value (msg[i + 1])) >= 0
          && (lo = hex_value (msg[i + 2])) >= 0)
        {
          *p++ = (char) (hi * 16 + lo);
          i += 2;
        }
      else
        *p++ = msg[i];
    }
  *p = '\0';
  return out;
}

bool
grpc_wire_content_type_ok (const char *value, size_t len)
{
  static const char base[] = "application/grpc";
  size_t blen = sizeof base - 1;
  if (len < blen || strncasecmp (value, base, blen) != 0)
    return false;
  return len == blen || value[blen] == '+' || value[blen] == ';';
}

/* Read a base-128 varint; returns bytes used or 0 when truncated/too long. */
static size_t
varint_read (const uint8_t *buf, size_t len, uint64_t *v)
{
  uint64_t r = 0;
  for (size_t i = 0; i < len && i < 10; i++)
    {
      r |= (uint64_t) (buf[i] & 0x7f) << (7 * i);
      if (!(buf[i] & 0x80))
        {
          *v = r;
          return i + 1;
        }
    }
  return 0;
}

int
grpc_wire_health_decode (const uint8_t *buf, size_t len, char **service)
{
  char *name = NULL;
  size_t off = 0;
  while (off < len)
    {
      uint64_t key, v;
      size_t n = varint_read (buf + off, len - off, &key);
      if (n == 0 || key >> 3 == 0)
        goto bad;
      off += n;
      switch (key & 7)
        {
        case 0:
          n = varint_read (buf + off, len - off, &v);
          if (n == 0)
            goto bad;
          off += n;
          break;
        case 1:
          if (len - off < 8)
            goto bad;
          off += 8;
          break;
        case 5:
          if (len - off < 4)
            goto bad;
          off += 4;
          break;
        case 2:
          n = varint_read (buf + off, len - off, &v);
          if (n == 0 || v > len - off - n)
            goto bad;
          off += n;
          if (key >> 3 == 1)
            {
              free (name);
              name = xstrndup ((const char *) buf + off, (size_t) v);
              if (strlen (name) != v)
                goto bad; /* NUL inside a string: not valid UTF-8 text we accept */
            }
          off += (size_t) v;
          break;
        default:
          goto bad;
        }
    }
  *service = name ? name : xstrdup ("");
  return 0;
bad:
  free (name);
  return -1;
}

const char *
grpc_wire_nul_string_field (const ProtobufCMessageDescriptor *desc, const uint8_t *buf, size_t len)
{
  size_t off = 0;
  while (off < len)
    {
      uint64_t key, v;
      size_t n = varint_read (buf + off, len - off, &key);
      if (n == 0)
        return NULL;
      off += n;
      switch (key & 7)
        {
        case 0:
          n = varint_read (buf + off, len - off, &v);
          if (n == 0)
            return NULL;
          off += n;
          break;
        case 1:
          if (len - off < 8)
            return NULL;
          off += 8;
          break;
        case 5:
          if (len - off < 4)
            return NULL;
          off += 4;
          break;
        case 2:
          {
            n = varint_read (buf + off, len - off, &v);
            if (n == 0 || v > len - off - n)
              return NULL;
            off += n;
            const uint8_t *p = buf + off;
            off += (size_t) v;
            const ProtobufCFieldDescriptor *f =
                key >> 3 <= UINT32_MAX
                    ? protobuf_c_message_descriptor_get_field (desc, (unsigned) (key >> 3))
                    : NULL;
            if (f == NULL)
              break; /* unknown field: protobuf-c keeps or skips it, never as a string */
            if (f->type == PROTOBUF_C_TYPE_STRING && memchr (p, 0, (size_t) v))
              return f->name;
            if (f->type == PROTOBUF_C_TYPE_MESSAGE)
              {
                const char *inner = grpc_wire_nul_string_field (f->descriptor, p, (size_t) v);
                if (inner)
                  return inner;
              }
            break;
          }
        default:
          return NULL; /* groups (3, 4) and invalid wire types: unpack decides */
        }
    }
  return NULL;
}
