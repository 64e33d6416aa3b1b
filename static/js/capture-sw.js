/* Service worker of the lead-capture page (lotsen/events/capture.py).
 *
 * Keeps the capture page and its files so that a reload without network still shows the
 * form and the queue. Network first: with a connection the page is always the current
 * one (and a session that ended leads to the login page); without one, the kept copy.
 * Captures themselves are never here: capture.js keeps them in IndexedDB.
 */
"use strict";

const CACHE = "lotsen-capture-v1";

function pagePath() {
  return new URL(self.registration.scope).pathname;
}

async function keep(cache, url) {
  const response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
  // Only the real page: never a redirect to the login page or an error.
  if (response.ok && !response.redirected && response.type === "basic") {
    await cache.put(url, response);
  }
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => keep(cache, pagePath()).catch(() => undefined))
      .then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((n) => n !== CACHE).map((n) => caches.delete(n))))
      .then(() => self.clients.claim())
  );
});

// The page names its files (stylesheets, scripts, icon) once the worker is active; the
// answer on the port tells it that a reload without network will work.
self.addEventListener("message", (event) => {
  const files = (event.data && event.data.cache) || [];
  const port = event.ports && event.ports[0];
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) =>
        Promise.all(
          files
            .filter((url) => new URL(url, self.location.href).origin === self.location.origin)
            .map((url) => keep(cache, url))
        )
      )
      .then(
        () => port && port.postMessage({ cached: true }),
        () => port && port.postMessage({ cached: false })
      )
  );
});

const ASSETS = new Set(["style", "script", "image", "font"]);

async function networkFirst(request, key) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok && !response.redirected && response.type === "basic") {
      await cache.put(key, response.clone());
    }
    return response;
  } catch (error) {
    const kept = await cache.match(key, { ignoreSearch: true });
    if (kept) {
      return kept;
    }
    throw error;
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") {
    return; // captures are sent by the page, never replayed from here
  }
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return;
  }
  if (request.mode === "navigate" && url.pathname === pagePath()) {
    event.respondWith(networkFirst(request, pagePath()));
  } else if (ASSETS.has(request.destination)) {
    event.respondWith(networkFirst(request, url.pathname));
  }
});
