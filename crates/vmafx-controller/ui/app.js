// The vmafx dashboard: one page drawn from the controller's JSON API (/ui/api/v1, the same
// routes as /v1, authenticated by the session cookie). Every text from the API goes in with
// textContent (never as HTML), and the page loads nothing but this origin's files.
'use strict';

const API = '/ui/api/v1';
const STATES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];
const COLORS = ['#1f5fbf', '#b35c00', '#2a9d3f', '#7a3fb0', '#008b8b', '#8b6b00'];
const PAGE_SIZES = [25, 50, 100];

let me = null;          // {name, role} of the session
let events = null;      // the live EventSource while the jobs or a job page shows
let timers = [];        // intervals of the page shown

// ---- small helpers -------------------------------------------------------------------

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== null && v !== undefined) el.setAttribute(k, v);
  for (const c of children.flat(Infinity)) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

function announce(text) {
  const region = document.getElementById('live-region');
  region.textContent = '';
  setTimeout(() => { region.textContent = text; }, 50);
}

function fmt(x, digits = 3) {
  return (x === null || x === undefined || Number.isNaN(x)) ? '—' : Number(x).toFixed(digits);
}

function when(ms) {
  return ms ? new Date(ms).toLocaleString() : '—';
}

function badge(state) {
  return h('span', { class: `state state-${state}` }, state);
}

class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error && body.error.message) || `HTTP ${status}`);
    this.status = status;
  }
}

async function api(path, options = {}) {
  const res = await fetch(path.startsWith('/') ? path : `${API}/${path}`, {
    credentials: 'same-origin',
    headers: options.body ? { 'content-type': 'application/json' } : {},
    ...options,
  });
  if (res.status === 204) return null;
  let body = null;
  try { body = await res.json(); } catch (_) { body = null; }
  if (res.status === 401 && !path.startsWith('/ui/login')) {
    me = null;
    go('#/login');
    throw new ApiError(401, body);
  }
  if (!res.ok) throw new ApiError(res.status, body);
  return body;
}

function canSubmit() { return me && (me.role === 'submit' || me.role === 'admin'); }
function isAdmin() { return me && me.role === 'admin'; }

function go(hash) {
  if (location.hash === hash) route(); else location.hash = hash;
}

function stopPage() {
  if (events) { events.close(); events = null; }
  timers.forEach(clearInterval);
  timers = [];
}

function show(title, ...content) {
  const main = document.getElementById('main');
  main.replaceChildren(h('h1', {}, title), ...content);
  document.title = `${title} · vmafx`;
}

function problem(e) {
  return h('p', { class: 'error', role: 'alert' }, e.message || String(e));
}

// ---- routing -------------------------------------------------------------------------

async function route() {
  stopPage();
  const [path, query] = (location.hash.slice(1) || '/jobs').split('?');
  const params = new URLSearchParams(query || '');
  const parts = path.split('/').filter(Boolean);
  if (!me && parts[0] !== 'login') {
    try { me = await api('/ui/session'); } catch (_) { return; }
  }
  document.getElementById('nav').hidden = !me;
  document.getElementById('who').hidden = !me;
  if (me) document.getElementById('who-name').textContent = `${me.name} (${me.role})`;
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === parts[0]) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  try {
    switch (parts[0]) {
      case 'login': return loginPage();
      case 'jobs': return parts[1] ? jobPage(decodeURIComponent(parts[1])) : jobsPage(params);
      case 'submit': return submitPage();
      case 'compare': return comparePage(params);
      case 'nodes': return nodesPage();
      case 'models': return modelsPage();
      default: return go('#/jobs');
    }
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 401)) show('Something went wrong', problem(e));
  }
}

// ---- login ---------------------------------------------------------------------------

function loginPage() {
  me = null;
  document.getElementById('nav').hidden = true;
  document.getElementById('who').hidden = true;
  const error = h('p', { class: 'error', role: 'alert', id: 'login-error' });
  const input = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'current-password', required: true, 'aria-describedby': 'token-hint' });
  const form = h('form', { class: 'panel login', id: 'login-form' },
    h('div', { class: 'field' },
      h('label', { for: 'token' }, 'Token'),
      input,
      h('span', { class: 'hint', id: 'token-hint' }, 'A read token is enough to look; submitting needs a submit or admin token (admin.token in the controller\'s data directory, or one from vmafx tokens create).')),
    h('button', { type: 'submit' }, 'Log in'),
    error);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.textContent = '';
    try {
      me = await api('/ui/login', { method: 'POST', body: JSON.stringify({ token: input.value }) });
      input.value = '';
      go('#/jobs');
    } catch (e) {
      error.textContent = e.status === 401 ? 'That token was not accepted: check it and try again.' : e.message;
      input.focus();
    }
  });
  show('Log in to vmafx', form);
  input.focus();
}

async function logout() {
  try { await api('/ui/logout', { method: 'POST' }); } catch (_) { /* gone already */ }
  me = null;
  go('#/login');
}

// ---- jobs ----------------------------------------------------------------------------

