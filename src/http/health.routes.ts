import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { errors } from '../errors.js';
import { problems } from './schemas.js';

/** A dependency `/readyz` checks: resolves when usable, throws with a reason when not. */
export interface ReadinessCheck {
  readonly name: string;
  check(): Promise<void>;
}

const CHECK_TIMEOUT_MS = 5_000;

export function healthRoutes(deps: { checks: readonly ReadinessCheck[] }): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/healthz',
      {
        logLevel: 'warn',
        schema: {
          operationId: 'getHealth',
          tags: ['Operations'],
          summary: 'Liveness: the process answers',
          response: { 200: Type.Object({ status: Type.Literal('ok') }) },
        },
      },
      async () => ({ status: 'ok' as const }),
    );

    app.get(
      '/readyz',
      {
        logLevel: 'warn',
        schema: {
          operationId: 'getReadiness',
          tags: ['Operations'],
          summary: 'Readiness: every dependency (database, git, provider) answers',
          response: {
            200: Type.Object({ status: Type.Literal('ready'), checks: Type.Record(Type.String(), Type.Literal('ok')) }),
            ...problems(503),
          },
        },
      },
      async () => {
        const results = await Promise.all(deps.checks.map(async (check) => [check.name, await runCheck(check)] as const));
        const failed = results.filter(([, result]) => result !== 'ok');
        if (failed.length > 0) throw errors.notReady(Object.fromEntries(failed));
        return { status: 'ready' as const, checks: Object.fromEntries(results) as Record<string, 'ok'> };
      },
    );
  };
}

async function runCheck(check: ReadinessCheck): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check.check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return 'ok';
  } catch (error) {
    return (error as Error).message || 'failed';
  } finally {
    clearTimeout(timer);
  }
}
