// Unit tests of examples/chat/plexus.js under node, with a scripted stand-in for the
// browser's WebSocket: backoff bounds, queued requests, acks, re-subscribe with since/epoch
// after a drop, the resync event, reconnect frames. No browser needed.
//
//   node tests/browser/plexus_js.test.mjs
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const chatDir = path.resolve(here, '..', '..', 'examples', 'chat');
// plexus.js and the modules it imports are ES modules served to browsers as .js files.
// Node 18 (Debian 12's) loads a .js outside a "type": "module" package as CommonJS and
// stops at `export`, so the test copies them next to such a package.json and imports them
// from there.
const moduleDir = mkdtempSync(path.join(os.tmpdir(), 'plexus-js-'));
for (const f of readdirSync(chatDir).filter((n) => n.endsWith('.js'))) {
  copyFileSync(path.join(chatDir, f), path.join(moduleDir, f));
}
writeFileSync(path.join(moduleDir, 'package.json'), '{"type":"module"}');
process.on('exit', () => rmSync(moduleDir, { recursive: true, force: true }));
const plexus = await import(pathToFileURL(path.join(moduleDir, 'plexus.js')).href);
const { Plexus, State, backoffDelay } = plexus;
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
  send(data) {
    this.sent.push(typeof data === 'string' ? JSON.parse(data) : plexus.decodeMsgpack(data));
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
    const binary = this.protocol === 'plexus.msgpack';
    const data = binary ? plexus.encodeMsgpack(frame).buffer : JSON.stringify(frame);
    this.onmessage && this.onmessage({ data });
  }
  deliverRaw(data) {
    this.onmessage && this.onmessage({ data });
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


// -- msgpack ----------------------------------------------------------------------------

test('msgpack encodes and decodes every type plexus uses, and refuses malformed bytes', () => {
  const { encodeMsgpack: enc, decodeMsgpack: dec, MsgpackError } = plexus;
  const values = [null, true, false, 0, 1, 127, 128, 255, 256, 65535, 65536, 2 ** 32, 2 ** 53 - 1,
    -1, -32, -33, -128, -129, -32768, -32769, -(2 ** 31), -(2 ** 31) - 1, -(2 ** 53) + 1,
    1.5, -0.25, 1e300, '', 'hi', 'é✓𝄞', 'x'.repeat(31), 'x'.repeat(32), 'x'.repeat(70000),
    [], [1, [2, [3]]], new Array(20).fill(7), {}, { a: 1, b: { c: 'd' } },
    Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i]))];
  for (const v of values) {
    assert.deepEqual(dec(enc(v)), v, JSON.stringify(v)?.slice(0, 40));
  }
  assert.deepEqual(dec(enc(new Uint8Array([1, 2, 3]))), new Uint8Array([1, 2, 3]));
  assert.equal(dec(enc(2n ** 64n - 1n)), 2n ** 64n - 1n);
  assert.equal(dec(enc(-(2n ** 63n))), -(2n ** 63n));
  assert.deepEqual(dec(enc({ a: undefined, b: 1 })), { b: 1 });
  // Known bytes (msgpack spec examples).
  assert.deepEqual([...enc({ compact: true, schema: 0 })], [0x82, 0xa7, 0x63, 0x6f, 0x6d, 0x70,
    0x61, 0x63, 0x74, 0xc3, 0xa6, 0x73, 0x63, 0x68, 0x65, 0x6d, 0x61, 0x00]);
  assert.equal(dec(new Uint8Array([0xca, 0x3f, 0xc0, 0x00, 0x00])), 1.5);
  const bad = [[], [0xc1], [0xa5, 0x61], [0x92, 0x01], [0xdd, 0xff, 0xff, 0xff, 0xff],
    [0xc7, 0x01, 0x05, 0x00], [0x01, 0x02], [0xa2, 0xc3, 0x28], [0x81, 0x90, 0x01]];
  for (const b of bad) {
    assert.throws(() => dec(new Uint8Array(b)), MsgpackError, JSON.stringify(b));
  }
  let deep = [];
  for (let i = 0; i < 100; i += 1) {
    deep = [deep];
  }
  assert.throws(() => enc(deep), MsgpackError);
  assert.throws(() => dec(new Uint8Array(new Array(100).fill(0x91).concat([0xc0]))), MsgpackError);
  assert.throws(() => enc(() => 1), MsgpackError);
  assert.throws(() => enc(2n ** 64n), MsgpackError);
});

