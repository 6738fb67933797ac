// TypeScript declarations of plexus.js (docs/client.md). Checked by tests/browser
// (browser_plexus_types: tsc --strict over tests/browser/types_check.ts).

/** Connection states, as in the C++ client. */
export declare const State: Readonly<{
  connecting: 'connecting';
  open: 'open';
  reconnecting: 'reconnecting';
  closed: 'closed';
}>;
export type State = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** Error codes of the server (PROTOCOL.md) and of the client itself. */
export type ErrorCode =
  | 'bad_request' | 'unknown_type' | 'invalid_channel' | 'permission_denied'
  | 'not_subscribed' | 'rate_limited' | 'too_large' | 'internal' | 'too_many_subscriptions'
  | 'timeout' | 'disconnected' | 'closed' | 'unsubscribed' | 'connect_failed' | 'protocol'
  | 'pick_failed'
  | (string & {});

/** A rejected request: the server's `error` frame, or the client's own reason. */
export declare class PlexusError extends Error {
  constructor(code: ErrorCode, message: string);
  readonly code: ErrorCode;
}

/** Any value a frame carries as `data` or `meta` (JSON; msgpack adds bytes and bigints). */
export type Value =
  | null | boolean | number | bigint | string | Uint8Array | Value[]
  | { [key: string]: Value };

export interface BackoffOptions {
  /** Retry n waits a uniform random time in [0, min(cap, base * 2^n)) ms. Default 500. */
  base?: number;
  /** Default 30000. */
  cap?: number;
}

export interface ReconnectOptions extends BackoffOptions {
  /** 'none' never reconnects. Default 'exponential'. */
  strategy?: 'exponential' | 'none';
  /** Give up after this many failed attempts in a row; 0 (default) never. */
  maxAttempts?: number;
}

export interface PlexusOptions {
  /** Sent as ?token= on the upgrade; '' (default) is anonymous. */
  token?: string;
  /** Called before every attempt and on refresh_required; replaces `token`. */
  tokenProvider?: () => string;
  /** 'json' (text frames, default) or 'msgpack' (binary frames, plexus.msgpack). */
  protocol?: 'json' | 'msgpack';
  reconnect?: ReconnectOptions;
  /** A request without a reply after this fails with `timeout`. Default 10000. */
  requestTimeoutMs?: number;
  /** Ping interval; 0 (default) = the welcome's heartbeat_ms. */
  heartbeatMs?: number;
  /** Connect in the constructor. Default true. */
  autoConnect?: boolean;
  /** Close codes after which the client stops. Default [1008, 4001]. */
  terminalCloseCodes?: number[];
  /** Ask /v1/cluster/pick before each connection: 'auto' (default) when given several nodes. */
  pick?: 'auto' | boolean;
  /** A pick request without an answer after this counts as that node failing. Default 3000. */
  pickTimeoutMs?: number;
  /** How long a node that failed is skipped: base * 2^failures (half jittered), at most cap;
   *  a drained node: cap. Defaults 1000 / 30000. */
  nodeBackoff?: BackoffOptions;
  /** Send the resume token as ?resume= on reconnects (load-balancer stickiness). Default true. */
  resumeInUrl?: boolean;
  /** fetch() for pick requests. Default globalThis.fetch. */
  fetch?: (url: string, init?: { cache?: string; signal?: unknown }) => Promise<{
    ok: boolean;
    status: number;
    json(): Promise<unknown>;
  }>;
}

export interface Member {
  user: string;
  session: string;
  node: string;
  status: string;
  meta: Value;
}

export interface WelcomeEvent {
  type: 'welcome';
  session: string;
  node: string;
  user: string;
  heartbeat_ms: number;
  resume: string;
}

export interface MessageEvent {
  type: 'message';
  channel: string;
  data: Value;
  offset: number;
  from?: string;
}

export interface PresenceEvent {
  type: 'presence' | 'presence_count';
  id?: number;
  channel: string;
  members?: Member[];
  count?: number;
}

