/* Lead capture at the stand, offline first (lotsen/events/capture.py).
 *
 * Each capture is kept in IndexedDB under a key made here (crypto.randomUUID) and sent to
 * the server in batches whenever there is a network: at page load, when the browser says
 * it is online again, and every 30 seconds. A capture leaves the phone only once the
 * server has acknowledged its key ("stored" or "duplicate"); a resend of a key never
 * makes a second household. Captures the server refuses stay here, marked, for the guide
 * to correct or discard. Without this script the page is a plain form.
 */
(function () {
  "use strict";

  var root = document.getElementById("capture");
  var form = document.getElementById("capture-form");
  if (!root || !form || !window.indexedDB || !window.fetch || !window.Promise) {
    return; // the plain form still works online
  }
  var text = JSON.parse(document.getElementById("capture-text").textContent);
  var eventId = root.getAttribute("data-event");
  var urls = {
    captures: root.getAttribute("data-captures-url"),
    token: root.getAttribute("data-token-url"),
    worker: root.getAttribute("data-worker-url"),
    login: root.getAttribute("data-login-url"),
  };
  var BATCH = 50; // captures per request (the server takes up to 100)
  var LANES = 2; // requests in flight at once: one per web worker of a small install
  var RETRY_MS = 30000;
  var waitingEl = document.getElementById("capture-waiting");
  var statusEl = document.getElementById("capture-status");
  var rejectedEl = document.getElementById("capture-rejected");

  function LoginNeeded() {}

  // ---- IndexedDB: one store, "queue", an entry per capture -------------------------------
  var dbPromise = new Promise(function (resolve, reject) {
    var request = indexedDB.open("lotsen-capture", 1);
    request.onupgradeneeded = function () {
      var store = request.result.createObjectStore("queue", { keyPath: "key" });
      store.createIndex("event", "event");
    };
    request.onsuccess = function () {
      resolve(request.result);
    };
    request.onerror = function () {
      reject(request.error);
    };
  });

  function transact(mode, work) {
    return dbPromise.then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction("queue", mode);
        var request = work(tx.objectStore("queue"));
        tx.oncomplete = function () {
          resolve(request ? request.result : undefined);
        };
        tx.onerror = tx.onabort = function () {
          reject(tx.error);
        };
      });
    });
  }

  function entries() {
    return transact("readonly", function (store) {
      return store.index("event").getAll(eventId);
    });
  }
  function keepEntry(entry) {
    return transact("readwrite", function (store) {
      return store.put(entry);
    });
  }
  function dropEntry(key) {
    return transact("readwrite", function (store) {
      return store.delete(key);
    });
  }

  // ---- what the guide sees ----------------------------------------------------------------
  function say(message, link) {
    statusEl.textContent = message;
    if (link) {
      var a = document.createElement("a");
      a.href = link;
      a.textContent = text.login_link;
      statusEl.appendChild(document.createTextNode(" "));
      statusEl.appendChild(a);
    }
  }

  function labelOf(name) {
    var label = form.querySelector('label[for="' + name + '"]');
    var legend = document.getElementById(name + "-legend");
    return (label || legend || { textContent: "" }).textContent.trim();
  }

  function rejectedItem(entry) {
    var li = document.createElement("li");
    var name = document.createElement("strong");
    name.textContent = entry.capture.name || "?";
    li.appendChild(name);
    var list = document.createElement("ul");
    Object.keys(entry.errors || {}).forEach(function (field) {
      entry.errors[field].forEach(function (message) {
        var item = document.createElement("li");
        item.textContent = field ? labelOf(field) + ": " + message : message;
        list.appendChild(item);
      });
    });
    li.appendChild(list);
    var edit = document.createElement("button");
    edit.type = "button";
    edit.className = "button";
    edit.textContent = text.edit;
    edit.addEventListener("click", function () {
      fill(entry.capture);
      dropEntry(entry.key).then(render);
      document.getElementById("name").focus();
    });
    var discard = document.createElement("button");
    discard.type = "button";
    discard.className = "button";
    discard.textContent = text.discard;
    discard.addEventListener("click", function () {
      if (window.confirm(text.discard_confirm)) {
        dropEntry(entry.key).then(render);
      }
    });
    li.appendChild(edit);
    li.appendChild(document.createTextNode(" "));
    li.appendChild(discard);
    return li;
  }

  function render() {
    return entries().then(function (all) {
      var waiting = all.filter(function (e) {
        return e.state === "waiting";
      }).length;
      waitingEl.setAttribute("data-waiting", String(waiting));
      waitingEl.textContent =
        waiting === 0
          ? text.waiting_0
          : waiting === 1
            ? text.waiting_1
            : text.waiting_n.replace("{n}", String(waiting));
      var rejected = all.filter(function (e) {
        return e.state === "rejected";
      });
      var list = rejectedEl.querySelector("ul");
      list.textContent = "";
      rejected.forEach(function (entry) {
        list.appendChild(rejectedItem(entry));
      });
      rejectedEl.hidden = rejected.length === 0;
    });
  }

  // ---- the form -----------------------------------------------------------------------------
  function newKey() {
    if (window.crypto && crypto.randomUUID) {
      return crypto.randomUUID();
    }
    var bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.prototype.map
      .call(bytes, function (b) {
        return (b + 256).toString(16).slice(1);
      })
      .join("");
  }

  function read() {
    var data = new FormData(form);
    var value = function (name) {
      return (data.get(name) || "").trim();
    };
    return {
      key: newKey(),
      captured_at: new Date().toISOString(),
      name: value("name"),
      email: value("email"),
      phone: value("phone"),
      country: value("country"),
      language: value("language"),
      municipalities: data.getAll("municipalities"),
      notes: value("notes"),
      consent_contact: data.has("consent_contact"),
      consent_newsletter: data.has("consent_newsletter"),
    };
  }

  function fill(capture) {
    ["name", "email", "phone", "country", "language", "notes"].forEach(function (name) {
      form.elements[name].value = capture[name] || "";
    });
    Array.prototype.forEach.call(form.querySelectorAll('[name="municipalities"]'), function (box) {
      box.checked = capture.municipalities.indexOf(box.value) >= 0;
    });
    form.elements.consent_contact.checked = !!capture.consent_contact;
    form.elements.consent_newsletter.checked = !!capture.consent_newsletter;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var email = form.elements.email;
    var phone = form.elements.phone;
    email.setCustomValidity(email.value.trim() || phone.value.trim() ? "" : text.need_contact);
    if (!form.reportValidity()) {
      return;
    }
    var capture = read();
    keepEntry({ key: capture.key, event: eventId, capture: capture, state: "waiting" })
      .then(function () {
        form.reset();
        say(text.saved_offline);
        form.elements.name.focus();
        return render();
      })
      .then(flush);
  });
  form.elements.email.addEventListener("input", function () {
    form.elements.email.setCustomValidity("");
  });
  form.elements.phone.addEventListener("input", function () {
    form.elements.email.setCustomValidity("");
  });

  // ---- sending the queue ----------------------------------------------------------------------
  function get(url) {
    return fetch(url, {
      credentials: "same-origin",
      redirect: "manual",
      cache: "no-store",
      headers: { Accept: "application/json" },
    });
  }

  function loginNeeded(response) {
    // A session that ended answers with a redirect to the login page; a refused CSRF
    // token (a new session since the token was fetched) with the HTML error page.
    var json = (response.headers.get("Content-Type") || "").indexOf("application/json") === 0;
    return (
      response.type === "opaqueredirect" ||
      response.status === 401 ||
      response.status === 403 ||
      (response.status === 400 && !json)
    );
  }

  function freshToken() {
    return get(urls.token).then(function (response) {
      if (loginNeeded(response) || !response.ok) {
        throw new LoginNeeded();
      }
      return response.json().then(function (body) {
        return body.csrf_token;
      });
    });
  }

  function sendBatch(batch, token) {
    return fetch(urls.captures, {
      method: "POST",
      credentials: "same-origin",
      redirect: "manual",
      cache: "no-store",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRFToken": token,
      },
      body: JSON.stringify({
        captures: batch.map(function (e) {
          return e.capture;
        }),
      }),
    }).then(function (response) {
      if (loginNeeded(response)) {
        throw new LoginNeeded();
      }
      if (!response.ok) {
        throw new Error("HTTP " + response.status);
      }
      return response.json();
    });
  }

  function showLeads(n) {
    if (typeof n === "number" && n > 0) {
      document.getElementById("capture-leads").textContent =
        n === 1 ? text.leads_1 : text.leads_n.replace("{n}", String(n));
    }
  }

  function settle(batch, body) {
    showLeads(body.leads);
    var byKey = {};
    batch.forEach(function (e) {
      byKey[e.key] = e;
    });
    var sent = 0;
    var steps = (body.results || []).map(function (result) {
      var entry = byKey[result.key];
      if (!entry) {
        return Promise.resolve();
      }
      if (result.status === "stored" || result.status === "duplicate") {
        sent += 1; // acknowledged: only now may it leave the phone
        return dropEntry(entry.key);
      }
      entry.state = "rejected";
      entry.errors = result.errors || {};
      return keepEntry(entry);
    });
    return Promise.all(steps).then(function () {
      return sent;
    });
  }

  var flushing = null;
  function flush() {
    if (flushing) {
      return flushing;
    }
    if (!navigator.onLine) {
      say(text.offline);
      return Promise.resolve();
    }
    var sent = 0;
    flushing = entries()
      .then(function (all) {
        var waiting = all.filter(function (e) {
          return e.state === "waiting";
        });
        if (waiting.length === 0) {
          return null;
        }
        return freshToken().then(function (token) {
          // batches go out in LANES chains side by side; each key is acknowledged on its
          // own, so the order between lanes does not matter
          var lanes = [];
          for (var l = 0; l < LANES; l++) {
            lanes.push(Promise.resolve());
          }
          for (var i = 0, n = 0; i < waiting.length; i += BATCH, n++) {
            (function (batch, lane) {
              lanes[lane] = lanes[lane]
                .then(function () {
                  return sendBatch(batch, token);
                })
                .then(function (body) {
                  return settle(batch, body);
                })
                .then(function (count) {
                  sent += count;
                });
            })(waiting.slice(i, i + BATCH), n % LANES);
          }
          return Promise.all(lanes).then(function () {
            if (sent > 0) {
              say(text.sent.replace("{n}", String(sent)));
            }
          });
        });
      })
      .catch(function (error) {
        if (error instanceof LoginNeeded) {
          say(text.login, urls.login);
        } else {
          say(navigator.onLine ? text.failed : text.offline);
        }
      })
      .then(function () {
        flushing = null;
        return render();
      });
    return flushing;
  }

  window.addEventListener("online", flush);
  window.addEventListener("offline", function () {
    say(text.offline);
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") {
      flush();
    }
  });
  window.setInterval(flush, RETRY_MS);

  // ---- the service worker: the page and its files for a reload without network ----------
  function workOffline() {
    if (!("serviceWorker" in navigator)) {
      return;
    }
    var files = [location.pathname];
    Array.prototype.forEach.call(
      document.querySelectorAll('link[rel="stylesheet"], link[rel="icon"], script[src]'),
      function (el) {
        files.push(new URL(el.href || el.src, location.href).pathname);
      }
    );
    navigator.serviceWorker
      .register(urls.worker, { scope: location.pathname })
      .then(function () {
        return navigator.serviceWorker.ready;
      })
      .then(function (registration) {
        var channel = new MessageChannel();
        channel.port1.onmessage = function (event) {
          if (event.data && event.data.cached) {
            root.setAttribute("data-offline-ready", "1");
          }
        };
        registration.active.postMessage({ cache: files }, [channel.port2]);
      })
      .catch(function () {
        return undefined; // no worker (private mode, old browser): the queue still works
      });
  }

  Array.prototype.forEach.call(document.querySelectorAll(".capture-js"), function (el) {
    el.hidden = false;
  });
  render().then(flush);
  workOffline();
})();
