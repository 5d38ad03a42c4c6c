/**
 * A pool worker (forked by the master, pool/forkWorker.ts): hosts up to MAX_MATCHES matches with the same `MatchHost` as the single
 * process, completes WebSocket handshakes on sockets the master hands over (it listens on
 * no port), reports a heartbeat, and exits when the master goes away.
 */
import http from 'node:http';
import net from 'node:net';
import { Registry } from 'prom-client';
import { loadConfigOrExit } from './config';
import { createLogger } from './log';
import { createHosting } from './hosting/hostingStack';
import type { HostEvents } from './hosting/matchHost';
import { RedisMatchStore } from './store/redisStore';
import { redisTarget, replicaWait } from './store/redisConnection';
import type { MatchHostStore } from './store/store';
import { replyTo } from './cluster/ipc';
import { type MasterReply, type MasterRequest, masterToWorkerSchema, type Reply, type WorkerToMaster } from './cluster/messages';
import { connectStorePipe, PipedMatchStore } from './cluster/storePipe';
import { ConnectionCloseReports } from './cluster/connectionReports';
import { MatchRequestIds } from './requestIds';

function main(): void {
  const config = loadConfigOrExit();
  const workerId = config.WORKER_ID;
  const requestIds = new MatchRequestIds();
  const log = createLogger(config, { role: 'worker', workerId }, requestIds.mixin);
  // process.send() also returns false when its backlog is long, yet still delivers the
  // message: only a disconnected channel means the message is lost.
  const send = (msg: WorkerToMaster): boolean => {
    if (!process.connected) return false;
    process.send!(msg);
    return true;
  };

  const redis = redisTarget(config);
  const store: MatchHostStore & { close(): Promise<void> } = redis
    ? new RedisMatchStore(redis, log.child({ component: 'redis' }), config.HOST_ID, replicaWait(config))
    : new PipedMatchStore(
        connectStorePipe(config.IPC_TIMEOUT_MS, (reason) => {
          if (stopping) return;
          log.error({ reason }, 'Store channel to the master closed; exiting so the master replaces this worker');
          stop(1);
        }),
      );
  const registry = new Registry();
  registry.setDefaultLabels({ worker: String(workerId) });
  // The master frees the match's slot (and its route) when it hears this.
  const onMatchGone: HostEvents['matchGone'] = (matchId, reason) => {
    requestIds.forget(matchId);
    send({ type: 'matchGone', matchId, reason });
  };
  const { host, gateway, metrics } = createHosting({ config, log, store, registry, events: { matchGone: onMatchGone } });

  // MAX_CONNECTIONS_PER_IP: the master counts sockets it hands here; we tell it when they close.
  const closeReports = new ConnectionCloseReports(send);

  let stopping = false;
  const stop = (code: number) => {
    if (stopping) return;
    stopping = true;
    host.shutdown('worker stopping');
    gateway.close();
    clearInterval(heartbeat);
    closeReports.stop();
    void store.close().finally(() => {
      log.flush();
      process.exit(code);
    });
    setTimeout(() => process.exit(code), 2000).unref();
  };

  /** Each request's answer, typed by what the master expects back for it. */
  const answer = <K extends MasterRequest['type']>(req: Extract<MasterRequest, { type: K }>, work: () => MasterReply<K> | Promise<MasterReply<K>>) =>
    replyTo((reply: Reply) => send(reply), req.reqId, work);

  process.on('message', (raw: unknown, handle?: unknown) => {
    const parsed = masterToWorkerSchema.safeParse(raw);
    if (!parsed.success) {
      // A broken or mismatched master: drop the message (and any socket that came with it).
      log.warn({ issue: parsed.error.issues[0]?.message }, 'Malformed IPC message from the master; ignored');
      if (handle instanceof net.Socket) handle.destroy();
      return;
    }
    const msg = parsed.data;
    switch (msg.type) {
      case 'upgrade': {
        if (!(handle instanceof net.Socket)) return;
        // A request object for ws.handleUpgrade, rebuilt from what the master parsed.
        const req = new http.IncomingMessage(handle);
        req.method = msg.request.method;
        req.url = msg.request.url;
        req.headers = msg.request.headers;
        if (msg.counted && msg.clientAddr) closeReports.watch(handle, msg.clientAddr);
        // The master worked the address out once (TRUST_PROXY); the gateway need not again.
        gateway.accept(req, handle, Buffer.from(msg.head, 'base64'), msg.matchId, msg.clientAddr);
        return;
      }
      case 'createMatch':
        requestIds.remember(msg.matchId, msg.requestId);
        return answer(msg, () =>
          host.createMatch(msg).catch((err: unknown) => {
            requestIds.forget(msg.matchId);
            throw err;
          }),
        );
      case 'restoreMatch':
        return answer(msg, async () => {
          await host.restoreMatch(msg.matchId, { epoch: msg.epoch, snapshot: msg.snapshot, sinceWriteMs: msg.sinceWriteMs });
          return null;
        });
      case 'matchInfo':
        return answer(msg, () => host.info(msg.matchId));
      case 'releaseMatch':
        return answer(msg, () => host.releaseMatch(msg.matchId, msg.timeoutMs));
      case 'metrics':
        return answer(msg, async () => (await registry.getMetricsAsJSON()) as unknown as MasterReply<'metrics'>);
      case 'shutdown':
        log.info('Worker shutting down on request');
        return stop(0);
      default: {
        const unreachable: never = msg;
        log.warn({ msg: unreachable }, 'Unknown IPC message');
      }
    }
  });

  // The master owns the lifecycle: Ctrl+C reaches the whole process group, and a worker that
  // exited on its own would look like a crash to the master.
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => stop(0));
  // Master gone (even killed with SIGKILL): the IPC channel closes and nobody may be orphaned.
  process.on('disconnect', () => stop(0));

  const beat = () => send({ type: 'heartbeat', players: host.load().players });
  const heartbeat = setInterval(beat, config.HEARTBEAT_INTERVAL_MS);
  send({ type: 'ready' });
  beat();
  log.debug('Worker ready');
}

main();
