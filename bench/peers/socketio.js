// A socket.io pub/sub server: "subscribe" joins a room (acknowledged), "publish" emits
// "message" to the room; socket.io encodes a room broadcast once for all its members.
// plexus-bench talks to it over the raw engine.io v4 websocket transport:
//   /socket.io/?EIO=4&transport=websocket, "40" to connect, 42[...] events, "2"/"3" pings.
//
//   node bench/peers/socketio.js PORT
'use strict';
const http = require('http');
const { Server } = require('socket.io');

const port = Number(process.argv[2] || 8082);
const server = http.createServer();
const io = new Server(server, {
  transports: ['websocket'],
  perMessageDeflate: false,
  serveClient: false,
  maxHttpBufferSize: 65536,
});
io.on('connection', (socket) => {
  socket.on('subscribe', (channel, ack) => {
    socket.join(channel);
    if (typeof ack === 'function') ack('ok');
  });
  socket.on('publish', (channel, data) => {
    io.to(channel).emit('message', data);
  });
});
server.listen({ host: '127.0.0.1', port, backlog: 4096 }, () => {
  console.log(`socket.io listening on 127.0.0.1:${port}`);
});