function progressCell(job) {
  const total = job.total_frames || 0;
  const done = Math.min(job.frames_done || 0, total);
  const pct = total ? Math.round((100 * done) / total) : (job.state === 'succeeded' ? 100 : 0);
  return h('td', {},
    h('progress', { max: 100, value: pct, 'aria-label': `Progress of job ${job.id}` }),
    ` ${pct}%`);
}

function jobRow(job) {
  return h('tr', { 'data-job': job.id, 'data-state': job.state },
    h('td', {}, h('a', { href: `#/jobs/${encodeURIComponent(job.id)}` }, job.id)),
    h('td', {}, badge(job.state)),
    progressCell(job),
    h('td', { class: 'num' }, fmt(job.vmaf)),
    h('td', { class: 'subject' }, job.kind === 'encode' ? `encode: ${job.spec.reference}` : job.kind === 'pictures' ? `pictures of frames ${job.spec.pictures.frames.join(', ')}: ${job.spec.distorted}` : job.spec.distorted),
    h('td', { class: 'hide-narrow' }, when(job.submitted_ms)));
}

function jobsTable(jobs) {
  return h('div', { class: 'table-wrap' },
    h('table', { id: 'jobs' },
      h('caption', { class: 'visually-hidden' }, 'Jobs, newest first'),
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, 'Job'), h('th', { scope: 'col' }, 'State'), h('th', { scope: 'col' }, 'Progress'),
        h('th', { scope: 'col', class: 'num' }, 'VMAF'), h('th', { scope: 'col' }, 'Distorted'),
        h('th', { scope: 'col', class: 'hide-narrow' }, 'Submitted'))),
      h('tbody', {}, jobs.map(jobRow))));
}

function liveLabel() {
  return h('span', { class: 'live', id: 'live', 'data-state': 'down' }, 'connecting…');
}

// Follows /v1/events: `onJob` gets each job that changed.
function follow(onJob) {
  const label = document.getElementById('live');
  events = new EventSource(`${API}/events`);
  events.addEventListener('open', () => { if (label) { label.dataset.state = 'live'; label.textContent = 'live'; } });
  events.addEventListener('error', () => { if (label) { label.dataset.state = 'down'; label.textContent = 'reconnecting…'; } });
  events.addEventListener('job', (ev) => onJob(JSON.parse(ev.data)));
}

async function jobsPage(params) {
  const state = params.get('state') || '';
  const size = Number(params.get('size')) || 25;
  const token = params.get('page') || '';
  const text = (params.get('q') || '').toLowerCase();
  const query = new URLSearchParams({ page_size: size });
  if (state) query.set('state', state);
  if (token) query.set('page_token', token);
  const page = await api(`jobs?${query}`);
  const matches = (job) => (!state || job.state === state)
    && (!text || `${job.id} ${job.spec.distorted} ${job.spec.reference}`.toLowerCase().includes(text));
  const jobs = page.jobs.filter(matches);

  const link = (changes) => {
    const p = new URLSearchParams({ state, size, q: text, page: token, ...changes });
    for (const [k, v] of [...p]) if (!v) p.delete(k);
    return `#/jobs?${p}`;
  };
  const stateSelect = h('select', { id: 'filter-state', name: 'state' },
    h('option', { value: '' }, 'Any state'),
    STATES.map((st) => h('option', { value: st, selected: st === state }, st)));
  const sizeSelect = h('select', { id: 'filter-size', name: 'size' },
    PAGE_SIZES.map((n) => h('option', { value: n, selected: n === size }, n)));
  const search = h('input', { id: 'filter-text', name: 'q', type: 'search', value: text, placeholder: 'id or file name' });
  const filters = h('form', { class: 'row', role: 'search', 'aria-label': 'Filter jobs' },
    h('div', { class: 'field' }, h('label', { for: 'filter-state' }, 'State'), stateSelect),
    h('div', { class: 'field' }, h('label', { for: 'filter-text' }, 'Search'), search),
    h('div', { class: 'field' }, h('label', { for: 'filter-size' }, 'Per page'), sizeSelect),
    h('button', { type: 'submit', class: 'secondary' }, 'Apply'),
    liveLabel());
  filters.addEventListener('submit', (ev) => {
    ev.preventDefault();
    go(link({ state: stateSelect.value, size: sizeSelect.value, q: search.value.trim(), page: '' }));
  });
  stateSelect.addEventListener('change', () => go(link({ state: stateSelect.value, page: '' })));
  sizeSelect.addEventListener('change', () => go(link({ size: sizeSelect.value, page: '' })));

  const pager = h('nav', { class: 'pager', 'aria-label': 'Pages' },
    token ? h('a', { class: 'button secondary', href: link({ page: '' }) }, 'Newest') : null,
    page.next_page_token ? h('a', { class: 'button secondary', href: link({ page: page.next_page_token }), id: 'older' }, 'Older jobs') : null);
  const empty = h('p', { class: 'note', id: 'no-jobs', hidden: jobs.length > 0 }, 'No jobs here yet.', canSubmit() ? [' ', h('a', { href: '#/submit' }, 'Submit one')] : []);
  show('Jobs', filters, jobsTable(jobs), empty, pager);

  follow((job) => {
    const tbody = document.querySelector('#jobs tbody');
    if (!tbody) return;
    const row = tbody.querySelector(`tr[data-job="${CSS.escape(job.id)}"]`);
    if (row) {
      const before = row.dataset.state;
      row.replaceWith(jobRow(job));
      if (before !== job.state) announce(`Job ${job.id} is ${job.state}`);
    } else if (!token && matches(job)) {
      tbody.prepend(jobRow(job));
      while (tbody.rows.length > size) tbody.lastElementChild.remove();
      document.getElementById('no-jobs').hidden = true;
    }
  });
}

