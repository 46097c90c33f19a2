// The forges mir speaks to, and what each implies when only its name and repository are configured:
// the public API, how a repository is named, the clone URL, and the git user its tokens go with
// (config.ts derives MIR_GIT_URL and MIR_GIT_USERNAME from these when they are unset).
export const FORGE_NAMES = ['github', 'gitlab', 'bitbucket', 'azure'] as const;
export type ForgeName = (typeof FORGE_NAMES)[number];

export interface ForgeDefaults {
  /** The public API, without a trailing slash. */
  readonly apiUrl: string;
  /** What MIR_PROVIDER_REPOSITORY must look like, and how to say so (`identity`). */
  readonly repository: RegExp;
  readonly identity: string;
  /** The git user name a forge token goes with over HTTPS. */
  readonly gitUsername: string;
  /** The public clone URL of a repository named as `repository` says. */
  readonly gitUrl: (repository: string) => string;
}

export const FORGES: Record<ForgeName, ForgeDefaults> = {
  github: {
    apiUrl: 'https://api.github.com',
    repository: /^[^/]+\/[^/]+$/,
    identity: 'owner/repo',
    gitUsername: 'x-access-token',
    gitUrl: (r) => `https://github.com/${r}.git`,
  },
  // A project path (group/subgroup/project) or its numeric id.
  gitlab: {
    apiUrl: 'https://gitlab.com',
    repository: /^([^/]+(\/[^/]+)+|\d+)$/,
    identity: 'group/project or a project id',
    gitUsername: 'oauth2',
    gitUrl: (r) => `https://gitlab.com/${r}.git`,
  },
  bitbucket: {
    apiUrl: 'https://api.bitbucket.org/2.0',
    repository: /^[^/]+\/[^/]+$/,
    identity: 'workspace/repo_slug',
    gitUsername: 'x-token-auth',
    gitUrl: (r) => `https://bitbucket.org/${r}.git`,
  },
  // Azure accepts any user name with a personal access token.
  azure: {
    apiUrl: 'https://dev.azure.com',
    repository: /^[^/]+\/[^/]+\/[^/]+$/,
    identity: 'organization/project/repository',
    gitUsername: 'mir',
    gitUrl: (r) => {
      const [organization, project, repository] = r.split('/');
      return `https://dev.azure.com/${organization}/${project}/_git/${repository}`;
    },
  },
};
