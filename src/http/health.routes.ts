import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { errors } from '../errors.js';
import { PUBLIC_SECURITY } from './auth.js';
import { problems, PUBLIC_ERRORS, withExamples } from './schemas.js';

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
          description:
            'Answers as long as the process runs and its event loop turns; it checks no dependency (that is /readyz). Point a liveness probe here: restarting on a database outage would not help.',
          security: PUBLIC_SECURITY,
          response: {
            200: withExamples(Type.Object({ status: Type.Literal('ok') }, { description: 'The process is alive' }), { status: 'ok' }),
            ...problems(...PUBLIC_ERRORS),
          },
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
          description:
            'Checks, in parallel and within 5 s each, that start-up is done, the database answers, the git remote answers and, with a forge provider, that the forge accepts the token. 503 not_ready names each failing check in `checks`. Point a readiness probe or a load balancer here.',
          security: PUBLIC_SECURITY,
          response: {
            200: withExamples(
              Type.Object(
                {
                  status: Type.Literal('ready'),
                  checks: Type.Record(Type.String(), Type.Literal('ok'), { description: 'Each check by name: database, git, provider, startup' }),
                },
                { description: 'Every dependency answers' },
              ),
              { status: 'ready', checks: { database: 'ok', git: 'ok' } },
            ),
            ...problems(...PUBLIC_ERRORS, 'not_ready'),
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
