// The demo app `npm run demo` protects (scripts/demo.ts): its uuid, name and source, and the edit
// of the protected list that adds it. Pure: text in, text out.
import { Document, isMap, isSeq, parseDocument, YAMLSeq } from 'yaml';
import { parseProtectedApps } from '../src/formats/protected.js';

export const DEMO_APP = {
  uuid: '3f0c7a52-9d1e-4b8a-a6c4-5e2f1d0b7a93',
  name: 'hello-mir',
  /** Source files, relative to the app's source folder (`apps/hello-mir`: the default for its name). */
  files: {
    'main.rsx': [
      '<App>',
      '  <Frame id="$main" type="main">',
      '    <Text id="greeting" value="Hello from mir: this app is released through pull requests, not edited in place." />',
      '    <Button id="refresh" text="Refresh">',
      '      <Event event="click" method="trigger" pluginId="greet" type="datasource" />',
      '    </Button>',
      '  </Frame>',
      '</App>',
      '',
    ].join('\n'),
    'functions.rsx': [
      '<GlobalFunctions>',
      '  <JavascriptQuery id="greet" query="return `Hello at ${new Date().toISOString()}`" />',
      '</GlobalFunctions>',
      '',
    ].join('\n'),
  } as Record<string, string>,
} as const;

/**
 * `.retool/protected-apps.yaml` with the demo app listed (block layout, other entries and comments
 * kept), or null when it is listed already. Throws the parser's 422 error for a list that does not
 * parse, so the demo never rewrites a file it could not read.
 */
export function withDemoApp(text: string): string | null {
  if (parseProtectedApps(text).some((app) => app.uuid === DEMO_APP.uuid)) return null;
  // An empty list file (Retool writes one before anything is protected) has no mapping to add to.
  const parsed = parseDocument(text);
  const doc = isMap(parsed.contents) ? parsed : new Document({});
  const current = doc.get('apps', true);
  const apps = isSeq(current) ? current : new YAMLSeq();
  apps.flow = false;
  apps.add(doc.createNode({ uuid: DEMO_APP.uuid, name: DEMO_APP.name }));
  doc.set('apps', apps);
  return doc.toString();
}
