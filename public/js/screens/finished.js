/** The end: a podium for the top three, everyone's final place, and a way home. */
import { h } from '../dom.js';
import { ordinal } from '../format.js';
import { matchBar, screenRoot, screenTitle, standingsList, yourScore } from './common.js';

const MEDALS = { 1: '🥇', 2: '🥈', 3: '🥉' };

export function finishedScreen(ctx) {
  const m = ctx.match;
  const standings = m.standings ?? [];
  const podium = standings.slice(0, 3);
  const winners = standings.filter((s) => s.rank === 1);
  const you = m.you;

  const title =
    winners.length === 0 ? 'Game over' : winners.length === 1 ? ['🏆 ', winners[0].name, ' wins!'] : '🏆 It’s a tie at the top!';

  const root = screenRoot(
    'finished',
    matchBar(ctx),
    screenTitle(title),
    podium.length
      ? h(
          'ol',
          { class: 'podium', 'aria-label': 'Podium' },
          podium.map((p, i) =>
            h(
              'li',
              { class: ['podium-step', `podium-place-${i + 1}`, p.playerId === m.playerId && 'mine'] },
              h('span', { class: 'podium-medal', 'aria-hidden': 'true' }, MEDALS[p.rank] ?? '🏅'),
              h('span', { class: 'podium-name' }, p.name),
              h('span', { class: 'podium-score' }, `${p.score} pts`),
              h('span', { class: 'podium-block' }, ordinal(p.rank)),
            ),
          ),
        )
      : null,
    you
      ? h(
          'p',
          { class: 'card your-rank', dataset: { testid: 'your-rank' } },
          you.rank ? `You finished ${ordinal(you.rank)} with ` : 'You finished with ',
          yourScore(you.score),
          ' points',
        )
      : null,
    h(
      'section',
      { class: 'card card-standings', 'aria-labelledby': 'standings-heading' },
      h('h2', { id: 'standings-heading' }, 'Final standings'),
      standings.length ? standingsList(standings, m.playerId) : h('p', { class: 'hint' }, 'Nobody played this time.'),
    ),
    h(
      'div',
      { class: 'button-row center' },
      h(
        'button',
        { type: 'button', class: 'btn btn-primary btn-huge', dataset: { testid: 'play-again' }, on: { click: () => ctx.actions.goHome() } },
        'Play again',
      ),
    ),
  );
  return { root, update() {} };
}
