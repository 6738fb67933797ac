// Failover measurement (docs/scaling.md, "When a node goes"): three real plexus nodes on
// loopback, N plexus.js clients with the library's defaults (node list, /v1/cluster/pick,
// back-offs), one node SIGKILLed or drained; reports how long until 99 % and 100 % of the
// moved clients are open again on a survivor, and how they spread. A measurement, not a test:
// it asserts nothing.
//
//   node bench/cluster/failover.mjs --mode kill|drain [--clients 3000] [--plexus build/engine/plexus]
//
// Needs bench/peers/node_modules (npm's `ws`, scripts/setup) as the WebSocket under node.
// Every process it starts is killed when it ends.
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const mode = arg('mode', 'kill');
const clients = Number(arg('clients', '3000'));
const channels = Number(arg('channels', '30'));
const binary = arg('plexus', path.join(repo, 'build/engine/plexus'));
const deadline = Number(arg('timeout-ms', '120000'));
if (!['kill', 'drain'].includes(mode) || !(clients > 0)) {
  console.error('usage: failover.mjs --mode kill|drain [--clients N] [--plexus path]');
  process.exit(2);
}

const require = createRequire(path.join(repo, 'bench/peers/package.json'));
globalThis.WebSocket = require('ws');

// plexus.js and its modules are browser ES modules: load them as such (see the test).
const moduleDir = mkdtempSync(path.join(os.tmpdir(), 'plexus-failover-'));
for (const f of readdirSync(path.join(repo, 'examples/chat')).filter((n) => n.endsWith('.js'))) {
  copyFileSync(path.join(repo, 'examples/chat', f), path.join(moduleDir, f));
}
writeFileSync(path.join(moduleDir, 'package.json'), '{"type":"module"}');
const { Plexus } = await import(pathToFileURL(path.join(moduleDir, 'plexus.js')).href);

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(what, fn, timeout) {
  const end = Date.now() + timeout;
  while (!(await fn())) {
    if (Date.now() > end) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await sleep(50);
  }
}

const children = [];
function cleanup() {
  for (const c of children) {
    try {
      c.kill('SIGKILL');
    } catch (e) { /* gone */ }
  }
  rmSync(moduleDir, { recursive: true, force: true });
}
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));

const key = 'failover-bench-key';
const nodes = [];
for (let i = 1; i <= 3; i += 1) {
  // A cluster port whose +1 is free too (reserved by the node).
  let cport;
  for (;;) {
    cport = await freePort();
    if (cport < 65535) break;
  }
  nodes.push({ name: `n${i}`, http: await freePort(), cluster: cport });
}
const seeds = nodes.map((n) => `127.0.0.1:${n.cluster}`).join(',');
const logDir = mkdtempSync(path.join(os.tmpdir(), 'plexus-failover-logs-'));
const cfg = path.join(logDir, 'plexus.toml');
writeFileSync(cfg, '[[namespace]]\nname = "room"\npresence = false\njoin_leave = false\nhistory_size = 100\n'
  + 'history_ttl_s = 300\npublish = "any"\n');
for (const n of nodes) {
  // Cluster timings, reconnect policy and limits: the defaults (gossip 500 ms, suspect 2 s,
  // dead 5 s, drain grace 30 s), except the per-address connection rate: every client of
  // this run comes from 127.0.0.1.
  const args = ['--config', cfg, '--node.name', n.name, '--node.listen', `127.0.0.1:${n.http}`,
    '--auth.anonymous', 'true', '--auth.api_key', key, '--cluster.enabled', 'true',
    '--cluster.bind', `127.0.0.1:${n.cluster}`, '--cluster.seeds', seeds,
    '--cluster.secret', 'failover-bench-cluster-secret', '--node.log_level', 'warn',
    '--limits.connections_per_ip_per_second', '1000000'];
  const { openSync } = await import('node:fs');
  const log = openSync(path.join(logDir, `${n.name}.log`), 'a');
  n.proc = spawn(binary, args, { stdio: ['ignore', log, log] });
  children.push(n.proc);
}
const urls = nodes.map((n) => `ws://127.0.0.1:${n.http}/ws`);
await until('the cluster', async () => {
  try {
    const r = await fetch(`http://127.0.0.1:${nodes[0].http}/v1/cluster/nodes`);
    return r.ok && (await r.json()).nodes.filter((n) => n.accepting).length === 3;
  } catch (e) {
    return false;
  }
}, 30000);

