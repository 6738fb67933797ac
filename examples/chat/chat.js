// The bundled chat page: rooms are channels "chat:<room>" (presence + history in the
// quickstart config). The name travels as the presence status meta {name}; the user id
// comes from the server (anonymous auth). What the tab needs after a reload lives in
// sessionStorage: the name, the joined rooms, and per room the offset/epoch to resume from.
import { Plexus, State } from './plexus.js';

const $ = (id) => document.getElementById(id);
const store = {
  get(key, fallback) {
    try {
      const v = sessionStorage.getItem(`plexus.chat.${key}`);
      return v == null ? fallback : JSON.parse(v);
    } catch (e) {
      return fallback;
    }
  },
  set(key, value) {
    sessionStorage.setItem(`plexus.chat.${key}`, JSON.stringify(value));
  },
};

// Idle this long (no input, tab visible) and the status becomes "away".
const IDLE_MS = 120000;

/**
 * The nodes to connect to: the cluster's public list from the node that served this page
 * (GET /v1/cluster/nodes), so the tab fails over by itself when that node goes. Only when
 * the page came straight from one of the listed nodes: behind a load balancer the nodes'
 * own URLs may be unreachable, and '/ws' (the balancer) is the way in.
 */
async function clusterNodes() {
  try {
    const r = await fetch('/v1/cluster/nodes', { cache: 'no-store' });
    const urls = r.ok ? (await r.json()).nodes.map((n) => n.url) : [];
    const self = urls.find((u) => new URL(u).host === location.host);
    if (self) {
      return [self, ...urls.filter((u) => u !== self)];
    }
  } catch (e) {
    console.warn('plexus: no node list, using this node only', e);
  }
  return ['/ws'];
}

const px = new Plexus(await clusterNodes(), { protocol: 'json' });
const rooms = new Map(); // room -> {messages: [], members: Map(session -> member), unread, note}
let current = null;
let name = store.get('name', '');
let status = 'online';
let idleTimer = null;

window.plexusChat = { px, rooms }; // for the console and the browser test

// -- connection ---------------------------------------------------------------------------

const connLabels = {
  [State.connecting]: 'connecting…',
  [State.open]: 'connected',
  [State.reconnecting]: 'reconnecting…',
  [State.closed]: 'offline',
};
px.on('state', (s) => {
  $('conn').dataset.state = s;
  $('conn').textContent = connLabels[s] || s;
});
px.on('welcome', () => renderMembers());
px.on('error', (e) => console.warn('plexus error', e.code, e.message));

// -- status: online / away ----------------------------------------------------------------

function setStatus(next) {
  status = next;
  $('me-status').textContent = next;
  if (name) {
    px.setStatus(next, { name }).catch((e) => console.warn('status', e.code));
  }
}

function resetIdle() {
  clearTimeout(idleTimer);
  if (document.visibilityState === 'visible') {
    if (status !== 'online') {
      setStatus('online');
    }
    idleTimer = setTimeout(() => setStatus('away'), IDLE_MS);
  }
}

document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'hidden') {
    clearTimeout(idleTimer);
    setStatus('away');
  } else {
    resetIdle();
  }
});
for (const ev of ['keydown', 'pointerdown', 'focus']) {
  window.addEventListener(ev, () => resetIdle(), { passive: true });
}

// -- rooms --------------------------------------------------------------------------------

function roomState(room) {
  if (!rooms.has(room)) {
    rooms.set(room, { messages: [], members: new Map(), unread: 0, note: '' });
  }
  return rooms.get(room);
}

function savePosition(room) {
  const pos = px.position(`chat:${room}`);
  const saved = store.get(`pos.${room}`, null);
  if (pos && pos.epoch && (!saved || saved.epoch !== pos.epoch)) {
    // First join in this epoch: remember where this tab's view of the room starts, so a
    // reload replays everything since then (within the room's history window).
    store.set(`pos.${room}`, { epoch: pos.epoch, since: pos.offset });
  }
}

function joinRoom(room) {
  const rs = roomState(room);
  const channel = `chat:${room}`;
  const saved = store.get(`pos.${room}`, null);
  const joined = store.get('rooms', []);
  if (!joined.includes(room)) {
    store.set('rooms', [...joined, room]);
  }
  px.subscribe(channel, {
    since: saved ? saved.since : undefined,
    epoch: saved ? saved.epoch : undefined,
    onSubscribed: (ev) => {
      if (ev.recovered === false) {
        rs.note = ev.resubscribed
          ? 'Reconnected, but messages sent meanwhile are unavailable.'
          : 'History unavailable: older messages are no longer kept by the server.';
        store.set(`pos.${room}`, { epoch: ev.epoch, since: ev.offset });
      }
      savePosition(room);
      if (room === current) {
        renderNotice();
      }
    },
    onMessage: (m) => {
      rs.messages.push(m);
      if (rs.messages.length > 500) {
        rs.messages.shift();
      }
      if (room === current) {
        appendMessage(m);
      } else {
        rs.unread += 1;
        renderRooms();
      }
    },
    onPresence: (p) => {
      rs.members = new Map((p.members || []).map((mb) => [mb.session, mb]));
      if (room === current) {
        renderMembers();
      }
    },
    onPresenceDiff: (d) => {
      for (const mb of d.leaves || []) {
        rs.members.delete(mb.session);
      }
      for (const mb of [...(d.joins || []), ...(d.updates || [])]) {
        rs.members.set(mb.session, mb);
      }
      if (room === current) {
        renderMembers();
      }
    },
  }).catch((e) => {
    rs.note = `Could not join: ${e.message}`;
    renderNotice();
  });
  showRoom(room);
}