// ---- one job -------------------------------------------------------------------------

function facts(pairs) {
  return h('dl', { class: 'facts' }, pairs.filter(([, v]) => v !== null && v !== undefined && v !== '')
    .map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

function summary(job) {
  const spec = job.spec;
  return h('section', { class: 'panel', id: 'summary', 'aria-label': 'Summary' },
    facts([
      ['State', badge(job.state)],
      ['Progress', `${job.frames_done} of ${job.total_frames || '?'} frames, ${job.segments_done} of ${job.segments_total} segments`],
      ['VMAF', fmt(job.vmaf)],
      ['Reference', spec.reference],
      ['Distorted', job.kind === 'encode' ? `encode with ${spec.encode.encoder}` : spec.distorted],
      ['Model', spec.model || 'vmaf_v0.6.1'],
      ['Features', (spec.features || []).join(', ')],
      ['Submitted', when(job.submitted_ms)],
      ['Started', when(job.started_ms)],
      ['Finished', when(job.finished_ms)],
      ['Error', job.error ? h('span', { class: 'error' }, job.error) : null],
    ]),
    (job.notes || []).length ? h('ul', { class: 'notes' }, job.notes.map((n) => h('li', {}, `${n.level}: ${n.message}`))) : null);
}

function pooledTable(pooled) {
  const cols = ['mean', 'harmonic_mean', 'min', 'max', 'p1', 'p5', 'p50'];
  return h('div', { class: 'table-wrap' }, h('table', { id: 'pooled' },
    h('caption', { class: 'visually-hidden' }, 'Pooled scores per metric'),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Metric'), cols.map((c) => h('th', { scope: 'col', class: 'num' }, c.replace('_', ' '))))),
    h('tbody', {}, Object.entries(pooled).map(([m, p]) =>
      h('tr', {}, h('th', { scope: 'row' }, m), cols.map((c) => h('td', { class: 'num' }, fmt(p[c]))))))));
}

async function segmentsTable(id) {
  const [{ segments }, { nodes }] = await Promise.all([api(`jobs/${encodeURIComponent(id)}/segments`), api('nodes')]);
  const names = Object.fromEntries(nodes.map((n) => [n.id, n.name]));
  return h('div', { class: 'table-wrap' }, h('table', { id: 'segments' },
    h('caption', { class: 'visually-hidden' }, 'Segments and the node that scored each'),
    h('thead', {}, h('tr', {}, ['Segment', 'Frames', 'State', 'Attempts', 'Node', 'Last error'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, segments.map((seg) => h('tr', {},
      h('td', {}, seg.index), h('td', {}, `${seg.start}–${seg.start + seg.frames - 1}`), h('td', {}, badge(seg.state)),
      h('td', {}, seg.attempts), h('td', {}, seg.node ? (names[seg.node] || seg.node) : '—'), h('td', {}, seg.error || ''))))));
}

async function jobPage(id) {
  const path = `jobs/${encodeURIComponent(id)}`;
  let job = await api(path);
  const succeeded = job.state === 'succeeded';
  // What a succeeded job's page shows, asked for all at once.
  const [full, table, chart] = await Promise.all([
    succeeded ? api(`${path}?scores=true&frames=false`) : job,
    segmentsTable(id),
    succeeded ? chartSection([id]) : null,
  ]);
  job = full;
  const actions = h('div', { class: 'actions' });
  const segments = h('section', { 'aria-labelledby': 'segments-title' }, h('h2', { id: 'segments-title' }, 'Segments'), table);
  const parts = [summary(job), actions];
  if (['queued', 'running'].includes(job.state) && canSubmit()) {
    actions.append(h('button', { type: 'button', class: 'danger', onclick: async () => {
      try { await api(`jobs/${encodeURIComponent(id)}`, { method: 'DELETE' }); route(); } catch (e) { actions.append(problem(e)); }
    } }, 'Cancel job'));
  }
  if (succeeded) {
    actions.append(
      h('a', { class: 'button secondary', href: `${API}/jobs/${encodeURIComponent(id)}/frames.csv`, download: `vmafx-${id}.csv` }, 'Download CSV'),
      h('a', { class: 'button secondary', href: `${API}/jobs/${encodeURIComponent(id)}?scores=true`, download: `vmafx-${id}.json` }, 'Download JSON'),
      h('a', { class: 'button secondary', href: `#/compare?a=${encodeURIComponent(id)}` }, 'Compare with another job'));
    parts.push(
      chart,
      h('section', { 'aria-labelledby': 'pooled-title' }, h('h2', { id: 'pooled-title' }, 'Pooled scores'), pooledTable(job.pooled_metrics || {})),
      worstSection(id, chart.worst));
  } else if (!['failed', 'cancelled'].includes(job.state)) {
    parts.push(h('p', { class: 'note' }, liveLabel(), ' The plot appears when the job has succeeded.'));
  }
  parts.push(segments);
  show(`Job ${id}`, ...parts);
  if (!['succeeded', 'failed', 'cancelled'].includes(job.state)) {
    follow((j) => { if (j.id === id) route(); });
  }
}

// ---- the per-frame plot --------------------------------------------------------------

const W = 1000, H = 360, L = 56, R = 16, T = 16, B = 40;

// A plot of one metric of one or more jobs: zoom by dragging or with the controls (the
// window is fetched again, so a zoom into bucketed frames shows every frame), hover or
// arrow keys for a frame's values.
async function chartSection(ids) {
  const section = h('section', { 'aria-labelledby': 'plot-title', id: 'plot' }, h('h2', { id: 'plot-title' }, 'Per-frame scores'));
  // One metric at a time: the plot's data stays small however many features a job has.
  const fetchWindow = (id, m, from, to) => api(`jobs/${encodeURIComponent(id)}/series?metrics=${encodeURIComponent(m)}`
    + (from === undefined ? '' : `&from=${from}&to=${to}`));
  let windows = await Promise.all(ids.map((id) => fetchWindow(id, 'vmaf')));
  const first = Math.min(...windows.map((w) => w.first));
  const last = Math.max(...windows.map((w) => w.last));
  const metrics = windows[0].all_metrics;
  let metric = 'vmaf';
  // Every metric's value at a frame, for the tooltip of a one-job plot (asked when hovered).
  const frameValues = new Map();
  let view = [first, last];
  let cursor = null;

  const metricSelect = h('select', { id: 'plot-metric' }, metrics.map((m) => h('option', { value: m, selected: m === metric }, m)));
  const fromInput = h('input', { id: 'plot-from', type: 'number', min: first, max: last, value: first, inputmode: 'numeric', size: 7 });
  const toInput = h('input', { id: 'plot-to', type: 'number', min: first, max: last, value: last, inputmode: 'numeric', size: 7 });
  const status = h('p', { class: 'note', id: 'plot-status', 'aria-live': 'polite' });
  const svg = s('svg', { class: 'chart', id: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img', tabindex: 0, 'aria-labelledby': 'plot-title', 'aria-describedby': 'plot-status' });
  const tip = h('div', { class: 'tooltip', id: 'plot-tip', hidden: true });
  const legend = h('div', { class: 'legend' }, ids.map((id, i) => h('span', {}, h('span', { class: 'swatch' }), `job ${id}`)));
  legend.querySelectorAll('.swatch').forEach((sw, i) => { sw.style.background = COLORS[i % COLORS.length]; });

  const x = (f) => L + ((f - view[0]) / Math.max(1, view[1] - view[0])) * (W - L - R);
  const frameAt = (px) => Math.round(view[0] + ((px - L) / (W - L - R)) * Math.max(1, view[1] - view[0]));
  let y = () => 0;

  function draw() {
    svg.replaceChildren();
    const values = windows.flatMap((w) => (w.metrics[metric] || []).filter(([f]) => f >= view[0] && f <= view[1]).map(([, v]) => v));
    let lo = Math.min(...values), hi = Math.max(...values);
    if (!values.length) { lo = 0; hi = 1; }
    if (metric === 'vmaf') { lo = Math.min(lo, 0) === lo && lo < 0 ? lo : Math.max(0, Math.floor(lo / 10) * 10); hi = Math.max(100, hi); }
    if (hi - lo < 1e-9) { hi = lo + 1; }
    y = (v) => T + (1 - (v - lo) / (hi - lo)) * (H - T - B);
    for (let i = 0; i <= 5; i++) {
      const v = lo + ((hi - lo) * i) / 5;
      svg.append(s('line', { class: 'grid', x1: L, x2: W - R, y1: y(v), y2: y(v) }),
        s('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end' }, Number(v.toFixed(2))));
    }
    for (let i = 0; i <= 6; i++) {
      const f = Math.round(view[0] + ((view[1] - view[0]) * i) / 6);
      svg.append(s('text', { x: x(f), y: H - B + 18, 'text-anchor': 'middle' }, f));
    }
    svg.append(s('line', { class: 'axis', x1: L, x2: L, y1: T, y2: H - B }), s('line', { class: 'axis', x1: L, x2: W - R, y1: H - B, y2: H - B }),
      s('text', { x: (L + W - R) / 2, y: H - 6, 'text-anchor': 'middle' }, 'frame'));
    windows.forEach((w, i) => {
      const pts = (w.metrics[metric] || []).filter(([f]) => f >= view[0] && f <= view[1]);
      svg.append(s('polyline', {
        class: 'series', stroke: COLORS[i % COLORS.length], 'data-job': ids[i], 'data-metric': metric,
        'data-points': pts.length, 'data-bucketed': w.bucketed ? 'true' : 'false',
        points: pts.map(([f, v]) => `${x(f).toFixed(2)},${y(v).toFixed(2)}`).join(' '),
      }));
    });
    if (metric === 'vmaf' && ids.length === 1) {
      for (const wf of windows[0].worst.filter((wf) => wf.frame >= view[0] && wf.frame <= view[1])) {
        svg.append(s('circle', { class: 'worst', cx: x(wf.frame), cy: y(wf.vmaf), r: 6, 'data-frame': wf.frame },
          s('title', {}, `worst frame ${wf.frame}: VMAF ${fmt(wf.vmaf)}`)));
      }
    }
    if (cursor !== null) svg.append(s('line', { class: 'cursor', x1: x(cursor), x2: x(cursor), y1: T, y2: H - B }));
    const n = windows.map((w) => (w.metrics[metric] || []).filter(([f]) => f >= view[0] && f <= view[1]).length);
    status.textContent = `${metric}, frames ${view[0]}–${view[1]}: ` + (windows.some((w) => w.bucketed)
      ? `more frames than points, each point is the lowest or highest of its stretch; zoom in for every frame.`
      : `one point per frame (${n.join(', ')} points).`);
  }

  async function zoomTo(a, b) {
    a = Math.max(first, Math.min(a, b)); b = Math.min(last, Math.max(a, b));
    if (b - a < 2) { b = Math.min(last, a + 2); a = Math.max(first, b - 2); }
    view = [a, b];
    fromInput.value = a;
    toInput.value = b;
    // A window that was bucketed is fetched again for the frames now shown.
    windows = await Promise.all(ids.map((id, i) => windows[i].bucketed || windows[i].from > a || windows[i].to < b
      ? fetchWindow(id, metric, a, b) : windows[i]));
    draw();
  }

  async function showMetric(m) {
    metric = m;
    windows = await Promise.all(ids.map((id) => fetchWindow(id, m, view[0], view[1])));
    draw();
  }

  let asking = null;
  function askFrameValues(frame) {
    if (ids.length !== 1 || frameValues.has(frame)) return;
    clearTimeout(asking);
    asking = setTimeout(async () => {
      try {
        const w = await api(`jobs/${encodeURIComponent(ids[0])}/series?from=${frame}&to=${frame}`);
        frameValues.set(frame, Object.fromEntries(Object.entries(w.metrics).filter(([, p]) => p.length).map(([m, p]) => [m, p[0][1]])));
        if (cursor === frame && !tip.hidden) showTip(frame, parseFloat(tip.style.left), parseFloat(tip.style.top) + 10);
      } catch (_) { /* the tooltip keeps the plotted metric */ }
    }, 120);
  }

  function showTip(frame, px, py) {
    cursor = Math.max(view[0], Math.min(view[1], frame));
    const rows = windows.map((w, i) => {
      const pts = w.metrics[metric] || [];
      let best = null;
      for (const p of pts) if (!best || Math.abs(p[0] - cursor) < Math.abs(best[0] - cursor)) best = p;
      return best ? `job ${ids[i]}: frame ${best[0]}, ${metric} ${fmt(best[1])}` : `job ${ids[i]}: no value`;
    });
    if (ids.length === 1) {
      const values = frameValues.get(cursor);
      if (values) rows.push(...Object.entries(values).filter(([m]) => m !== metric).slice(0, 8).map(([m, v]) => `${m} ${fmt(v)}`));
      else askFrameValues(cursor);
    }
    tip.replaceChildren(...rows.map((r) => h('div', {}, r)));
    tip.hidden = false;
    const box = svg.getBoundingClientRect();
    tip.style.left = `${Math.min(px, box.width - 220)}px`;
    tip.style.top = `${Math.max(0, py - 10)}px`;
    draw();
  }

  let drag = null;
  const toSvgX = (ev) => { const box = svg.getBoundingClientRect(); return ((ev.clientX - box.left) / box.width) * W; };
  svg.addEventListener('pointerdown', (ev) => { drag = { start: toSvgX(ev) }; svg.setPointerCapture(ev.pointerId); });
  svg.addEventListener('pointermove', (ev) => {
    const box = svg.getBoundingClientRect();
    const sx = toSvgX(ev);
    if (drag) {
      draw();
      svg.append(s('rect', { class: 'selection', x: Math.min(drag.start, sx), y: T, width: Math.abs(sx - drag.start), height: H - T - B }));
    } else {
      showTip(frameAt(sx), ev.clientX - box.left + 12, ev.clientY - box.top);
    }
  });
  svg.addEventListener('pointerup', (ev) => {
    if (!drag) return;
    const a = frameAt(drag.start), b = frameAt(toSvgX(ev));
    drag = null;
    if (Math.abs(b - a) >= 2) zoomTo(a, b);
  });
  svg.addEventListener('pointerleave', () => { if (!drag) { tip.hidden = true; cursor = null; draw(); } });
  svg.addEventListener('keydown', (ev) => {
    const step = ev.shiftKey ? 10 : 1;
    if (ev.key === 'ArrowRight' || ev.key === 'ArrowLeft') {
      ev.preventDefault();
      const f = (cursor === null ? view[0] : cursor) + (ev.key === 'ArrowRight' ? step : -step);
      showTip(f, ((x(Math.max(view[0], Math.min(view[1], f))) / W) * svg.getBoundingClientRect().width) + 12, 20);
      announce(tip.textContent);
    } else if (ev.key === '+' || ev.key === '=') { zoomButtons.in(); } else if (ev.key === '-') { zoomButtons.out(); }
  });

  const zoomButtons = {
    in: () => { const c = cursor ?? (view[0] + view[1]) / 2; const half = Math.max(1, (view[1] - view[0]) / 4); zoomTo(Math.round(c - half), Math.round(c + half)); },
    out: () => { const half = (view[1] - view[0]); zoomTo(Math.round(view[0] - half / 2), Math.round(view[1] + half / 2)); },
  };
  metricSelect.addEventListener('change', () => showMetric(metricSelect.value));
  const range = h('form', { class: 'row', 'aria-label': 'Plot controls' },
    h('div', { class: 'field' }, h('label', { for: 'plot-metric' }, 'Metric'), metricSelect),
    h('div', { class: 'field' }, h('label', { for: 'plot-from' }, 'From frame'), fromInput),
    h('div', { class: 'field' }, h('label', { for: 'plot-to' }, 'To frame'), toInput),
    h('button', { type: 'submit', class: 'secondary' }, 'Show frames'),
    h('button', { type: 'button', class: 'secondary', onclick: zoomButtons.in }, 'Zoom in'),
    h('button', { type: 'button', class: 'secondary', onclick: zoomButtons.out }, 'Zoom out'),
    h('button', { type: 'button', class: 'secondary', onclick: () => zoomTo(first, last) }, 'All frames'));
  range.addEventListener('submit', (ev) => { ev.preventDefault(); zoomTo(Number(fromInput.value), Number(toInput.value)); });
  section.append(range, h('div', { class: 'chart-box' }, svg, tip), ...(ids.length > 1 ? [legend] : []), status,
    h('p', { class: 'note' }, 'Drag across the plot to zoom; with the plot focused, arrow keys move between frames and + / − zoom.'));
  draw();
  section.worst = windows[0].worst;
  return section;
}

// ---- worst frames --------------------------------------------------------------------

// The worst frames' images are made by a node (the controller never reads inputs): the
// first request queues that small job, and the answer is 202 until the images exist.
function worstSection(id, worst) {
  const section = h('section', { 'aria-labelledby': 'worst-title', id: 'worst' }, h('h2', { id: 'worst-title' }, 'Worst frames'));
  if (!worst.length) { section.append(h('p', { class: 'note' }, 'No VMAF values to rank.')); return section; }
  const status = h('p', { class: 'note', id: 'worst-status', 'aria-live': 'polite' }, 'Asking a node for the images…');
  section.append(status);
  const figures = worst.map((wf) => {
    const box = h('div', { class: 'worst-frame', 'data-frame': wf.frame },
      h('h3', {}, `Frame ${wf.frame}: VMAF ${fmt(wf.vmaf)}`), h('div', { class: 'frames' }));
    section.append(box);
    return box;
  });
  const failed = (message) => {
    status.textContent = `The images could not be made: ${message}`;
    status.className = 'error';
  };
  const show = (job) => {
    worst.forEach((wf, i) => {
      const url = (side) => `${API}/jobs/${encodeURIComponent(job)}/pictures/${wf.frame}/${side}.png`;
      figures[i].querySelector('.frames').replaceChildren(
        h('figure', {}, h('img', { src: url('reference'), alt: `Reference, frame ${wf.frame}`, 'data-side': 'reference' }), h('figcaption', {}, 'Reference')),
        h('figure', {}, h('img', { src: url('distorted'), alt: `Distorted as scored, frame ${wf.frame}`, 'data-side': 'distorted' }), h('figcaption', {}, 'Distorted, as libvmaf saw it')));
    });
    status.textContent = `Made by job ${job}.`;
  };
  (async () => {
    // Asked once (the first ask queues the pictures job); then that job is followed.
    let job, state, error;
    try {
      ({ job, state, error } = await api(`jobs/${encodeURIComponent(id)}/worst-frames`));
      for (let attempt = 0; attempt < 600 && ['queued', 'running'].includes(state); attempt++) {
        status.textContent = `A node is making the images (job ${job}, ${state})…`;
        await new Promise((r) => setTimeout(r, 1000));
        if (!document.body.contains(section)) return;
        ({ state, error } = await api(`jobs/${encodeURIComponent(job)}`));
      }
    } catch (e) {
      failed(e.message);
      return;
    }
    if (state === 'ready' || state === 'succeeded') show(job);
    else failed(error || `job ${job} is ${state}`);
  })();
  return section;
}

// ---- compare -------------------------------------------------------------------------

async function comparePage(params) {
  const a = params.get('a') || '';
  const b = params.get('b') || '';
  const jobs = (await api('jobs?state=succeeded&page_size=100')).jobs.filter((j) => j.kind !== 'pictures');
  const pick = (name, value, label) => h('div', { class: 'field' }, h('label', { for: `compare-${name}` }, label),
    h('select', { id: `compare-${name}`, name },
      h('option', { value: '' }, 'Choose a job'),
      jobs.map((j) => h('option', { value: j.id, selected: j.id === value }, `${j.id} · ${fmt(j.vmaf, 2)} · ${j.spec.distorted.split('/').pop()}`))));
  const form = h('form', { class: 'row', 'aria-label': 'Jobs to compare' }, pick('a', a, 'First job'), pick('b', b, 'Second job'), h('button', { type: 'submit' }, 'Compare'));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    go(`#/compare?a=${encodeURIComponent(form.elements.a.value)}&b=${encodeURIComponent(form.elements.b.value)}`);
  });
  const parts = [form];
  if (a && b) parts.push(await chartSection([a, b]));
  else parts.push(h('p', { class: 'note' }, 'Pick two succeeded jobs to see their per-frame scores on one plot.'));
  show('Compare two jobs', ...parts);
}

// ---- nodes and models ----------------------------------------------------------------

function plural(n, word) {
  return n === undefined || n === null ? `? ${word}s` : `${n} ${word}${n === 1 ? '' : 's'}`;
}

// The encoders encode jobs can use on this node (the ones it described), and how many
// other encoders its ffmpeg has.
function encoders(c) {
  const usable = (c.encoder_options || []).map((d) => d.encoder);
  const others = (c.encoders || []).length - usable.length;
  if (!usable.length) return others > 0 ? `${others} ffmpeg encoders, none for encode jobs` : '—';
  return `${usable.join(', ')}${others > 0 ? ` (and ${others} other ffmpeg encoders)` : ''}`;
}

async function nodesTable() {
  const [{ nodes }, running] = await Promise.all([api('nodes'), api('jobs?state=running&page_size=100')]);
  const busy = {};
  await Promise.all(running.jobs.map(async (job) => {
    const { segments } = await api(`jobs/${encodeURIComponent(job.id)}/segments`);
    for (const seg of segments.filter((sg) => sg.state === 'leased' && sg.node)) {
      (busy[seg.node] = busy[seg.node] || []).push([job.id, seg]);
    }
  }));
  return h('div', { class: 'table-wrap' }, h('table', { id: 'nodes' },
    h('caption', { class: 'visually-hidden' }, 'Registered nodes'),
    h('thead', {}, h('tr', {}, ['Node', 'State', 'Slots', 'GPU', 'Encoders for encode jobs, ffmpeg, labels', 'Running now', 'Last seen', 'Actions'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, nodes.map((n) => {
      const c = n.capabilities || {};
      return h('tr', { 'data-node': n.id },
        h('th', { scope: 'row' }, n.name, h('div', { class: 'note' }, n.id)),
        h('td', {}, badge(n.state)),
        h('td', {}, `${plural(c.slots, 'slot')}, ${plural(c.cores, 'core')}`),
        h('td', {}, c.gpu_vendor ? `${c.gpu_vendor} ${c.gpu_model || ''}` : 'none'),
        h('td', { class: 'subject' }, encoders(c),
          c.ffmpeg_version ? h('div', { class: 'note' }, `ffmpeg ${c.ffmpeg_version}`) : null,
          Object.keys(c.labels || {}).length ? h('div', { class: 'note' }, Object.entries(c.labels).map(([k, v]) => `${k}=${v}`).join(', ')) : null),
        h('td', {}, (busy[n.id] || []).map(([job, seg]) => h('div', {}, h('a', { href: `#/jobs/${encodeURIComponent(job)}` }, job), ` segment ${seg.index}`)), (busy[n.id] || []).length ? null : 'idle'),
        h('td', {}, when(n.last_seen_ms)),
        h('td', {}, isAdmin() && n.state === 'live' ? h('button', { type: 'button', class: 'secondary', 'aria-label': `Drain node ${n.name}`, onclick: async (ev) => {
          ev.target.disabled = true;
          try { await api(`nodes/${encodeURIComponent(n.id)}/drain`, { method: 'POST' }); announce(`Node ${n.name} is draining`); } catch (e) { ev.target.after(problem(e)); }
        } }, 'Drain') : null));
    }))));
}

async function nodesPage() {
  const holder = h('div', { id: 'nodes-holder' }, await nodesTable());
  show('Nodes', h('p', { class: 'note' }, 'Live nodes take work; draining ones finish what they run and take no more; gone ones have not been heard from. Updated every 2 seconds.'), holder);
  timers.push(setInterval(async () => {
    try { holder.replaceChildren(await nodesTable()); } catch (_) { /* next tick */ }
  }, 2000));
}

async function modelsPage() {
  const { models, registry_problem: problem } = await api('models');
  const builtin = models.filter((m) => m.source !== 'registry');
  const registry = models.filter((m) => m.source === 'registry');
  const metric = (m, i) => (m.holdout ? m.holdout[i].toFixed(i === 2 ? 2 : 3) : '');
  show('Models',
    h('h2', {}, 'Built into libvmaf'),
    h('div', { class: 'table-wrap' }, h('table', { id: 'models' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Model'), h('th', { scope: 'col' }, 'For'), h('th', { scope: 'col' }, 'Default'))),
      h('tbody', {}, builtin.map((m) => h('tr', {}, h('th', { scope: 'row' }, m.name), h('td', {}, m.description), h('td', {}, m.default ? 'yes' : '')))))),
    h('h2', {}, 'Model registry'),
    problem ? h('p', { class: 'error', role: 'alert' }, `The model registry cannot be read: ${problem}`) : null,
    registry.length === 0
      ? h('p', { class: 'note' }, 'No model registry models here (vmafx-controller --model-registry DIR lists one): jobs use the built-in models above, or a model file given by path.')
      : h('div', { class: 'table-wrap' }, h('table', { id: 'registry-models' },
        h('caption', {}, 'ONNX models: their output is an estimate of VMAF by that model, named ID@VERSION; a job asks for one as an estimate beside VMAF.'),
        h('thead', {}, h('tr', {}, ['Model', 'Kind', 'Features', 'Frames', 'Served', 'PLCC', 'SROCC', 'RMSE', 'Parent', 'Created'].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, registry.map((m) => h('tr', {}, h('th', { scope: 'row' }, m.name), h('td', {}, m.kind),
          h('td', {}, (m.features || []).join(', ')), h('td', {}, framesOf(m)), h('td', {}, m.served ? 'yes' : ''),
          h('td', {}, metric(m, 0)), h('td', {}, metric(m, 1)), h('td', {}, metric(m, 2)), h('td', {}, m.parent || ''), h('td', {}, m.created_at || '')))))));
}

// What a registry model's features are measured on: its centre crop and downscale.
function framesOf(m) {
  const parts = [];
  if ((m.crop || 1) > 1) parts.push(`centre 1/${m.crop}`);
  if ((m.downscale || 1) > 1) parts.push(`1/${m.downscale} size`);
  return parts.length ? parts.join(', ') : 'whole, full size';
}

// ---- submit --------------------------------------------------------------------------

async function submitPage() {
  if (!canSubmit()) {
    show('Submit a job', h('p', { class: 'note' }, `Your token (${me.name}) may only look: log in with a submit or admin token to submit.`));
    return;
  }
  const { models, features } = await api('models');
  const field = (id, label, input, hint) => h('div', { class: 'field' }, h('label', { for: id }, label), input,
    hint ? h('span', { class: 'hint', id: `${id}-hint` }, hint) : null);
  const text = (id, required, hint) => h('input', { id, name: id, type: 'text', required, 'aria-describedby': hint ? `${id}-hint` : null, autocomplete: 'off' });
  const error = h('p', { class: 'error', role: 'alert', id: 'submit-error' });
  const form = h('form', { class: 'panel', id: 'submit-form' },
    field('reference', 'Reference', text('reference', true, true), 'A path or URI every node can read (s3://, gs://, az://, https://, or a file path).'),
    field('distorted', 'Distorted', text('distorted', true, true), 'Scored against the reference, brought to its size and format as docs/scoring.md says.'),
    h('div', { class: 'row' },
      field('model', 'Model', h('select', { id: 'model', name: 'model' }, models.filter((m) => m.source !== 'registry').map((m) => h('option', { value: m.name, selected: m.default }, m.name)))),
      field('subsample', 'Every n-th frame', h('input', { id: 'subsample', name: 'subsample', type: 'number', min: 1, value: 1 })),
      field('segment_frames', 'Frames per segment', h('input', { id: 'segment_frames', name: 'segment_frames', type: 'number', min: 0, value: '', placeholder: 'automatic', 'aria-describedby': 'segment_frames-hint' }), 'Split across nodes; empty: the controller decides.'),
      field('priority', 'Priority', h('input', { id: 'priority', name: 'priority', type: 'number', value: 0 }))),
    h('fieldset', {}, h('legend', {}, 'Extra features'),
      (features || []).map((f) => h('label', { title: f.description }, h('input', { type: 'checkbox', name: 'features', value: f.name }), ` ${f.name}`))),
    h('button', { type: 'submit', id: 'submit-button' }, 'Submit job'),
    error);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.textContent = '';
    const el = form.elements;
    const score = {
      reference: el.reference.value.trim(),
      distorted: el.distorted.value.trim(),
      model: el.model.value,
      subsample: Number(el.subsample.value) || 0,
      features: [...form.querySelectorAll('input[name=features]:checked')].map((c) => c.value),
    };
    if (el.segment_frames.value) score.segment_frames = Number(el.segment_frames.value);
    const button = document.getElementById('submit-button');
    button.disabled = true;
    try {
      const job = await api('jobs', { method: 'POST', body: JSON.stringify({ score, priority: Number(el.priority.value) || 0 }) });
      announce(`Job ${job.id} submitted`);
      go('#/jobs');
    } catch (e) {
      error.textContent = e.message;
      button.disabled = false;
    }
  });
  show('Submit a job', form);
}

// ---- start ---------------------------------------------------------------------------

window.addEventListener('hashchange', route);
document.addEventListener('DOMContentLoaded', () => {
  document.getElementById('logout').addEventListener('click', logout);
  route();
});
