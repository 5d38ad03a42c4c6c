/**
 * Forking a real worker process with `node:cluster`, and wiring it to what the worker set
 * expects of a `WorkerProcess`. With the embedded store, each worker gets one more stdio
 * pipe that the master serves store calls on (cluster/storePipe.ts).
 */
import cluster from 'node:cluster';
import { Socket } from 'node:net';
import path from 'node:path';
import type { Config } from '../config';
import type { Logger } from '../log';
import { SocketHandOff } from '../cluster/socketHandoff';
import { serveStorePipe, STORE_PIPE_FD, STORE_PIPE_STDIO } from '../cluster/storePipe';
import type { MasterStore } from './masterStore';
import type { ForkWorker } from './workerSet';

/** Sets up `node:cluster` once for this master and returns how to fork one worker. */
export function clusterForker(config: Config, masterStore: MasterStore, log: Logger): ForkWorker {
  const dev = path.extname(__filename) === '.ts';
  const embedded = masterStore.kind === 'memory' ? masterStore.store : null;
  cluster.setupPrimary({
    exec: path.join(__dirname, '..', dev ? 'matchServerWorker.ts' : 'matchServerWorker.js'),
    // Under ts-node-dev, a worker that inherited the master's hooks would ask the cluster
    // master to compile for it and spin forever; a plain register hook compiles in-process.
    execArgv: [...(dev ? ['-r', 'ts-node/register/transpile-only'] : []), ...config.WORKER_EXEC_ARGV.split(/\s+/).filter(Boolean)],
    ...(embedded ? { stdio: [...STORE_PIPE_STDIO] } : {}),
  });

  return (workerId, on) => {
    const worker = cluster.fork({ WORKER_ID: String(workerId) });
    worker.on('message', (msg: unknown) => on.message(msg));
    worker.on('exit', (code, signal) => on.exit(code, signal));
    worker.on('error', (err) => log.warn({ workerId, err: err.message }, 'Worker IPC error'));
    if (embedded) {
      const pipe = worker.process.stdio[STORE_PIPE_FD];
      if (!(pipe instanceof Socket)) throw new Error('a worker was forked without its store channel');
      // A worker declared dead may still write (it was hung, not gone): fencing refuses it.
      serveStorePipe(pipe, embedded, log.child({ component: 'store', workerId }), on.storePipeClosed);
    }
    const handOffs = new SocketHandOff(worker);
    return {
      pid: worker.process.pid ?? 0,
      send: (msg) => {
        if (!worker.isConnected()) return false;
        try {
          worker.send(msg);
          return true;
        } catch (err) {
          log.debug({ workerId, err: (err as Error).message }, 'IPC send failed');
          return false;
        }
      },
      handOff: (socket, msg, timeoutMs) => handOffs.send(socket, msg, timeoutMs),
      isConnected: () => worker.isConnected(),
      isDead: () => worker.isDead(),
      kill: () => {
        worker.process.kill('SIGKILL');
      },
    };
  };
}
