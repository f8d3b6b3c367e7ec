// Opens a run's report.html in headless Chromium (Debian's package, driven by playwright-core)
// and prints one JSON line of what a person's browser met: console errors, requests that leave
// the file, scripts and images in the page, the SVG charts and their marks, and the text of the
// page. Takes a screenshot, and prints the page to PDF beside it. Usage: node tests/browser/report.js REPORT.html SCREENSHOT.png
const { chromium } = require('playwright-core');

(async () => {
  const [report, screenshot] = process.argv.slice(2);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage({ viewport: { width: 1100, height: 1400 } });
  const errors = [];
  const requests = [];
  const dialogs = [];
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('request', (r) => { if (!r.url().startsWith('file://')) requests.push(r.url()); });
  page.on('dialog', async (d) => { dialogs.push(d.message()); await d.dismiss(); });
  await page.goto('file://' + require('path').resolve(report), { waitUntil: 'load' });
  const seen = await page.evaluate(() => ({
    scripts: document.querySelectorAll('script').length,
    images: document.querySelectorAll('img').length,
    charts: Array.from(document.querySelectorAll('svg.chart')).map((s) => ({
      label: s.getAttribute('aria-label'),
      marks: s.querySelectorAll('.mark').length,
      points: s.querySelectorAll('.point').length,
      width: s.getBoundingClientRect().width,
    })),
    text: document.body.innerText,
  }));
  await page.screenshot({ path: screenshot, fullPage: false });
  await page.emulateMedia({ media: 'print' });
  await page.pdf({ path: screenshot.replace(/\.png$/, '.pdf'), format: 'A4', printBackground: true });
  await browser.close();
  console.log(JSON.stringify({ errors, requests, dialogs, ...seen }));
})().catch((e) => { console.error(e); process.exit(1); });