function showRoom(room) {
  current = room;
  store.set('current', room);
  roomState(room).unread = 0;
  $('room-title').textContent = `# ${room}`;
  const list = $('messages');
  list.replaceChildren();
  for (const m of roomState(room).messages) {
    appendMessage(m);
  }
  renderRooms();
  renderMembers();
  renderNotice();
  $('message-input').focus();
}

// -- rendering ----------------------------------------------------------------------------

function displayName(member) {
  const n = member && member.meta && typeof member.meta.name === 'string' ? member.meta.name : '';
  return n || `guest-${String(member.user).slice(0, 6)}`;
}

function appendMessage(m) {
  const data = m.data && typeof m.data === 'object' ? m.data : { text: String(m.data) };
  const li = document.createElement('li');
  const mine = px.welcome && m.from === px.welcome.user;
  li.className = mine ? 'message mine' : 'message';
  li.dataset.offset = m.offset;
  const who = document.createElement('span');
  who.className = 'who';
  who.textContent = data.name || `guest-${String(m.from || '').slice(0, 6)}`;
  const text = document.createElement('span');
  text.className = 'text';
  text.textContent = data.text == null ? '' : String(data.text);
  li.append(who, text);
  if (data.at) {
    const t = document.createElement('time');
    const at = new Date(data.at);
    t.dateTime = at.toISOString();
    t.textContent = at.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    li.append(t);
  }
  const list = $('messages');
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  list.append(li);
  if (atBottom || mine) {
    list.scrollTop = list.scrollHeight;
  }
}

function renderRooms() {
  const ul = $('room-list');
  ul.replaceChildren();
  for (const [room, rs] of rooms) {
    const li = document.createElement('li');
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = `# ${room}`;
    b.setAttribute('aria-current', room === current ? 'true' : 'false');
    if (rs.unread > 0) {
      const u = document.createElement('span');
      u.className = 'unread';
      u.textContent = ` (${rs.unread})`;
      u.setAttribute('aria-label', `${rs.unread} unread`);
      b.append(u);
    }
    b.addEventListener('click', () => showRoom(room));
    li.append(b);
    ul.append(li);
  }
}

function renderMembers() {
  const ul = $('members');
  ul.replaceChildren();
  if (!current) {
    return;
  }
  const members = [...roomState(current).members.values()]
    .sort((a, b) => displayName(a).localeCompare(displayName(b)));
  for (const mb of members) {
    const li = document.createElement('li');
    li.className = `member ${mb.status === 'online' ? 'online' : 'away'}`;
    li.dataset.user = mb.user;
    li.dataset.status = mb.status;
    const dot = document.createElement('span');
    dot.className = 'dot';
    dot.setAttribute('aria-hidden', 'true');
    const n = document.createElement('span');
    n.className = 'name';
    const you = px.welcome && mb.session === px.welcome.session ? ' (you)' : '';
    n.textContent = displayName(mb) + you;
    const s = document.createElement('span');
    s.className = 'status';
    s.textContent = mb.status;
    li.append(dot, n, s);
    ul.append(li);
  }
}

function renderNotice() {
  const note = current ? roomState(current).note : '';
  $('notice').hidden = !note;
  $('notice').textContent = note;
}

// -- forms --------------------------------------------------------------------------------

function roomName(text) {
  const r = text.trim().toLowerCase();
  return /^[a-z0-9_.-]{1,64}$/.test(r) ? r : null;
}

function start() {
  $('welcome').hidden = true;
  $('chat').hidden = false;
  $('me-name').textContent = name;
  setStatus(document.visibilityState === 'visible' ? 'online' : 'away');
  resetIdle();
  const joined = store.get('rooms', []);
  for (const room of joined) {
    joinRoom(room);
  }
  const last = store.get('current', null);
  if (last && rooms.has(last)) {
    showRoom(last);
  }
}

$('name-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const n = $('name-input').value.trim();
  const room = roomName($('first-room').value);
  if (!n || !room) {
    return;
  }
  name = n;
  store.set('name', name);
  const joined = store.get('rooms', []);
  if (!joined.includes(room)) {
    store.set('rooms', [...joined, room]);
  }
  store.set('current', room);
  start();
});

$('room-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const room = roomName($('room-input').value);
  if (!room) {
    return;
  }
  $('room-input').value = '';
  if (rooms.has(room)) {
    showRoom(room);
  } else {
    joinRoom(room);
  }
});

$('send-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const input = $('message-input');
  const text = input.value.trim();
  if (!text || !current) {
    return;
  }
  input.value = '';
  const room = current;
  px.publish(`chat:${room}`, { text, name, at: Date.now() }).catch((err) => {
    roomState(room).note = `Not sent (${err.code}): ${text}`;
    renderNotice();
  });
});

if (name) {
  start();
} else {
  $('name-input').focus();
}
