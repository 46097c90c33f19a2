// The `mir` command line: commander parses, each command calls the API through the typed client,
// and `runCli` turns what happened into an exit code (exit-codes.ts). `mir serve` runs the server
// itself, configured by its own environment (README "Configuration").
import { Command, CommanderError } from 'commander';
import { registerDeployments } from './commands/deployments.js';
import { registerHolds } from './commands/holds.js';
import { registerHotfixes } from './commands/hotfixes.js';
import { registerInstances } from './commands/instances.js';
import { registerPromotion } from './commands/promotion.js';
import { registerPublish } from './commands/publish.js';
import { registerPullRequests } from './commands/pull-requests.js';
import { registerRelease } from './commands/release.js';
import { registerStatus } from './commands/status.js';
import { registerWebhooks } from './commands/webhooks.js';
import { DEFAULT_URL } from './config.js';
import { createContext, type CliEnvironment, type GlobalOptions, type Run } from './context.js';
import { CliError, EXIT } from './exit-codes.js';

const HELP_AFTER = `
Configuration:
  MIR_URL     mir's address (default ${DEFAULT_URL}); --url overrides it
  MIR_TOKEN   a bearer token (mir never prints it, nor does this tool)
  or a JSON file {"url": …, "token": …}: MIR_CONFIG, else $XDG_CONFIG_HOME/mir/config.json,
  else ~/.config/mir/config.json (chmod 600: it holds a token)

Exit codes:
  0 ok   1 API error   2 usage   3 conflict (409)   4 not found (404)
  5 cannot reach mir, or it is unavailable (503)   6 unauthorized (401, 403)`;

export function buildProgram(environment: CliEnvironment, version: string): Command {
  const program = new Command('mir')
    .description('mir: releases of protected Retool apps and workflows, and which one each instance runs')
    .version(version)
    .option('--json', 'print the API answer as JSON (for scripts)')
    .option('-q, --quiet', 'no progress lines on stderr')
    .option('--url <url>', `mir's address (else MIR_URL, the config file, ${DEFAULT_URL})`)
    .showHelpAfterError('(mir --help lists the commands)')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => environment.stdout(text),
      writeErr: (text) => environment.stderr(text),
    })
    .addHelpText('after', HELP_AFTER);

  const run: Run = async (command, action) => {
    const options: GlobalOptions = command.optsWithGlobals();
    await action(createContext(environment, options));
  };
  registerStatus(program, run);
  registerRelease(program, run);
  registerPublish(program, run);
  registerPromotion(program, run);
  registerHolds(program, run);
  registerPullRequests(program, run);
  registerHotfixes(program, run);
  registerInstances(program, run);
  registerDeployments(program, run);
  registerWebhooks(program, run, () => process.stdin, environment.env);
  program
    .command('serve')
    .description('run the mir server here (configured by PORT, HOST, MIR_DATA_DIR…: see the README)')
    .action(async () => {
      await import('../server.js');
    });
  return program;
}

/** Runs one command line; the exit code says what happened. Only a bug in this tool rejects. */
export async function runCli(argv: readonly string[], environment: CliEnvironment, version: string): Promise<number> {
  const program = buildProgram(environment, version);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    // commander has printed its message (and the help hint) already; --help and --version end here too.
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (!(error instanceof CliError)) throw error;
    environment.stderr(`mir: ${error.message}\n`);
    if (error.problem && program.opts<GlobalOptions>().json) environment.stdout(`${JSON.stringify(error.problem, null, 2)}\n`);
    return error.exitCode;
  }
}
