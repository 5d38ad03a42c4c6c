/**
 * What hosts matches in a process, built the same way in the single process and in every pool
 * worker: the engine's timing and the gateway's limits from the settings, the hosting
 * metrics, a `MatchHost` and the `WsGateway` in front of it.
 */
import type { Registry } from 'prom-client';
import type { Config } from '../config';
import type { Logger } from '../log';
import { HostingMetrics } from '../metrics';
import type { MatchTiming } from '../quiz/engine';
import type { MatchHostStore } from '../store/store';
import { type HostEvents, MatchHost } from './matchHost';
import { type GatewayLimits, WsGateway } from './wsGateway';

/** The engine's durations from the settings: every phase and grace scaled by MATCH_TIME_SCALE. */
export function matchTiming(c: Config): MatchTiming {
  const scaled = (ms: number) => Math.round(ms * c.MATCH_TIME_SCALE);
  return {
    questionScale: c.MATCH_TIME_SCALE,
    revealMs: scaled(c.REVEAL_MS),
    leaderboardMs: scaled(c.LEADERBOARD_MS),
    reconnectGraceMs: scaled(c.RECONNECT_GRACE_MS),
    finishGraceMs: scaled(c.FINISH_GRACE_MS),
    lobbyIdleMs: c.LOBBY_IDLE_TIMEOUT_MS,
    lobbyMaxMs: c.LOBBY_MAX_MS,
    introMs: scaled(c.QUESTION_INTRO_MS),
  };
}

/**
 * Limits of the WebSocket gateway, the same wherever matches are hosted: per connection, per
 * client address (over all its connections on this process), and per socket's send buffer.
 */
export function gatewayLimits(c: Config): GatewayLimits {
  return {
    msgRatePerSec: c.MSG_RATE_PER_SEC,
    msgBurst: c.MSG_BURST,
    badMessageBudget: c.BAD_MESSAGE_BUDGET,
    pingIntervalMs: c.CLIENT_PING_INTERVAL_MS,
    joinDeadlineMs: c.JOIN_DEADLINE_MS,
    addressMsgRatePerSec: c.ADDRESS_MSG_RATE_PER_SEC,
    addressMsgBurst: c.ADDRESS_MSG_BURST,
    addressBadMessagesPerMin: c.ADDRESS_BAD_MESSAGES_PER_MIN,
    sendBufferLimitBytes: c.SEND_BUFFER_LIMIT_BYTES,
    trustProxy: c.TRUST_PROXY,
  };
}

export interface HostingStack {
  host: MatchHost;
  gateway: WsGateway;
  metrics: HostingMetrics;
}

export function createHosting(deps: { config: Config; log: Logger; store: MatchHostStore; registry: Registry; events: HostEvents }): HostingStack {
  const metrics = new HostingMetrics(deps.registry);
  const host = new MatchHost({
    store: deps.store,
    timing: matchTiming(deps.config),
    log: deps.log.child({ component: 'host' }),
    metrics,
    events: deps.events,
  });
  const gateway = new WsGateway(host, gatewayLimits(deps.config), deps.log.child({ component: 'gateway' }), metrics);
  return { host, gateway, metrics };
}
