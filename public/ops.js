/**
 * Operators' dashboard: polls the match service's /workers/stats and /health every 1.5 s
 * and shows workers, totals, and a five-minute chart of players and matches. Polls never
 * overlap: the next one is scheduled when the last one is done.
 */
import * as api from './js/api.js';
import { h, replace } from './js/dom.js';
import { formatDuration, formatNumber, plural } from './js/format.js';
import { LiveChart } from './js/liveChart.js';

const POLL_MS = 1500;
const REQUEST_TIMEOUT_MS = 3000;
const WINDOW_MS = 5 * 60_000;

const STATE_ICONS = { ready: '●', starting: '◐', draining: '◑', dead: '✕' };

/** Kept for the tab's life only: a dashboard left open on a shared screen should not keep it. */
const TOKEN_KEY = 'quiz.opsToken';

const els = {
  tokenForm: document.getElementById('token-form'),
  tokenInput: document.getElementById('ops-token'),
  tokenError: document.getElementById('token-error'),
  root: document.querySelector('[data-screen="dashboard"]'),
  status: document.getElementById('service-status'),
  updated: document.getElementById('updated'),
  target: document.getElementById('target'),
  totals: document.getElementById('totals'),
  workersBody: document.getElementById('workers-body'),
  health: document.getElementById('health'),
  hostsCard: document.getElementById('hosts-card'),
  hostsBody: document.getElementById('hosts-body'),
  chart: document.getElementById('chart'),
};

const chart = new LiveChart(els.chart, {
  windowMs: WINDOW_MS,
  series: [
    { key: 'players', label: 'players', className: 'series-players' },
    { key: 'matches', label: 'matches', className: 'series-matches' },
  ],
});

/** Samples for the chart, oldest first; `{t, gap: true}` where the service did not answer. */
const history = [];
let lastSuccess = null;

async function poll() {
  const started = Date.now();
  try {
    const { matchServiceUrl } = await api.getConfig();
    els.target.textContent = matchServiceUrl;
    els.target.title = matchServiceUrl;
    const opsToken = sessionStorage.getItem(TOKEN_KEY) ?? undefined;
    const [stats, health] = await Promise.allSettled([
      api.workerStats({ timeoutMs: REQUEST_TIMEOUT_MS, opsToken }),
      api.health({ timeoutMs: REQUEST_TIMEOUT_MS }),
    ]);
    if (stats.status === 'rejected') {
      if (stats.reason instanceof api.ApiError && stats.reason.status === 403) {
        askForToken(opsToken ? 'That token was not accepted.' : '');
        chart.render(history);
        return; // polling resumes when a token is given
      }
      throw stats.reason;
    }
    els.tokenForm.hidden = true;
    showStats(stats.value);
    showHealth(health.status === 'fulfilled' ? health.value : null);
    showReachable(health.status === 'fulfilled' ? health.value : null);
    const cluster = health.status === 'fulfilled' && health.value?.cluster;
    showHosts(cluster ? await api.hosts({ timeoutMs: REQUEST_TIMEOUT_MS, opsToken }).catch(() => null) : null, cluster);
  } catch (err) {
    showUnreachable(err);
  }
  chart.render(history);
  setTimeout(poll, Math.max(0, POLL_MS - (Date.now() - started)));
}

function record(sample) {
  history.push(sample);
  const oldest = Date.now() - WINDOW_MS - POLL_MS * 2;
  while (history.length && history[0].t < oldest) history.shift();
}

function showStats(stats) {
  const workers = Array.isArray(stats.workers) ? stats.workers : [];
  const players = workers.reduce((sum, w) => sum + (Number(w.players) || 0), 0);
  const restarts = workers.reduce((sum, w) => sum + (Number(w.restarts) || 0), 0);
  const matches = Number(stats.totalMatches) || 0;
  const capacity = (Number(stats.maxWorkers) || 0) * (Number(stats.maxMatchesPerWorker) || 0);
  lastSuccess = Date.now();
  record({ t: lastSuccess, players, matches });

  replace(
    els.totals,
    total('Workers', formatNumber(stats.totalWorkers), `of ${formatNumber(stats.maxWorkers)} at most`, 'total-workers'),
    total('Matches', formatNumber(matches), capacity ? `of ${formatNumber(capacity)} at most` : 'no set limit', 'total-matches'),
    total('Players', formatNumber(players), 'connected now', 'total-players'),
    total('Restarts', formatNumber(restarts), 'of workers, in all', 'total-restarts'),
  );

  replace(
    els.workersBody,
    workers.length === 0
      ? h('tr', {}, h('td', { colspan: '7', class: 'empty' }, 'No workers running.'))
      : workers.map((w) => {
          const matchIds = Array.isArray(w.matches) ? w.matches : [];
          const state = String(w.state ?? 'unknown');
          return h(
            'tr',
            { dataset: { testid: `worker-${w.workerId}`, state } },
            h('td', {}, String(w.workerId)),
            h('td', { class: 'num' }, String(w.pid ?? '–')),
            h('td', {}, h('span', { class: ['state', `state-${state}`] }, h('span', { 'aria-hidden': 'true' }, STATE_ICONS[state] ?? '?'), ' ', state)),
            h(
              'td',
              {},
              h('span', { class: 'num' }, String(matchIds.length)),
              matchIds.length ? h('span', { class: 'match-ids' }, ' ', matchIds.join(' ')) : null,
            ),
            h('td', { class: 'num' }, formatNumber(Number(w.players) || 0)),
            h('td', { class: ['num', Number(w.restarts) > 0 && 'warn'] }, String(w.restarts ?? 0)),
            h('td', { class: 'num' }, formatDuration(Number(w.uptimeMs))),
          );
        }),
  );
}

