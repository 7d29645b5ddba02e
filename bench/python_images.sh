# Sourced by the Python benchmarks, with $model set: builds adgap if needed, checks the model,
# makes the scratch directory $tmp (removed on exit), writes the image set to "$tmp/img" and its
# list to "$tmp/list.txt" (N_SCENES scenes of benchmark v2's eval split and the first six of
# plasma-workspace-wallpapers' photos scaled to 1280x800: 1 megapixel, busy textures), and puts
# build/python on PYTHONPATH.
[[ -x build/adgap ]] || bash scripts/build.sh
[[ -f "$model" ]] || { echo "$0: $model: no model (models/ is in the repository; scripts/train_models.sh remakes it)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export PYTHONPATH="$PWD/build/python${PYTHONPATH:+:$PYTHONPATH}"
./build/adgap scenes --kind v2 --split eval --count "${N_SCENES:-12}" --out "$tmp/img" >/dev/null
mapfile -t walls < <(ls /usr/share/wallpapers/*/contents/images/1280x800.jpg | sort | head -6)
[[ ${#walls[@]} -eq 6 ]] || { echo "plasma-workspace-wallpapers is missing (scripts/deps.sh installs it)" >&2; exit 1; }
/usr/bin/python3 - "$tmp" "${walls[@]}" <<'PY'
import sys, cv2
tmp, walls = sys.argv[1], sys.argv[2:]
for i, p in enumerate(walls):
    img = cv2.resize(cv2.imread(p), (1280, 800), interpolation=cv2.INTER_AREA)
    cv2.imwrite(f"{tmp}/img/wall-{i}-{p.split('/')[-4]}.png", img)
PY
ls "$tmp"/img/*.png | sort > "$tmp/list.txt"
