// The repository and rows the fuzzed requests aim at: apps and a workflow with releases, a
// manifest naming them, an instance bound to it, an open pull request, an open hotfix and a second
// token. Real names make a malformed request get past the "no such thing" answers to the checks
// that matter, so generators mix them with made-up ones.
import type { Test } from 'tap';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { element, manifestName, manifestYaml, seed } from '../helpers/repo-fixture.js';

export interface World {
  readonly ctx: TestApp;
  readonly manifest: string;
  readonly instance: string;
  readonly appUuid: string;
  readonly workflowUuid: string;
  readonly versions: readonly string[];
  readonly pullRequest: number;
  readonly hotfixId: string;
  readonly tokenId: string;
  readonly headSha: string;
  /** Tokens that may only read: refused by every write route. */
  readonly readOnlyToken: string;
}

const API = '/api/v2/source_control';

export async function buildWorld(t: Test): Promise<World> {
  // A small body limit, so that 413 costs little to reach.
  const ctx = await buildTestApp(t, { env: { MIR_BODY_LIMIT_BYTES: '65536' } });
  const app = element('PAGE', ['1.0.0', '1.1.0']);
  const other = element('PAGE', ['1.0.0']);
  const workflow = element('WORKFLOW', ['1.0.0']);
  const manifest = manifestName('prod');
  await seed(ctx.git, {
    elements: [app, other, workflow],
    manifests: { [manifest]: manifestYaml(manifest, { apps: [[app.uuid, '1.0.0']], workflows: [[workflow.uuid, '1.0.0']] }) },
  });
  const call = async (method: 'POST' | 'PUT', url: string, payload: object, expected: number) => {
    const answer = await ctx.app.inject({ method, url: `${API}${url}`, headers: ctx.auth(), payload });
    if (answer.statusCode !== expected) throw new Error(`seeding ${method} ${url}: ${answer.statusCode} ${answer.body}`);
    return answer.json().data as Record<string, unknown>;
  };
  const instance = manifestName('dev');
  await call('POST', '/instances', { name: instance, description: 'fuzzed', manifest }, 201);
  const opened = await call('PUT', `/manifests/${manifest}/${other.uuid}?elementType=PAGE`, { release: '1.0.0' }, 200);
  const hotfix = await call('POST', '/hotfixes', { element_uuid: app.uuid, element_type: 'PAGE', release: '1.0.0' }, 201);
  const token = await ctx.app.services.tokens.create(
    { name: 'fuzz-bystander', scopes: ['source_control:read'] },
    { name: 'test', email: 'test@mir.invalid', tokenId: null, requestId: null },
  );
  return {
    ctx,
    manifest,
    instance,
    appUuid: app.uuid,
    workflowUuid: workflow.uuid,
    versions: ['1.0.0', '1.1.0'],
    pullRequest: (opened.pull_request as { number: number }).number,
    hotfixId: (hotfix.hotfix as { id: string }).id,
    tokenId: token.view.id,
    headSha: await ctx.git.headCommit(),
    readOnlyToken: await ctx.tokenFor('source_control:releases_read', 'source_control:read'),
  };
}
