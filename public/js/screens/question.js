/**
 * A question: text, choices, and a countdown. The countdown is display only: it reads the
 * server's `endsAt` through the synced clock and never ends the question itself; the
 * server's `reveal` does that.
 *
 * Players' phones in the match's "shapes" view (settings.phoneView) show only the coloured
 * shapes: the text is on the host's big screen. Screen-reader users still get the text,
 * read as the description of the heading and buttons, since they cannot look up at it.
 */
import { h, replace, srOnly } from '../dom.js';
import { announce } from '../announcer.js';
import { playCue } from '../sound.js';
import { CHOICE_MARKS, choiceMark, kindTag, matchBar, nextButton, questionImage, screenRoot, screenTitle, textLength, yourScore } from './common.js';

const TICK_MS = 200;
/** Ticks are heard in the last seconds only; the last ten seconds are said once. */
const TICK_FROM_S = 5;
const ANNOUNCE_AT_MS = 10_000;

export function questionScreen(ctx) {
  const m = ctx.match;
  const q = m.question;
  const isPlayer = m.role === 'player';
  const shapesOnly = isPlayer && m.phoneView === 'shapes';
  const poll = q.kind === 'poll';

  const seconds = h('span', { class: 'countdown-seconds' });
  const bar = h('span', { class: 'countdown-bar-fill' });
  const countdown = h(
    'div',
    { class: 'countdown', role: 'timer', 'aria-label': 'Time left' },
    seconds,
    h('span', { class: 'countdown-bar', 'aria-hidden': 'true' }, bar),
  );

  const choiceButtons = q.choices.map((text, i) => {
    const mark = CHOICE_MARKS[i]?.label ?? '';
    if (!isPlayer) {
      return h('div', { class: ['choice', 'choice-static', `choice-${i}`] }, choiceMark(i), h('span', { class: 'choice-text' }, text));
    }
    const props = {
      type: 'button',
      class: ['choice', `choice-${i}`, shapesOnly && 'choice-shape-only'],
      dataset: { testid: `choice-${i}` },
      'aria-keyshortcuts': String(i + 1),
      on: { click: () => ctx.actions.answer(i) },
    };
    if (shapesOnly) {
      return h(
        'button',
        { ...props, 'aria-label': `Choice ${i + 1}: ${mark}`, 'aria-describedby': `choice-${i}-text` },
        choiceMark(i),
        h('span', { class: 'choice-key', 'aria-hidden': 'true' }, String(i + 1)),
        h('span', { class: 'visually-hidden', id: `choice-${i}-text` }, text),
      );
    }
    return h(
      'button',
      props,
      choiceMark(i),
      h('span', { class: 'choice-key', 'aria-hidden': 'true' }, String(i + 1)),
      h('span', { class: 'choice-text' }, text),
      srOnly(ctx.keyboard ? ` (${mark}, key ${i + 1})` : ` (${mark})`),
    );
  });

  const answerStatus = h('div', { class: 'answer-status' });
  const answeredCount = h('p', { class: 'answered-count', dataset: { testid: 'answer-count' } });

  const title = shapesOnly
    ? screenTitle([`Question ${q.index + 1}: pick a shape`, srOnly(`. ${q.text}`)], { testid: 'question-title' })
    : screenTitle(q.text, { testid: 'question-title', className: textLength(q.text) });

  const root = screenRoot(
    'question',
    matchBar(ctx),
    h(
      'div',
      { class: 'question-head' },
      h('p', { class: 'question-index' }, `Question ${q.index + 1} / ${q.total}`, ' ', kindTag(q.kind)),
      countdown,
    ),
    title,
    shapesOnly ? h('p', { class: 'look-up' }, '👀 The question and answers are on the big screen.') : questionImage(q.image),
    h(
      isPlayer ? 'div' : 'ul',
      { class: ['choices', `choices-${q.choices.length}`, shapesOnly && 'choices-shapes'], role: isPlayer ? 'group' : undefined, 'aria-label': 'Answers' },
      isPlayer ? choiceButtons : choiceButtons.map((c) => h('li', {}, c)),
    ),
    isPlayer ? answerStatus : null,
    h(
      'div',
      { class: 'question-foot' },
      answeredCount,
      isPlayer ? h('p', { class: 'score-line' }, 'Score: ', yourScore(m.you?.score)) : null,
      nextButton(ctx, poll ? 'Show votes' : 'Show results'),
    ),
  );
  // Tests (and anything else) can tell one question's screen from the next.
  root.dataset.questionIndex = String(q.index);
  // The big screen makes room for a picture by making the answer tiles shorter.
  if (q.image && !shapesOnly) root.classList.add('with-image');

  let shownSeconds = null;
  let announced = false;
  function tick() {
    // Server time, not device time: the device clock can be seconds off.
    const left = Math.max(0, q.endsAt - ctx.clock.now());
    const total = Math.max(1, q.endsAt - q.startsAt);
    const secs = left > 0 ? Math.ceil(left / 1000) : 0;
    seconds.textContent = String(secs);
    bar.style.transform = `scaleX(${Math.min(1, left / total)})`;
    countdown.classList.toggle('hurry', left > 0 && left <= 5000);
    countdown.classList.toggle('over', left === 0);
    if (shownSeconds !== null && secs !== shownSeconds && secs >= 1 && secs <= TICK_FROM_S) playCue(secs === 1 ? 'lastTick' : 'tick');
    shownSeconds = secs;
    // Once, and only for a question long enough for it to be news; a player who has
    // answered has nothing left to hurry for.
    if (!announced && left > 0 && left <= ANNOUNCE_AT_MS) {
      announced = true;
      const waiting = !isPlayer || ctx.match.you?.answerStatus === 'none';
      if (total > ANNOUNCE_AT_MS && waiting) announce('10 seconds left.');
    }
  }
  tick();
  const timer = setInterval(tick, TICK_MS);

  function update(next) {
    const match = next.match;
    const a = match.answered;
    answeredCount.textContent = a ? `${a.answered} / ${a.total} answered` : isPlayer ? '' : 'Waiting for answers…';
    if (!isPlayer || !match.you) return;

    const you = match.you;
    const chosen = you.pending?.choice ?? you.answer?.choice ?? null;
    choiceButtons.forEach((btn, i) => {
      const isChosen = i === chosen;
      btn.classList.toggle('chosen', isChosen);
      btn.setAttribute('aria-pressed', isChosen ? 'true' : 'false');
      // One answer per question: once one is chosen the others are off.
      btn.disabled = you.answerStatus !== 'none' && !isChosen;
      btn.setAttribute('aria-disabled', you.answerStatus !== 'none' ? 'true' : 'false');
    });
    if (you.answerStatus === 'locked') {
      replace(answerStatus, h('p', { class: 'status-locked', dataset: { testid: 'answer-locked' } }, poll ? '✓ Vote counted' : '✓ Answer locked in'));
    } else if (you.answerStatus === 'sending') {
      replace(answerStatus, h('p', { class: 'status-sending', dataset: { testid: 'answer-sending' } }, 'Sending…'));
    } else if (you.answerStatus === 'refused') {
      replace(answerStatus, h('p', { class: 'status-refused' }, you.note ?? 'Not counted'));
    } else {
      const verb = poll ? 'Vote' : shapesOnly ? 'Pick a shape' : 'Pick an answer';
      // Only someone with a keyboard is told about the keys.
      const keys = next.keyboard ? ` (keys 1–${q.choices.length})` : '';
      replace(answerStatus, h('p', { class: 'status-prompt', dataset: { testid: 'answer-prompt' } }, verb, keys));
    }
  }

  update(ctx);
  return {
    root,
    update,
    destroy: () => clearInterval(timer),
  };
}
