#!/bin/sh
# A layer that knows no wire type (the API layer translates requests into
# struct spec_exec / struct container_create, and struct container_stats into
# the reply): no source of the directory ($1, default specs/) includes api/ or
# protobuf-c, or names a generated protobuf type. TAP.
dir=${1:-$(cd "$(dirname "$0")/.." && pwd)}
name=$(basename "$dir")
echo 1..1
hits=$(grep -nE '#include *["<](api/|protobuf-c/)|Types__|TYPES__|ProtobufC|protobuf_c_' \
  "$dir"/*.c "$dir"/*.h "$dir"/tests/*.c "$dir"/tests/*.h 2>/dev/null)
if [ -z "$hits" ]; then
  echo "ok 1 - $name/ includes no api/ or protobuf-c header and names no wire type"
else
  echo "not ok 1 - $name/ uses wire types"
  echo "$hits" | sed 's/^/# /'
  exit 1
fi
