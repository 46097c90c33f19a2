#!/usr/bin/env node
// The `mir` bin (package.json): the command line, on this process's streams and environment.
import os from 'node:os';
import { runCli } from './program.js';
import { packageVersion } from './version.js';

const version = packageVersion();
process.exitCode = await runCli(
  process.argv.slice(2),
  {
    env: process.env,
    homeDir: os.homedir(),
    userAgent: `mir-cli/${version} node/${process.versions.node}`,
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
  },
  version,
);
