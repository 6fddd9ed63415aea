/* The machine information of docs/daemon.md §10, read once at start-up. */
#ifndef CTRD_SUPERVISOR_MACHINE_H
#define CTRD_SUPERVISOR_MACHINE_H

#include <stdint.h>

/* cpus: the cpuN lines of /proc/stat; memory_mib: MemTotal in MiB. 0 for
 * what cannot be read. */
void machine_info_read (uint32_t *cpus, uint64_t *memory_mib);

#endif
