// Serves a folder of bare repositories over smart HTTP (test/helpers/git-server.ts) in its own
// process, so that the benchmark's timings of the gateway do not share an event loop with the
// server. Prints the base URL on its first line; stops on SIGTERM.
//
//   npx tsx bench/git-serve.ts <root>
import { startGitServer } from '../test/helpers/git-server.js';

const root = process.argv[2];
if (!root) {
  console.error('usage: git-serve.ts <root>');
  process.exit(2);
}
const server = await startGitServer({ root });
console.log(server.baseUrl);
const stop = () => void server.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
