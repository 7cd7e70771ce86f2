#!/usr/bin/env bash
# The browser tests drive Debian's chromium package (never a downloaded browser) and its
# screenshots need a CJK font. Install both where we can (as root), else stop with the command.
set -euo pipefail

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
fc-list :lang=zh 2>/dev/null | grep -q . || missing+=(fonts-wqy-microhei)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian's ${missing[*]} for the browser tests"
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        "${missing[@]}" >/dev/null
    exit 0
fi
echo "The browser tests need Debian's ${missing[*]}: run  sudo apt-get install ${missing[*]}" >&2
exit 1
