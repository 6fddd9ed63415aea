/* The machine information State reports (docs/daemon.md §10). */
#include <stdio.h>
#include <string.h>

#include "lib/util.h"
#include "supervisor/machine.h"

static uint32_t
count_cpus (void)
{
  uint32_t n = 0;
  char line[4096];
  cleanup_file FILE *f = fopen ("/proc/stat", "re");
  while (f && fgets (line, sizeof line, f))
    if (strncmp (line, "cpu", 3) == 0 && line[3] != ' ' && line[3] != '\0')
      n++;
  return n;
}

static uint64_t
memory_total_mib (void)
{
  uint64_t mib = 0;
  unsigned long long kb;
  char line[4096];
  cleanup_file FILE *f = fopen ("/proc/meminfo", "re");
  while (f && fgets (line, sizeof line, f))
    if (sscanf (line, "MemTotal: %llu kB", &kb) == 1)
      mib = kb / 1024;
  return mib;
}

void
machine_info_read (uint32_t *cpus, uint64_t *memory_mib)
{
  *cpus = count_cpus ();
  *memory_mib = memory_total_mib ();
}
