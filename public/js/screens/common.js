/** Building blocks shared by the screens. */
import { h } from '../dom.js';

/**
 * Each answer position has a colour AND a shape AND a number key, so nobody depends on
 * telling colours apart.
 */
export const CHOICE_MARKS = [
  { shape: '▲', label: 'triangle' },
  { shape: '◆', label: 'diamond' },
  { shape: '●', label: 'circle' },
  { shape: '■', label: 'square' },
];

/** The root of a screen: tests find it by `data-screen`. */
export function screenRoot(name, ...children) {
  return h('section', { class: ['screen', `screen-${name}`], dataset: { screen: name } }, ...children);
}

/** The screen's heading; focusable so keyboard and screen-reader users land on it. */
export function screenTitle(text, { level = 1, testid } = {}) {
  return h(`h${level}`, { class: 'screen-title', tabindex: '-1', dataset: { testid } }, text);
}

/** The player's score as a bare integer (tests read it as text). */
export function yourScore(score) {
  return h('span', { class: 'your-score', dataset: { testid: 'your-score' } }, String(score ?? 0));
}

/** Top bar of every match screen: code, quiz title, who you are, and a way out. */
export function matchBar(ctx) {
  const m = ctx.match;
  const who =
    m.role === 'host'
      ? h('span', { class: 'badge badge-host' }, '★ Host')
      : h('span', { class: 'badge badge-player' }, h('span', { class: 'visually-hidden' }, 'Playing as '), m.name ?? '');
  return h(
    'header',
    { class: 'match-bar' },
    h('span', { class: 'match-bar-code' }, h('span', { class: 'visually-hidden' }, 'Game code '), m.matchId),
    h('span', { class: 'match-bar-title' }, m.quiz?.title ?? ''),
    who,
    leaveButton(ctx),
  );
}

/**
 * Leaving is one tap away on a phone, so it takes two: the first arms the button for a few
 * seconds. (This timer only resets a button label; it never touches game state.)
 */
function leaveButton(ctx) {
  let armed = false;
  let timer = null;
  const label = 'Leave';
  const btn = h(
    'button',
    {
      type: 'button',
      class: 'btn btn-small btn-ghost',
      dataset: { testid: 'leave-match' },
      on: {
        click: () => {
          if (armed) {
            clearTimeout(timer);
            ctx.actions.leave();
            return;
          }
          armed = true;
          btn.textContent = 'Sure? Tap again';
          btn.classList.add('armed');
          timer = setTimeout(() => {
            armed = false;
            btn.textContent = label;
            btn.classList.remove('armed');
          }, 4000);
        },
      },
    },
    label,
  );
  return btn;
}

/** The host's "end this phase now" button. */
export function nextButton(ctx, label) {
  if (ctx.match.role !== 'host') return null;
  return h(
    'button',
    { type: 'button', class: 'btn btn-primary btn-next', dataset: { testid: 'next-phase' }, on: { click: () => ctx.actions.next() } },
    label,
    ' ',
    h('span', { 'aria-hidden': 'true' }, '▶'),
  );
}

/**
 * Ranked rows. Test hooks are `standing-<position>` (1-based place in the list): equal
 * scores share a rank (1, 1, 3), and hooks must stay unique, so the real rank is in
 * `data-rank` and in the visible text.
 */
export function standingsList(rows, myPlayerId, { testidPrefix = 'standing' } = {}) {
  return h(
    'ol',
    { class: 'standings' },
    rows.map((r, i) => {
      const mine = r.playerId === myPlayerId;
      return h(
        'li',
        {
          class: ['standing', mine && 'mine', r.rank <= 3 && `top-${r.rank}`],
          dataset: { testid: `${testidPrefix}-${i + 1}`, rank: r.rank, playerId: r.playerId },
        },
        h('span', { class: 'standing-rank' }, h('span', { class: 'visually-hidden' }, 'Rank '), String(r.rank)),
        h('span', { class: 'standing-name' }, r.name, mine ? h('span', { class: 'you-tag' }, ' (you)') : null),
        h('span', { class: 'standing-score' }, String(r.score), h('span', { class: 'visually-hidden' }, ' points')),
      );
    }),
  );
}

export function choiceMark(i) {
  const mark = CHOICE_MARKS[i] ?? CHOICE_MARKS[0];
  return h('span', { class: 'choice-shape', 'aria-hidden': 'true' }, mark.shape);
}
