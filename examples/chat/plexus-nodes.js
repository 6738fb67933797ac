// plexus-nodes.js: the cluster half of plexus.js. Which node to connect to: the node list,
// each node's back-off after it failed, and /v1/cluster/pick (docs/client.md, "Clusters").

/** Full-jitter delay of retry `attempt` (from 0): uniform in [0, min(cap, base * 2^attempt)). */
export function backoffDelay(attempt, { base = 500, cap = 30000 } = {}, random = Math.random) {
  const ceiling = Math.min(cap, base * Math.pow(2, Math.min(attempt, 52)));
  const unit = Math.min(Math.max(random(), 0), 1 - Number.EPSILON);
  return Math.floor(unit * ceiling);
}

/** ws(s)://host:port/path -> http(s)://host:port/v1/cluster/pick[?resume=token]. */
export function pickUrl(wsUrl, resume) {
  const u = new URL(wsUrl);
  u.protocol = u.protocol === 'wss:' ? 'https:' : 'http:';
  u.pathname = '/v1/cluster/pick';
  u.search = resume ? `?resume=${encodeURIComponent(resume)}` : '';
  u.hash = '';
  return u.toString();
}

/**
 * The nodes a client may connect to, each with its own back-off: a node whose pick or
 * connection failed is skipped until `retryAt` (base * 2^failures, half of it jittered, up
 * to cap), and a node that drained or shut down is skipped for `cap`. When every node is
 * backing off, the one that is due first is still offered (never an empty choice; the
 * client's own reconnect back-off paces the attempts).
 */
export class NodeList {
  constructor(urls, { base = 1000, cap = 30000 } = {}, random = Math.random) {
    if (!Array.isArray(urls) || urls.length === 0) {
      throw new Error('plexus: the node list is empty (give at least one ws:// or wss:// URL)');
    }
    this.backoff = { base, cap };
    this.random = random;
    this.nodes = [];
    for (const url of urls) {
      this.add(url);
    }
    // Clients sharing one list start asking at different nodes.
    this.start = Math.floor(random() * this.nodes.length) % this.nodes.length;
  }

  find(url) {
    return this.nodes.find((n) => n.url === url);
  }

  /** Adds a node learnt from a pick answer or a reconnect frame; true when new. */
  add(url) {
    if (typeof url !== 'string' || !/^wss?:\/\/[^/?#]+/i.test(url)) {
      throw new Error(`plexus: '${url}' is not a ws:// or wss:// URL`);
    }
    if (this.find(url)) {
      return false;
    }
    this.nodes.push({ url, failures: 0, retryAt: 0 });
    return true;
  }

  /** True while `url` is a known node backing off. */
  backingOff(url, now = Date.now()) {
    const n = this.find(url);
    return !!n && n.retryAt > now;
  }

  failed(url, now = Date.now()) {
    const n = this.find(url);
    if (!n) {
      return;
    }
    const ceiling = Math.min(this.backoff.cap, this.backoff.base * Math.pow(2, Math.min(n.failures, 30)));
    n.failures += 1;
    // Half fixed, half random: never zero (a dead node is not asked again at once) and
    // spread (clients that lost the same node do not come back to it together).
    n.retryAt = now + Math.floor(ceiling / 2 + this.random() * (ceiling / 2));
  }

  /** A node that drained or shut down: not asked again for `cap` while others answer. */
  gone(url, now = Date.now()) {
    const n = this.find(url);
    if (n) {
      n.failures += 1;
      n.retryAt = now + this.backoff.cap;
    }
  }

  ok(url) {
    const n = this.find(url);
    if (n) {
      n.failures = 0;
      n.retryAt = 0;
    }
  }

  /** URLs to try, in order: `home` first when it is not backing off, then the others not
   *  backing off (from a per-client starting point); when all are, the one due first. */
  order(home, now = Date.now()) {
    const ready = [];
    for (let i = 0; i < this.nodes.length; i += 1) {
      const n = this.nodes[(this.start + i) % this.nodes.length];
      if (n.retryAt <= now) {
        if (n.url === home) {
          ready.unshift(n.url);
        } else {
          ready.push(n.url);
        }
      }
    }
    if (ready.length) {
      return ready;
    }
    const due = this.nodes.reduce((a, b) => (b.retryAt < a.retryAt ? b : a));
    return [due.url];
  }
}

/**
 * Asks /v1/cluster/pick of the nodes in `list.order(home)`, one after the other, and returns
 * the URL to connect to, or null when none answered (each failure puts that node in its
 * back-off). A pick naming a node that is backing off (we just failed to reach it; the
 * answering node's view is up to dead_timeout_ms old) is replaced by the answering node,
 * which is alive. `fetch` is the browser's (or a test's).
 */
export async function pickNode(list, { fetch, timeoutMs = 3000, resume = '', home = null,
  onError = () => {} }) {
  for (const url of list.order(home)) {
    const abort = typeof AbortController === 'function' ? new AbortController() : null;
    const timer = setTimeout(() => abort && abort.abort(), timeoutMs);
    try {
      const res = await fetch(pickUrl(url, resume), { cache: 'no-store',
        signal: abort ? abort.signal : undefined });
      const body = res.ok ? await res.json() : null;
      if (body && typeof body.url === 'string' && /^wss?:\/\/[^/?#]+/i.test(body.url)) {
        if (body.url !== url && list.backingOff(body.url)) {
          return url;
        }
        list.add(body.url);
        return body.url;
      }
      onError(url, res.ok ? 'malformed pick answer' : `pick answered ${res.status}`);
    } catch (e) {
      onError(url, e && e.name === 'AbortError' ? `no pick answer within ${timeoutMs} ms`
        : `pick failed: ${e && e.message}`);
    } finally {
      clearTimeout(timer);
    }
    list.failed(url);
  }
  return null;
}
