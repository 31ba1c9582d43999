#!/usr/bin/env bash
# Writes one archive per blueprint folder for `cfy blueprint upload`
# (shared/cloudify-compat.md 4: one top-level folder, main file
# blueprint.yaml): dist/<Name>.tar.gz holds <Name>/ with the folder's files
# (symbolic links followed, so types -> ../types becomes a copy),
# bin/chaosops (the executable), bin/chaosops.sh (its launcher, with the
# executable's sha256 baked in) and the copies the folder's bundle.files
# lists ("SOURCE DEST" per line, SOURCE relative to the folder).
#
# Steps: lint the source folders; stage each folder; write its archive
# reproducibly (entries sorted, fixed mtime, uid/gid 0, normalised modes,
# gzip without name or time); unpack every archive again and lint what came
# out (chaosops blueprint lint --archive); only then move the archives to
# dist/ and print the upload commands.
#
# Environment: BUNDLE_SRC (default blueprints/), BUNDLE_DIST (default
# dist/), CHAOSOPS_BIN (default bin/chaosops, from make build; it is both
# bundled and run here), SOURCE_DATE_EPOCH (mtime of every entry, default
# 1980-01-01).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
src=${BUNDLE_SRC:-$root/blueprints}
dist=${BUNDLE_DIST:-$root/dist}
bin=${CHAOSOPS_BIN:-$root/bin/chaosops}
epoch=${SOURCE_DATE_EPOCH:-315532800}

die() {
	echo "bundle: $*" >&2
	exit 1
}

[ -x "$bin" ] || die "$bin is not an executable: run make build, or set CHAOSOPS_BIN"
[ -d "$src" ] || die "$src is not a folder of blueprints (set BUNDLE_SRC)"

shopt -s nullglob
dirs=()
for main in "$src"/*/blueprint.yaml; do
	dirs+=("$(dirname "$main")")
done
[ ${#dirs[@]} -gt 0 ] || die "$src holds no blueprint folder (NAME/blueprint.yaml)"

"$bin" blueprint lint "${dirs[@]}"

work=$(mktemp -d "${TMPDIR:-/tmp}/chaosops-bundle.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/stage" "$work/out" "$work/check"
"$bin" blueprint launcher --executable "$bin" --resource bin/chaosops -o "$work/chaosops.sh" >/dev/null

# copy_listed copies what DIR/bundle.files lists into OUT.
copy_listed() {
	local dir=$1 out=$2 n=0 from to extra
	[ -f "$dir/bundle.files" ] || return 0
	while IFS= read -r line || [ -n "$line" ]; do
		n=$((n + 1))
		read -r from to extra <<<"$line" || true
		case $from in '' | '#'*) continue ;; esac
		if [ -z "$to" ] || [ -n "$extra" ]; then
			die "$dir/bundle.files:$n: expected \"SOURCE DEST\""
		fi
		case /$to/ in //* | */../*) die "$dir/bundle.files:$n: DEST $to must be a relative path inside the archive folder" ;; esac
		[ -e "$dir/$from" ] || die "$dir/bundle.files:$n: SOURCE $from does not exist"
		[ ! -e "$out/$to" ] || die "$dir/bundle.files:$n: DEST $to already exists in the archive folder"
		mkdir -p "$(dirname "$out/$to")"
		cp -RL "$dir/$from" "$out/$to"
	done <"$dir/bundle.files"
}

names=()
for dir in "${dirs[@]}"; do
	name=$(basename "$dir")
	case $name in *[!A-Za-z0-9._-]*) die "$dir: the folder name is the blueprint id and may only hold letters, digits and ._-" ;; esac
	out=$work/stage/$name
	mkdir -p "$out"
	cp -RL "$dir/." "$out/"
	rm -f "$out/bundle.files"
	for f in bin/chaosops bin/chaosops.sh; do
		[ ! -e "$dir/$f" ] || die "$dir/$f: make bundle writes this file; remove it from the folder"
	done
	mkdir -p "$out/bin"
	cp "$bin" "$out/bin/chaosops"
	cp "$work/chaosops.sh" "$out/bin/chaosops.sh"
	chmod 0755 "$out/bin/chaosops" "$out/bin/chaosops.sh"
	copy_listed "$dir" "$out"

	tar --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner \
		--mode='u+rwX,go+rX,go-w' --format=gnu -C "$work/stage" -cf - "$name" |
		gzip -n >"$work/out/$name.tar.gz"
	tops=$(tar -tzf "$work/out/$name.tar.gz" | cut -d/ -f1 | sort -u)
	[ "$tops" = "$name" ] || die "$name.tar.gz: expected the single top-level folder $name, found: $tops"
	tar -xzf "$work/out/$name.tar.gz" -C "$work/check"
	names+=("$name")
done

checked=()
for name in "${names[@]}"; do
	checked+=("$work/check/$name")
done
if ! report=$("$bin" blueprint lint --archive "${checked[@]}" 2>&1); then
	echo "$report" >&2
	die "the unpacked archives do not lint (above); nothing was written to $dist"
fi

mkdir -p "$dist"
shown=${dist#"$PWD"/}
echo "Archives (upload each; the folder name is the blueprint id the parent's components use):"
for name in "${names[@]}"; do
	mv -f "$work/out/$name.tar.gz" "$dist/$name.tar.gz"
	echo "  cfy blueprint upload $shown/$name.tar.gz -b $name"
done
