import path from 'node:path';
import t from 'tap';
import { ConfigError, loadConfig } from '../src/config.js';

t.test('defaults', async (t) => {
  const config = loadConfig({}, '/srv/mir');
  t.match(config, {
    port: 3000,
    host: '127.0.0.1',
    databaseUrl: undefined,
    dataDir: path.resolve('/srv/mir/data'),
    git: { url: undefined, defaultBranch: 'main', pollSeconds: 30, branchPrefix: 'mir/' },
    bodyLimitBytes: 1_048_576,
    logLevel: 'info',
  });
  t.ok(Object.isFrozen(config) && Object.isFrozen(config.git), 'frozen');
});

t.test('values are converted and empty strings count as unset', async (t) => {
  const config = loadConfig({
    PORT: '8080',
    HOST: '0.0.0.0',
    DATABASE_URL: 'postgres://u@db/mir',
    MIR_GIT_URL: 'https://git.example.com/r.git',
    MIR_GIT_TOKEN: 's3cret',
    MIR_GIT_POLL_SECONDS: '0',
    MIR_PUBLIC_URL: 'https://mir.example.com/',
    LOG_LEVEL: 'debug',
    MIR_BRANCH_PREFIX: '',
  });
  t.match(config, {
    port: 8080,
    host: '0.0.0.0',
    databaseUrl: 'postgres://u@db/mir',
    git: { url: 'https://git.example.com/r.git', token: 's3cret', pollSeconds: 0, branchPrefix: 'mir/' },
    publicUrl: 'https://mir.example.com',
    logLevel: 'debug',
  });
});

t.test('each bad variable is named on its own line; secrets are not echoed', async (t) => {
  const problems = (env: Record<string, string>) => {
    try {
      loadConfig(env);
    } catch (error) {
      if (error instanceof ConfigError) return error.problems;
      throw error;
    }
    return [];
  };
  t.same(problems({ PORT: 'abc' }), ['PORT: must be an integer from 0 to 65535 (got "abc")']);
  t.same(problems({ PORT: '70000', LOG_LEVEL: 'loud' }), [
    'PORT: must be an integer from 0 to 65535 (got "70000")',
    'LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent (got "loud")',
  ]);
  const [line] = problems({ DATABASE_URL: 'mysql://root:hunter2@db' });
  t.match(line, /^DATABASE_URL: must match/);
  t.notMatch(line, /hunter2/);
  t.match(problems({ MIR_GIT_URL: 'ssh://git@host/repo' })[0], /^MIR_GIT_URL: /);
  t.match(problems({ MIR_BRANCH_PREFIX: '../x' })[0], /^MIR_BRANCH_PREFIX: /);
  t.match(problems({ MIR_GIT_TOKEN: 'x' })[0], /MIR_GIT_URL/);
});

