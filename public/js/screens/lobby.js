/**
 * Lobby: the join code big enough to read across a room, who is in, and the host's controls.
 * On the host's big screen the code is huge, with a QR code of the join link, and players
 * pop in as they join (each player's row is kept, so only a newcomer animates).
 */
import { h, replace } from '../dom.js';
import { plural } from '../format.js';
import { qrCodeSvg } from '../qrCode.js';
import { matchBar, screenRoot, screenTitle } from './common.js';

/** In a big match (the server sends counts, not everyone's name) the lobby shows this many of the newest names. */
const NEWEST_SHOWN = 12;

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

  const big = Boolean(ctx.bigScreen);
  const qrSlot = big ? h('div', { class: 'qr-slot', dataset: { testid: 'join-qr' } }) : null;
  if (qrSlot) {
    qrCodeSvg(shareLink, `QR code: scan it to join game ${m.matchId}`)
      .then((el) => replace(qrSlot, el, h('p', { class: 'qr-caption' }, '📷 Scan to join')))
      .catch(() => qrSlot.remove());
  }

  const root = screenRoot(
    'lobby',
    matchBar(ctx),
    screenTitle(isHost ? (big ? ['Join at ', h('span', { class: 'join-host' }, joinHost(ctx.origin))] : 'Your game is ready') : 'You’re in!'),
    h(
      'div',
      { class: ['card', 'card-code', big && 'card-code-big'] },
      h(
        'div',
        { class: 'code-block' },
        h('p', { class: 'code-label', id: 'code-label' }, 'Game code'),
        h('p', { class: 'lobby-code', dataset: { testid: 'lobby-code' }, 'aria-labelledby': 'code-label' }, m.matchId),
        h('label', { for: 'share-link', class: 'share-label' }, 'Or share this link'),
        h('div', { class: 'share-row' }, linkInput, copyButton),
        copyStatus,
      ),
      qrSlot,
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

  /** playerId → its row, so a `players` update only adds (and animates) the newcomers. */
  const rows = new Map();
  const emptyRow = h('li', { class: 'player-empty' }, 'Nobody yet. Share the code!');
  let firstFill = true;

  function update(next) {
    const match = next.match;
    const total = match.playerCount ?? match.players.length;
    playerCount.textContent = `(${total})`;
    if (typeof match.playerCount === 'number') {
      // A big match: counts and the newest names, redrawn whole (no pop-in for thousands).
      rows.clear();
      replace(playerList, total === 0 ? emptyRow : bigRoster(match, total, next.actions));
    } else {
      const present = new Set(match.players.map((p) => p.playerId));
      for (const id of [...rows.keys()]) if (!present.has(id)) rows.delete(id);
      const items = match.players.map((p) => {
        const key = `${p.playerId}|${p.name}|${p.connected}`;
        const known = rows.get(p.playerId);
        if (known && known.key === key) return known.el;
        const el = playerItem(p, match, next.actions);
        // Pop in only for someone who just joined (not for everyone already there on arrival).
        if (!known && !firstFill) {
          el.classList.add('pop-in');
          el.addEventListener('animationend', () => el.classList.remove('pop-in'), { once: true });
        }
        rows.set(p.playerId, { key, el });
        return el;
      });
      firstFill = false;
      // Rows already in place stay put (moving a node would restart its animation).
      const wanted = items.length ? items : [emptyRow];
      wanted.forEach((el, i) => {
        if (playerList.children[i] !== el) playerList.insertBefore(el, playerList.children[i] ?? null);
      });
      while (playerList.children.length > wanted.length) playerList.lastElementChild.remove();
    }
    lockStatus.textContent = match.locked ? '🔒 Locked: nobody new can join.' : '🔓 Open: anyone with the code can join.';
    lockStatus.classList.toggle('locked', match.locked);
    if (lockButton) {
      lockButton.textContent = match.locked ? '🔓 Unlock joining' : '🔒 Lock joining';
      lockButton.setAttribute('aria-pressed', match.locked ? 'true' : 'false');
    }
    if (isHost) {
      startHint.textContent = total === 0 ? 'Nobody has joined yet.' : `${plural(total, 'player')} ready.`;
    }
  }

  update(ctx);
  return { root, update };
}

/** A big match: how many are in (and connected), the newest few names, and how many more. */
function bigRoster(match, total, actions) {
  const newest = match.players.slice(-NEWEST_SHOWN).reverse();
  const connected = match.connectedCount === null ? '' : `, ${match.connectedCount} connected`;
  return [
    h('li', { class: 'player-summary', dataset: { testid: 'player-summary' } }, `${plural(total, 'player')}${connected}. Newest:`),
    newest.map((p) => playerItem(p, match, actions)),
    total > newest.length ? h('li', { class: 'player-more' }, `…and ${total - newest.length} more`) : null,
  ];
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

/** "quiz.example.org" from the page's origin: what people type if they cannot scan. */
function joinHost(origin) {
  try {
    return new URL(origin).host;
  } catch {
    return origin;
  }
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
