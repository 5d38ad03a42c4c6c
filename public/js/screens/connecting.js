/** Shown while a refreshed page gets its match back, before the first `welcome`. */
import { h } from '../dom.js';
import { screenRoot, screenTitle } from './common.js';

export function connectingScreen(ctx) {
  const root = screenRoot(
    'connecting',
    screenTitle('Getting your game back…'),
    h(
      'p',
      { class: 'waiting' },
      h('span', { class: 'pulse', 'aria-hidden': 'true' }),
      'Reconnecting to game ',
      h('strong', { class: 'code-inline' }, ctx.connectingTo ?? ''),
      '…',
    ),
    h('div', { class: 'button-row center' }, h('button', { type: 'button', class: 'btn btn-ghost', on: { click: () => ctx.actions.goHome() } }, 'Back to start')),
  );
  return { root, update() {} };
}
