// Prometheus metrics: request counts and latencies by route template (never by raw URL, which
// would explode the label set), the caches on request paths (src/runtime/bounded-cache.ts), and the
// process's default metrics. One registry per app.
import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import Type from 'typebox';
import type { CacheStats } from '../runtime/bounded-cache.js';
import { PUBLIC_SECURITY } from './auth.js';
import { problems, PUBLIC_ERRORS } from './schemas.js';

const METRICS_EXAMPLE = [
  '# HELP http_requests_total HTTP requests by method, route template and status',
  '# TYPE http_requests_total counter',
  'http_requests_total{method="GET",route="/api/v2/source_control/instances/:name/releases",status="304"} 1742',
  '',
  '# HELP mir_cache_entries Entries held, by cache',
  '# TYPE mir_cache_entries gauge',
  'mir_cache_entries{cache="artifacts"} 318',
  '',
].join('\n');

export function registerMetrics(app: FastifyInstance, caches: () => readonly CacheStats[]): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // Read when scraped: each cache counts for itself, these only report (the counters by the
  // difference since the last scrape, which keeps them counters for rate()).
  const cacheGauge = (name: string, help: string, value: (stats: CacheStats) => number | undefined) =>
    new Gauge({
      name,
      help,
      labelNames: ['cache'] as const,
      registers: [registry],
      collect() {
        for (const stats of caches()) {
          const v = value(stats);
          if (v !== undefined) this.set({ cache: stats.name }, v);
        }
      },
    });
  const cacheCounter = (name: string, help: string, value: (stats: CacheStats) => number) => {
    const reported = new Map<string, number>();
    return new Counter({
      name,
      help,
      labelNames: ['cache'] as const,
      registers: [registry],
      collect() {
        for (const stats of caches()) {
          const now = value(stats);
          this.inc({ cache: stats.name }, Math.max(0, now - (reported.get(stats.name) ?? 0)));
          reported.set(stats.name, now);
        }
      },
    });
  };
  cacheGauge('mir_cache_entries', 'Entries held, by cache', (s) => s.size);
  cacheGauge('mir_cache_limit_entries', 'Entries a cache holds at most before it drops its oldest', (s) => s.limit);
  cacheGauge('mir_cache_bytes', 'Bytes held, by cache bounded in bytes', (s) => s.bytes);
  cacheGauge('mir_cache_limit_bytes', 'Bytes a cache bounded in bytes holds at most', (s) => s.limitBytes);
  cacheCounter('mir_cache_hits_total', 'Lookups answered from the cache', (s) => s.hits);
  cacheCounter('mir_cache_misses_total', 'Lookups the cache could not answer', (s) => s.misses);
  cacheCounter('mir_cache_evictions_total', 'Entries dropped to stay within the limit', (s) => s.evictions);

  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests by method, route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by method and route template',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });

  // Callback style, not async: this runs on every request, the hottest paths included.
  app.addHook('onResponse', (request, reply, done) => {
    // Unknown routes share one label instead of one per URL a scanner tries.
    const route = request.routeOptions.url ?? 'unmatched';
    requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    duration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    done();
  });

  app.get(
    '/metrics',
    {
      logLevel: 'warn',
      schema: {
        operationId: 'getMetrics',
        tags: ['Operations'],
        summary: 'Prometheus metrics',
        description:
          "Request counts and latencies by route template (`http_requests_total`, `http_request_duration_seconds`), the request-path caches (`mir_cache_*`) and the process's default metrics, in Prometheus' text exposition format 0.0.4 (`Content-Type: text/plain; version=0.0.4; charset=utf-8`). For a scraper, not for people.",
        security: PUBLIC_SECURITY,
        response: {
          200: {
            description: 'The metrics, in the Prometheus text exposition format',
            content: { 'text/plain': { schema: Type.String(), example: METRICS_EXAMPLE } },
          },
          ...problems(...PUBLIC_ERRORS),
        },
      },
    },
    async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()),
  );
  return registry;
}
