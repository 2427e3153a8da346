#!/usr/bin/env bash
# check_format.sh: every C, C++ and CUDA source of the project is as clang-format (the repository's
# .clang-format) writes it. Prints each file that differs, then 'N passed, N failed'.
# Usage: check_format.sh SOURCE_DIR
set -uo pipefail
SRC=${1:?usage: check_format.sh SOURCE_DIR}
CF=$(command -v clang-format-14 || command -v clang-format || true)
if [ -z "$CF" ]; then
  echo "SKIP: clang-format is not installed (Debian package clang-format)"
  exit 77
fi
echo "format: $("$CF" --version)"
passed=0 failed=0
while IFS= read -r -d '' f; do
  if "$CF" --style=file --dry-run --Werror "$f" >/dev/null 2>&1; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL $f differs from clang-format's output (run: clang-format -i $f)"
  fi
done < <(find "$SRC"/core "$SRC"/kernels "$SRC"/backend "$SRC"/pipeline "$SRC"/weights_tools "$SRC"/bench \
              "$SRC"/tests "$SRC"/include "$SRC"/examples -type f \
              \( -name '*.c' -o -name '*.h' -o -name '*.cu' -o -name '*.cpp' \) -print0 | sort -z)
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
