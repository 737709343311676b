#!/usr/bin/env bash
# Bring an existing Go service under this template, losing none of its lines.
#
#   bash scripts/adopt.sh SERVICE_DIR [copier copy options, e.g. -d project_name="Billing API"]
#
# copier has no `adopt` (copier-org/copier#2486), and `copier copy --overwrite` over an
# existing service replaces its go.mod, Dockerfile and Makefile. Instead:
#   1. the template is rendered into a scratch repository, as a commit of its own
#      (module_path from the service's go.mod, main_package from where its package main
#      is; your -d options win). The template's main.go and main_test.go are left out
#      when the service has a package main: they are yours, and the template's tests
#      would not compile against your code;
#   2. that commit is merged into the service with --allow-unrelated-histories and
#      --no-commit: a file only one side has is added, and every file both sides have
#      becomes a conflict with both versions inline, never an overwrite.
# Then resolve each conflict, run `make verify`, and commit. From then on
# `copier update` works as for a service the template made (docs/adopting.md).
#
# Needs: git, copier (with copier-template-extensions). TEMPLATE (default: the
# template checkout this script is in) and TEMPLATE_REF (default: copier's choice,
# the newest release tag) say what to render.
set -euo pipefail

say() { printf 'adopt: %s\n' "$*"; }
die() { printf 'adopt: %s\n' "$*" >&2; exit 1; }

[ $# -ge 1 ] || die "usage: bash scripts/adopt.sh SERVICE_DIR [copier copy options]"
SERVICE=$(cd "$1" 2>/dev/null && pwd) || die "$1: no such folder"
shift
TEMPLATE=${TEMPLATE:-$(cd "$(dirname "$0")/.." && pwd)}
command -v copier >/dev/null || die "copier not found: pipx install copier && pipx inject copier copier-template-extensions"
git -C "$SERVICE" rev-parse --verify -q HEAD >/dev/null || die "$SERVICE must be a git repository with a commit"
[ -z "$(git -C "$SERVICE" status --porcelain)" ] || die "$SERVICE has uncommitted changes: commit or stash them first (nothing was changed)"
[ ! -e "$SERVICE/.copier-answers.yml" ] || die "$SERVICE already has .copier-answers.yml: use copier update"
[ -f "$SERVICE/go.mod" ] || die "$SERVICE has no go.mod: adoption is for an existing Go module"

# What the service already says about itself.
MODULE=$(awk '$1 == "module" { print $2; exit }' "$SERVICE/go.mod")
NAME=$(basename "$SERVICE")
MAIN_PACKAGE=""
for arg in "$@"; do  # the caller's own answer wins
    case $arg in main_package=*) MAIN_PACKAGE=${arg#main_package=} ;; esac
done
if [ -z "$MAIN_PACKAGE" ]; then
    if grep -qsx 'package main' "$SERVICE"/*.go; then
        MAIN_PACKAGE=.
    else
        mains=$(cd "$SERVICE" && { grep -lsx 'package main' cmd/*/*.go 2>/dev/null || true; } | xargs -r -n1 dirname | sort -u)
        case $(printf '%s\n' "$mains" | grep -c .) in
            0) ;;
            1) MAIN_PACKAGE=./$mains ;;
            *) die "several package mains ($(echo "$mains" | tr '\n' ' ')): pass -d main_package=./cmd/NAME for the service's" ;;
        esac
    fi
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/adopt.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
RENDER=$WORK/render
defaults=(-d "module_path=$MODULE" -d "project_name=$NAME")
[ -n "$MAIN_PACKAGE" ] && defaults+=(-d "main_package=$MAIN_PACKAGE")
say "rendering the template (${TEMPLATE_REF:-newest release}) for $MODULE"
VERIFY=off copier copy --quiet --trust --defaults ${TEMPLATE_REF:+--vcs-ref "$TEMPLATE_REF"} \
    "${defaults[@]}" "$@" "$TEMPLATE" "$RENDER" </dev/null >/dev/null
if [ -n "$MAIN_PACKAGE" ]; then
    # The service's package main stays the only one: the template's are not brought in.
    (cd "$RENDER" && rm -f main.go main_test.go "$MAIN_PACKAGE/main.go" "$MAIN_PACKAGE/main_test.go")
fi
git -C "$RENDER" init -q -b template
git -C "$RENDER" add -A
git -C "$RENDER" -c user.name=adopt -c user.email=adopt@localhost commit -q -m "minimal-go-service template, as adopted"

git -C "$SERVICE" fetch -q "$RENDER" template:refs/adopt/template
status=0
git -C "$SERVICE" merge --allow-unrelated-histories --no-commit --no-ff -q refs/adopt/template \
    -m "Adopt the minimal-go-service template" >/dev/null 2>&1 || status=$?
git -C "$SERVICE" update-ref -d refs/adopt/template
conflicts=$(git -C "$SERVICE" diff --name-only --diff-filter=U)
if [ -n "$conflicts" ]; then
    say "both sides have these files; each is a conflict, both versions inline (nothing overwritten):"
    printf '%s\n' "$conflicts" | sed 's/^/  /'
elif [ "$status" -ne 0 ]; then
    die "git merge failed (exit $status); \`git merge --abort\` puts the service back"
fi
say "added from the template: $(git -C "$SERVICE" diff --cached --name-only --diff-filter=A | tr '\n' ' ')"
say "next: resolve the conflicts (keep your lines, take the template's where you mean to), then"
say "      make verify && git add -A && git commit    (or drop it all: git merge --abort)"
