// Fieldline app service worker (build {{ build }}): the app shell comes from this cache,
// so the app opens with no network at all once it has been visited. The API is never
// cached here: the app keeps its data in IndexedDB.
const CACHE = 'fieldline-app-{{ build }}';
const SHELL = {{ files|safe }};
const SHELL_PATHS = new Set(SHELL);

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) =>
        Promise.all(
          names
            .filter((name) => name.startsWith('fieldline-app-') && name !== CACHE)
            .map((name) => caches.delete(name)),
        ),
      )
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.startsWith('/api/')) return;
  if (request.mode === 'navigate' && url.pathname.startsWith('/app')) {
    event.respondWith(fromCache('/app/', request));
    return;
  }
  if (SHELL_PATHS.has(url.pathname)) event.respondWith(fromCache(url.pathname, request));
});

// The shell is immutable for one build: the cached copy answers at once; the network only
// when the cache lost it (storage pressure), and then the copy is put back.
async function fromCache(path, request) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(path);
  if (cached) return cached;
  const answer = await fetch(request);
  if (answer.ok) cache.put(path, answer.clone());
  return answer;
}
