// Prometheus gauges of what is deployed where, read when scraped: elements drifted per instance
// (as last evaluated) and seconds since each instance's last successful deployment (absent for an
// instance that never had one, rather than a made-up number).
import { Gauge, type Registry } from 'prom-client';
import type { Clock } from '../runtime/clock.js';
import type { DeploymentService } from './deployments.service.js';

export function registerDeploymentMetrics(registry: Registry, deployments: DeploymentService, clock: Clock): void {
  // One read of the states serves both gauges of a scrape.
  let pending: Promise<Awaited<ReturnType<DeploymentService['states']>>> | null = null;
  const states = () => {
    pending ??= deployments.states().finally(() => setImmediate(() => (pending = null)));
    return pending;
  };
  new Gauge({
    name: 'mir_instance_elements_drifted',
    help: 'Elements whose deployed release differs from the one the instance’s manifest sets',
    labelNames: ['instance'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const state of await states()) this.set({ instance: state.instance }, state.drifted);
    },
  });
  new Gauge({
    name: 'mir_instance_seconds_since_successful_deployment',
    help: 'Seconds since the instance’s last successful deployment completed',
    labelNames: ['instance'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const now = clock().getTime();
      for (const state of await states()) {
        if (state.lastSuccessAt) this.set({ instance: state.instance }, Math.max(0, (now - state.lastSuccessAt.getTime()) / 1000));
      }
    },
  });
}
