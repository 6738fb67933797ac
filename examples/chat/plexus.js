// plexus.js: the browser client of a plexus node. A plain ES module, no build step
// (it imports plexus-msgpack.js and plexus-nodes.js from its own folder; types in
// plexus.d.ts):
//
//   import { Plexus } from '/plexus.js';
//   const px = new Plexus('ws://127.0.0.1:8080/ws', { token, protocol: 'json' });
//   const px = new Plexus(['ws://10.0.0.1:8080/ws', 'ws://10.0.0.2:8080/ws']);  // a cluster
//   await px.subscribe('chat:lobby', { onMessage: (m) => console.log(m.data) });
//   const offset = await px.publish('chat:lobby', { text: 'hi' });
//
// Same semantics as the C++ client (docs/client.md): reconnects with exponential backoff and
// full jitter, follows `reconnect` frames, re-subscribes every channel with since/epoch
// after a reconnect and reports `recovered: false` ('resync' event), re-subscribes with
// since when the live stream skips an offset ('gap' event), and watches the heartbeat (a
// server silent for twice heartbeat_ms is treated as gone). Given several nodes it asks
// /v1/cluster/pick (with the resume token: back to the warm node while it accepts) before
// every connection and skips nodes that failed, each with its own back-off.

import { decode as decodeMsgpack, encode as encodeMsgpack } from './plexus-msgpack.js';
import { backoffDelay, NodeList, pickNode } from './plexus-nodes.js';

export { backoffDelay, NodeList, pickNode, pickUrl } from './plexus-nodes.js';
export { decode as decodeMsgpack, encode as encodeMsgpack, MsgpackError } from './plexus-msgpack.js';

/** Connection states, as in the C++ client. */
export const State = Object.freeze({
  connecting: 'connecting',
  open: 'open',
  reconnecting: 'reconnecting',
  closed: 'closed',
});

/** An error reply of the server (`code` as in PROTOCOL.md), or of the client itself:
 *  `timeout`, `disconnected`, `closed`, `unsubscribed`. */
export class PlexusError extends Error {
  constructor(code, message) {
    super(`${code}: ${message}`);
    this.name = 'PlexusError';
    this.code = code;
  }
}

const defaults = {
  token: '',
  // 'json' (text frames) or 'msgpack' (binary frames, subprotocol plexus.msgpack).
  protocol: 'json',
  autoConnect: true,
  // Backoff: first retry within 0.5 s, never more than 30 s apart, never give up
  // (maxAttempts 0). strategy 'none' never reconnects.
  reconnect: { strategy: 'exponential', base: 500, cap: 30000, maxAttempts: 0 },
  // A request without a reply after this fails with `timeout`.
  requestTimeoutMs: 10000,
  // 0: use the welcome's heartbeat_ms.
  heartbeatMs: 0,
  // Close codes after which retrying cannot help (policy, token expired without a new one).
  terminalCloseCodes: [1008, 4001],
  // Ask /v1/cluster/pick before each connection: 'auto' = when given more than one node
  // (one URL may be a load balancer, whose nodes' own URLs the client may not reach).
  pick: 'auto',
  // A pick request without an answer after this counts as a failure of that node.
  pickTimeoutMs: 3000,
  // A node that failed is skipped for base * 2^failures ms (half jittered), at most cap;
  // one that drained or shut down for cap.
  nodeBackoff: { base: 1000, cap: 30000 },
  // Send the session's resume token as ?resume= on reconnects, so a load balancer can be
  // sticky by it (docs/deploy.md); nodes ignore it.
  resumeInUrl: true,
  // The fetch() for pick requests (tests pass their own).
  fetch: undefined,
};

// A reconnect frame's after_ms beyond this is clamped (a server bug must not park a client).
const MAX_AFTER_MS = 60000;

