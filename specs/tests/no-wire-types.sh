#!/bin/sh
# specs/ knows no wire type (the API layer translates requests into
# struct spec_exec): no source of specs/ includes api/ or protobuf-c, or
# names a generated protobuf type. TAP.
dir=$(cd "$(dirname "$0")/.." && pwd)
echo 1..1
hits=$(grep -nE '#include *["<](api/|protobuf-c/)|Types__|TYPES__|ProtobufC' \
  "$dir"/*.c "$dir"/*.h "$dir"/tests/*.c 2>/dev/null)
if [ -z "$hits" ]; then
  echo "ok 1 - specs/ includes no api/ or protobuf-c header and names no wire type"
else
  echo "not ok 1 - specs/ uses wire types"
  echo "$hits" | sed 's/^/# /'
  exit 1
fi
