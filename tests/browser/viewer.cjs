// The viewer in a real browser: Debian's chromium, headless, driven by puppeteer-core.
// Loads the page of a running `adgap serve`, uploads a photo through the file input, and prints
// as JSON what the page shows: the boxes drawn (from the SVG layer), the list beside them, the
// mask before and after the threshold slider moves, and the requests made meanwhile.
//
// node tests/browser/viewer.cjs URL PHOTO NPM_DIR [SCREENSHOT.png]
'use strict';
const path = require('path');

const [url, photo, npmDir, screenshot] = process.argv.slice(2);
const puppeteer = require(path.resolve(npmDir, 'node_modules', 'puppeteer-core'));

async function main() {
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    // No sandbox (CI runs as root); no proxy: the server is on the loopback interface.
    args: ['--no-sandbox', '--no-proxy-server', '--disable-gpu', '--window-size=1500,1000'],
  });
  const out = {};
  try {
    const page = await browser.newPage();
    await page.setViewport({width: 1500, height: 1000});
    const analyses = [];
    page.on('request', (r) => {
      if (r.url().includes('/api/')) analyses.push(r.method() + ' ' + new URL(r.url()).pathname);
    });
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url, {waitUntil: 'load'});
    await page.waitForFunction(() => document.body.dataset.state === 'ready', {timeout: 30000});

    const input = await page.$('#file');
    const t0 = Date.now();
    await input.uploadFile(photo);
    await page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.state),
                               {timeout: 120000});
    out.seconds = (Date.now() - t0) / 1000;
    out.state = await page.evaluate(() => document.body.dataset.state);
    out.status = await page.$eval('#status', (e) => e.textContent);
    out.timing = await page.evaluate(() => JSON.parse(document.body.dataset.timing || '{}'));
    out.boxes = await page.$$eval('#boxes-photo rect.digit', (rs) => rs.map((r) => ({
      box: ['x', 'y', 'width', 'height'].map((a) => Number(r.getAttribute(a))),
      label: Number(r.dataset.label),
      score: Number(r.dataset.score),
    })));
    out.numberBoxes = await page.$$eval('#boxes-photo rect.number', (rs) =>
      rs.map((r) => ['x', 'y', 'width', 'height'].map((a) => Number(r.getAttribute(a)))));
    out.listed = await page.$$eval('#digits li', (ls) => ls.map((l) => l.textContent));
    out.numbers = await page.$$eval('#numbers li', (ls) => ls.map((l) => l.textContent));

    // Hovering a list entry highlights its box.
    if (out.listed.length) {
      await page.hover('#digits li[data-digit="0"]');
      out.highlighted = await page.$$eval('.boxes rect.hl', (rs) =>
        rs.map((r) => r.dataset.digit));
    }

    // The mask: white pixels now, then after moving the threshold slider; no request between.
    const whiteOfMask = () => page.evaluate(() => {
      const c = document.getElementById('mask');
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) n += d[i] > 127 ? 1 : 0;
      return {white: n, pixels: c.width * c.height, level: Number(document.body.dataset.maskLevel)};
    });
    const requestsBefore = analyses.length;
    out.maskBefore = await whiteOfMask();
    await page.$eval('#k', (k) => {
      k.value = '1';
      k.dispatchEvent(new Event('input', {bubbles: true}));
    });
    out.maskAfter = await whiteOfMask();
    out.requestsDuringSlider = analyses.length - requestsBefore;
    await page.$eval('#k', (k) => {
      k.value = '3';
      k.dispatchEvent(new Event('input', {bubbles: true}));
    });
    // The two downloads, caught where the page hands them to the browser (the link's click):
    // the JSON's text, and the PNG's size as an image.
    await page.evaluate(() => {
      window.caught = [];
      HTMLAnchorElement.prototype.click = function() {
        window.caught.push({name: this.download, href: this.href});
      };
    });
    await page.click('#download-json');
    await page.click('#download-png');
    await page.waitForFunction(() => window.caught.length === 2, {timeout: 30000});
    out.downloads = await page.evaluate(() => Promise.all(window.caught.map(async (d) => {
      const blob = await (await fetch(d.href)).blob();
      const got = {name: d.name, type: blob.type, bytes: blob.size};
      if (blob.type === 'image/png') {
        const bitmap = await createImageBitmap(blob);
        got.width = bitmap.width;
        got.height = bitmap.height;
      } else {
        got.text = await blob.text();
      }
      return got;
    })));
    out.requests = analyses;
    out.errors = errors;
    if (screenshot) {
      await page.mouse.move(0, 0);
      await page.screenshot({path: screenshot});
    }
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e) => {
  process.stderr.write('viewer.cjs: ' + (e && e.stack ? e.stack : e) + '\n');
  process.exit(1);
});
