/**
 * The end: a podium for the top three places, everyone's final place, and a way home.
 *
 * The podium has one block per place, not per player: players who tie share the block of
 * their rank (two players tied second both stand on the silver block, and the next place is
 * then 4th, so there is no bronze). The blocks rise one after the other, third first, unless
 * the person asked for reduced motion.
 */
import { h } from '../dom.js';
import { ordinal } from '../format.js';
import { matchBar, screenRoot, screenTitle, standingsList, yourScore } from './common.js';
import { resultsCsvButton } from './resultsCsvButton.js';

const MEDALS = { 1: '🥇', 2: '🥈', 3: '🥉' };
const METAL = { 1: 'gold', 2: 'silver', 3: 'bronze' };
/** More names than this on one block are summed up ("+ 5 more"); the list below has them all. */
const NAMES_PER_BLOCK = 4;

export function finishedScreen(ctx) {
  const m = ctx.match;
  const standings = m.standings ?? [];
  const winners = standings.filter((s) => s.rank === 1);
  const you = m.you;

  const title =
    winners.length === 0 ? 'Game over' : winners.length === 1 ? ['🏆 ', winners[0].name, ' wins!'] : '🏆 It’s a tie at the top!';

  const places = [1, 2, 3].map((rank) => ({ rank, players: standings.filter((s) => s.rank === rank) }));
  const anyone = places.some((p) => p.players.length > 0);

  const root = screenRoot(
    'finished',
    matchBar(ctx),
    screenTitle(title),
    anyone
      ? h(
          'ol',
          { class: 'podium', 'aria-label': 'Podium', dataset: { testid: 'podium' } },
          // A place nobody holds (after a tie, or with fewer players) stays an empty gap, so the
          // winner's block stays in the middle.
          places.map(({ rank, players }) =>
            players.length ? podiumStep(rank, players, m.playerId) : h('li', { class: ['podium-step', 'podium-empty', `podium-rank-${rank}`], 'aria-hidden': 'true' }),
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
      resultsCsvButton(ctx),
      h(
        'button',
        { type: 'button', class: 'btn btn-primary btn-huge', dataset: { testid: 'play-again' }, on: { click: () => ctx.actions.goHome() } },
        'Play again',
      ),
    ),
  );
  return { root, update() {} };
}

function podiumStep(rank, players, myPlayerId) {
  const shown = players.slice(0, NAMES_PER_BLOCK);
  const more = players.length - shown.length;
  const mine = players.some((p) => p.playerId === myPlayerId);
  return h(
    'li',
    {
      class: ['podium-step', `podium-rank-${rank}`, `podium-${METAL[rank]}`, players.length > 1 && 'podium-tie', mine && 'mine'],
      dataset: { testid: `podium-rank-${rank}`, rank },
    },
    h('span', { class: 'podium-medal', 'aria-hidden': 'true' }, MEDALS[rank]),
    h(
      'ul',
      { class: 'podium-names' },
      shown.map((p) =>
        h(
          'li',
          { class: ['podium-player', p.playerId === myPlayerId && 'mine'], dataset: { playerId: p.playerId } },
          h('span', { class: 'podium-name' }, p.name),
          h('span', { class: 'podium-score' }, `${p.score} pts`),
        ),
      ),
      more > 0 ? h('li', { class: 'podium-more' }, `+ ${more} more`) : null,
    ),
    h(
      'span',
      { class: 'podium-block' },
      ordinal(rank),
      players.length > 1 ? h('span', { class: 'podium-tie-note' }, ' (tie)') : null,
    ),
  );
}
