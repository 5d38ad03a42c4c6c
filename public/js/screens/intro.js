/**
 * The suspense moment before answers open (phase "intro", `question_intro`): the question
 * alone, big, with a countdown to `opensAt`. No choices yet, so nobody can answer before
 * everyone has read it. The countdown is display only; the server's `question` opens the
 * answers. A server without this phase simply never shows this screen.
 */
import { h, srOnly } from '../dom.js';
import { kindTag, matchBar, nextButton, questionImage, screenRoot, screenTitle, textLength } from './common.js';

const TICK_MS = 200;

export function introScreen(ctx) {
  const m = ctx.match;
  const intro = m.intro;
  const shapesOnly = m.role === 'player' && m.phoneView === 'shapes';

  const seconds = h('span', { class: 'intro-seconds', dataset: { testid: 'intro-countdown' } });
  const bar = h('span', { class: 'intro-bar-fill' });
  const totalMs = Math.max(1, intro.opensAt - ctx.clock.now());

  const root = screenRoot(
    'intro',
    matchBar(ctx),
    h('p', { class: 'question-index' }, `Question ${intro.index + 1} / ${intro.total}`, ' ', kindTag(intro.kind)),
    shapesOnly
      ? screenTitle(['👀 Look at the big screen!', srOnly(` ${intro.text}`)], { testid: 'intro-title' })
      : screenTitle(intro.text, { testid: 'intro-title', className: textLength(intro.text) }),
    shapesOnly ? null : questionImage(intro.image),
    h(
      'div',
      { class: 'intro-countdown', role: 'timer', 'aria-label': 'Answers open in' },
      h('span', { class: 'intro-label', 'aria-hidden': 'true' }, 'Answers open in'),
      seconds,
      h('span', { class: 'intro-bar', 'aria-hidden': 'true' }, bar),
    ),
    h('div', { class: 'question-foot' }, nextButton(ctx, 'Open answers now')),
  );
  root.dataset.questionIndex = String(intro.index);
  if (intro.image && !shapesOnly) root.classList.add('with-image');

  function tick() {
    const left = Math.max(0, intro.opensAt - ctx.clock.now());
    seconds.textContent = String(Math.ceil(left / 1000));
    bar.style.transform = `scaleX(${Math.min(1, left / totalMs)})`;
  }
  tick();
  const timer = setInterval(tick, TICK_MS);

  return { root, update() {}, destroy: () => clearInterval(timer) };
}
