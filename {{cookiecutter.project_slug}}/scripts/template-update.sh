#!/usr/bin/env bash
# Update this service from its template, safely. `make template-update` runs it.
#
#   bash scripts/template-update.sh [REF] [copier update options...]
#   make template-update REF=v0.4.0 COPIER_ARGS="--data main_package=./cmd/NAME"
#
# 1. refuses unless the tree is a git repository with nothing uncommitted;
# 2. runs `copier update` (the newest release, or REF), keeping your answers;
# 3. if copier fails or the run is interrupted (Ctrl-C, SIGTERM), puts the tree back
#    exactly as it was: a half-written update never looks like a finished one;
# 4. reports every conflict copier left inline (`git diff --check`);
# 5. without conflicts, runs the service's verification (scripts/verify.sh);
# 6. prints the next step. Nothing is committed: review `git diff`, then commit.
# The template owns this file.
set -u

say() { printf 'template-update: %s\n' "$*"; }
die() { say "$*" >&2; exit 1; }

cd "$(dirname "$0")/.." || exit 1
REF=${1:-}
[ $# -gt 0 ] && shift

command -v copier >/dev/null 2>&1 ||
    die "copier not found: pipx install copier && pipx inject copier copier-template-extensions"
git rev-parse --verify -q HEAD >/dev/null ||
    die "copier updates only a git repository with a commit: git init && git add -A && git commit -m 'Generated'"
[ -z "$(git status --porcelain)" ] ||
    die "the tree has uncommitted changes: commit or stash them, then update (nothing was changed)"
START=$(git rev-parse HEAD)
CHILD=""

# Back to the commit we started from: tracked files as they were, and every file the
# update created removed. Ignored files (bin/, .env) are never touched.
restore() {
    git reset -q --hard "$START" && git clean -q -f -d
}

interrupted() {
    trap '' INT TERM
    if [ -n "$CHILD" ]; then kill "$CHILD" 2>/dev/null; wait "$CHILD" 2>/dev/null; fi
    restore
    say "interrupted: the tree is back at $(git rev-parse --short "$START"), exactly as it was"
    exit 130
}
trap interrupted INT TERM

say "updating from the template${REF:+ to $REF} (was at $(git rev-parse --short "$START"))"
copier update --trust --defaults --conflict inline ${REF:+--vcs-ref "$REF"} "$@" </dev/null &
CHILD=$!
if ! wait "$CHILD"; then
    CHILD=""
    restore
    die "copier update failed (above): the tree is back as it was, nothing changed"
fi
CHILD=""
trap - INT TERM

if [ -z "$(git status --porcelain)" ]; then
    say "already up to date: nothing changed"
    exit 0
fi
# Files git reports unmerged, and any file (new ones too) holding a conflict marker.
conflicts=$({ git diff --name-only --diff-filter=U; git grep --untracked -l -e '^<<<<<<< ' 2>/dev/null; } | sort -u)
if [ -n "$conflicts" ]; then
    say "conflicts, left inline where both the template and your team changed the same lines:"
    printf '%s\n' "$conflicts" | sed 's/^/  /'
    say "next: resolve each (keep what you mean), then: make verify && git add -A && git commit"
    say "or drop the whole update: git reset --hard && git clean -fd"
    exit 1
fi
git status --short
if ! bash scripts/verify.sh; then
    say "the updated service does not verify (above). Fix it, or drop the update: git reset --hard && git clean -fd"
    exit 1
fi
say "updated and verified. Next: review \`git diff\`, then git add -A && git commit -m 'Template update'"
