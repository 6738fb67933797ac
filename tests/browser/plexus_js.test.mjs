// Unit tests of examples/chat/plexus.js under node, with a scripted stand-in for the
// browser's WebSocket: backoff bounds, queued requests, acks, re-subscribe with since/epoch
// after a drop, the resync event, reconnect frames. No browser needed.
//
//   node tests/browser/plexus_js.test.mjs
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const modulePath = path.resolve(here, '..', '..', 'examples', 'chat', 'plexus.js');
// plexus.js is an ES module served to browsers as a .js file. Node 18 (Debian 12's) loads a
// .js outside a "type": "module" package as CommonJS and stops at `export`, so the test
// imports its text as a module through a data: URL (plexus.js imports nothing itself).
const moduleUrl = 'data:text/javascript;base64,' +
  Buffer.from(readFileSync(modulePath, 'utf8')).toString('base64');
const { Plexus, State, backoffDelay } = await import(moduleUrl);
console.log(`plexus_js: node ${process.version}`);

// -- a scripted WebSocket ---------------------------------------------------------------

const sockets = [];
class FakeSocket {
  static OPEN = 1;
  constructor(url, protocol) {
    this.url = url;
    this.protocol = protocol;
    this.readyState = 0;
    this.sent = [];
    sockets.push(this);
  }
  send(text) {
    this.sent.push(JSON.parse(text));
  }
  close(code = 1000, reason = '') {
    this.drop(code, reason);
  }
  // -- test side --
  open(welcome = {}) {
    this.readyState = 1;
    this.deliver({ type: 'welcome', session: 's', node: 'n', user: 'u', heartbeat_ms: 60000,
      resume: '', ...welcome });
  }
  deliver(frame) {
    this.onmessage && this.onmessage({ data: JSON.stringify(frame) });
  }
  drop(code = 1006, reason = '') {
    if (this.readyState === 3) {
      return;
    }
    this.readyState = 3;
    this.onclose && this.onclose({ code, reason });
  }
  last(type) {
    return [...this.sent].reverse().find((f) => f.type === type);
  }
}
globalThis.WebSocket = FakeSocket;

async function until(what, fn, timeout = 5000) {
  const deadline = Date.now() + timeout;
  while (!fn()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

test('backoff delays stay within [0, min(cap, base*2^n))', () => {
  for (let attempt = 0; attempt < 70; attempt += 1) {
    const ceiling = Math.min(2000, 50 * 2 ** attempt);
    for (let i = 0; i < 200; i += 1) {
      const d = backoffDelay(attempt, { base: 50, cap: 2000 });
      assert.ok(d >= 0 && d < ceiling && Number.isInteger(d), `attempt ${attempt}: ${d}`);
    }
  }
  assert.equal(backoffDelay(3, { base: 100, cap: 1000 }, () => 0.5), 400);
  assert.equal(backoffDelay(9, { base: 100, cap: 1000 }, () => 1), 999);
  assert.equal(backoffDelay(0, { base: 100, cap: 1000 }, () => -3), 0);
});

test('queued requests go out after the welcome, acks resolve, resume after a drop', async () => {
  sockets.length = 0;
  const px = new Plexus('ws://h:1/ws', { reconnect: { base: 1, cap: 5 } });
  const resyncs = [];
  px.on('resync', (ev) => resyncs.push(ev));
  const messages = [];
  const subscribed = px.subscribe('chat:a', { onMessage: (m) => messages.push(m) });
  const status = px.setStatus('online', { name: 'ann' });
  const ack = px.publish('chat:a', { text: 'hi' });
  assert.equal(sockets.length, 1);
  assert.equal(sockets[0].protocol, 'plexus.json');
  const s0 = sockets[0];
  s0.open();
  assert.equal(px.state, State.open);
  assert.deepEqual(s0.sent.map((f) => f.type), ['status', 'subscribe', 'publish']);
  const sub = s0.last('subscribe');
  assert.equal(sub.since, undefined);
  s0.deliver({ type: 'subscribed', id: sub.id, channel: 'chat:a', offset: 4, epoch: 'e1' });
  assert.deepEqual(await subscribed, { channel: 'chat:a', offset: 4, epoch: 'e1',
    recovered: undefined, resubscribed: false });
  s0.deliver({ type: 'ack', id: s0.last('status').id });
  await status;
  s0.deliver({ type: 'ack', id: s0.last('publish').id, offset: 5 });
  assert.equal(await ack, 5);
  s0.deliver({ type: 'message', channel: 'chat:a', data: { text: 'hi' }, offset: 5, from: 'u' });
  assert.equal(messages.length, 1);
  assert.deepEqual(px.position('chat:a'), { offset: 5, epoch: 'e1' });

  const inflight = px.publish('chat:a', 1);
  s0.drop(1006);
  await assert.rejects(inflight, (e) => e.code === 'disconnected');
  assert.equal(px.state, State.reconnecting);
  await until('a second socket', () => sockets.length === 2);
  const s1 = sockets[1];
  s1.open();
  assert.deepEqual(s1.sent.map((f) => f.type), ['status', 'subscribe']);
  assert.equal(s1.sent[0].meta.name, 'ann');
  const resub = s1.last('subscribe');
  assert.equal(resub.since, 5);
  assert.equal(resub.epoch, 'e1');
  s1.deliver({ type: 'subscribed', id: resub.id, channel: 'chat:a', offset: 0, epoch: 'e2',
    recovered: false });
  assert.equal(resyncs.length, 1);
  assert.equal(resyncs[0].resubscribed, true);
  assert.deepEqual(px.position('chat:a'), { offset: 0, epoch: 'e2' });
  px.close();
  assert.equal(px.state, State.closed);
  await assert.rejects(px.publish('chat:a', 1), (e) => e.code === 'closed');
});

test('a reconnect frame moves the client to the named URL after after_ms', async () => {
  sockets.length = 0;
  const px = new Plexus('ws://h:1/ws', { reconnect: { base: 1000, cap: 1000 } });
  sockets[0].open();
  sockets[0].deliver({ type: 'reconnect', url: 'ws://other:2/ws', after_ms: 10 });
  await until('the redirected socket', () => sockets.length === 2);
  assert.equal(sockets[1].url, 'ws://other:2/ws');
  sockets[1].open();
  assert.equal(px.state, State.open);
  px.close();
});

test('errors with an id reject the request; close 1008 stops reconnecting', async () => {
  sockets.length = 0;
  const px = new Plexus('ws://h:1/ws?x=1', { token: 't k', reconnect: { base: 1, cap: 2 } });
  assert.equal(sockets[0].url, 'ws://h:1/ws?x=1&token=t%20k');
  sockets[0].open();
  const p = px.publish('chat:a', 1);
  sockets[0].deliver({ type: 'error', id: sockets[0].last('publish').id,
    code: 'permission_denied', message: 'no' });
  await assert.rejects(p, (e) => e.code === 'permission_denied');
  const errors = [];
  px.on('error', (e) => errors.push(e));
  sockets[0].drop(1008, 'policy');
  assert.equal(px.state, State.closed);
  assert.equal(errors.at(-1).code, 'connect_failed');
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(sockets.length, 1);
});

let failed = 0;
for (const t of tests) {
  try {
    await t.fn();
    console.log(`ok - ${t.name}`);
  } catch (e) {
    failed += 1;
    console.error(`not ok - ${t.name}\n${e.stack}`);
  }
}
console.log(failed ? `FAIL (${failed} of ${tests.length})` : `PASS (${tests.length})`);
process.exit(failed ? 1 : 0);
