// The page's error area (a live region in the markup): one message at a time, with an optional
// action button, scrolled into view when it is off screen. Both the quiz and the editor use it.
import { h, replace } from './dom.js';

/** Shows `text` in `area`; `action` ({ label, testid, onClick }) adds a small button after it. */
export function showErrorIn(area, text, { action } = {}) {
  replace(
    area,
    h('p', { class: 'error-text' }, text),
    action
      ? h('button', { type: 'button', class: 'btn btn-small btn-secondary', dataset: { testid: action.testid }, on: { click: action.onClick } }, action.label)
      : null,
  );
  area.hidden = false;
  // On a phone the form that failed may be far below the error area.
  const box = area.getBoundingClientRect();
  if (box.top < 0 || box.bottom > window.innerHeight) area.scrollIntoView({ block: 'nearest' });
}

export function clearErrorIn(area) {
  replace(area);
  area.hidden = true;
}
