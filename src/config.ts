/**
 * Settings from the environment, validated once at start-up. An invalid value stops the
 * process with a message that names the setting; nothing else reads `process.env`.
 * Every setting is listed, with its default and meaning, in `.env.example` and the README.
 */
import { existsSync } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
import path from 'node:path';
import { z } from 'zod';

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);
const port = int(0, 65535);
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const fields = z.object({
    MATCH_PORT: port.default(3001),
    API_PORT: port.default(3000),
    /** Bind address of both servers. */
    HOST: z.string().min(1).default('0.0.0.0'),
    MAX_PLAYERS: int(1, 10_000).default(100),
    /**
     * A match with more players than this is big (PROTOCOL.md Part 2, "Big matches"): players
     * get counts instead of the player list, and lists of players are cut to this many.
     */
    PLAYER_LIST_MAX: int(1, 10_000).default(200),
    MATCH_TIME_SCALE: z.coerce.number().positive().max(100).default(1),
    REVEAL_MS: int(0).default(5000),
    LEADERBOARD_MS: int(0).default(5000),
    /** The suspense moment before each question opens (× scale); 0: none, as in v1. */
    QUESTION_INTRO_MS: int(0, 60_000).default(3000),
    RECONNECT_GRACE_MS: int(0).default(10_000),
    FINISH_GRACE_MS: int(0).default(60_000),
    LOBBY_IDLE_TIMEOUT_MS: int(1000).default(600_000),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    LOG_PRETTY: bool.default(false),

    MIN_WORKERS: int(1, 256).default(1),
    MAX_WORKERS: int(1, 256).default(availableParallelism()),
    MAX_MATCHES: int(1, 100_000).default(3),
    /** The single process's own match limit (it has no workers to spread over). */
    SINGLE_MAX_MATCHES: int(1, 100_000).default(10_000),
    PLACEMENT: z.enum(['pack', 'spread']).default('pack'),
    WORKER_IDLE_TIMEOUT_MS: int(100).default(300_000),
    HEARTBEAT_INTERVAL_MS: int(50).default(1000),
    HEARTBEAT_TIMEOUT_MS: int(200).default(5000),
    HUNG_WORKER_KILL_DELAY_MS: int(0).default(0),
    IPC_TIMEOUT_MS: int(100).default(5000),
    POISON_RESTORE_LIMIT: int(1, 100).default(3),
    /** Blame for a worker's death halves this often (pool/restorer.ts): spaced-out crashes still add up. */
    POISON_HALF_LIFE_MS: int(1000).default(10 * 60_000),
    /** A connect to a match being restored waits this long for it (0: 503 Retry-After at once). */
    UPGRADE_HOLD_MS: int(0, 60_000).default(3000),
    /** Extra node flags for workers, space-separated (e.g. --max-old-space-size=512, --cpu-prof). */
    WORKER_EXEC_ARGV: z.string().default(''),
    /** Set by the pool master for each worker it forks (its slot, 1..N); 0 in any other process. */
    WORKER_ID: int(0, 256).default(0),

    REDIS_URL: z.string().url().optional(),
    /**
     * Redis through Sentinel: `host:port` of each sentinel, comma-separated. The master is the
     * one they name REDIS_MASTER_NAME; REDIS_URL, if set, gives only credentials and database.
     */
    REDIS_SENTINELS: z
      .string()
      .regex(/^[^,\s:]+:\d{1,5}(,\s*[^,\s:]+:\d{1,5})*$/, 'must be host:port[,host:port…]')
      .optional(),
    REDIS_MASTER_NAME: z.string().min(1).max(200).default('mymaster'),
    /**
     * Replicas that must hold each match write before it is acknowledged (Redis WAIT). 0: the
     * primary's word is enough (a failover can lose the last acknowledged answers, since
     * replication is asynchronous); 1 closes that window at the cost measured in BENCHMARKS.md.
     */
    REDIS_WAIT_REPLICAS: int(0, 16).default(0),
    REDIS_WAIT_TIMEOUT_MS: int(10, 60_000).default(1000),
    /**
     * Several hosts on one Redis (WORKER_POOL_ARCHITECTURE.md "Several hosts"). HOST_ID names
     * this host among them and must be unique: a second process with the same id replaces the
     * first. Unset: <hostname>:<MATCH_PORT>.
     */
    HOST_ID: z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/, 'must be 1-64 characters of A-Z a-z 0-9 . _ : -').optional(),
    /** How clients and the other hosts reach this host's match service. Unset: http://<hostname>:<MATCH_PORT>. */
    PUBLIC_MATCH_URL: z.string().url().optional(),
    /** A host whose lease has not been renewed for this long is dead: the others take its matches over. */
    HOST_LEASE_MS: int(1000, 600_000).default(10_000),
    /**
     * A draining host (SIGTERM, POST /admin/drain) moves its matches to the others for at most
     * this long, then exits; what is left is taken over once its lease is released.
     */
    DRAIN_TIMEOUT_MS: int(0, 3_600_000).default(20_000),

    CLIENT_PING_INTERVAL_MS: int(1000).default(20_000),
    MSG_RATE_PER_SEC: int(1).default(20),
    MSG_BURST: int(1).default(40),
    BAD_MESSAGE_BUDGET: int(1).default(10),

    /**
     * Open to the internet (README "Running it on the internet"). TRUST_PROXY: whose
     * X-Forwarded-For to believe, as express's `trust proxy` (empty: nobody's).
     */
    TRUST_PROXY: z.string().default(''),
    /** Matches one client address may create per minute (a token bucket of that size). */
    CREATE_RATE_PER_MIN: int(1).default(10),
    /** Matches created from one address that may sit in the lobby at once. */
    MAX_OPEN_LOBBIES_PER_IP: int(1).default(3),
    /** A lobby never started closes after this, even with its host connected. */
    LOBBY_MAX_MS: int(1000).default(30 * 60_000),
    /** Bearer token for the operators' endpoints from non-loopback clients (unset: loopback only). */
    OPS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
    /** Open WebSocket connections per client address (a classroom behind one NAT needs room). */
    MAX_CONNECTIONS_PER_IP: int(1).default(300),
    /** A socket that has neither joined nor resumed by then is closed. */
    JOIN_DEADLINE_MS: int(100).default(10_000),
    /**
     * Messages per second and burst per client address, over all its connections on one
     * process. Sized for a classroom behind one NAT: the burst lets MAX_CONNECTIONS_PER_IP
     * (300) browsers reconnect at once after a Wi-Fi blip (each sends resume and 4 clock
     * pings: 1,500), the rate lets 300 players answer one question within 1.5 s.
     */
    ADDRESS_MSG_RATE_PER_SEC: int(1).default(200),
    ADDRESS_MSG_BURST: int(1).default(1500),
    /** Bad messages one address may send per minute before its sockets are closed (1008). */
    ADDRESS_BAD_MESSAGES_PER_MIN: int(1).default(60),
    /** A client whose unsent data passes this is not reading: it is closed (1013). */
    SEND_BUFFER_LIMIT_BYTES: int(4096).default(512 * 1024),
    /** Quiz bytes one host may hold over all its matches before it answers 503 CAPACITY. */
    MAX_QUIZ_BYTES_TOTAL: int(1024).default(64 * 1024 * 1024),
    /** A question's `data:` image, the whole string, at most this many bytes (POST /matches). */
    MAX_IMAGE_BYTES: int(1024, 1024 * 1024).default(128 * 1024),
    /** How long a client may take to send a request's headers, and the whole request. */
    HTTP_HEADERS_TIMEOUT_MS: int(1000).default(10_000),
    HTTP_REQUEST_TIMEOUT_MS: int(1000).default(30_000),

    /** Where the browser page finds the match service. Unset: http://localhost:MATCH_PORT. */
    MATCH_SERVICE_URL: z.string().url().optional(),
    /**
     * Where the API server itself reaches the match service (recent results). Unset: the same
     * as MATCH_SERVICE_URL. In a container network the page's address (localhost, a public
     * host) is not the API server's way to the match service (a service name).
     */
    MATCH_SERVICE_INTERNAL_URL: z.string().url().optional(),
    /** Base of the joinUrl returned by POST /matches. Unset: http://localhost:API_PORT. */
    PUBLIC_APP_URL: z.string().url().optional(),
    /**
     * Comma-separated origins allowed for CORS and WebSocket upgrades; `*` allows any. Unset:
     * the API server's own page (PUBLIC_APP_URL, and localhost / 127.0.0.1 on API_PORT).
     */
    ALLOWED_ORIGINS: z.string().optional(),
});

