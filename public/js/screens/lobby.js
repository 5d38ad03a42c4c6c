/** Lobby: the join code big enough to read across a room, who is in, and the host's controls. */
import { h, replace } from '../dom.js';
import { plural } from '../format.js';
import { matchBar, screenRoot, screenTitle } from './common.js';

export function lobbyScreen(ctx) {
  const m = ctx.match;
  const isHost = m.role === 'host';
  const shareLink = `${ctx.origin}/?join=${m.matchId}`;

  const copyStatus = h('span', { class: 'copy-status', role: 'status' });
  const linkInput = h('input', {
    id: 'share-link',
    class: 'input input-link',
    readonly: true,
    dataset: { testid: 'share-link' },
    value: shareLink,
    on: { focus: (e) => e.target.select() },
  });
  const copyButton = h(
    'button',
    {
      type: 'button',
      class: 'btn btn-small btn-secondary',
      dataset: { testid: 'copy-link' },
      on: {
        click: async () => {
          const ok = await copyText(shareLink, linkInput);
          copyStatus.textContent = ok ? '✓ Copied!' : 'Select the link and copy it.';
        },
      },
    },
    'Copy link',
  );

  const playerCount = h('span', { class: 'player-count' });
  const playerList = h('ul', { class: 'player-list', 'aria-labelledby': 'players-heading' });
  const lockStatus = h('p', { class: 'lock-status' });
  const lockButton = isHost
    ? h('button', { type: 'button', class: 'btn btn-secondary', dataset: { testid: 'lock-toggle' }, on: { click: () => ctx.actions.toggleLock() } })
    : null;
  const startButton = isHost
    ? h(
        'button',
        { type: 'button', class: 'btn btn-primary btn-huge', dataset: { testid: 'start-match' }, on: { click: () => ctx.actions.start() } },
        'Start game ',
        h('span', { 'aria-hidden': 'true' }, '▶'),
      )
    : null;
  const startHint = h('p', { class: 'hint start-hint' });

  const root = screenRoot(
    'lobby',
    matchBar(ctx),
    screenTitle(isHost ? 'Your game is ready' : 'You’re in!'),
    h(
      'div',
      { class: 'card card-code' },
      h('p', { class: 'code-label', id: 'code-label' }, 'Game code'),
      h('p', { class: 'lobby-code', dataset: { testid: 'lobby-code' }, 'aria-labelledby': 'code-label' }, m.matchId),
      h('label', { for: 'share-link', class: 'share-label' }, 'Or share this link'),
      h('div', { class: 'share-row' }, linkInput, copyButton),
      copyStatus,
    ),
    h(
      'section',
      { class: 'card card-players' },
      h('h2', { id: 'players-heading' }, 'Players ', playerCount),
      lockStatus,
      playerList,
    ),
    isHost
      ? h('div', { class: 'host-controls' }, startButton, startHint, lockButton)
      : h('p', { class: 'waiting' }, h('span', { class: 'pulse', 'aria-hidden': 'true' }), 'Waiting for the host to start the game…'),
  );

  function update(next) {
    const match = next.match;
    playerCount.textContent = `(${match.players.length})`;
    replace(
      playerList,
      match.players.length === 0
        ? h('li', { class: 'player-empty' }, 'Nobody yet. Share the code!')
        : match.players.map((p) => playerItem(p, match, next.actions)),
    );
    lockStatus.textContent = match.locked ? '🔒 Locked: nobody new can join.' : '🔓 Open: anyone with the code can join.';
    lockStatus.classList.toggle('locked', match.locked);
    if (lockButton) {
      lockButton.textContent = match.locked ? '🔓 Unlock joining' : '🔒 Lock joining';
      lockButton.setAttribute('aria-pressed', match.locked ? 'true' : 'false');
    }
    if (isHost) {
      startHint.textContent =
        match.players.length === 0 ? 'Nobody has joined yet.' : `${plural(match.players.length, 'player')} ready.`;
    }
  }

  update(ctx);
  return { root, update };
}

function playerItem(p, match, actions) {
  const mine = p.playerId === match.playerId;
  return h(
    'li',
    { class: ['player', mine && 'mine', !p.connected && 'offline'] },
    h('span', { class: 'avatar', 'aria-hidden': 'true' }, initial(p.name)),
    // Only the name inside the hook, so its text is exactly the name.
    h('span', { class: 'player-name', dataset: { testid: `player-${p.playerId}` } }, p.name),
    mine ? h('span', { class: 'you-tag' }, '(you)') : null,
    p.connected ? null : h('span', { class: 'badge badge-offline' }, '⚠ offline'),
    match.role === 'host'
      ? h(
          'button',
          {
            type: 'button',
            class: 'btn btn-small btn-danger kick',
            dataset: { testid: `kick-${p.playerId}` },
            'aria-label': `Remove ${p.name}`,
            on: { click: () => actions.kick(p.playerId) },
          },
          '✕ Remove',
        )
      : null,
  );
}

function initial(name) {
  const first = [...String(name ?? '').trim()][0];
  return first ? first.toUpperCase() : '?';
}

async function copyText(text, fallbackInput) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // No clipboard API (insecure origin, old browser): select the text for a manual copy.
    fallbackInput.focus();
    fallbackInput.select();
    try {
      return document.execCommand('copy');
    } catch {
      return false;
    }
  }
}
