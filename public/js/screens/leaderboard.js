/** Leaderboard between questions: the top 10 and where this player stands. */
import { h } from '../dom.js';
import { ordinal } from '../format.js';
import { matchBar, nextButton, screenRoot, screenTitle, standingsList, yourScore } from './common.js';

export function leaderboardScreen(ctx) {
  const m = ctx.match;
  const top = m.leaderboard ?? [];
  const you = m.you;

  const root = screenRoot(
    'leaderboard',
    matchBar(ctx),
    screenTitle('Leaderboard'),
    you
      ? h(
          'p',
          { class: 'card your-rank', dataset: { testid: 'your-rank' } },
          you.rank ? `You’re ${ordinal(you.rank)} with ` : 'You have ',
          yourScore(you.score),
          ' points',
        )
      : null,
    top.length ? standingsList(top, m.playerId) : h('p', { class: 'hint' }, 'No players yet.'),
    h('div', { class: 'question-foot' }, nextButton(ctx, isLastQuestion(m) ? 'Final results' : 'Next question')),
  );
  return { root, update() {} };
}

function isLastQuestion(m) {
  const index = m.reveal?.questionIndex ?? m.question?.index;
  return index !== undefined && index + 1 >= (m.quiz?.questionCount ?? Infinity);
}
