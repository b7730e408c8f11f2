#!/usr/bin/env bash
# Installs the Debian packages tongban needs and the machine lacks. Groups:
#   gettext  — msgfmt, to compile translations
#   browser  — Debian's chromium, for the Playwright browser tests
#   fonts    — CJK fonts: Noto CJK for pages, LXGW WenKai (TrueType) embedded in PDFs
#   poppler  — pdftoppm, to render a page of a generated PDF to PNG in the layout tests
#   pgclient — pg_dump/pg_restore, for `tongban backup` on PostgreSQL
#   node     — Node.js and npm, to fetch the front-end assets (make assets)
#   cluster  — nginx, Redis and the PostgreSQL server programs, for `tongban cluster` (make cluster,
#              tests/cluster, make bench NAME=cluster_load)
# Without root (or sudo) it says what is missing and carries on; the tests that need a
# missing piece skip with a message instead of failing.
set -u
missing=()
for group in "$@"; do
  case "$group" in
    gettext)  command -v msgfmt >/dev/null || missing+=(gettext) ;;
    browser)  [ -x /usr/bin/chromium ] || missing+=(chromium) ;;
    fonts)    fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || missing+=(fonts-noto-cjk)
              fc-list 2>/dev/null | grep -qi "LXGW WenKai" || missing+=(fonts-lxgw-wenkai) ;;
    poppler)  command -v pdftoppm >/dev/null || missing+=(poppler-utils) ;;
    pgclient) command -v pg_dump >/dev/null || missing+=(postgresql-client) ;;
    node)     command -v npm >/dev/null || missing+=(nodejs npm) ;;
    cluster)  { command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; } || missing+=(nginx-light)
              command -v redis-server >/dev/null || missing+=(redis-server)
              ls /usr/lib/postgresql/*/bin/pg_basebackup >/dev/null 2>&1 || missing+=(postgresql) ;;
  esac
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO="sudo"; else
  echo "system-deps: missing Debian packages: ${missing[*]} (no root to install them)" >&2; exit 0; fi
echo "system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null 2>&1 || true
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 \
  || echo "system-deps: could not install ${missing[*]}" >&2
exit 0
