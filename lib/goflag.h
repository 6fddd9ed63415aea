/* Command-line flags with the syntax of Go's `flag` package as used by
 * urfave/cli (docs/daemon.md §1, docs/ctr.md §1), which clients of containerd 0.2 rely on:
 *   -name and --name are the same flag; values as --name=value or --name value;
 *   booleans only as --b or --b=<bool> (1 0 t f T F true false TRUE FALSE True False);
 *   parsing stops at the first non-flag argument ("-" alone is one) or after "--";
 *   integers take Go's base prefixes (0x, 0o, 0b, leading 0 = octal).
 * Error texts are Go's, with the name as the user typed it and one dash:
 *   flag provided but not defined: -x
 *   flag needs an argument: -x
 *   invalid value "v" for flag -x: parse error
 *   invalid boolean value "v" for -x: parse error
 *   bad flag syntax: ---x
 * The same table drives goflag_print_usage(), so --help cannot drift from
 * what the parser accepts. libc only. */
#ifndef CTRD_GOFLAG_H
#define CTRD_GOFLAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "lib/error.h"

/* goflag_parse() result for -h / --help / -help. */
#define GOFLAG_HELP (-2)

enum goflag_type
{
  GOFLAG_BOOL,     /* dest: bool * */
  GOFLAG_STRING,   /* dest: char ** — NULL or malloc'd; the old value is freed */
  GOFLAG_STRINGS,  /* dest: char *** — NULL-terminated strv; each use appends */
  GOFLAG_INT,      /* dest: long long * (Go int: 64 bits here) */
  GOFLAG_UINT64,   /* dest: unsigned long long * */
  GOFLAG_DURATION, /* dest: int64_t * nanoseconds (Go time.ParseDuration) */
};

struct goflag
{
  const char *name;  /* long name without dashes, "listen" */
  const char *alias; /* other name or NULL, "l" */
  enum goflag_type type;
  void *dest;               /* see goflag_type; NULL for "help": parse returns GOFLAG_HELP */
  const char *usage;        /* one line for --help */
  const char *default_text; /* shown as "(default: <text>)" or NULL; e.g. "\"runc\"", "30s" */
  bool set;                 /* filled by goflag_parse: the flag was given */
};

/* Parse argv[start..argc). Returns the index of the first positional
 * argument (argc when none), GOFLAG_HELP when -h/--help was given (and the
 * table has no other meaning for it), or -1 with *err set (status 0). Flags
 * seen before an error have already been stored. */
int goflag_parse (struct goflag *flags, size_t n, int argc, char **argv, int start,
                  struct ctrd_error **err);

/* One line per flag, urfave/cli style, aligned:
 *    --listen value, -l value  address to listen on (default: "unix:///…")
 * Indented by three spaces; the caller prints headings. */
void goflag_print_usage (FILE *out, const struct goflag *flags, size_t n);

/* Free the string and string-list destinations of the table (and NULL them). */
void goflag_free_values (struct goflag *flags, size_t n);

/* Go strconv.ParseBool / ParseInt(s, 0, 64) / ParseUint(s, 0, 64).
 * Return 0, or -1 with errno EINVAL (syntax) or ERANGE (out of range). */
int goflag_parse_bool (const char *s, bool *out);
int goflag_parse_int (const char *s, long long *out);
int goflag_parse_uint (const char *s, unsigned long long *out);

#endif