/** Every setting's name: what the deployment files may set (test/deploy checks them). */
export const SETTING_NAMES: readonly string[] = Object.keys(fields.shape);

const schema = fields
  .refine((c) => c.MIN_WORKERS <= c.MAX_WORKERS, { message: 'must not exceed MAX_WORKERS', path: ['MIN_WORKERS'] })
  .refine((c) => c.HEARTBEAT_TIMEOUT_MS > c.HEARTBEAT_INTERVAL_MS, {
    message: 'must be longer than HEARTBEAT_INTERVAL_MS',
    path: ['HEARTBEAT_TIMEOUT_MS'],
  })
  // A phone gets a question's picture twice (`question_intro`, then `question`), possibly back
  // to back: with less room than that plus the rest, an honest phone that is slow to read
  // would be closed as a client that does not read (1013).
  .refine((c) => c.SEND_BUFFER_LIMIT_BYTES >= 3 * c.MAX_IMAGE_BYTES, {
    message: 'must be at least 3 × MAX_IMAGE_BYTES (a phone may be sent a picture twice at once)',
    path: ['SEND_BUFFER_LIMIT_BYTES'],
  })
  // Derived defaults: moving a port moves the addresses that name it, unless they are set.
  .transform((c) => {
    const matchServiceUrl = c.MATCH_SERVICE_URL ?? `http://localhost:${c.MATCH_PORT}`;
    return {
      ...c,
      MATCH_SERVICE_URL: matchServiceUrl,
      MATCH_SERVICE_INTERNAL_URL: c.MATCH_SERVICE_INTERNAL_URL ?? matchServiceUrl,
      PUBLIC_APP_URL: c.PUBLIC_APP_URL ?? `http://localhost:${c.API_PORT}`,
      HOST_ID: c.HOST_ID ?? `${hostname().slice(0, 56)}:${c.MATCH_PORT}`,
      PUBLIC_MATCH_URL: c.PUBLIC_MATCH_URL ?? `http://${hostname()}:${c.MATCH_PORT}`,
    };
  });

