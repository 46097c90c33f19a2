// The release dashboard's entry point (bundled by scripts/build-ui.mjs into build/ui/app.js).
//
// Why this stack: Preact (10.x, ~4 KB gzip, hooks) compiled from JSX by esbuild, which the tree
// already had under tsx: a small bundle, one build step, no framework runtime to keep up with. No
// router (hash routes, `#/pulls/12`), no CSS framework (one hand-written ui/styles.css), no state
// library (a few hooks at the top, passed down). The page talks to mir only through the generated
// API client (src/client/client.ts), so whatever it shows, any remote dashboard can show too.
import { render } from 'preact';
import { App } from './app.js';

const root = document.getElementById('app');
if (root) render(<App />, root);
