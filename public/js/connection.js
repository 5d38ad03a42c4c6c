/**
 * One match's WebSocket: connects, says hello (`join` or `resume`, decided at each open by
 * the caller), keeps the server clock in sync, notices dead sockets, and reconnects with
 * exponential backoff and jitter until told to stop. It knows nothing about screens; the
 * app decides what messages and closes mean.
 *
 * Game timing never comes from here: timers in this module only decide when to retry a
 * connection or ping. Every phase change arrives as a server message.
 */

const BACKOFF_BASE_MS = 250;
const BACKOFF_MAX_MS = 5000;
/** A handshake that hangs (no answer from a dead host) would otherwise block for minutes. */
const CONNECT_TIMEOUT_MS = 8000;
/** Pings right after connecting: the best of a few gives a good clock offset. */
const SYNC_PINGS = 4;
const SYNC_SPACING_MS = 200;
/** Periodic pings refresh the clock offset and prove the socket is still alive. */
const PING_INTERVAL_MS = 15_000;
/** Mobile networks leave half-dead sockets that never close; silence this long = dead. */
const PONG_TIMEOUT_MS = 10_000;

export class MatchConnection {
  #url;
  #clock;
  #hello;
  #on;
  #giveUpAfterMs;
  #ws = null;
  #state = 'idle'; // idle | connecting | open | waiting | stopped
  #attempt = 0;
  #downSince = null;
  #retryTimer = null;
  #connectTimer = null;
  #pingTimer = null;
  #pongTimer = null;
  #syncTimers = [];

  /**
   * @param {object} opts
   * @param {string} opts.url           ws:// or wss:// URL of the match
   * @param {import('./clock.js').ServerClock} opts.clock
   * @param {() => object} opts.hello   first message on every new socket (join / resume)
   * @param {(msg: object) => void} opts.onMessage
   * @param {() => void} [opts.onOpen]
   * @param {(info: {code: number, reason: string, wasOpen: boolean}) => boolean} [opts.onClose]
   *        return false to stop reconnecting
   * @param {(status: {state: string, attempt: number, retryInMs?: number}) => void} [opts.onStatus]
   * @param {() => void} [opts.onGiveUp] reconnecting failed for `giveUpAfterMs`
   * @param {number} [opts.giveUpAfterMs]
   */
  constructor({ url, clock, hello, onMessage, onOpen, onClose, onStatus, onGiveUp, giveUpAfterMs = 120_000 }) {
    this.#url = url;
    this.#clock = clock;
    this.#hello = hello;
    this.#on = { onMessage, onOpen, onClose, onStatus, onGiveUp };
    this.#giveUpAfterMs = giveUpAfterMs;
  }

  get state() {
    return this.#state;
  }

  get isOpen() {
    return this.#ws !== null && this.#ws.readyState === WebSocket.OPEN;
  }