// -- the clients ------------------------------------------------------------------------

const cs = [];
for (let i = 0; i < clients; i += 1) {
  const px = new Plexus(urls); // the library's defaults
  const c = { px, node: null, openedAt: 0, resyncs: 0, recovered: 0 };
  px.on('welcome', (w) => {
    c.node = w.node;
    c.openedAt = Date.now();
  });
  px.on('subscribed', (s) => {
    c.subscribed = true;
    if (s.resubscribed) {
      c.resubscribedAt = Date.now();
      if (s.recovered === true) c.recovered += 1;
      if (s.recovered === false) c.resyncs += 1;
    }
  });
  px.on('error', () => {});
  px.subscribe(`room:f${i % channels}`).catch(() => {});
  cs.push(c);
  if (i % 200 === 199) {
    await sleep(20); // a ramp, as real clients arrive
  }
}
const started = Date.now();
await until('every client open and subscribed',
  () => cs.every((c) => c.px.state === 'open' && c.subscribed), deadline);
const spread = (list) => list.reduce((m, c) => ({ ...m, [c.node]: (m[c.node] || 0) + 1 }), {});
const before = spread(cs);
const connectMs = Date.now() - started;

// -- the failure ------------------------------------------------------------------------

const victim = nodes.reduce((a, b) => ((before[b.name] || 0) > (before[a.name] || 0) ? b : a));
const moved = cs.filter((c) => c.node === victim.name);
const t0 = Date.now();
if (mode === 'kill') {
  victim.proc.kill('SIGKILL');
} else {
  await fetch(`http://127.0.0.1:${victim.http}/v1/drain`,
    { method: 'POST', headers: { Authorization: `apikey ${key}` } });
}
const back = (c) => c.px.state === 'open' && c.node !== victim.name && c.openedAt > t0;
const times = [];
await until('the moved clients back', () => {
  for (const c of moved) {
    if (!c.done && back(c)) {
      c.done = true;
      times.push(c.openedAt - t0);
    }
  }
  return times.length === moved.length;
}, deadline).catch((e) => console.error(e.message));
// Open is not yet live: a room whose owner died waits for it to be declared down
// (dead_timeout_ms) before its new owner answers the re-subscribe.
const live = [];
await until('the moved clients re-subscribed', () => {
  for (const c of moved) {
    if (!c.live && c.resubscribedAt > t0) {
      c.live = true;
      live.push(c.resubscribedAt - t0);
    }
  }
  return live.length === moved.length;
}, deadline).catch((e) => console.error(e.message));
times.sort((a, b) => a - b);
live.sort((a, b) => a - b);
const at = (q, list = times) => list[Math.min(list.length - 1, Math.ceil(q * moved.length) - 1)];
const after = spread(cs.filter((c) => c.px.state === 'open'));
const result = {
  scenario: `failover-${mode}`, clients, moved: moved.length, victim: victim.name,
  connect_all_ms: connectMs, before, after,
  back: times.length, p50_ms: at(0.5), p99_ms: at(0.99), all_ms: times.length === moved.length
    ? times[times.length - 1] : null,
  live: live.length, live_p50_ms: at(0.5, live), live_p99_ms: at(0.99, live),
  live_all_ms: live.length === moved.length ? live[live.length - 1] : null,
  recovered: moved.reduce((n, c) => n + c.recovered, 0),
  resynced: moved.reduce((n, c) => n + c.resyncs, 0),
  node_version: process.version, logs: logDir,
};
console.log(JSON.stringify(result));
for (const c of cs) {
  c.px.close();
}
process.exit(0);
