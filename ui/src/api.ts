// The dashboard's one way to mir: the generated client (src/client/client.ts, openapi-fetch over the
// OpenAPI document's types) with the token the user pasted, on this page's own origin. Nothing here
// is private to mir: a dashboard on another origin could do all of it (with MIR_CORS_ORIGINS).
import { createMirClient, isProblem, type components, type MirClient } from '../../src/client/client.js';

export type Schemas = components['schemas'];
export type MatrixElement = Schemas['ReleaseMatrix']['elements'][number];
export type Instance = Schemas['Instance'];
export type PullRequest = Schemas['PullRequest'];
export type Release = Schemas['Release'];
export type DryRun = Schemas['DryRun'];
export type Verdict = Schemas['Verdict'];
export type Scope = Schemas['Token']['scopes'][number];
export type ElementType = MatrixElement['type'];

/** A problem document as the UI shows it: message, code, request_id. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    message: string,
    readonly code: string,
    readonly status: number,
    readonly requestId: string | null,
    readonly problem: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

type Answer<D> = { data?: D; error?: unknown; response: Response };

/** The `data` of a `{success: true, data}` answer, or an ApiError from the problem document. */
export async function unwrap<D extends { data: unknown }>(request: Promise<Answer<D>>): Promise<D['data']> {
  let answer: Answer<D>;
  try {
    answer = await request;
  } catch (error) {
    throw new ApiError(`mir is unreachable: ${(error as Error).message}`, 'network_error', 0, null);
  }
  const { data, error, response } = answer;
  if (response.ok && data !== undefined) return data.data;
  throw toApiError(error, response);
}

export function toApiError(error: unknown, response: Response): ApiError {
  const requestId = response.headers.get('x-request-id');
  if (isProblem(error)) {
    const id = typeof error.request_id === 'string' ? error.request_id : requestId;
    return new ApiError(error.message, error.code, error.status, id, error as Record<string, unknown>);
  }
  return new ApiError(`mir answered ${response.status} ${response.statusText}`, 'unexpected_answer', response.status, requestId);
}

export interface Session {
  readonly client: MirClient;
  readonly token: string;
  readonly name: string;
  readonly scopes: readonly Scope[];
  /** releases_write or admin: the write controls show. */
  readonly canWrite: boolean;
  /** source_control:read (instances, deployments), write, or admin. */
  readonly canReadInstances: boolean;
  readonly isAdmin: boolean;
}

export const TOKEN_KEY = 'mir.token';

export function makeClient(token: string): MirClient {
  return createMirClient({ baseUrl: location.origin, token, userAgent: 'mir-dashboard' });
}

/** Signs in: reads the token's own record (any valid token may), for its scopes. */
export async function openSession(token: string): Promise<Session> {
  const client = makeClient(token);
  const me = await unwrap(client.GET('/api/v2/tokens/current'));
  const scopes = me.scopes;
  const has = (scope: Scope) => scopes.includes(scope) || scopes.includes('admin');
  return {
    client,
    token,
    name: me.name,
    scopes,
    canWrite: has('source_control:releases_write'),
    canReadInstances: has('source_control:read') || has('source_control:write'),
    isAdmin: scopes.includes('admin'),
  };
}

export interface Matrix {
  readonly elements: MatrixElement[];
  readonly manifests: string[];
  readonly invalidManifests: Schemas['ReleaseMatrix']['invalid_manifests'];
  readonly commit: string;
  /** Instances by name; empty when the token may not read them. */
  readonly instances: Instance[];
}

/** Every page of the release matrix (cursor by cursor), and the instances for the column headers. */
export async function loadMatrix(session: Session): Promise<Matrix> {
  const instances = session.canReadInstances
    ? unwrap(session.client.GET('/api/v2/source_control/instances')).then((d) => d.instances)
    : Promise.resolve([] as Instance[]);
  const elements: MatrixElement[] = [];
  let cursor: string | undefined;
  let page;
  do {
    page = await unwrap(session.client.GET('/api/v2/source_control/elements', { params: { query: { limit: 1000, ...(cursor ? { cursor } : {}) } } }));
    elements.push(...page.elements);
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  return { elements, manifests: page.manifests, invalidManifests: page.invalid_manifests, commit: page.commit_sha, instances: await instances };
}
