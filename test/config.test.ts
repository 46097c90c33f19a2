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
  t.match(config, { port: 8080, host: '0.0.0.0', databaseUrl: 'postgres://u@db/mir', git: { url: 'https://git.example.com/r.git', token: 's3cret', pollSeconds: 0, branchPrefix: 'mir/' }, publicUrl: 'https://mir.example.com', logLevel: 'debug' });
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