export class Plexus {
  /**
   * @param {string|string[]} url  ws:// or wss:// URL of /ws, or the URLs of several nodes
   *                      of a cluster; a relative '/ws' is resolved against the page's origin.
   * @param {object} options  token, protocol ('json' or 'msgpack'), reconnect {base, cap,
   *                      maxAttempts}, requestTimeoutMs, heartbeatMs, autoConnect,
   *                      tokenProvider(), pick, pickTimeoutMs, nodeBackoff, resumeInUrl.
   */
  constructor(url, options = {}) {
    this.options = { ...defaults, ...options,
      reconnect: { ...defaults.reconnect, ...(options.reconnect || {}) },
      nodeBackoff: { ...defaults.nodeBackoff, ...(options.nodeBackoff || {}) } };
    const protocol = this.options.protocol;
    if (protocol !== 'json' && protocol !== 'msgpack') {
      throw new Error(`plexus: protocol must be 'json' or 'msgpack', not '${protocol}'`);
    }
    const urls = (Array.isArray(url) ? url : [url]).map((u) => Plexus.resolveUrl(u));
    this.nodes = new NodeList(urls, this.options.nodeBackoff);
    this.url = urls[0];
    this._pick = this.options.pick === 'auto' ? urls.length > 1 : !!this.options.pick;
    this._fetch = this.options.fetch || globalThis.fetch;
    if (this._pick && typeof this._fetch !== 'function') {
      throw new Error('plexus: pick needs fetch() (pass options.fetch)');
    }
    this._home = null; // the node of the last welcomed connection
    this._gen = 0; // bumped by close(): a pick still running for an old attempt is dropped
    this._redirectStreak = 0;
    this.state = State.closed;
    this.welcome = null;
    this._listeners = new Map();
    this._subs = new Map(); // channel -> {handlers, offset, epoch, requestId, waiters, confirmed}
    this._pending = new Map(); // id -> {resolve, reject, deadline, sent, frame, keepOnDrop}
    this._unsent = [];
    this._status = null; // {status, meta} re-applied after every reconnect
    this._statusWaiters = [];
    this._statusRequest = null;
    this._nextId = 0;
    this._attempts = 0;
    this._ws = null;
    this._redirect = null;
    this._started = false;
    this._timer = null;
    this._retryTimer = null;
    if (this.options.autoConnect) {
      this.connect();
    }
  }

  static resolveUrl(url) {
    if (typeof url !== 'string' || url === '') {
      throw new Error(`plexus: '${url}' is not a URL`);
    }
    if (/^wss?:\/\//i.test(url)) {
      return url;
    }
    if (/^[a-z][a-z0-9+.-]*:/i.test(url)) {
      throw new Error(`plexus: '${url}' is not a ws:// or wss:// URL`);
    }
    const loc = globalThis.location;
    const scheme = loc && loc.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${scheme}//${loc ? loc.host : 'localhost'}${url.startsWith('/') ? '' : '/'}${url}`;
  }

  /** Adds a listener for 'state', 'welcome', 'message', 'presence', 'presence_diff',
   *  'subscribed', 'resync', 'gap', 'error' or 'disconnect'; returns a function removing it. */
  on(event, fn) {
    if (!this._listeners.has(event)) {
      this._listeners.set(event, new Set());
    }
    this._listeners.get(event).add(fn);
    return () => this._listeners.get(event).delete(fn);
  }

  _emit(event, arg) {
    for (const fn of this._listeners.get(event) || []) {
      try {
        fn(arg);
      } catch (e) {
        console.error(`plexus: '${event}' listener threw`, e);
      }
    }
  }

  _setState(s) {
    if (this.state !== s) {
      this.state = s;
      this._emit('state', s);
    }
  }

  /** Starts connecting; reconnects on its own from then on. */
  connect() {
    if (this._started) {
      return;
    }
    this._started = true;
    this._attempts = 0;
    this._setState(State.connecting);
    this._timer = setInterval(() => this._tick(), 250);
    this._open();
  }

