// The service worker: keeps the app shell (every file of the built client) in a cache, so
// the editor opens even while the relay is unreachable; the room itself then comes from
// IndexedDB (client/src/offline/). Network first, the cache as the fallback: a deploy is
// picked up on the next load while the relay answers. Every URL is relative to this file, so
// it works under a base path such as /collab/. scripts/build-client.sh fills in SHELL (every
// file of dist/) and VERSION (a hash of them).
//
// Install takes content-hashed files (NAME.HASH.EXT, the relay keeps them a year) from the
// HTTP cache when the page already loaded them, so a first visit downloads the wasm once;
// everything else it asks the relay for afresh.
const VERSION = 'dev';
const SHELL = ['./', './index.html', './client.js', './client_bg.wasm', './style.css'];
const CACHE = 'scene-editor-shell-' + VERSION;
// Paths under the scope that are never cached: the relay's live endpoints.
const LIVE = ['ws/', 'api/', 'healthz', 'readyz', 'metrics'];
// A content-hashed file name, as scripts/build-client.sh writes them and the relay recognises.
const HASHED = /[^/]\.[0-9a-f]{16}\.[^./]+$/;

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches.open(CACHE)
      .then((cache) => cache.addAll(SHELL.map((path) => new Request(path, { cache: HASHED.test(path) ? 'default' : 'reload' }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('scene-editor-shell-') && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  const scope = new URL(self.registration.scope);
  if (url.origin !== scope.origin || !url.pathname.startsWith(scope.pathname)) return;
  const rest = url.pathname.slice(scope.pathname.length);
  if (LIVE.some((prefix) => rest.startsWith(prefix))) return;
  event.respondWith(
    fetch(request)
      .then((response) => {
        if (response.ok && response.type === 'basic') {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(url.pathname === scope.pathname ? scope.href : request, copy));
        }
        return response;
      })
      .catch(() =>
        caches.open(CACHE).then((cache) =>
          cache.match(request, { ignoreSearch: true })
            .then((hit) => hit || (request.mode === 'navigate' ? cache.match(scope.href) : undefined))
            .then((hit) => hit || Response.error()),
        ),
      ),
  );
});
