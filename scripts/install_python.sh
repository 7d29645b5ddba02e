#!/usr/bin/env bash
# Makes `import adgap` work in Debian's /usr/bin/python3 from any directory: writes adgap.pth,
# naming this tree's build/python, into its site directory for local packages
# (/usr/local/lib/python3.X/dist-packages; ADGAP_SITE_DIR overrides). No pip, no copy: a rebuild
# is seen at once. Run after scripts/build.sh (the README's setup command does both).
set -euo pipefail
cd "$(dirname "$0")/.."
pkg_dir="$(pwd)/build/python"
if ! ls "$pkg_dir"/adgap/_adgap*.so >/dev/null 2>&1; then
  echo "install_python: $pkg_dir/adgap has no extension module; run scripts/build.sh first" >&2
  exit 1
fi
site="${ADGAP_SITE_DIR:-$(/usr/bin/python3 -c 'import site; print(site.getsitepackages()[0])')}"
sudo=""
if ! mkdir -p "$site" 2>/dev/null || [[ ! -w "$site" ]]; then
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  $sudo mkdir -p "$site"
fi
tmp="$(mktemp)"
echo "$pkg_dir" >"$tmp"
chmod 644 "$tmp"
$sudo mv -f "$tmp" "$site/adgap.pth"
echo "python: /usr/bin/python3 imports adgap from $pkg_dir (via $site/adgap.pth)"