/**
 * One figure: label, value, and a line of context. Every tile has the same three one-line
 * parts, as have the placeholders in ops.html, so the first poll moves nothing.
 */
function total(label, value, context, testid) {
  return h(
    'div',
    { class: 'total', dataset: { testid } },
    h('span', { class: 'total-label' }, label),
    h('span', { class: 'total-value', title: value }, value),
    h('span', { class: 'total-context', title: context }, context),
  );
}

/** The hosts sharing the store, this one marked; hidden for a service that is not one of several. */
function showHosts(body, cluster) {
  els.hostsCard.hidden = !cluster;
  if (!cluster) return;
  const list = Array.isArray(body?.hosts) ? body.hosts : [];
  replace(
    els.hostsBody,
    list.length === 0
      ? h('tr', {}, h('td', { colspan: '7', class: 'empty' }, '/hosts did not answer.'))
      : list.map((x) => {
          const state = String(x.state ?? 'unknown');
          const self = x.hostId === cluster.hostId;
          return h(
            'tr',
            { dataset: { testid: `host-${x.hostId}`, state } },
            h('td', {}, String(x.hostId), self ? ' (this one)' : ''),
            h('td', {}, h('span', { class: ['state', `state-${state}`] }, h('span', { 'aria-hidden': 'true' }, STATE_ICONS[state] ?? '?'), ' ', state)),
            h('td', { class: 'num' }, formatNumber(Number(x.workers) || 0)),
            h('td', { class: 'num' }, formatNumber(Number(x.matches) || 0)),
            h('td', { class: 'num' }, formatNumber(Number(x.freeSlots) || 0)),
            h('td', { class: 'num' }, formatNumber(Number(x.players) || 0)),
            h('td', { class: 'num' }, formatDuration(Number(x.leaseAgeMs))),
          );
        }),
  );
}

function showHealth(health) {
  if (!health) {
    replace(els.health, h('p', { class: 'empty' }, '/health did not answer.'));
    return;
  }
  const pool = health.workerPool ?? {};
  const rows = [
    ['Status', health.status],
    ['Service', health.service],
    ['Version', health.version],
    ['Store', health.store],
    ['Workers active / idle / total', `${pool.activeWorkers ?? '–'} / ${pool.idleWorkers ?? '–'} / ${pool.totalWorkers ?? '–'}`],
    ['Matches (pool)', pool.totalMatches],
  ];
  // Every row always, '–' for what this service does not report: the card keeps its size.
  replace(
    els.health,
    rows.map(([k, v]) => h('div', { class: 'health-row' }, h('dt', {}, k), h('dd', {}, v === undefined || v === null ? '–' : String(v)))),
  );
}

function showReachable(health) {
  const ok = !health || health.status === 'OK';
  els.root.classList.remove('unreachable');
  els.status.className = ['status-pill', ok ? 'status-ok' : 'status-degraded'].join(' ');
  els.status.textContent = ok ? '✓ Match service up' : `◐ Match service ${String(health.status).toLowerCase()}`;
  els.updated.textContent = `Updated ${new Date(lastSuccess).toLocaleTimeString()}`;
}

function showUnreachable(err) {
  record({ t: Date.now(), gap: true });
  els.root.classList.add('unreachable');
  els.status.className = 'status-pill status-down';
  const why = err instanceof api.ApiError && err.code !== 'NETWORK' ? ` (HTTP ${err.status || err.code})` : '';
  els.status.textContent = `✕ Match service unreachable${why}`;
  els.updated.textContent = lastSuccess
    ? `Last answer ${plural(Math.round((Date.now() - lastSuccess) / 1000), 'second')} ago; figures below are stale.`
    : 'No answer yet.';
}

/** The service refused us (403): not on its machine, and no token or a wrong one. */
function askForToken(error) {
  els.tokenForm.hidden = false;
  els.tokenError.textContent = error;
  els.status.className = 'status-pill status-degraded';
  els.status.textContent = '🔒 Token needed';
  els.tokenInput.focus();
}

els.tokenForm.addEventListener('submit', (event) => {
  event.preventDefault();
  if (els.tokenForm.hidden) return; // a poll is already under way
  sessionStorage.setItem(TOKEN_KEY, els.tokenInput.value.trim());
  els.tokenInput.value = '';
  els.tokenForm.hidden = true;
  poll();
});

window.addEventListener('resize', () => chart.render(history));
poll();
