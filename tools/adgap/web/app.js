// The adgap viewer: sends an image to `adgap serve` (POST /api/analyze) and shows the photo with
// the digits found, the map as an overlay, and the mask. The threshold slider re-thresholds the
// raw map here, in the browser, without a request.
'use strict';

const $ = (id) => document.getElementById(id);

const state = {
  info: null,      // GET /api/info
  bytes: null,     // the image file (a Blob)
  name: '',        // its name
  photo: null,     // the decoded image for display (null when the browser cannot show it)
  result: null,    // one image of `adgap detect --json`'s schema
  stats: null,     // the raw map's mean and std
  map: null,       // {width, height, values: Uint8Array}, the raw map in 1/255 steps
  heat: null,      // the map in colour, a canvas of the map's size
  seq: 0,          // the latest analysis; older answers are dropped
  fileSeq: 0,      // the latest file chosen; an older one still decoding is dropped
};

function setStatus(text, isError) {
  $('status').textContent = text;
  $('status').classList.toggle('error', !!isError);
}

function fillSelect(select, values, chosen, label) {
  select.replaceChildren();
  for (const v of values) {
    const o = document.createElement('option');
    o.value = String(v);
    o.textContent = label ? label(v) : String(v);
    select.appendChild(o);
  }
  select.value = String(chosen);
}

async function init() {
  const res = await fetch('/api/info');
  const info = await res.json();
  state.info = info;
  $('model').textContent = 'model ' + info.model;
  const d = info.defaults;
  fillSelect($('method'), info.methods, d.method);
  fillSelect($('mode'), info.modes, d.mode);
  fillSelect($('polarity'), info.polarities, d.polarity);
  const classes = [-1];
  for (let c = 0; c < info.classes; ++c) classes.push(c);
  fillSelect($('cls'), classes, d.class, (c) => (c < 0 ? 'global' : 'digit ' + c));
  for (const s of info.samples) {
    const o = document.createElement('option');
    o.value = String(s.id);
    o.textContent = s.name;
    $('sample').appendChild(o);
  }
  $('k').value = d.k;
  showSliders();
  document.body.dataset.state = 'ready';
}

function showSliders() {
  $('k-value').textContent = Number($('k').value).toFixed(1);
  $('opacity-value').textContent = Number($('opacity').value).toFixed(2);
}

async function useFile(blob, name) {
  const mine = ++state.fileSeq;
  const url = URL.createObjectURL(blob);
  const img = new Image();
  img.src = url;
  let photo = null;
  try {
    await img.decode();
    photo = img;
  } catch (e) {
    // The server says what is wrong with it, or computes the map of a format the browser
    // cannot show.
  }
  URL.revokeObjectURL(url);  // the decoded image stays drawable
  if (mine !== state.fileSeq) return;  // another file was chosen meanwhile
  state.bytes = blob;
  state.name = name;
  state.photo = photo;
  await analyze();
}

