#!/bin/bash
# Fetches packages of Debian's riscv64 port and unpacks them into a cache.
#
#   guests/linux/fetch-debian.sh [--refresh] PACKAGE...
#
# For each PACKAGE, prints one line "PACKAGE NAME VERSION DIR": NAME and VERSION
# of the package fetched and DIR, the folder it is unpacked in (dpkg-deb -x).
# A kernel flavour metapackage (linux-image-FLAVOUR, e.g. linux-image-riscv64)
# is followed to the package it depends on (linux-image-6.x-FLAVOUR), and that
# one is fetched.
#
# apt runs with a private configuration only: its own sources list
# (deb [arch=riscv64] $MIRROR $SUITE main, checked with Debian's archive
# keyring), its own state, lists and package cache under the cache folder, and
# APT::Architecture=riscv64. The host's /etc/apt is neither read nor changed
# and no foreign architecture is added to dpkg.
#
# Cache: $FERRY_CACHE_DIR (default ${XDG_CACHE_HOME:-~/.cache}/ferry) /
# debian-$SUITE-riscv64/: debs/ (the .deb files), root/NAME_VERSION/ (unpacked),
# resolved/PACKAGE (what PACKAGE last resolved to). Once every PACKAGE asked
# for has been resolved and unpacked, later runs use the cache and need no
# network; --refresh asks the archive again (and fetches newer versions).
#
# Environment: FERRY_CACHE_DIR, FERRY_DEBIAN_SUITE (trixie),
# FERRY_DEBIAN_MIRROR (http://deb.debian.org/debian).
# Exit status: 0 on success; 1 with a message naming the problem (the archive
# unreachable, an unknown package, a bad download).
set -euo pipefail

SUITE=${FERRY_DEBIAN_SUITE:-trixie}
MIRROR=${FERRY_DEBIAN_MIRROR:-http://deb.debian.org/debian}
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
CACHE_ROOT=${FERRY_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME:-$(cd ~ && pwd)}/.cache}/ferry}
CACHE=$CACHE_ROOT/debian-$SUITE-riscv64

die() { echo "fetch-debian.sh: $*" >&2; exit 1; }

refresh=0
packages=()
for arg in "$@"; do
  case $arg in
    --refresh) refresh=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option '$arg'" ;;
    *) packages+=("$arg") ;;
  esac
done
((${#packages[@]})) || die "usage: fetch-debian.sh [--refresh] PACKAGE..."
for tool in apt-get apt-cache dpkg-deb flock; do
  command -v "$tool" >/dev/null || die "'$tool' is required and is not installed"
done
[ -r "$KEYRING" ] || die "$KEYRING is missing (Debian package debian-archive-keyring)"

mkdir -p "$CACHE"/{debs,root,resolved}
# One fetch at a time per cache (tests may run side by side).
exec 9>"$CACHE/lock"
flock 9

# Prints the cached line for $1, or fails when it is not cached.
cached_line() {
  local file=$CACHE/resolved/$1 name version
  [ -f "$file" ] || return 1
  read -r name version <"$file"
  [ -d "$CACHE/root/${name}_${version//:/%3a}" ] || return 1
  echo "$1 $name $version $CACHE/root/${name}_${version//:/%3a}"
}

if ((!refresh)); then
  lines=()
  for p in "${packages[@]}"; do
    line=$(cached_line "$p") || { lines=(); break; }
    lines+=("$line")
  done
  if ((${#lines[@]})); then
    printf '%s\n' "${lines[@]}"
    exit 0
  fi
fi

# The private apt configuration.
APT_DIR=$CACHE/apt
mkdir -p "$APT_DIR"/etc/{parts,preferences.d} "$APT_DIR"/state/lists/partial \
         "$APT_DIR"/cache/archives/partial
: >"$APT_DIR/state/status"
echo "deb [arch=riscv64 signed-by=$KEYRING] $MIRROR $SUITE main" >"$APT_DIR/etc/sources.list"
cat >"$APT_DIR/etc/apt.conf" <<EOF
Dir::Etc "$APT_DIR/etc";
Dir::Etc::main "apt.conf";
Dir::Etc::parts "parts";
Dir::Etc::sourcelist "sources.list";
Dir::Etc::sourceparts "parts";
Dir::Etc::preferences "preferences";
Dir::Etc::preferencesparts "preferences.d";
Dir::Etc::trusted "trusted.gpg";
Dir::Etc::trustedparts "parts";
Dir::State "$APT_DIR/state";
Dir::State::status "$APT_DIR/state/status";
Dir::Cache "$APT_DIR/cache";
APT::Architecture "riscv64";
APT::Architectures { "riscv64"; };
APT::Sandbox::User "root";
Acquire::Languages "none";
Acquire::IndexTargets::deb::DEP-11::DefaultEnabled "false";
Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled "false";
Acquire::IndexTargets::deb::DEP-11-icons-small::DefaultEnabled "false";
Acquire::IndexTargets::deb::DEP-11-icons-hidpi::DefaultEnabled "false";
EOF
export APT_CONFIG=$APT_DIR/etc/apt.conf

if ! out=$(apt-get -q -o Acquire::Retries=2 update 2>&1) ||
   grep -qE '^(W|E): (Failed to fetch|Some index files failed)' <<<"$out"; then
  echo "$out" >&2
  die "could not read the package index of '$SUITE' (riscv64) from $MIRROR: is the archive reachable?"
fi

# NAME VERSION of the candidate for $1, following a kernel metapackage.
resolve() {
  local pkg=$1 info version depends dep
  info=$(apt-cache show --no-all-versions "$pkg" 2>/dev/null) ||
    die "package '$pkg' is not in $SUITE/main for riscv64"
  version=$(sed -n 's/^Version: //p' <<<"$info")
  [ -n "$version" ] || die "package '$pkg' has no installable version in $SUITE for riscv64"
  if [[ $pkg =~ ^linux-image-[a-z0-9]+$ ]]; then
    depends=$(sed -n 's/^Depends: //p' <<<"$info")
    dep=$(grep -oE 'linux-image-[0-9][^ ,]*' <<<"$depends" | head -1)
    [ -n "$dep" ] || die "metapackage '$pkg' ($version) depends on no linux-image-VERSION package"
    resolve "$dep"
    return
  fi
  echo "$pkg $version"
}

for p in "${packages[@]}"; do
  resolved=$(resolve "$p")
  read -r name version <<<"$resolved"
  root=$CACHE/root/${name}_${version//:/%3a}
  if [ ! -d "$root" ]; then
    deb=$CACHE/debs/${name}_${version//:/%3a}_riscv64.deb
    if [ ! -f "$deb" ]; then
      echo "fetch-debian.sh: downloading $name $version" >&2
      tmp=$(mktemp -d "$CACHE/debs/.download.XXXXXX")
      if ! (cd "$tmp" && apt-get -q download "$name=$version" >&2); then
        rm -rf "$tmp"
        die "could not download $name $version from $MIRROR"
      fi
      mv "$tmp"/*.deb "$deb"
      rm -rf "$tmp"
    fi
    tmp=$(mktemp -d "$CACHE/root/.unpack.XXXXXX")
    dpkg-deb -x "$deb" "$tmp" || { rm -rf "$tmp"; die "could not unpack $deb"; }
    mv "$tmp" "$root"
  fi
  echo "$name $version" >"$CACHE/resolved/$p"
  echo "$p $name $version $root"
done
