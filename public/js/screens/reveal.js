/**
 * Reveal: the right answer, how everyone voted, and how this player did. Right and wrong
 * are said in words and icons (✓ / ✗, "Correct", "Your answer"), never by colour alone.
 */
import { h } from '../dom.js';
import { plural } from '../format.js';
import { choiceMark, matchBar, nextButton, screenRoot, screenTitle, yourScore } from './common.js';

export function revealScreen(ctx) {
  const m = ctx.match;
  const r = m.reveal;
  // After a refresh during reveal the question comes with the welcome; if it is missing the
  // choices are still listed by position.
  const q = m.question && m.question.index === r.questionIndex ? m.question : null;
  const counts = r.counts ?? [];
  const choiceCount = q ? q.choices.length : counts.length;
  const totalVotes = counts.reduce((a, b) => a + (b || 0), 0);
  const you = m.you;
  const myChoice = you?.answer && you.answer.questionIndex === r.questionIndex ? you.answer.choice : null;
  const correctText = q ? q.choices[r.correct] : `Answer ${r.correct + 1}`;

  const rows = [];
  for (let i = 0; i < choiceCount; i++) {
    const isCorrect = i === r.correct;
    const isMine = i === myChoice;
    const n = counts[i] ?? 0;
    rows.push(
      h(
        'li',
        {
          class: ['reveal-choice', `choice-${i}`, isCorrect ? 'correct' : 'incorrect', isMine && 'mine'],
          dataset: { testid: `reveal-choice-${i}`, correct: isCorrect ? 'true' : 'false' },
          style: { '--share': totalVotes ? n / totalVotes : 0 },
        },
        choiceMark(i),
        h('span', { class: 'choice-text' }, q ? q.choices[i] : `Answer ${i + 1}`),
        h(
          'span',
          { class: 'reveal-tags' },
          isCorrect ? h('span', { class: 'tag tag-correct' }, '✓ Correct') : null,
          isMine ? h('span', { class: ['tag', 'tag-mine', isCorrect ? 'right' : 'wrong'] }, isCorrect ? '✓ ' : '✗ ', 'Your answer') : null,
        ),
        h('span', { class: 'reveal-count', dataset: { testid: `reveal-count-${i}` } }, plural(n, 'vote')),
        h('span', { class: 'reveal-bar', 'aria-hidden': 'true' }),
      ),
    );
  }

  let verdict = null;
  if (you) {
    const points = you.lastPoints ?? 0;
    const outcome = myChoice === null ? 'none' : myChoice === r.correct ? 'right' : 'wrong';
    const headline = { right: '✓ Correct!', wrong: '✗ Not quite', none: '⏱ No answer' }[outcome];
    verdict = h(
      'div',
      { class: ['card', 'verdict', `verdict-${outcome}`], dataset: { testid: 'verdict' } },
      h('p', { class: 'verdict-headline' }, headline),
      h('p', { class: 'verdict-points' }, `+${points} points`),
      h('p', { class: 'verdict-score' }, 'Score: ', yourScore(you.score)),
      you.streak > 1 ? h('p', { class: 'verdict-streak' }, `🔥 ${you.streak} in a row`) : null,
    );
  }

  const root = screenRoot(
    'reveal',
    matchBar(ctx),
    h('p', { class: 'question-index' }, `Question ${r.questionIndex + 1}${q ? ` / ${q.total}` : ''}`),
    q ? h('p', { class: 'reveal-question' }, q.text) : null,
    screenTitle(['The answer: ', correctText]),
    verdict,
    h('ul', { class: 'reveal-choices', 'aria-label': 'How everyone answered' }, rows),
    h('div', { class: 'question-foot' }, nextButton(ctx, 'Leaderboard')),
  );

  return { root, update() {} };
}
