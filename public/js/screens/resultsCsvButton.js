/**
 * The host's "Download results (CSV)" on the podium: fetches the match's results from the
 * match service (they are saved before `finished` is sent) and saves them as a CSV file.
 */
import { h } from '../dom.js';
import * as api from '../api.js';
import { errorText } from '../errors.js';
import { downloadFile } from '../download.js';
import { resultsCsv, resultsFileName } from '../resultsCsv.js';

const LABEL = 'Download results (CSV)';

export function resultsCsvButton(ctx) {
  const m = ctx.match;
  if (m.role !== 'host') return null;
  const button = h(
    'button',
    { type: 'button', class: 'btn btn-secondary', dataset: { testid: 'download-results' }, on: { click: () => void download() } },
    LABEL,
  );

  async function download() {
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
    button.textContent = 'Preparing…';
    try {
      const results = await api.matchResults(m.matchId);
      downloadFile(resultsFileName(results), resultsCsv(results), 'text/csv;charset=utf-8');
    } catch (err) {
      ctx.actions.showError(errorText('RESULTS_UNAVAILABLE', { detail: err instanceof api.ApiError ? errorText(err.code) : undefined }));
    } finally {
      button.disabled = false;
      button.setAttribute('aria-busy', 'false');
      button.textContent = LABEL;
    }
  }
  return button;
}
