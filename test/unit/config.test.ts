/**
 * Settings (src/config.ts): defaults, refusal of invalid values with a message naming the
 * setting, and the match timing derived from MATCH_TIME_SCALE.
 */
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { allowedOrigins, ConfigError, loadConfig, SETTING_NAMES } from '../../src/config';
import { matchTiming } from '../../src/hosting/hostingStack';

/** The ConfigError thrown for `env`. */
function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      MATCH_PORT: 3001,
      API_PORT: 3000,
      HOST: '0.0.0.0',
      MAX_PLAYERS: 100,
      MATCH_TIME_SCALE: 1,
      REVEAL_MS: 5000,
      LEADERBOARD_MS: 5000,
      RECONNECT_GRACE_MS: 10_000,
      FINISH_GRACE_MS: 60_000,
      LOBBY_IDLE_TIMEOUT_MS: 600_000,
      LOG_LEVEL: 'info',
      LOG_PRETTY: false,
      MIN_WORKERS: 1,
      MAX_WORKERS: availableParallelism(),
      MAX_MATCHES: 3,
      SINGLE_MAX_MATCHES: 10_000,
      PLACEMENT: 'pack',
      WORKER_IDLE_TIMEOUT_MS: 300_000,
      HEARTBEAT_INTERVAL_MS: 1000,
      HEARTBEAT_TIMEOUT_MS: 5000,
      MSG_RATE_PER_SEC: 20,
      MSG_BURST: 40,
      BAD_MESSAGE_BUDGET: 10,
      UPGRADE_HOLD_MS: 3000,
      MATCH_SERVICE_URL: 'http://localhost:3001',
      PUBLIC_APP_URL: 'http://localhost:3000',
    });
    expect(c.REDIS_URL).toBeUndefined();
  });

  it('reads values from the environment, coercing numbers and booleans', () => {
    const c = loadConfig({ MATCH_PORT: '4001', MATCH_TIME_SCALE: '0.05', PLACEMENT: 'spread', LOG_PRETTY: 'true', MAX_WORKERS: '4', MIN_WORKERS: '2' });
    expect(c).toMatchObject({ MATCH_PORT: 4001, MATCH_TIME_SCALE: 0.05, PLACEMENT: 'spread', LOG_PRETTY: true, MAX_WORKERS: 4, MIN_WORKERS: 2 });
  });

  it('derives the page\'s and the join links\' addresses from the ports unless they are set', () => {
    const moved = loadConfig({ MATCH_PORT: '4101', API_PORT: '4100' });
    expect(moved.MATCH_SERVICE_URL).toBe('http://localhost:4101');
    expect(moved.MATCH_SERVICE_INTERNAL_URL).toBe('http://localhost:4101');
    expect(moved.PUBLIC_APP_URL).toBe('http://localhost:4100');
    const set = loadConfig({
      MATCH_PORT: '4101',
      API_PORT: '4100',
      MATCH_SERVICE_URL: 'https://match.example.org',
      PUBLIC_APP_URL: 'https://quiz.example.org',
    });
    expect(set.MATCH_SERVICE_URL).toBe('https://match.example.org');
    // The API server's own way to the match service follows the page's unless set.
    expect(set.MATCH_SERVICE_INTERNAL_URL).toBe('https://match.example.org');
    expect(set.PUBLIC_APP_URL).toBe('https://quiz.example.org');
    expect(loadConfig({ MATCH_SERVICE_INTERNAL_URL: 'http://match:3001' }).MATCH_SERVICE_INTERNAL_URL).toBe('http://match:3001');
  });

  it('knows the name of every setting that .env.example lists', () => {
    const listed = readFileSync(path.join(__dirname, '..', '..', '.env.example'), 'utf8')
      .split('\n')
      .flatMap((line) => /^([A-Z][A-Z0-9_]*)=/.exec(line)?.[1] ?? []);
    expect([...listed].sort()).toEqual([...SETTING_NAMES].sort());
  });

  it('treats empty strings as unset', () => {
    const c = loadConfig({ MATCH_PORT: '', MAX_WORKERS: '', REDIS_URL: '' });
    expect(c.MATCH_PORT).toBe(3001);
    expect(c.MAX_WORKERS).toBe(availableParallelism());
    expect(c.REDIS_URL).toBeUndefined();
  });

  it.each([
    ['MATCH_PORT', { MATCH_PORT: 'abc' }],
    ['MATCH_PORT', { MATCH_PORT: '70000' }],
    ['MATCH_PORT', { MATCH_PORT: '30.5' }],
    ['MATCH_TIME_SCALE', { MATCH_TIME_SCALE: '-1' }],
    ['MATCH_TIME_SCALE', { MATCH_TIME_SCALE: '0' }],
    ['PLACEMENT', { PLACEMENT: 'random' }],
    ['MIN_WORKERS', { MIN_WORKERS: '5', MAX_WORKERS: '2' }],
    ['MAX_MATCHES', { MAX_MATCHES: '0' }],
    ['LOG_LEVEL', { LOG_LEVEL: 'loud' }],
    ['LOG_PRETTY', { LOG_PRETTY: 'maybe' }],
    ['REDIS_URL', { REDIS_URL: 'not a url' }],
    ['HEARTBEAT_TIMEOUT_MS', { HEARTBEAT_INTERVAL_MS: '1000', HEARTBEAT_TIMEOUT_MS: '500' }],
    ['SEND_BUFFER_LIMIT_BYTES', { MAX_IMAGE_BYTES: '262144', SEND_BUFFER_LIMIT_BYTES: '524288' }],
  ])('refuses a bad %s with a ConfigError naming it', (setting, env) => {
    const err = configError(env);
    expect(err.name).toBe('ConfigError');
    expect(err.message).toContain(setting);
    // Only the offending setting is named, not every setting there is.
    expect(err.message).not.toContain('API_PORT');
  });
});

