/**
 * One polite aria-live region for phase changes ("Question 3 of 10", "Time's up"…), so
 * screen-reader users hear what sighted players see change.
 */

let region = null;

export function initAnnouncer(el) {
  region = el;
}

export function announce(text) {
  if (!region || !text) return;
  // Clearing first makes a repeated sentence ("Answer locked in" twice) be read again.
  region.textContent = '';
  setTimeout(() => {
    region.textContent = text;
  }, 50);
}
