/**
 * Reveal: the right answer, how everyone voted, and how this player did. Right and wrong
 * are said in words and icons (✓ / ✗, "Correct", "Your answer"), never by colour alone.
 * A poll has no right answer (`correct: null`): its votes are shown without any marking.
 *
 * On the big screen the votes are a bar chart, one column per choice, tallest = most votes.
 */
import { h } from '../dom.js';
import { plural } from '../format.js';
import { CHOICE_MARKS, choiceMark, matchBar, nextButton, screenRoot, screenTitle, yourScore } from './common.js';

export function revealScreen(ctx) {
  const m = ctx.match;
  const r = m.reveal;
  const poll = r.kind === 'poll' || r.correct === null;
  const shapesOnly = m.role === 'player' && m.phoneView === 'shapes';
  // After a refresh during reveal the question comes with the welcome; if it is missing the
  // choices are still listed by position.
  const q = m.question && m.question.index === r.questionIndex ? m.question : null;
  const counts = r.counts ?? [];
  const choiceCount = q ? q.choices.length : counts.length;
  const totalVotes = counts.reduce((a, b) => a + (b || 0), 0);
  const mostVotes = Math.max(1, ...counts.map((n) => n || 0));
  const you = m.you;
  const myChoice = you?.answer && you.answer.questionIndex === r.questionIndex ? you.answer.choice : null;
  const choiceName = (i) => (shapesOnly || !q ? `${CHOICE_MARKS[i]?.label ?? `answer ${i + 1}`}` : q.choices[i]);

  const rows = [];
  for (let i = 0; i < choiceCount; i++) {
    const isCorrect = !poll && i === r.correct;
    const isMine = i === myChoice;
    const n = counts[i] ?? 0;
    const tags = h(
      'span',
      { class: 'reveal-tags' },
      isCorrect ? h('span', { class: 'tag tag-correct' }, '✓ Correct') : null,
      isMine && poll ? h('span', { class: 'tag tag-mine' }, 'Your vote') : null,
      isMine && !poll ? h('span', { class: ['tag', 'tag-mine', isCorrect ? 'right' : 'wrong'] }, isCorrect ? '✓ ' : '✗ ', 'Your answer') : null,
    );
    const count = h('span', { class: 'reveal-count', dataset: { testid: `reveal-count-${i}` } }, plural(n, 'vote'));
    const label = h('span', { class: 'choice-text' }, choiceName(i));
    const props = {
      class: ['reveal-choice', `choice-${i}`, poll ? 'poll' : isCorrect ? 'correct' : 'incorrect', isMine && 'mine'],
      dataset: { testid: `reveal-choice-${i}`, correct: isCorrect ? 'true' : 'false', votes: n },
      style: { '--share': totalVotes ? n / totalVotes : 0, '--height': n / mostVotes },
    };
    rows.push(
      ctx.bigScreen
        ? h(
            'li',
            props,
            count,
            h('span', { class: 'chart-track', 'aria-hidden': 'true' }, h('span', { class: ['chart-bar', `choice-${i}`] }, isCorrect ? '✓' : null)),
            h('span', { class: 'chart-label' }, choiceMark(i), label),
            tags,
          )
        : h('li', props, choiceMark(i), label, tags, count, h('span', { class: 'reveal-bar', 'aria-hidden': 'true' })),
    );
  }

  let verdict = null;
  if (you) {
    const points = you.lastPoints ?? 0;
    const outcome = poll ? (myChoice === null ? 'none' : 'voted') : myChoice === null ? 'none' : myChoice === r.correct ? 'right' : 'wrong';
    const headline = { right: '✓ Correct!', wrong: '✗ Not quite', none: poll ? '⏱ No vote' : '⏱ No answer', voted: '🗳 Thanks for voting' }[outcome];
    verdict = h(
      'div',
      { class: ['card', 'verdict', `verdict-${outcome}`], dataset: { testid: 'verdict' } },
      h('p', { class: 'verdict-headline' }, headline),
      h('p', { class: 'verdict-points' }, poll ? 'Polls score no points' : `+${points} points`),
      h('p', { class: 'verdict-score' }, 'Score: ', yourScore(you.score)),
      you.streak > 1 ? h('p', { class: 'verdict-streak' }, `🔥 ${you.streak} in a row`) : null,
    );
  }

  const heading = poll
    ? `Poll results: ${plural(totalVotes, 'vote')}`
    : ['The answer: ', shapesOnly || !q ? [choiceMark(r.correct), ' ', choiceName(r.correct)] : q.choices[r.correct] ?? `Answer ${r.correct + 1}`];

  const root = screenRoot(
    'reveal',
    matchBar(ctx),
    h('p', { class: 'question-index' }, `Question ${r.questionIndex + 1}${q ? ` / ${q.total}` : ''}`),
    q && !shapesOnly ? h('p', { class: 'reveal-question' }, q.text) : null,
    screenTitle(heading, { testid: 'reveal-title' }),
    verdict,
    h(
      'ul',
      { class: ctx.bigScreen ? ['reveal-chart', `chart-${choiceCount}`] : 'reveal-choices', 'aria-label': poll ? 'How everyone voted' : 'How everyone answered', dataset: { testid: 'reveal-chart' } },
      rows,
    ),
    h('div', { class: 'question-foot' }, nextButton(ctx, 'Leaderboard')),
  );

  return { root, update() {} };
}
