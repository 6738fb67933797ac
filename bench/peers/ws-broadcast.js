// A Node `ws` pub/sub server speaking the subset of plexus.json that plexus-bench uses:
// subscribe -> subscribed, publish -> message to every subscriber of the channel.
// Each outgoing message is serialized once into a Buffer shared by all sends, which is the
// usual way to broadcast with `ws` (see its README, "Server broadcast").
//
//   node bench/peers/ws-broadcast.js PORT
'use strict';
const { WebSocketServer } = require('ws');

const port = Number(process.argv[2] || 8081);
const wss = new WebSocketServer({
  host: '127.0.0.1',
  port,
  backlog: 4096,
  perMessageDeflate: false,
  clientTracking: false,
  maxPayload: 65536,
});
const channels = new Map(); // name -> Set<WebSocket>
const offsets = new Map();  // name -> last offset

wss.on('connection', (ws) => {
  const mine = new Set();
  ws.on('message', (raw) => {
    let m;
    try {
      m = JSON.parse(raw);
    } catch (e) {
      ws.send('{"type":"error","code":"bad_request","message":"malformed JSON"}');
      return;
    }
    if (m.type === 'subscribe' && typeof m.channel === 'string') {
      let set = channels.get(m.channel);
      if (!set) {
        set = new Set();
        channels.set(m.channel, set);
      }
      set.add(ws);
      mine.add(m.channel);
      ws.send(JSON.stringify({ type: 'subscribed', id: m.id, channel: m.channel,
                               offset: offsets.get(m.channel) || 0 }));
    } else if (m.type === 'publish' && typeof m.channel === 'string') {
      const offset = (offsets.get(m.channel) || 0) + 1;
      offsets.set(m.channel, offset);
      const set = channels.get(m.channel);
      if (set && set.size > 0) {
        const out = Buffer.from(JSON.stringify({ type: 'message', channel: m.channel,
                                                 data: m.data, offset }));
        for (const c of set) {
          c.send(out, { binary: false });
        }
      }
      if (m.id !== undefined) {
        ws.send(JSON.stringify({ type: 'ack', id: m.id, offset }));
      }
    }
  });
  ws.on('close', () => {
    for (const ch of mine) {
      const set = channels.get(ch);
      if (set) {
        set.delete(ws);
        if (set.size === 0) channels.delete(ch);
      }
    }
  });
  ws.on('error', () => {});
});
wss.on('listening', () => console.log(`ws-broadcast listening on 127.0.0.1:${port}`));
