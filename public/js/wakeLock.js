/**
 * Keeps the screen on while a match is open (lobby and play): a phone that dims and locks
 * mid-question drops its player, and a big screen that sleeps loses the room. Uses the
 * Screen Wake Lock API; the browser drops the lock whenever the page is hidden, so it is
 * asked for again when the page is visible again. Where the API is missing (older
 * browsers, pages not served over https) or the browser says no (battery saver), a small
 * note asks the person to keep their screen on themselves.
 *
 * The root element carries `data-wake-lock` (off | held | unsupported | refused).
 */
import { h } from './dom.js';

let wanted = false;
let sentinel = null;
let asking = false;
let state = 'off';
let note = null;

/** `container`: where the "keep your screen on" note goes. */
export function initWakeLock(container) {
  note = h(
    'p',
    { class: 'wake-note', dataset: { testid: 'wake-note' }, hidden: true },
    h('span', { 'aria-hidden': 'true' }, '💡 '),
    'Keep your screen on: this browser cannot keep it awake during the game.',
  );
  container.append(note);
  document.addEventListener('visibilitychange', () => {
    if (wanted && document.visibilityState === 'visible') void acquire();
  });
  setState('off');
}

/** True in the lobby and during a match; false at home and on the final results. */
export function keepScreenOn(want) {
  if (want === wanted) return;
  wanted = want;
  if (want) void acquire();
  else release();
}

async function acquire() {
  if (!navigator.wakeLock || typeof navigator.wakeLock.request !== 'function') {
    setState('unsupported');
    return;
  }
  // The request fails while the page is hidden; visibilitychange asks again.
  if (sentinel || asking || document.visibilityState !== 'visible') return;
  asking = true;
  try {
    const lock = await navigator.wakeLock.request('screen');
    if (!wanted) {
      void lock.release();
      return;
    }
    sentinel = lock;
    lock.addEventListener('release', () => {
      if (sentinel === lock) sentinel = null;
      if (state === 'held') setState('off');
    });
    setState('held');
  } catch {
    setState('refused');
  } finally {
    asking = false;
  }
}

function release() {
  const lock = sentinel;
  sentinel = null;
  setState('off');
  if (lock) void lock.release().catch(() => {});
}

function setState(next) {
  state = next;
  document.documentElement.dataset.wakeLock = next;
  if (note) note.hidden = !(wanted && (next === 'unsupported' || next === 'refused'));
}