// Two requests: the map alone first (a fraction of the time), shown at once, then the map with
// the digits. Timings (ms after the request) go to document.body.dataset.timing.
async function analyze() {
  if (!state.bytes) return;
  const seq = ++state.seq;
  const params = {
    method: $('method').value,
    mode: $('mode').value,
    polarity: $('polarity').value,
    class: $('cls').value,
    name: state.name,
  };
  document.body.dataset.state = 'busy';
  setStatus('Computing ' + state.name + ' ...');
  $('download-json').disabled = true;
  $('download-png').disabled = true;
  const t0 = performance.now();
  const timing = {};
  const post = async (digits) => {
    const q = new URLSearchParams({...params, digits: digits ? '1' : '0'});
    try {
      const res = await fetch('/api/analyze?' + q.toString(), {
        method: 'POST',
        headers: {'Content-Type': state.bytes.type || 'application/octet-stream'},
        body: state.bytes,
      });
      const body = await res.json().catch(() => ({error: 'HTTP ' + res.status}));
      return {ok: res.ok, status: res.status, body};
    } catch (e) {
      return {ok: false, status: 0, body: {error: 'no answer from the server (' + e.message + ')'}};
    }
  };
  const fail = (a) => {
    clearResult();
    setStatus('Error ' + a.status + ': ' + a.body.error, true);
    document.body.dataset.state = 'error';
  };
  const mapOnly = await post(false);
  timing.mapAnswer = performance.now() - t0;
  if (seq !== state.seq) return;  // a newer request is on its way
  if (!mapOnly.ok) return fail(mapOnly);
  if (!(await show(mapOnly.body, seq))) return;
  timing.map = performance.now() - t0;
  setStatus(`${state.name}: map in ${timing.map.toFixed(0)} ms; reading the digits ...`);
  if (seq !== state.seq) return;
  const full = await post(true);
  timing.digitsAnswer = performance.now() - t0;
  if (seq !== state.seq) return;
  if (!full.ok) return fail(full);
  if (!(await show(full.body, seq))) return;
  timing.digits = performance.now() - t0;
  const r = state.result;
  setStatus(`${r.path}: ${r.width}x${r.height}, ${r.detections.length} digit(s), ` +
            `${r.numbers.length} number(s); map in ${timing.map.toFixed(0)} ms, digits in ` +
            `${timing.digits.toFixed(0)} ms (server ${full.body.ms.toFixed(0)} ms)`);
  document.body.dataset.timing = JSON.stringify(timing);
  $('download-json').disabled = false;
  $('download-png').disabled = false;
  document.body.dataset.state = 'done';
}

// Shows an answer unless a newer analysis started meanwhile; false when it did not show it.
async function show(answer, seq) {
  let map;
  try {
    map = await decodeMap(answer.map);
  } catch (e) {
    if (seq === state.seq) {
      clearResult();
      setStatus('Error: the browser cannot show this map (' + e.message + ')', true);
      document.body.dataset.state = 'error';
    }
    return false;
  }
  if (seq !== state.seq) return false;
  state.result = answer.result;
  state.stats = answer.stats;
  state.map = map;
  state.heat = colourMap(map);
  render();
  return true;
}

function clearResult() {
  state.result = null;
  state.map = null;
  state.heat = null;
  for (const id of ['photo', 'overlay', 'mask']) {
    const c = $(id);
    c.getContext('2d').clearRect(0, 0, c.width, c.height);
  }
  for (const id of ['boxes-photo', 'boxes-overlay', 'numbers', 'digits']) $(id).replaceChildren();
  $('mask-info').textContent = '';
  $('download-json').disabled = true;
  $('download-png').disabled = true;
}

async function decodeMap(m) {
  const img = new Image();
  img.src = 'data:image/png;base64,' + m.png;
  await img.decode();
  const c = document.createElement('canvas');
  c.width = m.width;
  c.height = m.height;
  const ctx = c.getContext('2d', {willReadFrequently: true});
  ctx.drawImage(img, 0, 0);
  const px = ctx.getImageData(0, 0, m.width, m.height).data;
  const values = new Uint8Array(m.width * m.height);
  for (let i = 0; i < values.length; ++i) values[i] = px[4 * i];
  return {width: m.width, height: m.height, values};
}

// Blue (0) through cyan, yellow to red (1).
function colour(t) {
  const f = (x) => Math.max(0, Math.min(1, 1.5 - Math.abs(4 * t - x)));
  return [f(3) * 255, f(2) * 255, f(1) * 255];
}