  start() {
    if (this.#state !== 'idle') return;
    document.addEventListener('visibilitychange', this.#onVisibility);
    window.addEventListener('online', this.reconnectNow);
    window.addEventListener('offline', this.#onOffline);
    window.addEventListener('pageshow', this.reconnectNow);
    this.#connect();
  }

  /** No more reconnects; closes the socket (after anything already sent). */
  stop() {
    if (this.#state === 'stopped') return;
    this.#state = 'stopped';
    document.removeEventListener('visibilitychange', this.#onVisibility);
    window.removeEventListener('online', this.reconnectNow);
    window.removeEventListener('offline', this.#onOffline);
    window.removeEventListener('pageshow', this.reconnectNow);
    clearTimeout(this.#retryTimer);
    const ws = this.#ws;
    this.#ws = null;
    this.#clearSocketTimers();
    if (ws) this.#detach(ws, 1000);
    this.#status();
  }

  /** Sends `msg` if the socket is open; false otherwise (the caller keeps it for later). */
  send(msg) {
    if (!this.isOpen) return false;
    this.#ws.send(JSON.stringify(msg));
    return true;
  }

  /**
   * The app got `welcome`: the connection works, so the next drop starts backoff afresh.
   * `giveUpAfterMs` replaces the retry window (a joined player may wait longer than a
   * first-time joiner whose code might simply be wrong).
   */
  markHealthy({ giveUpAfterMs } = {}) {
    this.#attempt = 0;
    this.#downSince = null;
    if (giveUpAfterMs) this.#giveUpAfterMs = giveUpAfterMs;
  }

  /**
   * Back to the page, back online, restored from the back/forward cache: skip the backoff
   * wait, or check with a ping that an open socket still works.
   */
  reconnectNow = () => {
    if (this.#state === 'waiting') {
      clearTimeout(this.#retryTimer);
      // The person is looking now: give them a full retry window from here.
      this.#downSince = Date.now();
      this.#connect();
    } else if (this.#state === 'open') {
      this.#ping();
    }
  };

  /**
   * The device lost its network: the socket may look open for a long while yet, but nothing
   * gets through. Say so now and start retrying (`online` will then retry at once).
   */
  #onOffline = () => {
    const ws = this.#ws;
    if (ws && (this.#state === 'open' || this.#state === 'connecting')) this.#abandon(ws, 'offline', this.#state === 'open');
  };

  #onVisibility = () => {
    if (document.visibilityState === 'visible') this.reconnectNow();
  };

  #connect() {
    clearTimeout(this.#retryTimer);
    let ws;
    try {
      ws = new WebSocket(this.#url);
    } catch (err) {
      this.#ws = null;
      this.#down({ code: 0, reason: String(err?.message ?? err), wasOpen: false });
      return;
    }
    this.#ws = ws;
    this.#state = 'connecting';
    this.#status();
    let opened = false;

    this.#connectTimer = setTimeout(() => {
      if (this.#ws === ws && !opened) this.#abandon(ws, 'connect timeout', false);
    }, CONNECT_TIMEOUT_MS);

    ws.onopen = () => {
      if (this.#ws !== ws) return;
      opened = true;
      clearTimeout(this.#connectTimer);
      this.#state = 'open';
      this.#status();
      this.#on.onOpen?.();
      this.send(this.#hello());
      this.#startPings();
    };
    ws.onmessage = (event) => {
      if (this.#ws !== ws) return;
      let msg;
      try {
        msg = JSON.parse(event.data);
      } catch {
        return;
      }
      if (!msg || typeof msg !== 'object' || typeof msg.type !== 'string') return;
      if (msg.type === 'pong') this.#onPong(msg);
      this.#on.onMessage(msg);
    };
    // The browser reports a refused upgrade (404 unknown match, 503 moving) only as a close.
    ws.onclose = (event) => {
      if (this.#ws !== ws) return;
      this.#ws = null;
      this.#down({ code: event.code, reason: event.reason, wasOpen: opened });
    };
    ws.onerror = () => {
      /* a close event always follows */
    };
  }

  #down(info) {
    this.#clearSocketTimers();
    if (this.#state === 'stopped') return;
    if (this.#downSince === null) this.#downSince = Date.now();
    const retry = this.#on.onClose ? this.#on.onClose(info) !== false : true;
    if (this.#state === 'stopped') return; // onClose may have stopped us
    if (!retry) {
      this.stop();
      return;
    }
    this.#scheduleRetry();
  }

  #scheduleRetry() {
    if (Date.now() - this.#downSince >= this.#giveUpAfterMs) {
      this.stop();
      this.#on.onGiveUp?.();
      return;
    }
    // Exponential backoff with "equal jitter": half fixed, half random, so a server restart
    // is not met by every client at the same instant.
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(this.#attempt, 10));
    const delay = Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
    this.#attempt++;
    this.#state = 'waiting';
    this.#status({ retryInMs: delay });
    this.#retryTimer = setTimeout(() => this.#connect(), delay);
  }

  /** Gives up on a socket that will not say anything useful, without waiting for its close. */
  #abandon(ws, reason, wasOpen) {
    this.#detach(ws);
    if (this.#ws === ws) {
      this.#ws = null;
      this.#down({ code: 0, reason, wasOpen });
    }
  }

  #detach(ws, code) {
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    try {
      if (code) ws.close(code);
      else ws.close();
    } catch {
      /* already closed */
    }
  }

  #startPings() {
    for (let i = 0; i < SYNC_PINGS; i++) this.#syncTimers.push(setTimeout(() => this.#ping(), i * SYNC_SPACING_MS));
    this.#pingTimer = setInterval(() => this.#ping(), PING_INTERVAL_MS);
  }

  #ping() {
    const ws = this.#ws;
    if (!this.send({ type: 'ping', t: Date.now() })) return;
    if (this.#pongTimer === null) {
      this.#pongTimer = setTimeout(() => {
        this.#pongTimer = null;
        if (this.#ws === ws) this.#abandon(ws, 'no pong', true);
      }, PONG_TIMEOUT_MS);
    }
  }

  #onPong(msg) {
    clearTimeout(this.#pongTimer);
    this.#pongTimer = null;
    if (typeof msg.t === 'number') this.#clock.addSample(msg.t, Date.now(), msg.serverTime);
  }

  #clearSocketTimers() {
    clearTimeout(this.#connectTimer);
    clearInterval(this.#pingTimer);
    clearTimeout(this.#pongTimer);
    for (const t of this.#syncTimers) clearTimeout(t);
    this.#connectTimer = this.#pingTimer = this.#pongTimer = null;
    this.#syncTimers = [];
  }

  #status(extra = {}) {
    this.#on.onStatus?.({ state: this.#state, attempt: this.#attempt, ...extra });
  }
}
