/** Building blocks shared by the screens. */
import { h } from '../dom.js';
import { setSoundOn, soundOn } from '../sound.js';

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
export function screenTitle(text, { level = 1, testid, className } = {}) {
  return h(`h${level}`, { class: ['screen-title', className], tabindex: '-1', dataset: { testid } }, text);
}

/** Question text up to 300 characters: the big screen sizes it by length so it always fits. */
export function textLength(text) {
  const n = String(text ?? '').length;
  return n > 160 ? 'text-long' : n > 80 ? 'text-medium' : 'text-short';
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
    soundToggle(),
    leaveButton(ctx),
  );
}

/**
 * The one mute toggle, on every match screen. Its name stays "Sound"; aria-pressed says
 * whether it is on, and the speaker icon (crossed out when off) shows it.
 */
function soundToggle() {
  const icon = h('span', { class: 'sound-icon', 'aria-hidden': 'true' });
  const btn = h(
    'button',
    {
      type: 'button',
      class: 'btn btn-small btn-ghost sound-toggle',
      dataset: { testid: 'sound-toggle' },
      on: {
        click: () => {
          setSoundOn(!soundOn());
          show();
        },
      },
    },
    icon,
    // The name is always "Sound" (phones keep it for screen readers only, to save room).
    h('span', { class: 'sound-label' }, 'Sound'),
  );
  function show() {
    const on = soundOn();
    btn.setAttribute('aria-pressed', on ? 'true' : 'false');
    btn.title = on ? 'Sound is on' : 'Sound is off';
    icon.textContent = on ? '🔊' : '🔇';
  }
  show();
  return btn;
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

/**
 * A question's picture: a data URL of PNG, JPEG or WebP, or the bare name of an image shipped
 * with the built-in quizzes (under /quiz-images/). The server allows nothing else; anything
 * else here is ignored rather than fetched.
 */
export function questionImage(image, { testid = 'question-image' } = {}) {
  const src = imageSource(image);
  if (!src) return null;
  return h('img', { class: 'question-image', src, alt: 'Picture for this question', dataset: { testid }, decoding: 'async' });
}

function imageSource(image) {
  if (typeof image !== 'string') return null;
  if (/^data:image\/(png|jpeg|webp);base64,[A-Za-z0-9+/=]+$/.test(image)) return image;
  if (/^[A-Za-z0-9][A-Za-z0-9._-]*\.(svg|png|jpe?g|webp)$/.test(image)) return `/quiz-images/${image}`;
  return null;
}

/** Says what kind of question this is when it is not a plain one (words, not just colour). */
export function kindTag(kind) {
  if (kind === 'poll') return h('span', { class: 'kind-tag kind-poll', dataset: { testid: 'kind-tag' } }, '📊 Poll: no right answer, no points');
  if (kind === 'truefalse') return h('span', { class: 'kind-tag kind-truefalse', dataset: { testid: 'kind-tag' } }, '✓✗ True or false');
  return null;
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
