// Drives the vmafx dashboard in headless Chromium (Debian's, through playwright-core) as a
// person would, and checks it with axe-core. Run by tests/dashboard.rs, which starts
// `vmafx up`, makes the clips and checks what this prints (one JSON line, `result: {...}`).
//
// Environment: VMAFX_UI (https://127.0.0.1:PORT/ui/), VMAFX_TOKEN (admin), VMAFX_REF,
// VMAFX_DIST (clip paths), VMAFX_SHOTS (where screenshots go), CHROMIUM (the browser).
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';

const require = createRequire(process.env.VMAFX_NODE_MODULES + '/');
const { chromium } = require('playwright-core');
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const ui = process.env.VMAFX_UI;
const shots = process.env.VMAFX_SHOTS;
const result = { violations: {}, screenshots: [] };
const step = (what) => console.error(`dashboard test: ${what}`);

async function axe(page, name) {
  // Evaluated over the DevTools protocol: the page's CSP (script-src 'self') does not apply.
  await page.evaluate(axeSource);
  const found = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) }));
  });
  result.violations[name] = found;
  const serious = found.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(serious, [], `${name}: serious accessibility violations: ${JSON.stringify(serious, null, 1)}`);
}

async function shot(page, name) {
  const path = `${shots}/${name}.png`;
  await page.screenshot({ path, fullPage: true });
  result.screenshots.push(path);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  // The controller's certificate is from its own CA, made in its data directory.
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  // The 401s of asking who is logged in, before login and after logout, are expected.
  page.on('console', (m) => { if (m.type() === 'error' && !m.text().includes('status of 401')) errors.push(m.text()); });

  step('a wrong token is refused');
  await page.goto(ui);
  await page.waitForSelector('#login-form');
  await axe(page, 'login');
  await page.getByLabel('Token').fill('not-a-token-at-all-not-a-token-at-all');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForFunction(() => document.getElementById('login-error').textContent.length > 0);
  result.wrong_token = await page.textContent('#login-error');
  assert.equal(await page.isVisible('#nav'), false, 'no navigation before login');
  const cookies = await context.cookies();
  assert.equal(cookies.length, 0, 'no session for a wrong token');

  step('log in');
  await page.getByLabel('Token').fill(process.env.VMAFX_TOKEN);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForSelector('#jobs');
  const [cookie] = await context.cookies();
  result.cookie = { name: cookie.name, httpOnly: cookie.httpOnly, secure: cookie.secure, sameSite: cookie.sameSite, path: cookie.path };
  assert.equal(await page.evaluate(() => document.cookie), '', 'the session cookie is out of the script\'s reach');

  step('submit a job from the form; it appears and finishes live');
  await page.click('a[data-nav="submit"]');
  await page.waitForSelector('#submit-form');
  await axe(page, 'submit');
  await page.getByLabel('Reference').fill(process.env.VMAFX_REF);
  await page.getByLabel('Distorted').fill(process.env.VMAFX_DIST);
  await page.getByLabel('Frames per segment').fill('16');
  await page.check('input[name=features][value=psnr]');
  await shot(page, 'submit');
  await page.getByRole('button', { name: 'Submit job' }).click();
  await page.waitForSelector('#jobs tbody tr');
  const loads = [];
  page.on('framenavigated', (f) => { if (f === page.mainFrame()) loads.push(f.url()); });
  const row = page.locator('#jobs tbody tr').first();
  result.job = await row.getAttribute('data-job');
  result.first_state = await row.getAttribute('data-state');
  await page.waitForSelector(`#jobs tbody tr[data-job="${result.job}"][data-state="succeeded"]`, { timeout: 180_000 });
  await page.waitForFunction((id) => document.querySelector(`#jobs tr[data-job="${id}"]`).cells[3].textContent !== '—', result.job);
  result.row_vmaf = await page.textContent(`#jobs tr[data-job="${result.job}"] td:nth-child(4)`);
  result.reloads = loads.length;
  await axe(page, 'jobs');
  await shot(page, 'jobs');

  step('the job page: one point per frame, pooled table, worst frames');
  await page.click(`#jobs a[href="#/jobs/${result.job}"]`);
  await page.waitForSelector('#chart polyline');
  result.points = Number(await page.getAttribute('#chart polyline', 'data-points'));
  result.bucketed = await page.getAttribute('#chart polyline', 'data-bucketed');
  result.polyline_points = (await page.getAttribute('#chart polyline', 'points')).trim().split(/\s+/).length;
  result.pooled_rows = await page.locator('#pooled tbody tr').count();
  result.segments = await page.locator('#segments tbody tr').count();
  await page.hover('#chart', { position: { x: 400, y: 150 } });
  // The other metrics' values at the hovered frame are asked for once the pointer rests.
  await page.waitForFunction(() => document.getElementById('plot-tip').textContent.includes('psnr_y'));
  result.tooltip = await page.textContent('#plot-tip');
  await page.selectOption('#plot-metric', 'psnr_y');
  await page.waitForSelector('#chart polyline[data-metric="psnr_y"]');
  result.psnr_points = Number(await page.getAttribute('#chart polyline', 'data-points'));
  await page.selectOption('#plot-metric', 'vmaf');
  await page.waitForSelector('#chart polyline[data-metric="vmaf"]');
  await page.waitForSelector('#worst img[data-side="distorted"]', { timeout: 180_000 });
  await page.waitForFunction(() => [...document.querySelectorAll('#worst img')].every((i) => i.complete && i.naturalWidth > 0), null, { timeout: 60_000 });
  result.worst_images = await page.evaluate(() => [...document.querySelectorAll('#worst img')].map((i) => ({ side: i.dataset.side, width: i.naturalWidth, height: i.naturalHeight, src: i.getAttribute('src') })));
  await axe(page, 'job');
  await shot(page, 'job');

  step('zoom into frames 4..20 of the plot');
  await page.fill('#plot-from', '4');
  await page.fill('#plot-to', '20');
  await page.getByRole('button', { name: 'Show frames' }).click();
  await page.waitForFunction(() => document.querySelector('#chart polyline').dataset.points === '17', null, { timeout: 10_000 })
    .catch(async (e) => { throw new Error(`${e.message}: ${await page.textContent('#plot-status')} from=${await page.inputValue('#plot-from')}`); });

  step('the plot from the keyboard');
  await page.focus('#chart');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  result.keyboard_tooltip = await page.textContent('#plot-tip');

  step('a long job: buckets, refined to one point per frame on zoom');
  await page.goto(`${ui}#/jobs/${process.env.VMAFX_LONG_JOB}`);
  await page.waitForSelector(`#chart polyline[data-job="${process.env.VMAFX_LONG_JOB}"]`);
  result.long = {
    bucketed: await page.getAttribute('#chart polyline', 'data-bucketed'),
    points: Number(await page.getAttribute('#chart polyline', 'data-points')),
  };
  await page.fill('#plot-from', '1000');
  await page.fill('#plot-to', '2999');
  await page.getByRole('button', { name: 'Show frames' }).click();
  await page.waitForFunction(() => document.querySelector('#chart polyline').dataset.points === '2000', null, { timeout: 10_000 })
    .catch(async (e) => { throw new Error(`${e.message}: ${await page.textContent('#plot-status')} ${JSON.stringify(result.long)} ${errors}`); });
  result.long.zoomed_bucketed = await page.getAttribute('#chart polyline', 'data-bucketed');
  await shot(page, 'job-long');

  step('two jobs on one plot');
  await page.click('a[data-nav="compare"]');
  await page.waitForSelector('#compare-a');
  await page.selectOption('#compare-a', result.job);
  await page.selectOption('#compare-b', process.env.VMAFX_HALF_JOB);
  await page.getByRole('button', { name: 'Compare' }).click();
  await page.waitForFunction(() => document.querySelectorAll('#chart polyline').length === 2);
  result.compared = await page.evaluate(() => [...document.querySelectorAll('#chart polyline')].map((p) => [p.dataset.job, Number(p.dataset.points)]));
  await axe(page, 'compare');
  await shot(page, 'compare');

  step('nodes and models');
  await page.click('a[data-nav="nodes"]');
  await page.waitForSelector('#nodes tbody tr');
  result.nodes = await page.locator('#nodes tbody tr').count();
  await axe(page, 'nodes');
  await shot(page, 'nodes');
  await page.click('a[data-nav="models"]');
  await page.waitForSelector('#models tbody tr');
  await axe(page, 'models');

  step('a phone-sized screen');
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${ui}#/jobs/${result.job}`);
  await page.waitForSelector('#chart polyline');
  result.phone_overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  await shot(page, 'job-phone');

  step('logout ends the session');
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.click('#logout');
  await page.waitForSelector('#login-form');
  result.after_logout = await page.evaluate(async () => (await fetch('/ui/api/v1/jobs')).status);
  result.page_errors = errors;
} finally {
  await browser.close();
}
console.log(`result: ${JSON.stringify(result)}`);
