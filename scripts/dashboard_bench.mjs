// How fast the dashboard's job page is for a long job: a 100,000-frame job scored by
// `vmafx up`, then its page opened fresh in headless Chromium ROUNDS times, timing the first
// byte of the page and the moment its plot is drawn (from the start of the navigation), and
// the first byte and size of the plot's data (`/series`). Goal (issue 17): under 200 ms to the
// first byte, under 1 s to a drawn plot.
//
//   node scripts/dashboard_bench.mjs OUT_DIR VMAFX NODE_MODULES CHROMIUM [FRAMES] [ROUNDS]
//
// Writes OUT_DIR/dashboard.md and OUT_DIR/dashboard.json.
import { createRequire } from 'node:module';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const [out, vmafx, modules, chromiumPath] = process.argv.slice(2, 6);
const frames = Number(process.argv[6] || 100000);
const rounds = Number(process.argv[7] || 10);
const require = createRequire(`${modules}/`);
const { chromium } = require('playwright-core');
const log = (s) => console.error(`   ${s}`);

// The clips: tiny frames, so that scoring 100,000 of them takes seconds, not the page.
const ref = join(out, `dashboard_ref_${frames}.mp4`);
const dist = join(out, `dashboard_dist_${frames}.mp4`);
if (!existsSync(dist)) {
  log(`making a ${frames}-frame 96x64 pair`);
  const ff = (args) => execFileSync('ffmpeg', ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y', ...args]);
  ff(['-f', 'lavfi', '-i', 'testsrc2=size=96x64:rate=25', '-frames:v', String(frames), '-c:v', 'libx264', '-crf', '10', '-pix_fmt', 'yuv420p', ref]);
  ff(['-i', ref, '-c:v', 'libx264', '-crf', '40', '-pix_fmt', 'yuv420p', dist]);
}

const data = mkdtempSync(join(tmpdir(), 'vmafx-dashboard-bench-'));
const up = spawn(vmafx, ['up', '--listen', '127.0.0.1:0', '--http-listen', '127.0.0.1:0', '--threads', '2',
  '--data-dir', data, '--allow-root', out], { stdio: ['ignore', 'pipe', 'ignore'] });
const http = await new Promise((resolve, reject) => {
  const lines = createInterface({ input: up.stdout });
  lines.on('line', (l) => {
    const m = l.match(/^vmafx up: controller on \S+ \(gRPC\) and https:\/\/(\S+) \(HTTP\)/);
    if (m) resolve(m[1]);
  });
  up.on('exit', (code) => reject(new Error(`vmafx up exited (${code})`)));
});
const token = readFileSync(join(data, 'admin.token'), 'utf8').trim();
const ui = `https://${http}/ui/`;
const browser = await chromium.launch({
  executablePath: chromiumPath,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor((s.length - 1) / 2)]; };
try {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 900 } });
  const api = context.request;
  const auth = { authorization: `Bearer ${token}` };
  const submitted = await api.post(`https://${http}/v1/jobs`, { headers: auth, data: { score: { reference: ref, distorted: dist, segment_frames: 20000 } } });
  const id = (await submitted.json()).id;
  const started = Date.now();
  for (;;) {
    const job = await (await api.get(`https://${http}/v1/jobs/${id}`, { headers: auth })).json();
    if (job.state === 'succeeded') break;
    if (['failed', 'cancelled'].includes(job.state)) throw new Error(`job ${id} ${job.state}: ${job.error}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  log(`${frames}-frame job scored in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const page = await context.newPage();
  await page.goto(ui);
  await page.getByLabel('Token').fill(token);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForSelector('#jobs');
  const samples = [];
  for (let r = 0; r <= rounds; r++) {
    await page.goto('about:blank');
    await page.goto(`${ui}#/jobs/${id}`);
    await page.waitForSelector(`#chart polyline[data-job="${id}"]`);
    const t = await page.evaluate(() => {
      const nav = performance.getEntriesByType('navigation')[0];
      const series = performance.getEntriesByType('resource').find((e) => e.name.includes('/series'));
      return {
        page_ttfb_ms: nav.responseStart - nav.startTime,
        plot_drawn_ms: performance.now(),
        series_ttfb_ms: series.responseStart - series.startTime,
        series_ms: series.responseEnd - series.startTime,
        series_bytes: series.encodedBodySize,
        points: Number(document.querySelector('#chart polyline').dataset.points),
      };
    });
    if (r > 0) samples.push(t); // round 0 warms the caches
    log(`round ${r}: first byte ${t.page_ttfb_ms.toFixed(1)} ms, plot drawn ${t.plot_drawn_ms.toFixed(0)} ms, series ${t.series_ms.toFixed(0)} ms (${t.series_bytes} bytes, ${t.points} points)`);
  }
  const m = (k) => median(samples.map((s) => s[k]));
  const max = (k) => Math.max(...samples.map((s) => s[k]));
  const result = { frames, rounds, job: id, samples };
  writeFileSync(join(out, 'dashboard.json'), JSON.stringify(result, null, 1));
  const row = (what, k, goal) => `| ${what} | ${m(k).toFixed(k === 'plot_drawn_ms' ? 0 : 1)} ms | ${max(k).toFixed(k === 'plot_drawn_ms' ? 0 : 1)} ms | ${goal} |`;
  writeFileSync(join(out, 'dashboard.md'), [
    `### Dashboard: a ${frames.toLocaleString('en')}-frame job's page`,
    '',
    `Headless Chromium, the job page opened fresh ${rounds} times (after one warm-up), \`vmafx up\` release build on loopback (TLS).`,
    '',
    '| measure | median | worst | goal |',
    '|---|---|---|---|',
    row('page: first byte', 'page_ttfb_ms', 'under 200 ms'),
    row('plot drawn (from navigation start)', 'plot_drawn_ms', 'under 1 s'),
    row('plot data (`/series`): first byte', 'series_ttfb_ms', '—'),
    row('plot data (`/series`): complete', 'series_ms', '—'),
    '',
    `The plot data (VMAF only, the page asks for one metric at a time) is ${(m('series_bytes') / 1024).toFixed(0)} KiB on the wire: ${m('points')} points, the first, lowest, highest and last value of each of 2,500 buckets of ${frames.toLocaleString('en')} frames.`,
    '',
  ].join('\n'));
} finally {
  await browser.close();
  up.kill('SIGTERM');
}
