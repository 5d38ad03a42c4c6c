/**
 * The results page (results.html): matches that finished recently on this server
 * (`GET /api/results`, which the API server reads from the match service), with each
 * one's results as a CSV download built in the page (js/resultsCsv.js).
 */
import * as api from './js/api.js';
import { h, replace } from './js/dom.js';
import { fileUrl } from './js/download.js';
import { plural } from './js/format.js';
import { resultsCsv, resultsFileName } from './js/resultsCsv.js';

const els = {
  status: document.getElementById('results-status'),
  table: document.querySelector('[data-testid="results-table"]'),
  body: document.getElementById('results-body'),
  reload: document.getElementById('reload-results'),
};

/** The blob: URLs of the CSV links on the page, given back when the list is redrawn. */
let csvUrls = [];

async function load() {
  els.reload.disabled = true;
  els.status.textContent = 'Loading…';
  let results;
  try {
    results = await api.recentResults();
  } catch {
    els.status.textContent = 'The game server could not be reached, so there are no results to show. Try again in a moment.';
    els.reload.disabled = false;
    return;
  }
  show(Array.isArray(results) ? results : []);
  els.reload.disabled = false;
}

function show(results) {
  for (const url of csvUrls) URL.revokeObjectURL(url);
  csvUrls = [];
  els.table.hidden = results.length === 0;
  els.status.textContent = results.length === 0 ? 'No match has finished here yet.' : `${plural(results.length, 'finished match', 'finished matches')}.`;
  replace(els.body, results.map(row));
}

function row(r) {
  const standings = Array.isArray(r.standings) ? r.standings : [];
  const winners = standings.filter((s) => s.rank === 1);
  const when = new Date(r.finishedAt);
  const whenText = Number.isNaN(when.getTime()) ? '–' : when.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  const url = fileUrl(resultsCsv(r), 'text/csv;charset=utf-8');
  csvUrls.push(url);
  return h(
    'tr',
    { dataset: { testid: `result-${r.matchId}` } },
    h('td', {}, h('span', { class: 'results-quiz' }, r.title ?? ''), ' ', h('span', { class: 'code-inline' }, r.matchId ?? '')),
    h('td', {}, Number.isNaN(when.getTime()) ? whenText : h('time', { datetime: when.toISOString() }, whenText)),
    h('td', { class: 'num' }, String(standings.length)),
    h('td', {}, winners.length ? [winners.map((w) => w.name).join(' & '), h('span', { class: 'results-score' }, ` (${winners[0].score})`)] : '–'),
    h(
      'td',
      {},
      h(
        'a',
        { href: url, download: resultsFileName(r), class: 'results-csv', dataset: { testid: `results-csv-${r.matchId}` } },
        'CSV',
        h('span', { class: 'visually-hidden' }, ` of ${r.title ?? 'the match'}, ${whenText}`),
      ),
    ),
  );
}

els.reload.addEventListener('click', () => void load());
void load();