function colourMap(map) {
  const lut = [];
  for (let v = 0; v < 256; ++v) lut.push(colour(v / 255));
  const c = document.createElement('canvas');
  c.width = map.width;
  c.height = map.height;
  const ctx = c.getContext('2d');
  const img = ctx.createImageData(map.width, map.height);
  for (let i = 0; i < map.values.length; ++i) {
    const [r, g, b] = lut[map.values[i]];
    img.data[4 * i] = r;
    img.data[4 * i + 1] = g;
    img.data[4 * i + 2] = b;
    img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  return c;
}

function render() {
  const {width, height} = state.map;
  for (const id of ['photo', 'overlay', 'mask']) {
    $(id).width = width;
    $(id).height = height;
  }
  drawPhoto($('photo').getContext('2d'), width, height);
  renderOverlay();
  renderMask();
  renderBoxes();
  renderList();
}

function drawPhoto(ctx, width, height) {
  if (state.photo) {
    ctx.drawImage(state.photo, 0, 0, width, height);
  } else {
    ctx.fillStyle = '#888';
    ctx.fillRect(0, 0, width, height);
  }
}

function renderOverlay() {
  if (!state.map) return;
  const c = $('overlay');
  const ctx = c.getContext('2d');
  drawPhoto(ctx, c.width, c.height);
  ctx.globalAlpha = Number($('opacity').value);
  ctx.drawImage(state.heat, 0, 0, c.width, c.height);
  ctx.globalAlpha = 1;
}

// mean + k std of the raw map, as the library thresholds it; white where the map reaches it.
function renderMask() {
  if (!state.map) return;
  const k = Number($('k').value);
  const level = state.stats.mean + k * state.stats.std;
  const {width, height, values} = state.map;
  const ctx = $('mask').getContext('2d');
  const img = ctx.createImageData(width, height);
  let on = 0;
  for (let i = 0; i < values.length; ++i) {
    const v = values[i] / 255 >= level ? 255 : 0;
    on += v ? 1 : 0;
    img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = v;
    img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  $('mask-info').textContent =
      `(level ${level.toFixed(3)}, ${(100 * on / values.length).toFixed(1)} % of pixels)`;
  document.body.dataset.maskLevel = level.toFixed(6);
}

const SVG = 'http://www.w3.org/2000/svg';

function svgRect(box, cls, data) {
  const r = document.createElementNS(SVG, 'rect');
  r.setAttribute('x', box[0]);
  r.setAttribute('y', box[1]);
  r.setAttribute('width', box[2]);
  r.setAttribute('height', box[3]);
  r.setAttribute('class', cls);
  for (const [k, v] of Object.entries(data)) r.dataset[k] = String(v);
  return r;
}

function renderBoxes() {
  const r = state.result;
  const fontSize = Math.max(10, Math.round(Math.max(r.width, r.height) / 40));
  for (const id of ['boxes-photo', 'boxes-overlay']) {
    const svg = $(id);
    svg.replaceChildren();
    svg.setAttribute('viewBox', `0 0 ${r.width} ${r.height}`);
    svg.setAttribute('preserveAspectRatio', 'none');
    r.numbers.forEach((n, i) => svg.appendChild(svgRect(n.box, 'number', {number: i})));
    r.detections.forEach((d, i) => {
      svg.appendChild(svgRect(d.box, 'digit', {digit: i, label: d.label, score: d.score}));
      const t = document.createElementNS(SVG, 'text');
      t.setAttribute('x', d.box[0]);
      t.setAttribute('y', Math.max(fontSize, d.box[1] - 3));
      t.setAttribute('font-size', fontSize);
      t.style.fontSize = fontSize + 'px';
      t.textContent = `${d.label} ${d.score.toFixed(2)}`;
      svg.appendChild(t);
    });
  }
}

function highlight(selector, on) {
  for (const el of document.querySelectorAll(selector)) el.classList.toggle('hl', on);
}

function listItem(text, selectors) {
  const li = document.createElement('li');
  li.textContent = text;
  li.addEventListener('mouseenter', () => {
    li.classList.add('hl');
    selectors.forEach((s) => highlight(s, true));
  });
  li.addEventListener('mouseleave', () => {
    li.classList.remove('hl');
    selectors.forEach((s) => highlight(s, false));
  });
  return li;
}

function renderList() {
  const r = state.result;
  const numbers = $('numbers');
  const digits = $('digits');
  numbers.replaceChildren();
  digits.replaceChildren();
  r.numbers.forEach((n, i) => {
    const sel = [`rect[data-number="${i}"]`, ...n.digits.map((d) => `rect[data-digit="${d}"]`)];
    numbers.appendChild(listItem(`"${n.text}"  score ${n.score.toFixed(3)}`, sel));
  });
  r.detections.forEach((d, i) => {
    const [x, y, w, h] = d.box;
    const li = listItem(`${d.label}  score ${d.score.toFixed(3)}  at ${x},${y} ${w}x${h}`,
                        [`rect[data-digit="${i}"]`]);
    li.dataset.digit = String(i);
    digits.appendChild(li);
  });
  if (!r.numbers.length) numbers.appendChild(document.createTextNode('none'));
  if (!r.detections.length) digits.appendChild(document.createTextNode('none'));
}

function stem() {
  return (state.name || 'image').replace(/\.[^.]*$/, '');
}

function download(blob, name) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

function downloadJson() {
  const doc = {model: state.info.model, images: [state.result]};
  download(new Blob([JSON.stringify(doc, null, 2) + '\n'], {type: 'application/json'}),
           stem() + '.detections.json');
}

// The overlay at the image's own size, with the boxes and labels drawn in.
function downloadPng() {
  const r = state.result;
  const c = document.createElement('canvas');
  c.width = r.width;
  c.height = r.height;
  const ctx = c.getContext('2d');
  drawPhoto(ctx, c.width, c.height);
  ctx.globalAlpha = Number($('opacity').value);
  ctx.drawImage(state.heat, 0, 0, c.width, c.height);
  ctx.globalAlpha = 1;
  const lw = Math.max(2, Math.round(Math.max(r.width, r.height) / 500));
  const fs = Math.max(10, Math.round(Math.max(r.width, r.height) / 60));
  ctx.lineWidth = lw;
  ctx.font = `bold ${fs}px sans-serif`;
  for (const n of r.numbers) {
    ctx.strokeStyle = '#ffea00';
    ctx.strokeRect(n.box[0], n.box[1], n.box[2], n.box[3]);
  }
  for (const d of r.detections) {
    ctx.strokeStyle = '#00e676';
    ctx.strokeRect(d.box[0], d.box[1], d.box[2], d.box[3]);
    ctx.fillStyle = '#00e676';
    ctx.fillText(`${d.label} ${d.score.toFixed(2)}`, d.box[0], Math.max(fs, d.box[1] - 3));
  }
  c.toBlob((b) => download(b, stem() + '.overlay.png'), 'image/png');
}

function wire() {
  $('file').addEventListener('change', (e) => {
    const f = e.target.files[0];
    if (f) useFile(f, f.name);
  });
  $('sample').addEventListener('change', async (e) => {
    if (e.target.value === '') return;
    const s = state.info.samples[Number(e.target.value)];
    const res = await fetch('/api/samples/' + s.id);
    useFile(await res.blob(), s.name);
  });
  for (const id of ['method', 'mode', 'polarity', 'cls']) $(id).addEventListener('change', analyze);
  $('k').addEventListener('input', () => {
    showSliders();
    renderMask();
  });
  $('opacity').addEventListener('input', () => {
    showSliders();
    renderOverlay();
  });
  $('download-json').addEventListener('click', downloadJson);
  $('download-png').addEventListener('click', downloadPng);
  const drop = document.body;
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    $('drop').classList.add('dragging');
  });
  drop.addEventListener('dragleave', () => $('drop').classList.remove('dragging'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    $('drop').classList.remove('dragging');
    const f = e.dataTransfer.files[0];
    if (f) useFile(f, f.name);
  });
}

wire();
init().catch((e) => {
  setStatus('Cannot reach the server: ' + e.message, true);
  document.body.dataset.state = 'error';
});