describe('matchTiming', () => {
  it('uses the settings as they are at scale 1', () => {
    expect(matchTiming(loadConfig({}))).toEqual({
      questionScale: 1,
      revealMs: 5000,
      leaderboardMs: 5000,
      reconnectGraceMs: 10_000,
      finishGraceMs: 60_000,
      lobbyIdleMs: 600_000,
      lobbyMaxMs: 1_800_000,
      introMs: 3000,
    });
  });

  it('scales reveal, leaderboard, intro, reconnect grace, finish grace and questions by MATCH_TIME_SCALE', () => {
    const t = matchTiming(
      loadConfig({
        MATCH_TIME_SCALE: '0.05',
        REVEAL_MS: '4000',
        LEADERBOARD_MS: '6000',
        RECONNECT_GRACE_MS: '10000',
        FINISH_GRACE_MS: '60000',
        LOBBY_IDLE_TIMEOUT_MS: '120000',
        QUESTION_INTRO_MS: '2000',
      }),
    );
    expect(t).toEqual({
      questionScale: 0.05,
      revealMs: 200,
      leaderboardMs: 300,
      reconnectGraceMs: 500,
      finishGraceMs: 3000,
      // .env.example lists the lobby idle timeout without "× scale".
      lobbyIdleMs: 120_000,
      // LOBBY_MAX_MS is wall-clock time for people, like the idle timeout: not scaled.
      lobbyMaxMs: 1_800_000,
      // The suspense moment is a phase like the others: scaled.
      introMs: 100,
    });
  });

  it('allows the API server page by default, following API_PORT and PUBLIC_APP_URL', () => {
    expect([...allowedOrigins(loadConfig({})).list].sort()).toEqual(['http://127.0.0.1:3000', 'http://localhost:3000']);
    const moved = allowedOrigins(loadConfig({ API_PORT: '4000', PUBLIC_APP_URL: 'https://quiz.example.org/play/' }));
    expect(moved.any).toBe(false);
    expect([...moved.list].sort()).toEqual(['http://127.0.0.1:4000', 'http://localhost:4000', 'https://quiz.example.org']);
    expect(allowedOrigins(loadConfig({ ALLOWED_ORIGINS: ' https://a.example , *' }))).toEqual({ any: true, list: new Set(['https://a.example', '*']) });
  });

  it('produces whole milliseconds', () => {
    const t = matchTiming(loadConfig({ MATCH_TIME_SCALE: '0.3', REVEAL_MS: '1001', LEADERBOARD_MS: '7' }));
    expect(t.revealMs).toBe(300);
    expect(t.leaderboardMs).toBe(2);
    for (const v of [t.revealMs, t.leaderboardMs, t.reconnectGraceMs, t.finishGraceMs]) expect(Number.isInteger(v)).toBe(true);
  });
});
