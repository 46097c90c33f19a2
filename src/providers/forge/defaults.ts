// The forges mir speaks to, and what each implies when only its name and repository are configured:
// the public API, how a repository is named, the clone URL, and the git user its tokens go with
// (config.ts derives MIR_GIT_URL and MIR_GIT_USERNAME from these when they are unset).
export const FORGE_NAMES = ['github', 'gitlab', 'bitbucket', 'azure'] as const;
export type ForgeName = (typeof FORGE_NAMES)[number];

/** Each forge's public API, its repository identity and the git user name its tokens go with. */
export const FORGES: Record<ForgeName, { apiUrl: string; repository: RegExp; identity: string; gitUsername: string; gitUrl: (repository: string) => string }> =
  {
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
