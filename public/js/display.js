/**
 * What this device is, as far as layout and hints go: a wide window (a host's laptop on a
 * projector or TV gets the "big screen" layout) and whether a keyboard is likely (only then
 * are players told about keys 1–4; on a phone that hint is noise). Both can change while
 * the page is open (a window dragged to the projector, a keyboard plugged into a tablet),
 * so they are watched, and the app re-renders when they change.
 */

/** Wide enough to be seen across a room: the host's screen switches to the big layout. */
const WIDE_QUERY = '(min-width: 1100px)';
/** A mouse or trackpad usually comes with a keyboard; touch screens usually do not. */
const KEYBOARD_QUERY = '(hover: hover) and (pointer: fine)';

let typed = false;

function matches(query) {
  return typeof window.matchMedia === 'function' && window.matchMedia(query).matches;
}

export function isWide() {
  return matches(WIDE_QUERY);
}

export function keyboardLikely() {
  return typed || matches(KEYBOARD_QUERY);
}

/** Calls `onChange` when the window crosses the wide breakpoint or a keyboard shows up. */
export function watchDisplay(onChange) {
  const sync = () => document.documentElement.classList.toggle('keyboard', keyboardLikely());
  sync();
  for (const query of [WIDE_QUERY, KEYBOARD_QUERY]) {
    window.matchMedia?.(query).addEventListener?.('change', () => {
      sync();
      onChange();
    });
  }
  document.addEventListener(
    'keydown',
    (event) => {
      // Tab or a digit from a real keyboard; a modifier alone says little.
      if (typed || !(event.key === 'Tab' || /^[0-9]$/.test(event.key))) return;
      typed = true;
      sync();
      onChange();
    },
    { capture: true },
  );
}