  /** Closes cleanly and stops reconnecting; pending requests fail with `closed`. */
  close() {
    if (!this._started) {
      return;
    }
    this._started = false;
    this._gen += 1;
    clearTimeout(this._retryTimer);
    clearInterval(this._timer);
    const ws = this._ws;
    this._ws = null;
    if (ws) {
      ws.onclose = ws.onmessage = ws.onerror = ws.onopen = null;
      ws.close(1000, 'client closing');
    }
    this._failAll('closed', 'the client was closed');
    this._setState(State.closed);
  }

  /** Where the next attempt goes: a reconnect frame's URL (once), else (several nodes) the
   *  answer of /v1/cluster/pick, else the first node not backing off. Without a pick the
   *  socket opens synchronously, as a single-URL client always did. */
  _open() {
    const gen = this._gen;
    this._target = null;
    if (this._redirect || !this._pick) {
      const url = this._redirect || this.nodes.order(this._home)[0];
      this._redirect = null;
      this._dial(url);
      return;
    }
    this._picking = true;
    pickNode(this.nodes, { fetch: this._fetch, timeoutMs: this.options.pickTimeoutMs,
      resume: this.welcome ? this.welcome.resume : '', home: this._home,
      onError: (url, why) => this._emit('error', { code: 'pick_failed', message: `${url}: ${why}` }),
    }).then((target) => {
      this._picking = false;
      if (gen !== this._gen || !this._started || this._ws) {
        return;
      }
      if (!target) {
        this._onClose({ code: 1006, reason: 'no node answered /v1/cluster/pick' }, null);
        return;
      }
      this._dial(target);
    }, (e) => {
      this._picking = false;
      if (gen === this._gen && this._started && !this._ws) {
        this._onClose({ code: 1006, reason: `choosing a node failed: ${e && e.message}` }, null);
      }
    });
  }

  _dial(base) {
    const params = [];
    const token = this.options.tokenProvider ? this.options.tokenProvider() : this.options.token;
    if (token) {
      params.push(`token=${encodeURIComponent(token)}`);
    }
    if (this.options.resumeInUrl && this.welcome && this.welcome.resume) {
      params.push(`resume=${encodeURIComponent(this.welcome.resume)}`);
    }
    const url = params.length ? `${base}${base.includes('?') ? '&' : '?'}${params.join('&')}` : base;
    this._target = base;
    this._welcomed = false;
    this._openedAt = Date.now();
    const binary = this.options.protocol === 'msgpack';
    let ws;
    try {
      ws = new WebSocket(url, binary ? 'plexus.msgpack' : 'plexus.json');
    } catch (e) {
      this._onClose({ code: 1006, reason: String(e) }, null);
      return;
    }
    if (binary) {
      ws.binaryType = 'arraybuffer';
    }
    this._ws = ws;
    ws.onmessage = (ev) => this._onFrame(ev.data);
    ws.onclose = (ev) => this._onClose(ev, ws);
    ws.onerror = () => {}; // onclose follows with the details the browser gives
  }

  _send(obj) {
    if (this._ws && this._ws.readyState === WebSocket.OPEN) {
      this._ws.send(this.options.protocol === 'msgpack' ? encodeMsgpack(obj) : JSON.stringify(obj));
      this._lastTx = Date.now();
    }
  }

  _isOpen() {
    return this.state === State.open && this._welcomed;
  }

  _onFrame(data) {
    this._lastRx = Date.now();
    let f;
    try {
      // Text frames are JSON and binary frames msgpack, whatever the subprotocol.
      f = typeof data === 'string' ? JSON.parse(data) : decodeMsgpack(new Uint8Array(data));
    } catch (e) {
      this._emit('error', { code: 'protocol', message: `undecodable frame: ${e.message}` });
      return;
    }
    if (f === null || typeof f !== 'object') {
      this._emit('error', { code: 'protocol', message: 'a frame that is not an object' });
      return;
    }
    switch (f.type) {
      case 'welcome': return this._onWelcome(f);
      case 'message': return this._onMessage(f);
      case 'subscribed': return this._onSubscribed(f);
      case 'presence':
      case 'presence_count': return this._onPresence(f);
      case 'presence_diff': return this._dispatch(f.channel, 'onPresenceDiff', 'presence_diff', f);
      case 'ack':
      case 'pong': return f.id != null && this._reply(f.id, f, null);
      case 'error':
        if (f.id != null) {
          return this._reply(f.id, null, f);
        }
        return this._emit('error', f);
      case 'reconnect':
        return this._onReconnectFrame(f);
      case 'refresh_required':
        if (this.options.tokenProvider) {
          this._send({ type: 'refresh', id: ++this._nextId, token: this.options.tokenProvider() });
        }
        return undefined;
      default:
        return undefined; // unknown types are ignored (forward compatibility)
    }
  }

