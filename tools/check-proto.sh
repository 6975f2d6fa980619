#!/usr/bin/env bash
# Contract checks for proto/: style (buf lint), formatting, and wire/source
# compatibility (buf breaking) against the last released contract, whose
# commit is pinned in proto/BASELINE. Moving the baseline is a deliberate,
# reviewed act: it is how a breaking change is accepted.
set -euo pipefail
cd "$(dirname "$0")/.."
buf=node_modules/.bin/buf
$buf lint proto
$buf format proto --diff --exit-code
baseline=$(grep -v '^#' proto/BASELINE | tr -d '[:space:]' || true)
if [[ -z $baseline ]]; then
  echo "proto/BASELINE names no commit yet: nothing to compare against"
elif git cat-file -e "$baseline^{commit}" 2>/dev/null; then
  $buf breaking proto --against ".git#ref=$baseline,subdir=proto"
  echo "proto/ is compatible with $baseline"
else
  echo "warning: baseline commit $baseline is not in this clone (shallow?); buf breaking skipped" >&2
fi
