const cpu = () => { const u = process.cpuUsage(); return ((u.user + u.system) / 1000).toFixed(0); };
console.log('# at start', cpu());
const t = (await import('tap')).default;
console.log('# tap imported', cpu());
const { buildTestApp } = await import('./helpers/app.js');
console.log('# app graph imported', cpu());
const { createTestDatabase } = await import('./helpers/database.js');
t.test('x', async (t) => {
  const db = await createTestDatabase();
  console.log('# pglite opened', cpu());
  await db.dispose();
  console.log('# pglite disposed', cpu());
  await buildTestApp(t);
  console.log('# app built', cpu());
});
t.teardown(() => console.log('# teardown', cpu()));
process.on('exit', () => console.log('# exit', cpu()));
