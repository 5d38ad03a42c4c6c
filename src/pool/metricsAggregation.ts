/**
 * `/metrics` of the pool: the master's own registry merged with every worker's, through
 * prom-client's `AggregatorRegistry.aggregate`. Each worker is asked with its own short
 * timeout, so a stuck worker costs its own series, never the scrape (prom-client's
 * `clusterMetrics()` fails the whole scrape after 5 s, leaves the master out, and needs an
 * `AggregatorRegistry` in every worker).
 *
 * A host of several (HOST_ID, with Redis) labels every series `host`: Prometheus' `instance` is
 * an address, which a Kubernetes pod changes on every restart, while the host id stays.
 */
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { WorkerSlot } from './workerSet';

const METRICS_TIMEOUT_MS = 1000;

type MetricsJson = Parameters<typeof AggregatorRegistry.aggregate>[0][number];

export async function scrapePool(own: Registry, workers: readonly WorkerSlot[], hostId?: string): Promise<{ contentType: string; body: string }> {
  const asked = workers.filter((s) => s.state === 'ready' || s.state === 'draining');
  const answers = await Promise.all(asked.map((s) => s.request({ type: 'metrics' }, METRICS_TIMEOUT_MS).catch(() => null)));
  const missing = answers.filter((a) => a === null).length;
  // The worker's answer was parsed as far as aggregation reads it (cluster/messages.ts).
  const parts = [(await own.getMetricsAsJSON()) as unknown as MetricsJson, ...answers.flatMap((a) => (a ? [a as unknown as MetricsJson] : []))];
  const merged = AggregatorRegistry.aggregate(parts);
  // HOST_ID's characters (config.ts) need no escaping in a label value.
  if (hostId !== undefined) merged.setDefaultLabels({ host: hostId });
  let body = await merged.metrics();
  const labels = hostId === undefined ? '' : `{host="${hostId}"}`;
  body += `# HELP matchserver_metrics_missing_workers Workers that did not answer this scrape in time\n# TYPE matchserver_metrics_missing_workers gauge\nmatchserver_metrics_missing_workers${labels} ${missing}\n`;
  return { contentType: merged.contentType, body };
}
