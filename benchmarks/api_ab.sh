#!/usr/bin/env bash
# A/B of the API hot path: benchmarks/api.py against another commit (default main) and
# this work tree, alternating, twice, so both see the same machine.
#     benchmarks/api_ab.sh [REF] [--db sqlite|postgres]
# The other commit is checked out in a temporary worktree and measured with this tree's
# benchmarks/api.py; the venv is this tree's.
set -euo pipefail
cd "$(dirname "$0")/.."
ref=${1:-main}
shift || true
here=$PWD
other=$(mktemp -d /tmp/vibesweb-ab-XXXXXX)
git worktree add --detach "$other" "$ref" >/dev/null
trap 'git worktree remove --force "$other"' EXIT
for round in 1 2; do
  for side in "$ref" HEAD; do
    dir=$here
    [ "$side" = HEAD ] || dir=$other
    cp "$here/benchmarks/api.py" "$dir/benchmarks/api_ab.py"
    echo "=== $side, round $round"
    (cd "$dir" && "$here/.venv/bin/python" benchmarks/api_ab.py --rounds 3 --seconds 4 "$@" 2>&1 \
      | grep -E '^\[|^api benchmark|^load average')
    rm -f "$dir/benchmarks/api_ab.py"
  done
done
