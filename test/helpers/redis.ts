/**
 * A real redis-server owned by the test: on a free port, with its own data dir, so the test
 * can kill it and start it again. AOF with fsync on every write, as a production Redis that
 * holds acknowledged answers should be configured.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../../scripts/lib/ports';
import type { ProcessGroup, Started } from './processes';

export class TestRedis {
  proc!: Started;
  private constructor(
    private readonly group: ProcessGroup,
    readonly port: number,
    private readonly dir: string,
  ) {}

  static async start(group: ProcessGroup): Promise<TestRedis> {
    const r = new TestRedis(group, await freePort(), mkdtempSync(path.join(tmpdir(), 'quiz-redis-')));
    await r.boot();
    return r;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async boot(): Promise<void> {
    this.proc = this.group.spawn('redis-server', [
      '--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes',
      '--appendfsync', 'always', '--dir', this.dir, '--daemonize', 'no', '--loglevel', 'notice',
    ]);
    await this.proc.waitForLine(/Ready to accept connections/, 15_000);
  }

  async kill(): Promise<void> {
    process.kill(this.proc.pid, 'SIGKILL');
    await this.proc.exited;
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