export interface PresenceDiffEvent {
  type: 'presence_diff';
  channel: string;
  joins: Member[];
  leaves: Member[];
  updates: Member[];
}

export interface SubscribedEvent {
  channel: string;
  offset: number;
  epoch: string;
  /** Present when the subscribe carried since: false = messages were missed. */
  recovered?: boolean;
  /** An automatic re-subscribe (after a reconnect or a gap). */
  resubscribed: boolean;
}

/** The live stream skipped offsets; the client re-subscribes with since. */
export interface GapEvent {
  channel: string;
  expected: number;
  got: number;
}

export interface ErrorEvent {
  type?: 'error';
  id?: number;
  code: ErrorCode;
  message: string;
}

export interface DisconnectEvent {
  closeCode: number;
  reason: string;
  willRetry: boolean;
  retryInMs: number;
  /** The next attempt's URL; null when a pick decides it. */
  nextUrl?: string | null;
}

export interface PlexusEvents {
  state: State;
  welcome: WelcomeEvent;
  message: MessageEvent;
  presence: PresenceEvent;
  presence_diff: PresenceDiffEvent;
  subscribed: SubscribedEvent;
  resync: SubscribedEvent;
  gap: GapEvent;
  error: ErrorEvent;
  disconnect: DisconnectEvent;
}

export interface SubscribeOptions {
  onMessage?: (m: MessageEvent) => void;
  onPresence?: (p: PresenceEvent) => void;
  onPresenceDiff?: (d: PresenceDiffEvent) => void;
  onSubscribed?: (s: SubscribedEvent) => void;
  onResync?: (s: SubscribedEvent) => void;
  /** Resume point seen before (both or neither). */
  since?: number;
  epoch?: string;
}

/** The nodes a client may connect to, each with its own back-off. */
export declare class NodeList {
  constructor(urls: string[], backoff?: BackoffOptions, random?: () => number);
  readonly nodes: { url: string; failures: number; retryAt: number }[];
  add(url: string): boolean;
  backingOff(url: string, now?: number): boolean;
  failed(url: string, now?: number): void;
  gone(url: string, now?: number): void;
  ok(url: string): void;
  order(home: string | null, now?: number): string[];
}

export declare class Plexus {
  /** One URL (a node or a load balancer) or several nodes of a cluster. Throws for an empty
   *  list, a URL that is not ws:// or wss://, or an unknown protocol. */
  constructor(url: string | string[], options?: PlexusOptions);
  readonly state: State;
  readonly welcome: WelcomeEvent | null;
  readonly url: string;
  readonly nodes: NodeList;
  static resolveUrl(url: string): string;
  on<K extends keyof PlexusEvents>(event: K, fn: (ev: PlexusEvents[K]) => void): () => void;
  connect(): void;
  close(): void;
  subscribe(channel: string, options?: SubscribeOptions): Promise<SubscribedEvent>;
  unsubscribe(channel: string): Promise<void>;
  publish(channel: string, data: Value): Promise<number>;
  presence(channel: string): Promise<PresenceEvent>;
  setStatus(status: string, meta?: Value): Promise<void>;
  ping(): Promise<void>;
  position(channel: string): { offset: number | null; epoch: string } | null;
}
export default Plexus;

export declare function backoffDelay(attempt: number, settings?: BackoffOptions,
                                     random?: () => number): number;
/** ws(s)://host/... -> http(s)://host/v1/cluster/pick[?resume=token]. */
export declare function pickUrl(wsUrl: string, resume?: string): string;
export declare function pickNode(list: NodeList, options: {
  fetch: NonNullable<PlexusOptions['fetch']>;
  timeoutMs?: number;
  resume?: string;
  home?: string | null;
  onError?: (url: string, why: string) => void;
}): Promise<string | null>;

export declare class MsgpackError extends Error {}
export declare function encodeMsgpack(value: Value | undefined): Uint8Array;
export declare function decodeMsgpack(bytes: Uint8Array | ArrayBuffer): Value;
