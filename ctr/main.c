/* ctr's main(): everything else is in the files tested by ctr/tests. */
#include <stdio.h>

#include "ctr/ctr.h"

int
main (int argc, char **argv)
{
  return ctr_main (argc, argv, stdout, stderr, &ctr_grpc_transport, NULL);
}
