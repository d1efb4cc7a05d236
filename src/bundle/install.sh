#!/bin/sh
# Installs the TerraFusion Cutover bundle this file sits in, with no network (cutover bundle).
#   ./install.sh           verify every file against manifest.json, then install the Debian
#                          packages of debs/ that are missing or older (as root), offline
#   ./install.sh --check   only verify every file against manifest.json (sha256, link targets,
#                          nothing missing, nothing added)
#   ./install.sh --dry-run verify, then show what apt would install (apt-get -s), changing nothing
# Only coreutils, sed, dpkg and apt are used: nothing of the bundle runs before it is verified.
# Exit codes: 0 done, 2 usage, 5 CUTOVER_ERR_BUNDLE_CHECKSUM_MISMATCH, 6 CUTOVER_ERR_BUNDLE_INSTALL_FAILED.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mismatch() {
  echo "install.sh: CUTOVER_ERR_BUNDLE_CHECKSUM_MISMATCH: $1" >&2
  echo "  copy the archive again and unpack it afresh; the bundle's files must be as manifest.json lists them" >&2
  exit 5
}
install_failed() {
  echo "install.sh: CUTOVER_ERR_BUNDLE_INSTALL_FAILED: $1" >&2
  echo "  run it as root on Debian bookworm amd64; dpkg/apt's complaint is above" >&2
  exit 6
}

# manifest.json has one file entry a line (src/bundle/manifest.ts formatManifest), so sed reads it.
verify() {
  [ -f manifest.json ] || mismatch "manifest.json is missing"
  sed -n 's/^ *{"path": "\([^"]*\)", "size": [0-9]*, "sha256": "\([0-9a-f]\{64\}\)"},\{0,1\}$/\2  \1/p' manifest.json > "$work/sums"
  sed -n 's/^ *{"path": "\([^"]*\)", "link": "\([^"]*\)"},\{0,1\}$/\1	\2/p' manifest.json > "$work/links"
  [ -s "$work/sums" ] || mismatch "manifest.json lists no files"
  : > "$work/problems"
  # sha256sum names each file that is missing, unreadable or different ("path: FAILED...").
  LC_ALL=C sha256sum -c "$work/sums" 2>/dev/null | sed -n 's/^\(.*\): FAILED.*$/changed or missing: \1/p' >> "$work/problems" || true
  while IFS='	' read -r path target; do
    if [ ! -L "$path" ]; then echo "missing link: $path" >> "$work/problems"
    elif [ "$(readlink "$path")" != "$target" ]; then echo "changed link: $path" >> "$work/problems"; fi
  done < "$work/links"
  # Added files. What running the harness writes in its own tree is not the bundle's
  # (src/bundle/manifest.ts isRuntimeState says the same): state under app/.cutover, reports,
  # Python's byte code.
  { sed 's/^[0-9a-f]*  //' "$work/sums"; cut -f1 "$work/links"; } | LC_ALL=C sort > "$work/listed"
  find . -mindepth 1 \( -type f -o -type l \) | sed 's|^\./||' \
    | grep -v -e '^manifest\.json$' -e '^app/\.cutover/' -e '^app/reports/' -e '/__pycache__/' \
    | LC_ALL=C sort > "$work/present" || true
  LC_ALL=C comm -13 "$work/listed" "$work/present" | sed 's/^/added: /' >> "$work/problems"
  if [ -s "$work/problems" ]; then
    count=$(wc -l < "$work/problems")
    mismatch "$count file(s) differ from manifest.json: $(head -n 20 "$work/problems" | tr '\n' ';' | sed 's/;$//')"
  fi
  echo "install.sh: $(wc -l < "$work/sums") files and $(wc -l < "$work/links") links match manifest.json"
}

install_packages() {
  simulate="${1:-}"
  [ -f debs/install-order.txt ] || install_failed "debs/install-order.txt is missing"
  [ -n "$simulate" ] || [ "$(id -u)" = "0" ] || install_failed "installing Debian packages needs root (./install.sh --check and --dry-run need none)"
  : > "$work/wanted"
  total=0
  while read -r deb; do
    [ -n "$deb" ] || continue
    total=$((total + 1))
    name=$(dpkg-deb -f "debs/$deb" Package)
    version=$(dpkg-deb -f "debs/$deb" Version)
    arch=$(dpkg-deb -f "debs/$deb" Architecture)
    query="$name"
    [ "$arch" = "all" ] || query="$name:$arch"
    installed=$(dpkg-query -W -f='${Status}|${Version}' "$query" 2>/dev/null || true)
    case "$installed" in
      "install ok installed|"*)
        # Kept when the machine has it at this version or newer: never a downgrade.
        dpkg --compare-versions "${installed#*|}" ge "$version" && continue ;;
    esac
    echo "$here/debs/$deb" >> "$work/wanted"
  done < debs/install-order.txt
  if [ ! -s "$work/wanted" ]; then
    echo "install.sh: all $total Debian packages of the bundle are installed already"
    return
  fi
  if [ -n "$simulate" ]; then verb="simulating the install of"; else verb="installing"; fi
  echo "install.sh: $verb $(wc -l < "$work/wanted") of $total Debian packages from debs/ (no network)"
  # apt sees only the installed packages and these files: no mirror, no lists, nothing to fetch.
  mkdir -p "$work/lists/partial" "$work/sources.d" "$work/cache/archives/partial"
  set --
  while read -r file; do set -- "$@" "$file"; done < "$work/wanted"
  [ -z "$simulate" ] || set -- -s -o Debug::NoLocking=1 "$@"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends --no-download \
    -o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$work/sources.d" \
    -o Dir::State::Lists="$work/lists" -o Dir::Cache="$work/cache" -o APT::Sandbox::User=root \
    "$@" || install_failed "apt-get install of the bundle's packages failed"
}

case "${1:-}" in
  --check) verify ;;
  --dry-run) verify; install_packages simulate ;;
  "")
    verify
    install_packages
    echo "install.sh: done; run the harness with $here/bin/cutover (for example: $here/bin/cutover up)"
    ;;
  *) echo "usage: ./install.sh [--check | --dry-run]" >&2; exit 2 ;;
esac
