import type { Logger } from './log';

/**
 * SIGINT/SIGTERM run `stop` once and exit; a second signal, or `stop` taking longer than
 * `timeoutMs`, exits at once so Ctrl+C never hangs.
 */
export function installShutdown(log: Logger, stop: () => Promise<void>, timeoutMs = 5000): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    log.info({ signal }, 'Shutting down');
    const timer = setTimeout(() => {
      log.warn('Shutdown took too long; exiting');
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    stop().then(
      () => {
        log.flush();
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err }, 'Shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
