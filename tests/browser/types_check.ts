// Compiled (never run) by the browser_plexus_types test: `tsc --strict --noEmit` against
// examples/chat/plexus.d.ts. Uses every public name as an application would; the lines
// marked as expected errors check that the declarations are precise, not `any`.
import Plexus, { PlexusError, State, backoffDelay, decodeMsgpack, encodeMsgpack, pickUrl }
  from '../../examples/chat/plexus.js';
import type { GapEvent, MessageEvent, SubscribedEvent, Value } from '../../examples/chat/plexus.js';

const px = new Plexus(['ws://10.0.0.1:8080/ws', 'ws://10.0.0.2:8080/ws'], {
  protocol: 'msgpack',
  reconnect: { base: 500, cap: 30000, maxAttempts: 0 },
  nodeBackoff: { base: 1000 },
  pick: 'auto',
  resumeInUrl: true,
  tokenProvider: () => 'jwt',
});
const single = new Plexus('/ws');
single.close();

const off: () => void = px.on('state', (s: State) => {
  if (s === State.open) {
    console.log(px.welcome?.resume.length);
  }
});
off();
px.on('gap', (g: GapEvent) => console.log(g.expected, g.got));
px.on('disconnect', (d) => console.log(d.closeCode, d.willRetry, d.retryInMs));
px.on('error', (e) => console.log(e.code, e.message));

async function main(): Promise<void> {
  const sub: SubscribedEvent = await px.subscribe('chat:lobby', {
    onMessage: (m: MessageEvent) => console.log(m.offset, m.from ?? '', m.data),
    onResync: (s) => console.log(s.recovered === false),
    since: 4,
    epoch: 'e',
  });
  const offset: number = await px.publish(sub.channel, { text: 'hi', n: [1, 2n, null] });
  await px.setStatus('away', { name: 'ann' });
  const who = await px.presence('chat:lobby');
  console.log(offset, who.members?.map((m) => m.user), who.count);
  const pos = px.position('chat:lobby');
  console.log(pos?.offset, pos?.epoch);
  await px.ping();
  await px.unsubscribe('chat:lobby');
  try {
    await px.publish('chat:x', 1);
  } catch (e) {
    if (e instanceof PlexusError) {
      console.log(e.code);
    }
  }
  const bytes: Uint8Array = encodeMsgpack({ a: 1 });
  const back: Value = decodeMsgpack(bytes);
  console.log(back, backoffDelay(3, { base: 100, cap: 1000 }), pickUrl('ws://h:1/ws', 'tok'));
}
void main();

// @ts-expect-error: an unknown event name
px.on('mesage', () => {});
// @ts-expect-error: state listeners get a State, not a number
px.on('state', (s: number) => s);
// @ts-expect-error: publish resolves with the offset, a number
const wrong: Promise<string> = px.publish('chat:a', 1);
// @ts-expect-error: protocols are 'json' and 'msgpack'
new Plexus('/ws', { protocol: 'xml' });
// @ts-expect-error: a function is not a Value
px.publish('chat:a', () => 1);
console.log(wrong);
