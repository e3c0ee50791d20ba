#!/usr/bin/env bash
# Copy the front-end assets the pages need from node_modules/ into the Django static folder.
#
# Machines may be offline and pages must not load anything from a CDN (DESIGN.md), so the
# copied files are committed: `make run` needs no npm. Run this after changing the pinned
# versions in package.json:
#
#     npm ci && bash scripts/vendor-assets.sh
#
# Two small edits keep the copies self-contained, so a hashing static storage (Django's
# ManifestStaticFilesStorage, WhiteNoise) finds every file a stylesheet or script names:
#   * the `sourceMappingURL` comments are removed (the .map files are not copied);
#   * bootstrap-icons loads only its .woff2 font (every supported browser reads woff2).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
modules="$root/node_modules"
out="$root/src/diemcau/ui/static/vendor"

for package in bootstrap bootstrap-icons htmx.org fullcalendar @fullcalendar/core chart.js \
    janus-gateway webrtc-adapter sdp flatpickr; do
    if [[ ! -d "$modules/$package" ]]; then
        missing=1
    fi
done
if [[ -n "${missing:-}" ]]; then
    echo "node_modules/ is missing or incomplete: run 'npm ci' in $root first" >&2
    exit 1
fi

version() { node -p "require('$modules/$1/package.json').version"; }

strip_source_map() {  # strip_source_map FILE: drop the trailing sourceMappingURL comment
    sed -i -E '/^\/[*/]# sourceMappingURL=.*$/d' "$1"
}

rm -rf "$out"
mkdir -p "$out/bootstrap" "$out/bootstrap-icons/fonts" "$out/htmx" "$out/fullcalendar/locales" \
    "$out/chartjs" "$out/janus" "$out/flatpickr"

cp "$modules/bootstrap/dist/css/bootstrap.min.css" "$out/bootstrap/"
cp "$modules/bootstrap/dist/js/bootstrap.bundle.min.js" "$out/bootstrap/"
cp "$modules/bootstrap/LICENSE" "$out/bootstrap/LICENSE"
strip_source_map "$out/bootstrap/bootstrap.min.css"
strip_source_map "$out/bootstrap/bootstrap.bundle.min.js"

cp "$modules/bootstrap-icons/font/bootstrap-icons.min.css" "$out/bootstrap-icons/"
cp "$modules/bootstrap-icons/font/fonts/bootstrap-icons.woff2" "$out/bootstrap-icons/fonts/"
cp "$modules/bootstrap-icons/LICENSE" "$out/bootstrap-icons/LICENSE"
sed -i -E 's#,url\("fonts/bootstrap-icons\.woff\?[0-9a-f]*"\) format\("woff"\)##' \
    "$out/bootstrap-icons/bootstrap-icons.min.css"
if grep -q 'bootstrap-icons\.woff?' "$out/bootstrap-icons/bootstrap-icons.min.css"; then
    echo "bootstrap-icons.min.css still names the .woff font: update this script" >&2
    exit 1
fi

cp "$modules/htmx.org/dist/htmx.min.js" "$out/htmx/"
cp "$modules/htmx.org/LICENSE" "$out/htmx/LICENSE"

# FullCalendar's standard bundle (core, daygrid, timegrid, list, multimonth, interaction) as
# one global script; it injects its own CSS. The Vietnamese locale comes from @fullcalendar/core.
cp "$modules/fullcalendar/index.global.min.js" "$out/fullcalendar/"
cp "$modules/@fullcalendar/core/locales/vi.global.min.js" "$out/fullcalendar/locales/"
cp "$modules/fullcalendar/LICENSE.md" "$out/fullcalendar/LICENSE"
strip_source_map "$out/fullcalendar/index.global.min.js"
strip_source_map "$out/fullcalendar/locales/vi.global.min.js"

# Chart.js as a UMD script (window.Chart); the pages use a linear time axis, so no date adapter.
cp "$modules/chart.js/dist/chart.umd.min.js" "$out/chartjs/"
cp "$modules/chart.js/LICENSE.md" "$out/chartjs/LICENSE"
strip_source_map "$out/chartjs/chart.umd.min.js"

# flatpickr, the date and time picker of the forms (ui/static/ui/datepicker.js): dates as
# dd/mm/yyyy and times on 24 hours whatever the browser's locale, with its Vietnamese locale
# (l10n/vn.js registers itself on window.flatpickr.l10ns).
cp "$modules/flatpickr/dist/flatpickr.min.js" "$modules/flatpickr/dist/flatpickr.min.css" "$out/flatpickr/"
cp "$modules/flatpickr/dist/l10n/vn.js" "$out/flatpickr/vn.js"
cp "$modules/flatpickr/LICENSE.md" "$out/flatpickr/LICENSE"
strip_source_map "$out/flatpickr/flatpickr.min.js"
strip_source_map "$out/flatpickr/flatpickr.min.css"

# janus.js, the Janus project's own browser client, as a classic script (window.Janus); the
# npm package's dist/ file is an ES module, its src/ file is the same code as a plain script.
# janus.js needs webrtc-adapter as the global `adapter` (Janus.init reads its browserDetails):
# its browserified build (out/adapter.js, with the sdp package inside) sets window.adapter.
# janus.js is MIT (the rest of the gateway is GPL): its licence is the header of the file.
cp "$modules/janus-gateway/npm/src/janus.js" "$out/janus/"
sed -n '/^\/\*/,/\*\//p' "$modules/janus-gateway/npm/src/janus.js" | sed '1d;$d' | sed 's/^\t//' \
    > "$out/janus/LICENSE"
if ! grep -q "MIT License" "$out/janus/LICENSE"; then
    echo "janus.js no longer starts with its MIT licence: update this script" >&2
    exit 1
fi
cp "$modules/webrtc-adapter/out/adapter.js" "$out/janus/"
cp "$modules/webrtc-adapter/LICENSE.md" "$out/janus/LICENSE-webrtc-adapter"
cp "$modules/sdp/LICENSE" "$out/janus/LICENSE-sdp"

cat > "$out/VERSIONS.txt" <<VERSIONS
Copied from npm by scripts/vendor-assets.sh; do not edit by hand.
bootstrap $(version bootstrap)
bootstrap-icons $(version bootstrap-icons)
htmx.org $(version htmx.org)
fullcalendar $(version fullcalendar)
@fullcalendar/core (locales) $(version @fullcalendar/core)
chart.js $(version chart.js)
flatpickr $(version flatpickr)
janus-gateway (janus.js) $(version janus-gateway)
webrtc-adapter $(version webrtc-adapter)
VERSIONS

echo "vendored into ${out#"$root"/}:"
(cd "$out" && find . -type f | sort | sed 's#^\./#  #')
