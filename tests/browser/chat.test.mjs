// Drives the bundled chat page (examples/chat) in real headless Chromium against a real
// plexus node: two pages chat, one goes away and the other sees it, the node is killed and
// started again on the same port and both pages come back and chat again, and a reload
// shows the room's history. Every wait is bounded; every process it starts is killed.
//
//   node tests/browser/chat.test.mjs [path/to/plexus]     (or PLEXUS_BINARY=...)
//
// Exit codes: 0 pass, 1 fail, 77 skipped (no chromium or no node_modules: run
// scripts/setup).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const CHROMIUM = process.env.PLEXUS_CHROMIUM || '/usr/bin/chromium';
const binary = process.argv[2] || process.env.PLEXUS_BINARY
  || path.join(repo, 'build/engine/plexus');
const buildDir = process.env.PLEXUS_BUILD_DIR || path.resolve(path.dirname(binary), '..');
const WAIT = 15000; // any single expectation
const TOTAL = 150000; // the whole test

console.log(`browser_chat: node ${process.version}`);

function skip(why) {
  console.log(`SKIP: ${why}`);
  process.exit(77);
}

if (!existsSync(CHROMIUM)) {
  skip(`${CHROMIUM} not found (run scripts/setup)`);
}
let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch (e) {
  skip('playwright-core not installed in tests/browser/node_modules (run scripts/setup)');
}
if (!existsSync(binary)) {
  console.error(`FAIL: plexus binary not found at ${binary}`);
  process.exit(1);
}

const children = new Set();
let browser = null;

async function cleanup() {
  if (browser) {
    await browser.close().catch(() => {});
    browser = null;
  }
  for (const c of children) {
    c.kill('SIGKILL');
  }
}

const watchdog = setTimeout(async () => {
  console.error(`FAIL: test did not finish within ${TOTAL} ms`);
  await cleanup();
  process.exit(1);
}, TOTAL);

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

async function until(what, fn, timeout = WAIT) {
  const deadline = Date.now() + timeout;
  for (;;) {
    try {
      if (await fn()) {
        return;
      }
    } catch (e) {
      // not yet
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function startNode(port) {
  const child = spawn(binary, [
    '--config', path.join(repo, 'examples/quickstart.toml'),
    '--node.listen', `127.0.0.1:${port}`,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  let stderr = '';
  child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
  child.on('exit', () => children.delete(child));
  await until('the node to answer /healthz', async () => {
    if (child.exitCode !== null) {
      throw new Error(`plexus exited with ${child.exitCode}: ${stderr}`);
    }
    const res = await fetch(`http://127.0.0.1:${port}/healthz`);
    return res.ok;
  }).catch((e) => {
    throw new Error(`${e.message}\n${stderr}`);
  });
  return child;
}

function killNode(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null) {
      return resolve();
    }
    child.once('exit', () => resolve());
    child.kill('SIGKILL'); // a crash, not a drain: clients see the connection just end
  });
}

async function openChat(page, url, name) {
  page.on('pageerror', (e) => console.error(`[${name}] page error: ${e.message}`));
  await page.goto(url, { timeout: WAIT });
  await page.fill('#name-input', name);
  await page.fill('#first-room', 'lobby');
  await page.click('#name-form button');
  await page.waitForSelector('#conn[data-state="open"]', { timeout: WAIT });
}

function memberStatus(page, name) {
  return page.evaluate((n) => {
    for (const li of document.querySelectorAll('#members li')) {
      if (li.querySelector('.name').textContent.startsWith(n)) {
        return li.dataset.status;
      }
    }
    return null;
  }, name);
}

function hasMessage(page, text) {
  return page.evaluate((t) => [...document.querySelectorAll('#messages .text')]
    .some((e) => e.textContent === t), text);
}

async function send(page, text) {
  await page.fill('#message-input', text);
  await page.click('#send-form button');
}

function setVisibility(page, state) {
  return page.evaluate((s) => {
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => s });
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => s === 'hidden' });
    document.dispatchEvent(new Event('visibilitychange'));
  }, state);
}

async function main() {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  let node = await startNode(port);

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
    timeout: WAIT,
  });
  const ann = await (await browser.newContext()).newPage();
  const bob = await (await browser.newContext()).newPage();
  await openChat(ann, url, 'Ann');
  await openChat(bob, url, 'Bob');
  console.log('ok: both pages connected');

  await until('each page to list the other as online', async () =>
    (await memberStatus(ann, 'Bob')) === 'online' && (await memberStatus(bob, 'Ann')) === 'online');
  console.log('ok: presence shows both');

  await send(ann, 'hello from Ann');
  await until('Bob to see Ann\'s message', () => hasMessage(bob, 'hello from Ann'));
  await send(bob, 'hi Ann');
  await until('Ann to see Bob\'s reply', () => hasMessage(ann, 'hi Ann'));
  console.log('ok: the pages chat');

  await setVisibility(ann, 'hidden');
  await until('Bob to see Ann away', async () => (await memberStatus(bob, 'Ann')) === 'away');
  await setVisibility(ann, 'visible');
  await until('Bob to see Ann online again',
    async () => (await memberStatus(bob, 'Ann')) === 'online');
  console.log('ok: away and back are seen by the other page');

  await killNode(node);
  await until('both pages to notice the node is gone', async () =>
    (await ann.getAttribute('#conn', 'data-state')) !== 'open'
    && (await bob.getAttribute('#conn', 'data-state')) !== 'open');
  node = await startNode(port);
  await ann.waitForSelector('#conn[data-state="open"]', { timeout: WAIT });
  await bob.waitForSelector('#conn[data-state="open"]', { timeout: WAIT });
  await until('presence to come back on both pages', async () =>
    (await memberStatus(ann, 'Bob')) === 'online' && (await memberStatus(bob, 'Ann')) === 'online');
  // The new node has a new epoch: the page says what it could not recover.
  await until('the resync note', async () => !(await bob.isHidden('#notice')));
  console.log('ok: both pages reconnected after the node restart');

  await send(ann, 'after the restart');
  await until('Bob to see the message sent after the restart',
    () => hasMessage(bob, 'after the restart'));
  await send(bob, 'still here');
  await until('Ann to see Bob after the restart', () => hasMessage(ann, 'still here'));
  console.log('ok: the pages chat again');

  await bob.reload({ timeout: WAIT });
  await bob.waitForSelector('#conn[data-state="open"]', { timeout: WAIT });
  await until('Bob to see the room history after a reload', async () =>
    (await hasMessage(bob, 'after the restart')) && (await hasMessage(bob, 'still here')));
  console.log('ok: history after a reload');

  mkdirSync(buildDir, { recursive: true });
  const shot = path.join(buildDir, 'browser-chat.png');
  await ann.screenshot({ path: shot, fullPage: true });
  console.log(`screenshot: ${shot}`);
}

try {
  await main();
  clearTimeout(watchdog);
  await cleanup();
  console.log('PASS');
  process.exit(0);
} catch (e) {
  console.error(`FAIL: ${e.stack || e}`);
  clearTimeout(watchdog);
  await cleanup();
  process.exit(1);
}