test("protocol 'msgpack' speaks binary frames; a malformed one is an error event", async () => {
  sockets.length = 0;
  const px = new Plexus('ws://h:1/ws', { protocol: 'msgpack' });
  const s0 = sockets[0];
  assert.equal(s0.protocol, 'plexus.msgpack');
  assert.equal(s0.binaryType, 'arraybuffer');
  const errors = [];
  px.on('error', (e) => errors.push(e));
  const messages = [];
  const subscribed = px.subscribe('chat:a', { onMessage: (m) => messages.push(m) });
  s0.open();
  const sub = s0.last('subscribe');
  s0.deliver({ type: 'subscribed', id: sub.id, channel: 'chat:a', offset: 0, epoch: 'e' });
  await subscribed;
  const ack = px.publish('chat:a', { n: 1, bytes: new Uint8Array([9]) });
  const pub = s0.last('publish');
  assert.deepEqual(pub.data, { n: 1, bytes: new Uint8Array([9]) });
  s0.deliver({ type: 'ack', id: pub.id, offset: 1 });
  assert.equal(await ack, 1);
  s0.deliver({ type: 'message', channel: 'chat:a', data: { n: 1 }, offset: 1, from: 'u' });
  assert.deepEqual(messages.map((m) => m.data), [{ n: 1 }]);
  s0.deliverRaw(new Uint8Array([0x92, 0x01]).buffer);
  s0.deliverRaw(new Uint8Array([0x2a]).buffer);
  assert.equal(errors.length, 2);
  assert.ok(errors.every((e) => e.code === 'protocol'), JSON.stringify(errors));
  assert.equal(px.state, State.open);
  assert.throws(() => new Plexus('ws://h:1/ws', { protocol: 'xml' }), /protocol/);
  px.close();
});

// -- gaps in the live stream ------------------------------------------------------------

test('a gap in the live stream re-subscribes with since and delivers each offset once', async () => {
  sockets.length = 0;
  const px = new Plexus('ws://h:1/ws');
  const got = [];
  const gaps = [];
  px.on('gap', (g) => gaps.push(g));
  const subscribed = px.subscribe('chat:a', { onMessage: (m) => got.push(m.offset) });
  const s0 = sockets[0];
  s0.open();
  s0.deliver({ type: 'subscribed', id: s0.last('subscribe').id, channel: 'chat:a', offset: 4,
    epoch: 'e1' });
  await subscribed;
  const msg = (offset) => s0.deliver({ type: 'message', channel: 'chat:a', data: offset, offset });
  msg(5);
  msg(7); // 6 lost
  assert.deepEqual(gaps, [{ channel: 'chat:a', expected: 6, got: 7 }]);
  const resub = s0.last('subscribe');
  assert.equal(resub.since, 5);
  assert.equal(resub.epoch, 'e1');
  msg(8); // before the room answered: dropped, the replay brings it
  s0.deliver({ type: 'subscribed', id: resub.id, channel: 'chat:a', offset: 8, epoch: 'e1',
    recovered: true });
  msg(6);
  msg(7);
  msg(8);
  msg(8); // a duplicate
  msg(9);
  assert.deepEqual(got, [5, 6, 7, 8, 9]);
  assert.equal(gaps.length, 1);
  assert.equal(s0.sent.filter((f) => f.type === 'subscribe').length, 2);
  px.close();
});

// -- several nodes: pick, back-off, never back to a dead home ---------------------------

/** A scripted fetch: `answer(url)` returns {status, body} or throws (node unreachable). */
function fakeFetch(answer) {
  const calls = [];
  const fn = async (url) => {
    calls.push(url);
    const a = answer(url, calls.length);
    return { ok: a.status === 200, status: a.status, json: async () => a.body };
  };
  fn.calls = calls;
  return fn;
}

const hostOf = (url) => new URL(url).host;

test('an empty node list or a bad URL is refused at once', () => {
  assert.throws(() => new Plexus([]), /node list is empty/);
  assert.throws(() => new Plexus(['ws://a:1/ws', 'http://b:2/']), /not a ws/);
  assert.throws(() => new Plexus(''), /not a URL/);
});

test('several nodes: asks pick with the resume token, skips a node that does not answer', async () => {
  sockets.length = 0;
  const fetch = fakeFetch((url) => {
    if (hostOf(url) === 'a:1') {
      throw new TypeError('connection refused');
    }
    return { status: 200, body: { url: 'ws://c:3/ws' } };
  });
  const px = new Plexus(['ws://a:1/ws', 'ws://b:2/ws', 'ws://c:3/ws'],
    { fetch, reconnect: { base: 5, cap: 10 } });
  await until('a socket', () => sockets.length === 1);
  assert.equal(sockets[0].url, 'ws://c:3/ws');
  assert.ok(fetch.calls.every((u) => u.endsWith('/v1/cluster/pick')), fetch.calls.join());
  sockets[0].open({ resume: 'n3.s1.mac' });
  assert.equal(px.state, State.open);
  const asked = fetch.calls.length;
  sockets[0].drop(1006);
  await until('a second socket', () => sockets.length === 2);
  const again = fetch.calls.slice(asked);
  // Home (c) first, with the token; a is still backing off and not asked.
  assert.equal(again[0], 'http://c:3/v1/cluster/pick?resume=n3.s1.mac');
  assert.ok(!again.some((u) => hostOf(u) === 'a:1'), again.join());
  assert.equal(sockets[1].url, 'ws://c:3/ws?resume=n3.s1.mac');
  px.close();
});

