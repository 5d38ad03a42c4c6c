/**
 * The editor's draft in localStorage, so a quiz being written survives a reload or a closed
 * tab (unlike a match seat, which is per tab: js/session.js). Pictures take room: when the
 * browser's storage is full, saving says so instead of failing silently.
 */
import { restoreDraft, toQuiz } from './draft.js';

const KEY = 'quizrush.editor.draft';

/** @returns {{draft: object, options: {hostName: string, lateJoin: boolean, phoneView: string}}} */
export function loadDraft() {
  let saved = null;
  try {
    const raw = localStorage.getItem(KEY);
    saved = raw ? JSON.parse(raw) : null;
  } catch {
    saved = null;
  }
  const options = saved && typeof saved.options === 'object' && saved.options ? saved.options : {};
  return {
    draft: restoreDraft(saved?.quiz),
    options: {
      hostName: typeof options.hostName === 'string' ? options.hostName : '',
      lateJoin: options.lateJoin === true,
      phoneView: options.phoneView === 'shapes' ? 'shapes' : 'full',
    },
  };
}

/** @returns {boolean} whether it was saved */
export function saveDraft(draft, options) {
  try {
    localStorage.setItem(KEY, JSON.stringify({ quiz: toQuiz(draft), options }));
    return true;
  } catch {
    return false;
  }
}