export type Config = z.infer<typeof schema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings mean "unset", as in most .env tooling.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${String(i.path[0] ?? '?')}=${JSON.stringify(env[String(i.path[0])] ?? '')}: ${i.message}`);
    throw new ConfigError(`Invalid settings:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

/** The `Origins` of `http/origins.ts` (same shape; config sits below http and does not import it). */
export function allowedOrigins(c: Config): { any: boolean; list: ReadonlySet<string> } {
  const list =
    c.ALLOWED_ORIGINS?.split(',').map((o) => o.trim()).filter(Boolean) ??
    [new URL(c.PUBLIC_APP_URL).origin, `http://localhost:${c.API_PORT}`, `http://127.0.0.1:${c.API_PORT}`];
  return { any: list.includes('*'), list: new Set(list) };
}

let envFileRead = false;

/**
 * Reads `.env` from the working directory into `process.env` once per process, if there is
 * one, with Node's own parser (`process.loadEnvFile`). Variables already in the environment
 * win, so a worker (which inherits its master's environment) reading it again changes nothing.
 * Returns the file read, or null.
 */
export function loadEnvFileOnce(file = path.resolve(process.cwd(), '.env')): string | null {
  if (envFileRead || !existsSync(file)) return null;
  envFileRead = true;
  process.loadEnvFile(file);
  return file;
}

/** Loads `.env` (if present) and the settings, or ends the process with the message; for entry points only. */
export function loadConfigOrExit(): Config {
  try {
    loadEnvFileOnce();
  } catch (err) {
    process.stderr.write(`Could not read .env: ${(err as Error).message}\n`);
    process.exit(1);
  }
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}