test('all nodes down: bounded retries with back-off, then closed after maxAttempts', async () => {
  sockets.length = 0;
  const fetch = fakeFetch(() => {
    throw new TypeError('connection refused');
  });
  const px = new Plexus(['ws://a:1/ws', 'ws://b:2/ws'], { fetch,
    reconnect: { base: 20, cap: 40, maxAttempts: 4 }, nodeBackoff: { base: 20, cap: 40 } });
  const disconnects = [];
  const errors = [];
  px.on('disconnect', (d) => disconnects.push(d));
  px.on('error', (e) => errors.push(e));
  await until('closed', () => px.state === State.closed, 5000);
  assert.equal(sockets.length, 0);
  assert.ok(fetch.calls.length <= 10, `${fetch.calls.length} pick requests`);
  assert.ok(disconnects.length >= 4, JSON.stringify(disconnects));
  assert.ok(errors.some((e) => e.code === 'pick_failed'));
  assert.equal(errors.at(-1).code, 'connect_failed');
  const n = fetch.calls.length;
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(fetch.calls.length, n, 'no request after giving up');
});

test('a pick naming an unreachable node: the next attempt goes to the node that answered', async () => {
  sockets.length = 0;
  // b's view is stale: it names a, which is gone.
  const fetch = fakeFetch((url) => {
    if (hostOf(url) === 'a:1') {
      throw new TypeError('connection refused');
    }
    return { status: 200, body: { url: 'ws://a:1/ws' } };
  });
  const px = new Plexus(['ws://b:2/ws', 'ws://a:1/ws'], { fetch, reconnect: { base: 5, cap: 10 } });
  // Asked first, a's refused pick puts it in its back-off, so b's answer naming a is
  // replaced by b. Asked first, b names a (not known to be down yet): the connection to a
  // fails, and then the same holds.
  await until('a socket', () => sockets.length >= 1);
  if (hostOf(sockets[0].url) === 'a:1') {
    sockets[0].drop(1006);
    await until('a second socket', () => sockets.length >= 2);
  }
  assert.equal(hostOf(sockets.at(-1).url), 'b:2');
  assert.ok(sockets.length <= 2, `${sockets.length} sockets`);
  sockets.at(-1).open();
  px.close();

  sockets.length = 0;
  const fetch2 = fakeFetch(() => ({ status: 200, body: { url: 'ws://a:1/ws' } }));
  const px2 = new Plexus(['ws://b:2/ws', 'ws://a:1/ws'], { fetch: fetch2,
    reconnect: { base: 5, cap: 10 } });
  await until('a socket', () => sockets.length === 1);
  assert.equal(hostOf(sockets[0].url), 'a:1');
  sockets[0].drop(1006); // a refuses the connection
  await until('a second socket', () => sockets.length === 2);
  assert.equal(hostOf(sockets[1].url), 'b:2', 'back to the node that answered, not to a');
  sockets[1].open();
  assert.equal(px2.state, State.open);
  px2.close();
});

test('after a drain the client does not go back to its old node', async () => {
  sockets.length = 0;
  let home = 'ws://a:1/ws'; // what every pick answers (the resume token's node)
  const fetch = fakeFetch(() => ({ status: 200, body: { url: home } }));
  const px = new Plexus(['ws://a:1/ws', 'ws://b:2/ws'], { fetch, reconnect: { base: 5, cap: 10 } });
  await until('a socket', () => sockets.length === 1);
  assert.equal(hostOf(sockets[0].url), 'a:1');
  sockets[0].open({ resume: 'n1.s.m' });
  sockets[0].deliver({ type: 'reconnect', url: 'ws://b:2/ws', after_ms: 5 });
  await until('the redirected socket', () => sockets.length === 2);
  assert.equal(sockets[1].url, 'ws://b:2/ws?resume=n1.s.m');
  sockets[1].open({ resume: 'n2.s.m' });
  const asked = fetch.calls.length;
  home = 'ws://b:2/ws';
  sockets[1].drop(1006);
  await until('a third socket', () => sockets.length === 3);
  assert.ok(!fetch.calls.slice(asked).some((u) => hostOf(u) === 'a:1'),
    fetch.calls.slice(asked).join());
  assert.equal(hostOf(sockets[2].url), 'b:2');
  px.close();
});

test('malformed reconnect frames are reported and never make the client bounce fast', async () => {
  sockets.length = 0;
  const px = new Plexus('ws://h:1/ws', { reconnect: { base: 40, cap: 80 } });
  const errors = [];
  px.on('error', (e) => errors.push(e));
  sockets[0].open();
  sockets[0].deliver({ type: 'reconnect', url: 42, after_ms: 'soon' });
  assert.deepEqual(errors.map((e) => e.code), ['protocol', 'protocol']);
  await until('a second socket', () => sockets.length === 2);
  assert.equal(sockets[1].url, 'ws://h:1/ws');
  // A server that sends every client away at once, forever: the client slows down.
  const started = Date.now();
  while (Date.now() - started < 600) {
    const s = sockets.at(-1);
    if (s.readyState === 0) {
      s.open();
      s.deliver({ type: 'reconnect', after_ms: 0 });
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  assert.ok(sockets.length < 30, `${sockets.length} connections in 600 ms`);
  px.close();
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