t.test('forge providers: settings per forge, the git remote from the forge, secrets never echoed', async (t) => {
  const problems = (env: Record<string, string>) => {
    try {
      loadConfig(env);
    } catch (error) {
      if (error instanceof ConfigError) return error.problems;
      throw error;
    }
    return [];
  };
  t.same(loadConfig({}).provider, { name: 'builtin' }, 'builtin is the default');

  const github = loadConfig({
    MIR_PROVIDER: 'github',
    MIR_PROVIDER_REPOSITORY: 'acme/releases',
    MIR_PROVIDER_TOKEN: 'ghp_secret',
    MIR_WEBHOOK_SECRET: 'a-webhook-secret-of-length',
  });
  t.match(github.provider, { name: 'github', apiUrl: 'https://api.github.com', repository: 'acme/releases', token: 'ghp_secret', pollSeconds: 60 });
  t.match(
    github.git,
    { url: 'https://github.com/acme/releases.git', username: 'x-access-token', token: 'ghp_secret' },
    'git uses the forge token as x-access-token',
  );
  t.ok(Object.isFrozen(github.provider));

  const conventional = {
    gitlab: ['group/sub/project', 'oauth2', 'https://gitlab.com/group/sub/project.git'],
    bitbucket: ['ws/repo', 'x-token-auth', 'https://bitbucket.org/ws/repo.git'],
    azure: ['org/proj/repo', 'mir', 'https://dev.azure.com/org/proj/_git/repo'],
  } as const;
  for (const [forge, [repository, username, url]] of Object.entries(conventional)) {
    const config = loadConfig({ MIR_PROVIDER: forge, MIR_PROVIDER_REPOSITORY: repository, MIR_PROVIDER_TOKEN: 'tok' });
    t.match(config.git, { url, username, token: 'tok' }, `${forge}: ${username} on ${url}`);
  }
  t.equal(loadConfig({ MIR_PROVIDER: 'gitlab', MIR_PROVIDER_REPOSITORY: '1234', MIR_PROVIDER_TOKEN: 't' }).provider.name, 'gitlab', 'a GitLab project id');

  const enterprise = loadConfig({
    MIR_PROVIDER: 'github',
    MIR_PROVIDER_API_URL: 'https://ghe.example.com/api/v3/',
    MIR_PROVIDER_REPOSITORY: 'acme/releases',
    MIR_PROVIDER_TOKEN: 't',
    MIR_GIT_URL: 'https://ghe.example.com/acme/releases.git',
    MIR_GIT_USERNAME: 'bot',
    MIR_PROVIDER_POLL_SECONDS: '0',
  });
  t.match(enterprise, {
    provider: { apiUrl: 'https://ghe.example.com/api/v3', pollSeconds: 0 },
    git: { url: 'https://ghe.example.com/acme/releases.git', username: 'bot', token: 't' },
  });

  t.same(problems({ MIR_PROVIDER: 'gitea' }), ['MIR_PROVIDER: must be one of builtin, github, gitlab, bitbucket, azure (got "gitea")']);
  t.same(problems({ MIR_PROVIDER: 'github' }), [
    'MIR_PROVIDER_REPOSITORY: required with MIR_PROVIDER=github (owner/repo)',
    'MIR_PROVIDER_TOKEN: required with MIR_PROVIDER=github',
  ]);
  t.same(problems({ MIR_PROVIDER: 'azure', MIR_PROVIDER_REPOSITORY: 'org/repo', MIR_PROVIDER_TOKEN: 't' }), [
    'MIR_PROVIDER_REPOSITORY: must be organization/project/repository for azure (got "org/repo")',
  ]);
  t.match(
    problems({ MIR_PROVIDER: 'gitlab', MIR_PROVIDER_API_URL: 'https://gitlab.example.com', MIR_PROVIDER_REPOSITORY: 'g/p', MIR_PROVIDER_TOKEN: 't' })[0],
    /^MIR_GIT_URL: required/,
  );
  t.same(problems({ MIR_PROVIDER_TOKEN: 'stray' }), [
    'MIR_PROVIDER_TOKEN: only used with MIR_PROVIDER=github|gitlab|bitbucket|azure (MIR_PROVIDER is builtin)',
  ]);
  const short = problems({ MIR_PROVIDER: 'github', MIR_PROVIDER_REPOSITORY: 'a/b', MIR_PROVIDER_TOKEN: 't', MIR_WEBHOOK_SECRET: 'hunter2' });
  t.match(short[0], /^MIR_WEBHOOK_SECRET: /);
  t.notMatch(short.join('\n'), /hunter2/, 'the webhook secret is not echoed');
  t.notMatch(problems({ MIR_PROVIDER_TOKEN: 'ghp_leak' }).join('\n'), /ghp_leak/, 'nor the token');
  t.match(problems({ MIR_PROVIDER_POLL_SECONDS: '-1' })[0], /^MIR_PROVIDER_POLL_SECONDS: must be an integer from 0 to 86400/);
});
