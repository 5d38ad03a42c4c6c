/**
 * A question: text, choices, and a countdown. The countdown is display only: it reads the
 * server's `endsAt` through the synced clock and never ends the question itself; the
 * server's `reveal` does that.
 */
import { h, replace } from '../dom.js';
import { CHOICE_MARKS, choiceMark, matchBar, nextButton, screenRoot, screenTitle, yourScore } from './common.js';

const TICK_MS = 200;

export function questionScreen(ctx) {
  const m = ctx.match;
  const q = m.question;
  const isPlayer = m.role === 'player';

  const seconds = h('span', { class: 'countdown-seconds' });
  const bar = h('span', { class: 'countdown-bar-fill' });
  const countdown = h(
    'div',
    { class: 'countdown', role: 'timer', 'aria-label': 'Time left' },
    seconds,
    h('span', { class: 'countdown-bar', 'aria-hidden': 'true' }, bar),
  );

  const choiceButtons = q.choices.map((text, i) =>
    isPlayer
      ? h(
          'button',
          {
            type: 'button',
            class: ['choice', `choice-${i}`],
            dataset: { testid: `choice-${i}` },
            'aria-keyshortcuts': String(i + 1),
            on: { click: () => ctx.actions.answer(i) },
          },
          choiceMark(i),
          h('span', { class: 'choice-key', 'aria-hidden': 'true' }, String(i + 1)),
          h('span', { class: 'choice-text' }, text),
          h('span', { class: 'visually-hidden' }, ` (${CHOICE_MARKS[i]?.label ?? ''}, key ${i + 1})`),
        )
      : h('div', { class: ['choice', 'choice-static', `choice-${i}`] }, choiceMark(i), h('span', { class: 'choice-text' }, text)),
  );

  const answerStatus = h('div', { class: 'answer-status' });
  const answeredCount = h('p', { class: 'answered-count', dataset: { testid: 'answer-count' } });

  const root = screenRoot(
    'question',
    matchBar(ctx),
    h(
      'div',
      { class: 'question-head' },
      h('p', { class: 'question-index' }, `Question ${q.index + 1} / ${q.total}`),
      countdown,
    ),
    screenTitle(q.text, { level: 1 }),
    h(isPlayer ? 'div' : 'ul', { class: 'choices', role: isPlayer ? 'group' : undefined, 'aria-label': 'Answers' }, isPlayer ? choiceButtons : choiceButtons.map((c) => h('li', {}, c))),
    isPlayer ? answerStatus : null,
    h(
      'div',
      { class: 'question-foot' },
      answeredCount,
      isPlayer ? h('p', { class: 'score-line' }, 'Score: ', yourScore(m.you?.score)) : null,
      nextButton(ctx, 'Show results'),
    ),
  );
  // Tests (and anything else) can tell one question's screen from the next.
  root.dataset.questionIndex = String(q.index);

  function tick() {
    // Server time, not device time: the device clock can be seconds off.
    const left = Math.max(0, q.endsAt - ctx.clock.now());
    const total = Math.max(1, q.endsAt - q.startsAt);
    seconds.textContent = left > 0 ? String(Math.ceil(left / 1000)) : '0';
    bar.style.transform = `scaleX(${Math.min(1, left / total)})`;
    countdown.classList.toggle('hurry', left > 0 && left <= 5000);
    countdown.classList.toggle('over', left === 0);
  }
  tick();
  const timer = setInterval(tick, TICK_MS);

  function update(next) {
    const match = next.match;
    const a = match.answered;
    answeredCount.textContent = a ? `${a.answered} / ${a.total} answered` : '';
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
      replace(answerStatus, h('p', { class: 'status-locked', dataset: { testid: 'answer-locked' } }, '✓ Answer locked in'));
    } else if (you.answerStatus === 'sending') {
      replace(answerStatus, h('p', { class: 'status-sending', dataset: { testid: 'answer-sending' } }, 'Sending…'));
    } else if (you.answerStatus === 'refused') {
      replace(answerStatus, h('p', { class: 'status-refused' }, you.note ?? 'Not counted'));
    } else {
      replace(answerStatus, h('p', { class: 'status-prompt' }, 'Pick an answer (keys 1–', String(q.choices.length), ')'));
    }
  }

  update(ctx);
  return {
    root,
    update,
    destroy: () => clearInterval(timer),
  };
}