  /** `reconnect {url?, after_ms}`: leave this node for `url` (or any) after after_ms. A
   *  malformed field is reported and replaced (no url: pick again; bad after_ms: the
   *  reconnect back-off), never obeyed blindly. */
  _onReconnectFrame(f) {
    let url = null;
    if (f.url != null && f.url !== '') {
      if (typeof f.url === 'string' && /^wss?:\/\/[^/?#]+/i.test(f.url)) {
        url = f.url;
      } else {
        this._emit('error', { code: 'protocol', message: 'reconnect frame with a bad url (ignored)' });
      }
    }
    let after = f.after_ms;
    if (typeof after !== 'number' || !Number.isFinite(after) || after < 0) {
      if (after !== undefined) {
        this._emit('error', { code: 'protocol', message: 'reconnect frame with a bad after_ms' });
      }
      after = null;
    }
    if (url) {
      this.nodes.add(url);
    }
    this.nodes.gone(this._target); // it is draining: do not come back to it
    this._redirect = url;
    this._redirectAfter = after == null ? null : Math.min(Math.floor(after), MAX_AFTER_MS);
    this._redirected = true;
    if (this._ws) {
      this._ws.close(1000, 'reconnecting as the server asked');
    }
    return undefined;
  }

  _onWelcome(w) {
    this._welcomed = true;
    this._welcomedAt = Date.now();
    this._home = this._target;
    this.nodes.ok(this._target);
    this._attempts = 0;
    this.welcome = w;
    this._heartbeat = this.options.heartbeatMs || w.heartbeat_ms || 0;
    this._lastRx = this._lastTx = this._lastTick = Date.now();
    this._setState(State.open);
    this._emit('welcome', w);
    if (this._status) {
      this._sendStatus();
    }
    for (const [channel, sub] of this._subs) {
      this._sendSubscribe(channel, sub);
    }
    const unsent = this._unsent;
    this._unsent = [];
    for (const id of unsent) {
      const p = this._pending.get(id);
      if (p && !p.sent) {
        p.sent = true;
        this._send(p.frame);
      }
    }
  }

  _onClose(ev, ws) {
    if (ws && ws !== this._ws) {
      return; // a socket we already left
    }
    this._ws = null;
    const wasOpen = this._welcomed;
    this._welcomed = false;
    if (!wasOpen && this._target) {
      this.nodes.failed(this._target); // refused, unreachable or no welcome: skip it a while
    } else if (wasOpen && (ev.code === 1001 || ev.code === 4010)) {
      this.nodes.gone(this._target); // shutting down or draining
    }
    for (const [id, p] of this._pending) {
      if (p.sent) {
        this._pending.delete(id);
        if (p.keepOnDrop) {
          p.resolve(undefined);
        } else {
          p.reject(new PlexusError('disconnected', 'the connection dropped before the reply'));
        }
      }
    }
    for (const sub of this._subs.values()) {
      sub.requestId = null;
    }
    this._statusRequest = null;
    if (!this._started) {
      return;
    }
    if (wasOpen) {
      this._attempts = 0;
    }
    const info = { closeCode: ev.code, reason: ev.reason || '', willRetry: false, retryInMs: 0 };
    const r = this.options.reconnect;
    const terminal = this.options.terminalCloseCodes.includes(ev.code)
      && !(ev.code === 4001 && this.options.tokenProvider);
    const exhausted = r.maxAttempts > 0 && this._attempts >= r.maxAttempts;
    if (terminal || r.strategy === 'none' || exhausted) {
      this._emit('disconnect', info);
      this._started = false;
      clearInterval(this._timer);
      const why = `not reconnecting after close ${ev.code} ${ev.reason || ''}`.trim();
      this._emit('error', { code: 'connect_failed', message: why });
      this._failAll('closed', why);
      this._setState(State.closed);
      return;
    }
    let delay;
    if (this._redirected) {
      // A node that keeps sending clients away right after they arrive must not make them
      // bounce at network speed: a second redirect within 10 s waits at least the back-off.
      if (!wasOpen || Date.now() - this._welcomedAt > 10000) {
        this._redirectStreak = 0;
      }
      const floor = this._redirectStreak > 0 ? backoffDelay(this._redirectStreak, r) : 0;
      this._redirectStreak += 1;
      delay = this._redirectAfter != null ? Math.max(this._redirectAfter, floor)
        : Math.max(backoffDelay(0, r), floor);
      this._redirected = false;
      this._redirectAfter = null;
      this._attempts = 0;
    } else {
      delay = backoffDelay(this._attempts, r);
      this._attempts += 1;
    }
    this._setState(State.reconnecting);
    const next = this._redirect || (this._pick ? null : this.nodes.order(this._home)[0]);
    Object.assign(info, { willRetry: true, retryInMs: delay, nextUrl: next });
    this._emit('disconnect', info);
    clearTimeout(this._retryTimer);
    this._retryTimer = setTimeout(() => {
      if (this._started && !this._ws && !this._picking) {
        this._open();
      }
    }, delay);
  }

  _tick() {
    const now = Date.now();
    for (const [id, p] of this._pending) {
      if (p.deadline <= now) {
        this._pending.delete(id);
        p.reject(new PlexusError('timeout', 'no reply within requestTimeoutMs'));
      }
    }
    for (const [channel, sub] of this._subs) {
      if (sub.waiters.length && sub.deadline <= now) {
        const waiters = sub.waiters.splice(0);
        waiters.forEach((w) => w.reject(new PlexusError('timeout', 'not subscribed in time')));
      }
      if (sub.gapSince != null && now - sub.gapSince > this.options.requestTimeoutMs
        && this._isOpen()) {
        sub.gapSince = now; // the re-subscribe went unanswered: ask again (once per timeout)
        this._sendSubscribe(channel, sub);
      }
    }
    this._statusWaiters = this._statusWaiters.filter((w) => {
      if (w.deadline > now) {
        return true;
      }
      w.reject(new PlexusError('timeout', 'status not acknowledged in time'));
      return false;
    });
    if (this._ws && !this._welcomed && now - this._openedAt > this.options.requestTimeoutMs) {
      this._ws.close(4000, 'no welcome'); // onclose then retries
      return;
    }
    const hb = this._heartbeat;
    if (this._isOpen() && hb > 0) {
      if (now - this._lastTick > hb) {
        // Our timers were throttled (background tab, sleep): silence is ours, not the
        // server's. Ask, and give it a heartbeat to answer.
        this._lastRx = Math.max(this._lastRx, now - hb);
        this._send({ type: 'ping' });
      } else if (now - this._lastRx >= 2 * hb) {
        this._ws.close(4000, 'server silent'); // browsers allow only 1000 and 3000-4999
      } else if (now - this._lastTx >= hb) {
        this._send({ type: 'ping' });
      }
    }
    this._lastTick = now;
  }

  _request(frame, { keepOnDrop = false } = {}) {
    if (!this._started && this._everClosed) {
      return Promise.reject(new PlexusError('closed', 'the client is closed'));
    }
    const id = ++this._nextId;
    frame.id = id;
    return new Promise((resolve, reject) => {
      const p = { resolve, reject, keepOnDrop, frame, sent: false,
        deadline: Date.now() + this.options.requestTimeoutMs };
      this._pending.set(id, p);
      if (this._isOpen()) {
        p.sent = true;
        this._send(frame);
      } else {
        this._unsent.push(id);
      }
    });
  }

  _reply(id, frame, error) {
    const p = this._pending.get(id);
    if (p) {
      this._pending.delete(id);
      return error ? p.reject(new PlexusError(error.code, error.message)) : p.resolve(frame);
    }
    if (this._statusRequest === id) {
      this._statusRequest = null;
      const waiters = this._statusWaiters.splice(0);
      waiters.forEach((w) => (error ? w.reject(new PlexusError(error.code, error.message))
        : w.resolve()));
      return undefined;
    }
    for (const [channel, sub] of this._subs) {
      if (sub.requestId === id) {
        if (error) {
          this._subs.delete(channel);
          const err = new PlexusError(error.code, error.message);
          sub.waiters.forEach((w) => w.reject(err));
          if (!sub.waiters.length) {
            this._emit('error', error);
          }
        }
        return undefined;
      }
    }
    if (error) {
      this._emit('error', error);
    }
    return undefined;
  }

  _failAll(code, message) {
    const err = new PlexusError(code, message);
    for (const p of this._pending.values()) {
      p.reject(err);
    }
    this._pending.clear();
    this._unsent = [];
    for (const sub of this._subs.values()) {
      sub.waiters.forEach((w) => w.reject(err));
    }
    this._subs.clear();
    this._statusWaiters.splice(0).forEach((w) => w.reject(err));
    this._status = null;
    this._everClosed = true;
  }

  _sendSubscribe(channel, sub) {
    const id = ++this._nextId;
    sub.requestId = id;
    sub.resubscribe = sub.confirmed;
    const frame = { type: 'subscribe', id, channel };
    if (sub.offset != null && sub.epoch) {
      frame.since = sub.offset;
      frame.epoch = sub.epoch;
    }
    this._send(frame);
  }

  _sendStatus() {
    const id = ++this._nextId;
    this._statusRequest = id;
    const frame = { type: 'status', id, status: this._status.status };
    if (this._status.meta !== undefined) {
      frame.meta = this._status.meta;
    }
    this._send(frame);
  }

  _onSubscribed(f) {
    const sub = this._subs.get(f.channel);
    if (!sub) {
      return;
    }
    if (f.recovered !== true) {
      sub.offset = f.offset; // nothing replayed: resume from the head
    }
    sub.epoch = f.epoch;
    sub.confirmed = true;
    sub.requestId = null;
    sub.gapSince = null;
    const ev = { channel: f.channel, offset: f.offset, epoch: f.epoch, recovered: f.recovered,
      resubscribed: !!sub.resubscribe };
    sub.waiters.splice(0).forEach((w) => w.resolve(ev));
    if (sub.handlers.onSubscribed) {
      sub.handlers.onSubscribed(ev);
    }
    this._emit('subscribed', ev);
    if (f.recovered === false) {
      if (sub.handlers.onResync) {
        sub.handlers.onResync(ev);
      }
      this._emit('resync', ev);
    }
  }

  _onMessage(f) {
    const sub = this._subs.get(f.channel);
    if (sub && typeof f.offset === 'number' && sub.offset != null) {
      if (sub.gapSince != null || f.offset <= sub.offset) {
        // Waiting for the replay that fills a gap (it resends this one too), or a message
        // seen already (a replay overlapping the live stream).
        return;
      }
      if (f.offset > sub.offset + 1 && sub.confirmed && sub.epoch) {
        // A message was lost on the way (e.g. between nodes): ask the room for what
        // follows the last offset we have; it replays from history or says recovered: false.
        const gap = { channel: f.channel, expected: sub.offset + 1, got: f.offset };
        sub.gapSince = Date.now();
        this._emit('gap', gap);
        if (this._isOpen()) {
          this._sendSubscribe(f.channel, sub);
        }
        return;
      }
    }
    if (sub && typeof f.offset === 'number') {
      sub.offset = f.offset;
    }
    this._dispatch(f.channel, 'onMessage', 'message', f);
  }

  _onPresence(f) {
    if (f.id != null && this._pending.has(f.id)) {
      return this._reply(f.id, f, null);
    }
    if (f.type === 'presence_count' && f.id == null) {
      for (const [id, p] of this._pending) {
        if (p.sent && p.frame.type === 'presence' && p.frame.channel === f.channel) {
          return this._reply(id, f, null);
        }
      }
    }
    return this._dispatch(f.channel, 'onPresence', 'presence', f);
  }

  _dispatch(channel, handler, event, f) {
    const sub = this._subs.get(channel);
    if (sub && sub.handlers[handler]) {
      try {
        sub.handlers[handler](f);
      } catch (e) {
        console.error(`plexus: ${handler} for ${channel} threw`, e);
      }
      return;
    }
    this._emit(event, f);
  }

  /**
   * Subscribes to `channel`. Options: onMessage, onPresence, onPresenceDiff, onSubscribed,
   * onResync (per-channel handlers replacing the client-wide events for this channel), and
   * since/epoch to resume from an offset seen before (e.g. saved in sessionStorage).
   * Resolves with the first `subscribed` {channel, offset, epoch, recovered?}.
   */
  subscribe(channel, options = {}) {
    if (!this._started && this._everClosed) {
      return Promise.reject(new PlexusError('closed', 'the client is closed'));
    }
    const { since, epoch, ...handlers } = options;
    let sub = this._subs.get(channel);
    if (!sub) {
      sub = { offset: null, epoch: '', requestId: null, waiters: [], confirmed: false };
      this._subs.set(channel, sub);
    }
    sub.handlers = handlers;
    if (since != null && epoch) {
      sub.offset = since;
      sub.epoch = epoch;
    }
    sub.deadline = Date.now() + this.options.requestTimeoutMs;
    const done = new Promise((resolve, reject) => sub.waiters.push({ resolve, reject }));
    if (this._isOpen()) {
      this._sendSubscribe(channel, sub);
    }
    return done;
  }

  /** Leaves `channel`; it is no longer re-subscribed. */
  unsubscribe(channel) {
    const sub = this._subs.get(channel);
    if (!sub) {
      return Promise.reject(new PlexusError('not_subscribed', `not subscribed to '${channel}'`));
    }
    this._subs.delete(channel);
    sub.waiters.forEach((w) => w.reject(new PlexusError('unsubscribed', 'unsubscribed')));
    if (!this._isOpen()) {
      return Promise.resolve();
    }
    return this._request({ type: 'unsubscribe', channel }, { keepOnDrop: true }).then(() => {});
  }

  /** Publishes `data` (any JSON value); resolves with the message's offset. */
  publish(channel, data) {
    return this._request({ type: 'publish', channel, data }).then((ack) => ack.offset);
  }

  /** Resolves with {channel, members:[{user, session, node, status, meta}]} (or count). */
  presence(channel) {
    return this._request({ type: 'presence', channel });
  }

  /** Sets this connection's presence status and meta; re-applied after reconnects. */
  setStatus(status, meta) {
    if (!this._started && this._everClosed) {
      return Promise.reject(new PlexusError('closed', 'the client is closed'));
    }
    this._status = { status, meta };
    const done = new Promise((resolve, reject) => this._statusWaiters.push({ resolve, reject,
      deadline: Date.now() + this.options.requestTimeoutMs }));
    if (this._isOpen()) {
      this._sendStatus();
    }
    return done;
  }

  /** Application-level round trip. */
  ping() {
    return this._request({ type: 'ping' }).then(() => {});
  }

  /** The last offset and epoch seen on `channel`: what a re-subscribe sends as since. */
  position(channel) {
    const sub = this._subs.get(channel);
    return sub ? { offset: sub.offset, epoch: sub.epoch } : null;
  }
}

export default Plexus;
